/**
 * spanclust — differentiable clustering with perturbed spanning forests.
 *
 * @example Cluster four points on a line into two groups
 * ```ts
 * import { matrix, maxSpanningForest } from "./mod.ts";
 * const x = [0, 1, 10, 11];
 * const sigma = matrix(x.map((a) => x.map((b) => -((a - b) ** 2))));
 * const forest = maxSpanningForest(sigma, 2);
 * if (forest.labels.join() !== "0,0,1,1") throw new Error("unexpected clustering");
 * ```
 *
 * @module
 */
export * from "./lib/errors.ts";
export * from "./lib/matrix.ts";
export * from "./lib/spanning_forest.ts";
export * from "./lib/constraints.ts";
export * from "./lib/metrics.ts";
export * from "./lib/similarity.ts";
export * from "./lib/codecs.ts";
export * from "./lib/rect_matrix.ts";
export * from "./lib/sinkhorn.ts";
export * from "./lib/kmeans.ts";
export * from "./lib/ot_kmeans.ts";
export * from "./lib/random.ts";
export * from "./lib/noise.ts";
export * from "./lib/perturbed.ts";
export * from "./lib/fy_loss.ts";
export * from "./lib/score_function.ts";
export * from "./lib/pipeline.ts";
export * from "./lib/forest_pool.ts";
// Sparse graphs (issue 14): the user-facing names only; helpers stay importable from lib/.
export {
  assertGraph,
  completeGraph,
  edgeLookup,
  type Graph,
  graph,
  graphComponents,
} from "./lib/graph.ts";
export { GraphCodec, type GraphJson } from "./lib/graph_codec.ts";
export {
  type GraphForest,
  graphForestAt,
  type GraphHierarchy,
  graphHierarchy,
  graphMaxSpanningForest,
  type GraphSolver,
  unsafeGraphMaxSpanningForest,
} from "./lib/graph_forest.ts";
export {
  constrainedForestOnGraph,
  type PartialLabels,
  propagateLabels,
  unsafeConstrainedForestOnGraph,
} from "./lib/graph_constrained.ts";
export { type GraphPerturbedEstimate, makePerturbedOnGraph } from "./lib/graph_perturbed.ts";
export {
  fyLossOnGraph,
  type GraphFyLossOptions,
  type GraphLossAndGradient,
  partialFyLossOnGraph,
} from "./lib/graph_fy_loss.ts";
export {
  delaunayGraph,
  exactNeighbours,
  joinComponents,
  knnGraph,
  mutualReachability,
  neighbourGraph,
  type Neighbours,
  type Progress,
  type ProgressCallback,
} from "./lib/point_graphs.ts";
export { approximateNeighbours, type NnDescentOptions } from "./lib/nn_descent.ts";
export {
  type ClusterMethod,
  clusterPoints,
  type ClusterPointsOptions,
  type PointClustering,
} from "./lib/cluster_points.ts";
