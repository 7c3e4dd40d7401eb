/**
 * spanclust — differentiable clustering with perturbed spanning forests (Stewart et al., 2023)
 * and with optimal transport (Genevay et al., 2019), in pure TypeScript: no tfjs, no file system,
 * no permission, usable from a browser.
 *
 * This entry is what a user calls, grouped as the papers' concepts are, one section per folder of
 * `lib/`. Two other entries: `./tf` trains a tfjs model through the clustering losses, and
 * `./expert` holds what tuning the internals needs (unchecked solvers, the GEMM of the exact
 * neighbour search, worker-pool plumbing, random streams).
 *
 * @example Matrices and similarities
 * A similarity matrix Σ is a symmetric {@link Matrix}; Σ_ij = −‖x_i − x_j‖² is the usual one.
 * ```ts
 * import { negSquaredDistances, toRows } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const sigma = negSquaredDistances([[0, 0], [3, 4], [0, 1]]);
 * assert.deepEqual(toRows(sigma)[0], [0, -25, -1]);
 * ```
 *
 * @example Forests (Definitions 2–3): the maximum spanning k-forest and its hierarchy
 * ```ts
 * import { forestHierarchy, labelsAt, maxSpanningForest, negSquaredDistances } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const sigma = negSquaredDistances([[0], [1], [10], [11], [30]]);
 * assert.deepEqual([...maxSpanningForest(sigma, 2).labels], [0, 0, 0, 0, 1]);
 * const hierarchy = forestHierarchy(sigma); // every k at once (single linkage)
 * assert.deepEqual([...labelsAt(hierarchy, 3)], [0, 0, 1, 1, 2]);
 * ```
 *
 * @example Constrained forests (Definitions 4–5): must-link and cannot-link
 * ```ts
 * import {
 *   constrainedSpanningForest, constraintsFromLabels, negSquaredDistances, satisfies,
 * } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const sigma = negSquaredDistances([[0], [1], [10], [11]]);
 * const constraints = constraintsFromLabels([0, 1, null, 1]); // points 1 and 3 together
 * const forest = constrainedSpanningForest(sigma, 2, constraints);
 * assert.ok(satisfies(constraints, forest.labels));
 * assert.equal(forest.labels[1], forest.labels[3]);
 * ```
 *
 * @example Perturbed forests (Definition 6): a smooth connectivity
 * ```ts
 * import { makePerturbed, maxSpanningForest, negSquaredDistances } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const sigma = negSquaredDistances([[0], [1], [2], [10]]);
 * const perturbed = makePerturbed(maxSpanningForest, {
 *   k: 2, epsilon: 1, samples: 100, noise: "gaussian",
 * });
 * const { connectivity } = perturbed(sigma, 0); // M*_ε: probability that i and j are together
 * assert.ok(connectivity.data[0 * 4 + 1] > 0.9 && connectivity.data[0 * 4 + 3] < 0.1);
 * ```
 *
 * @example Losses (Definitions 7–8, Proposition 1): the partial Fenchel–Young loss
 * ```ts
 * import { constraintsFromLabels, negSquaredDistances, partialFyLoss } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const sigma = negSquaredDistances([[0], [1], [10], [11]]);
 * const loss = partialFyLoss({ k: 2, epsilon: 0.1, samples: 20, noise: "gaussian" });
 * const agree = loss(sigma, constraintsFromLabels([0, 0, 1, 1]), 0);
 * const disagree = loss(sigma, constraintsFromLabels([0, 1, 1, 0]), 0);
 * assert.ok(agree.loss < disagree.loss); // grad: ∂ℓ/∂Σ, to descend on
 * ```
 *
 * @example Graphs of points: clustering many points on a neighbour graph
 * ```ts
 * import { clusterPoints, knnGraph, maxSpanningForestOnGraph } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const points = Array.from({ length: 200 }, (_, i) => [i % 2 === 0 ? i : 1000 + i, 0]);
 * const forest = maxSpanningForestOnGraph(knnGraph(points, 5), 2);
 * assert.equal(new Set(forest.labels).size, 2);
 * assert.deepEqual(clusterPoints(points, 2).labels, forest.labels);
 * ```
 *
 * @example Fitted clusterings: fit once, assign new points, and say how sure
 * ```ts
 * import { assignPoints, clusterMembership, fitClusters } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const points = [[0, 0], [0.2, 0], [0.1, 0.2], [5, 5], [5.2, 5], [5.1, 5.2]];
 * const model = fitClusters(points, { k: 2 });
 * const { labels } = assignPoints(model, [[0.1, 0.1], [5.1, 5.1]]);
 * assert.deepEqual(Array.from(labels), [model.labels[0], model.labels[3]]);
 * const p = clusterMembership(model, [[0.1, 0.1]], { epsilon: 0.01, samples: 100 });
 * assert.ok(p.probabilities[model.labels[0]] > 0.9); // sure: far from the other cluster
 * ```
 *
 * @example Optimal transport (Genevay et al., 2019): k-means with cluster sizes
 * ```ts
 * import { otKMeans } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const points = [[0], [0.1], [0.2], [5], [5.1], [5.2]];
 * const { balancedLabels } = otKMeans(points, 2, { epsilon: 0.05, seed: 1 });
 * assert.equal(balancedLabels.filter((l) => l === balancedLabels[0]).length, 3);
 * ```
 *
 * @example Metrics: comparing a clustering with the truth
 * ```ts
 * import { adjustedRandIndex, clusteringAccuracy } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0]), 1); // label names do not matter
 * assert.equal(clusteringAccuracy([0, 0, 1, 1], [0, 0, 0, 1]), 0.75);
 * ```
 *
 * @module
 */

// ## Core: matrices, similarities, noise, errors, JSON codecs — lib/core/

export { ConvergenceError, InfeasibleConstraintsError } from "./lib/core/errors.ts";
export { fromData, type Matrix, matrix, toRows, zeros } from "./lib/core/matrix.ts";
export {
  type PointsLike,
  rectFromData,
  type RectMatrix,
  rectMatrix,
  rectToRows,
} from "./lib/core/rect_matrix.ts";
export {
  cosineSimilarity,
  gaussianSimilarity,
  negSquaredDistances,
  negSquaredDistancesVjp,
  standardise,
  standardiseVjp,
} from "./lib/core/similarity.ts";
export { NOISE_NAMES, type NoiseName, symmetricNoise } from "./lib/core/noise.ts";
// Decoding untrusted JSON once, at the edge. The Decode* types are the shape of `Codec`'s
// results, so they are exported here (and with the expert internals).
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

// ## Forests (Definitions 2–3), their hierarchy and its cuts — lib/forest/

export {
  type Forest,
  forestAt,
  forestHierarchy,
  type Hierarchy,
  labelsAt,
  maxSpanningForest,
  type Solver,
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
  forestAtOnGraph,
  forestHierarchyOnGraph,
  type GraphForest,
  type GraphHierarchy,
  type GraphSolver,
  maxSpanningForestOnGraph,
} from "./lib/forest/spanning_forest_on_graph.ts";

// ## Constrained forests (Definitions 4–5) — lib/constrained/

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
} from "./lib/constrained/constrained_forest.ts";
export {
  constrainedSpanningForestOnGraph,
  type PartialLabels,
  propagateLabels,
} from "./lib/constrained/constrained_forest_on_graph.ts";

// ## Perturbed forests (Definition 6) and their derivatives — lib/perturbed/

export {
  makePerturbed,
  type PerturbedEstimate,
  type PerturbedOptions,
} from "./lib/perturbed/perturbed.ts";
export {
  type GraphPerturbedEstimate,
  makePerturbedOnGraph,
} from "./lib/perturbed/perturbed_on_graph.ts";
export {
  type PerturbedCotangent,
  perturbedJvp,
  type PerturbedTangent,
  perturbedVjp,
  scoreFunctionGradient,
  type ScoreFunctionOptions,
} from "./lib/perturbed/score_function.ts";

// ## Fenchel–Young losses (Definitions 7–8, Propositions 1–2) — lib/losses/

export {
  fyLoss,
  type FyLossOptions,
  fyTarget,
  type LossAndGradient,
  partialFyLoss,
} from "./lib/losses/fy_loss.ts";
export {
  fyLossOnGraph,
  type GraphFyLossOptions,
  type GraphLossAndGradient,
  partialFyLossOnGraph,
} from "./lib/losses/fy_loss_on_graph.ts";
export {
  labelledNeighbourGraph,
  partialFyLossOfPointsOnGraph,
  type PointGraphLoss,
  type PointGraphLossOptions,
} from "./lib/losses/point_graph_loss.ts";
export {
  type Decoded,
  decodePipelineConfig,
  partialLossPipeline,
  type PipelineConfig,
  type PipelineResult,
} from "./lib/losses/pipeline.ts";

// ## Graphs of points: neighbours, graphs, clustering many points — lib/graph/

export { completeGraph, type Graph, graph, graphComponents } from "./lib/graph/graph.ts";
export { GraphCodec, type GraphJson } from "./lib/graph/graph_codec.ts";
// GemmAbT and NeighbourGemm type the `gemm` option of exactNeighbours and clusterPoints.
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
export { approximateNeighbours, type NnDescentOptions } from "./lib/graph/nn_descent.ts";
export {
  type ClusterMethod,
  clusterPoints,
  type ClusterPointsOptions,
  type PointClustering,
} from "./lib/graph/cluster_points.ts";

// ## Fitted clusterings: fit once, assign new points, say how sure — lib/graph/

export {
  type Assignment,
  assignPoints,
  type AssignPointsOptions,
} from "./lib/graph/assign_points.ts";
export {
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

// ## Optimal transport: Sinkhorn, OT k-means, k-means (Genevay et al., 2019) — lib/ot/

export {
  sinkhorn,
  sinkhornCostGradient,
  type SinkhornOptions,
  type SinkhornResult,
  squaredEuclideanCost,
  type SquaredEuclideanGradients,
  squaredEuclideanGradients,
} from "./lib/ot/sinkhorn.ts";
export {
  type InnerSinkhornOptions,
  otKMeans,
  otKMeansLoss,
  type OtKMeansLossOptions,
  type OtKMeansLossResult,
  type OtKMeansOptions,
  type OtKMeansResult,
} from "./lib/ot/ot_kmeans.ts";
export { kMeans, type KMeansOptions, type KMeansResult } from "./lib/ot/kmeans.ts";
export {
  softKMeansLoss,
  type SoftKMeansLossOptions,
  type SoftKMeansLossResult,
} from "./lib/ot/soft_kmeans.ts";

// ## Metrics — lib/metrics/

export {
  adjustedRandIndex,
  clusteringAccuracy,
  connectivityAccuracy,
  connectivityFromLabels,
  normalizedMutualInfo,
} from "./lib/metrics/metrics.ts";

// ## Former names of the graph variants, kept for one version (CHANGELOG.md)
// (those of the unchecked solvers are in expert.ts, beside the solvers)

export {
  graphForestAt,
  graphHierarchy,
  graphMaxSpanningForest,
} from "./lib/forest/spanning_forest_on_graph.ts";
export { constrainedForestOnGraph } from "./lib/constrained/constrained_forest_on_graph.ts";
export { partialFyLossOfPoints } from "./lib/losses/point_graph_loss.ts";
