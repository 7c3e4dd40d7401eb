/**
 * spanclust — differentiable clustering with perturbed spanning forests.
 *
 * The public surface: solvers, losses, metrics and the few helpers a user needs. Internals
 * (validators, work buffers, random-number kernels, worker plumbing) stay importable from
 * their own files under `lib/` for tests and experts; `tests/public_api_test.ts` lists this
 * surface.
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
export { ConvergenceError, InfeasibleConstraintsError } from "./lib/core/errors.ts";
export { fromData, type Matrix, matrix, toRows, zeros } from "./lib/core/matrix.ts";
export {
  type Forest,
  forestAt,
  forestHierarchy,
  type Hierarchy,
  labelsAt,
  maxSpanningForest,
  type Solver,
  unsafeForestHierarchy,
  unsafeMaxSpanningForest,
} from "./lib/forest/spanning_forest.ts";
export {
  chooseK,
  cutAtMinSize,
  cutAtThreshold,
  kAtThreshold,
  type KChoice,
  linkageMatrix,
  maxClustersAtMinSize,
  type MinSizeCut,
} from "./lib/forest/hierarchy.ts";
export {
  CANNOT_LINK,
  constrainedSpanningForest,
  type Constraints,
  constraintsFromLabels,
  constraintsFromMatrix,
  exactConstrainedSpanningForest,
  MUST_LINK,
  satisfies,
  UNKNOWN,
  unsafeConstrainedSpanningForest,
} from "./lib/constrained/constrained_forest.ts";
export {
  adjustedRandIndex,
  clusteringAccuracy,
  connectivityAccuracy,
  connectivityFromLabels,
  normalizedMutualInfo,
} from "./lib/metrics/metrics.ts";
export {
  cosineSimilarity,
  gaussianSimilarity,
  negSquaredDistances,
  negSquaredDistancesVjp,
  standardise,
  standardiseVjp,
} from "./lib/core/similarity.ts";
export {
  type Codec,
  ConstraintsCodec,
  type DecodeContextEntry,
  type DecodeError,
  type Decoder,
  type DecodeResult,
  LabelsCodec,
  MatrixCodec,
} from "./lib/core/codecs.ts";
export {
  type PointsLike,
  rectFromData,
  type RectMatrix,
  rectMatrix,
  rectToRows,
} from "./lib/core/rect_matrix.ts";
export {
  sinkhorn,
  sinkhornCostGradient,
  type SinkhornOptions,
  type SinkhornResult,
  squaredEuclideanCost,
  type SquaredEuclideanGradients,
  squaredEuclideanGradients,
} from "./lib/ot/sinkhorn.ts";
export { kMeans, type KMeansOptions, type KMeansResult } from "./lib/ot/kmeans.ts";
export {
  type InnerSinkhornOptions,
  otKMeans,
  otKMeansLoss,
  type OtKMeansLossOptions,
  type OtKMeansLossResult,
  type OtKMeansOptions,
  type OtKMeansResult,
} from "./lib/ot/ot_kmeans.ts";
export { NOISE_NAMES, type NoiseName, symmetricNoise } from "./lib/core/noise.ts";
export {
  makePerturbed,
  type PerturbedEstimate,
  type PerturbedOptions,
} from "./lib/perturbed/perturbed.ts";
export {
  fyLoss,
  type FyLossOptions,
  fyTarget,
  type LossAndGradient,
  partialFyLoss,
} from "./lib/losses/fy_loss.ts";
export {
  type PerturbedCotangent,
  perturbedJvp,
  type PerturbedTangent,
  perturbedVjp,
  scoreFunctionGradient,
  type ScoreFunctionOptions,
} from "./lib/perturbed/score_function.ts";
export {
  type Decoded,
  decodePipelineConfig,
  partialLossPipeline,
  type PipelineConfig,
  type PipelineResult,
} from "./lib/losses/pipeline.ts";
export { ForestWorkerPool, type PoolEstimateOptions } from "./lib/perturbed/forest_pool.ts";
// Sparse graphs (issue 14): the user-facing names only; helpers stay importable from lib/.
export {
  assertGraph,
  completeGraph,
  edgeLookup,
  type Graph,
  graph,
  graphComponents,
} from "./lib/graph/graph.ts";
export { GraphCodec, type GraphJson } from "./lib/graph/graph_codec.ts";
export {
  type GraphForest,
  graphForestAt,
  type GraphHierarchy,
  graphHierarchy,
  graphMaxSpanningForest,
  type GraphSolver,
  unsafeGraphMaxSpanningForest,
} from "./lib/forest/spanning_forest_on_graph.ts";
export {
  constrainedForestOnGraph,
  type PartialLabels,
  propagateLabels,
  unsafeConstrainedForestOnGraph,
} from "./lib/constrained/constrained_forest_on_graph.ts";
export {
  type GraphPerturbedEstimate,
  makePerturbedOnGraph,
} from "./lib/perturbed/perturbed_on_graph.ts";
export {
  fyLossOnGraph,
  type GraphFyLossOptions,
  type GraphLossAndGradient,
  partialFyLossOnGraph,
} from "./lib/losses/fy_loss_on_graph.ts";
export {
  delaunayGraph,
  exactNeighbours,
  type ExactNeighboursOptions,
  type GemmAbT,
  joinComponents,
  knnGraph,
  mutualReachability,
  type NeighbourGemm,
  neighbourGraph,
  type Neighbours,
  type Progress,
  type ProgressCallback,
} from "./lib/graph/point_graphs.ts";
export { jsGemm } from "./lib/graph/exact_neighbours.ts";
export {
  labelledNeighbourGraph,
  partialFyLossOfPoints,
  type PointGraphLoss,
  type PointGraphLossOptions,
} from "./lib/losses/point_graph_loss.ts";
export { approximateNeighbours, type NnDescentOptions } from "./lib/graph/nn_descent.ts";
export {
  type ClusterMethod,
  clusterPoints,
  type ClusterPointsOptions,
  type PointClustering,
} from "./lib/graph/cluster_points.ts";
// Fit once, assign new points, and say how sure: a fitted single-linkage model, exact
// assignment of new points, cluster probabilities under perturbation, and the model as a JSON
// header and arrays (saving to a directory lives in experiments/fitted_model_io.ts).
export {
  type Assignment,
  assignPoints,
  type AssignPointsOptions,
  type ClusterCut,
  fitClusters,
  type FitClustersOptions,
  type FitMetric,
  type FittedClusters,
} from "./lib/graph/fitted_clusters.ts";
export {
  type FittedClustersArrays,
  fittedClustersFromParts,
  type FittedClustersHeader,
  fittedClustersToParts,
} from "./lib/graph/fitted_clusters_codec.ts";
export {
  clusterMembership,
  clusterMembershipVjp,
  type Membership,
  type MembershipOptions,
  type MembershipWithVjp,
} from "./lib/graph/membership.ts";
export { MembershipWorkerPool } from "./lib/graph/membership_pool.ts";
