/**
 * One call to cluster a point set of any size by single linkage (the maximum-weight k-spanning
 * forest of Σ_ij = −‖x_i − x_j‖²), choosing how Σ is represented:
 *
 * | method        | when `auto` picks it   | exact?                               | cost            |
 * | ------------- | ---------------------- | ------------------------------------ | --------------- |
 * | `dense`       | n ≤ 2048               | yes                                  | O(n² d), n² mem |
 * | `delaunay`    | d = 2, n > 2048        | yes (Euclidean MST ⊂ Delaunay)       | O(n log n)      |
 * | `knn`         | d > 2, n ≤ 20 000 (¹)  | on the exact kNN graph               | O(n² d), O(nd)  |
 * | `nn-descent`  | d > 2, n > 20 000 (¹)  | on an approximate kNN graph          | ≈ O(n k² d)     |
 *
 * (¹) 100 000 when a native matrix product is given (`gemm`, e.g. OpenBLAS through
 * `experiments/native_gemm.ts`): the exact search (`exactNeighbours`) is then faster than
 * NN-descent on clustered data at 70 000 × 32-d, and as fast on unstructured data.
 *
 * kNN graphs are joined into one component (`joinComponents`) so that every k has a forest.
 * With `minSamples`, similarities are HDBSCAN's mutual reachability (kNN methods and dense); the
 * few edges that join components keep plain −distance² weights.
 *
 * @module
 */
import { assertIntegerInRange, show } from "../core/errors.ts";
import type { Graph } from "./graph.ts";
import {
  forestAtOnGraph,
  unsafeForestHierarchyOnGraph,
} from "../forest/spanning_forest_on_graph.ts";
import { fromData } from "../core/matrix.ts";
import { checkGemm } from "./exact_neighbours.ts";
import { approximateNeighbours } from "./nn_descent.ts";
import {
  delaunayGraph,
  exactNeighbours,
  joinComponents,
  mutualReachability,
  type NeighbourGemm,
  neighbourGraph,
  type Neighbours,
  type ProgressCallback,
} from "./point_graphs.ts";
import { type PointsLike, toRectMatrix } from "../core/rect_matrix.ts";
import {
  type Forest,
  forestAt,
  type Hierarchy,
  unsafeForestHierarchy,
} from "../forest/spanning_forest.ts";

/**
 * How {@link clusterPoints} represents the similarities.
 *
 * @category Graphs of points
 */
export type ClusterMethod = "auto" | "dense" | "delaunay" | "knn" | "nn-descent";

const METHODS: readonly ClusterMethod[] = ["auto", "dense", "delaunay", "knn", "nn-descent"];

/** Largest n for which `auto` builds the dense n × n Σ (32 MB). */
export const DENSE_MAX_POINTS = 2048;
/** Largest n for which `auto` computes exact kNN in d > 2 (O(n² d)) with the built-in product. */
export const EXACT_KNN_MAX_POINTS = 20_000;
/** Largest n for which `auto` computes exact kNN in d > 2 when a `gemm` is given. */
export const EXACT_GEMM_MAX_POINTS = 100_000;

/**
 * Options of {@link clusterPoints}.
 *
 * @category Graphs of points
 */
export interface ClusterPointsOptions {
  /** Representation of Σ (default "auto": by n and d, see the module doc). */
  readonly method?: ClusterMethod;
  /** Neighbours per point of the kNN graphs (default 15). */
  readonly neighbours?: number;
  /** Use mutual reachability with the core distance to this neighbour (HDBSCAN's min_samples). */
  readonly minSamples?: number;
  /**
   * The matrix product of the exact kNN search (method "knn", and the core distances of
   * "dense" with `minSamples`): see `exactNeighbours`. A native one
   * (`experiments/native_gemm.ts`: OpenBLAS through FFI) is the point; the neighbours are the
   * same with any product. With it, "auto" searches exactly up to 100 000 points.
   */
  readonly gemm?: NeighbourGemm;
  /** Seed of NN-descent (default 0). */
  readonly seed?: number;
  /** Called on progress of long stages. */
  readonly onProgress?: ProgressCallback;
}

/**
 * What {@link clusterPoints} returns.
 *
 * @category Graphs of points
 */
export interface PointClustering {
  /** Cluster id per point, 0..k−1, numbered by first appearance. */
  readonly labels: Int32Array;
  /** The k-forest (a `GraphForest` with edge indices for the graph methods). */
  readonly forest: Forest;
  /** The whole hierarchy: `labelsAt(hierarchy, k')` reads any other k' without re-solving. */
  readonly hierarchy: Hierarchy;
  /** The sparse graph the forest lives on (undefined for `dense`). */
  readonly graph: Graph | undefined;
  /** The method used. */
  readonly method: Exclude<ClusterMethod, "auto">;
  /**
   * With `minSamples`: each point's squared core distance (to its `minSamples`-th neighbour in
   * the lists the similarities were built from), the core_i² of the mutual reachability
   * −max(core_i², core_j², d_ij²); undefined without.
   */
  readonly core?: Float64Array;
}

/**
 * Clusters points into k clusters by single linkage (or HDBSCAN-style mutual reachability with
 * `minSamples`), choosing dense, Delaunay or kNN representations by n and d (overridable).
 *
 * @param points n × d coordinates (rows or a RectMatrix), finite.
 * @param k Number of clusters, an integer in [1, n].
 * @param options Method, neighbours, minSamples, matrix product, seed, progress callback.
 * @returns Labels, forest, hierarchy, graph and the method used.
 * @throws {TypeError | RangeError} On invalid points, k or options (the message names it), e.g.
 * `delaunay` for points that are not 2-d, or `minSamples` with `delaunay`.
 *
 * @example Two blobs on a plane
 * ```ts
 * import { clusterPoints } from "./cluster_points.ts";
 * import assert from "node:assert/strict";
 * const pts = [[0, 0], [0, 1], [1, 0], [10, 10], [10, 11], [11, 10]];
 * const { labels, method } = clusterPoints(pts, 2, { method: "delaunay" });
 * assert.deepEqual([...labels], [0, 0, 0, 1, 1, 1]);
 * assert.equal(method, "delaunay");
 * ```
 *
 * @category Graphs of points
 */
export function clusterPoints(
  points: PointsLike,
  k: number,
  options: ClusterPointsOptions = {},
): PointClustering {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected options to be an object, got ${show(options)}`);
  }
  const p = toRectMatrix(points, "points");
  const n = p.rows, d = p.cols;
  assertIntegerInRange("k", k, 1, n, `for n = ${n} points`);
  const requested = options.method ?? "auto";
  if (!METHODS.includes(requested)) {
    throw new RangeError(
      `Invalid method = ${show(requested)}: method must be one of ${METHODS.join(", ")}`,
    );
  }
  const neighbours = options.neighbours ?? 15;
  assertIntegerInRange("neighbours", neighbours, 1, 1 << 16);
  const minSamples = options.minSamples;
  if (minSamples !== undefined) {
    assertIntegerInRange("minSamples", minSamples, 1, 1 << 16);
  }
  const gemm = options.gemm === undefined ? undefined : checkGemm(options.gemm);
  const exactMax = gemm === undefined ? EXACT_KNN_MAX_POINTS : EXACT_GEMM_MAX_POINTS;
  const method: Exclude<ClusterMethod, "auto"> = requested !== "auto"
    ? requested
    : n <= DENSE_MAX_POINTS
    ? "dense"
    : d === 2 && minSamples === undefined
    ? "delaunay"
    : n <= exactMax
    ? "knn"
    : "nn-descent";
  if (method === "delaunay" && minSamples !== undefined) {
    throw new RangeError(
      `Invalid minSamples = ${minSamples} with method = "delaunay": mutual reachability needs a kNN method ("knn", "nn-descent") or "dense"`,
    );
  }
  const onProgress = options.onProgress;
  const kNN = Math.min(Math.max(neighbours, minSamples ?? 1), Math.max(1, n - 1));
  if (minSamples !== undefined && minSamples > Math.max(1, n - 1)) {
    throw new RangeError(`Invalid minSamples = ${minSamples}: at most n − 1 = ${n - 1}`);
  }
  if (method === "dense") {
    const x = p.data, sigma = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += (x[i * d + t] - x[j * d + t]) ** 2;
        sigma[i * n + j] = sigma[j * n + i] = -s;
      }
    }
    let core: Float64Array | undefined;
    if (minSamples !== undefined && n > 1) {
      const nb = exactNeighbours(p, minSamples, { gemm });
      core = new Float64Array(n);
      for (let i = 0; i < n; i++) core[i] = nb.distance2[i * minSamples + minSamples - 1];
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (i !== j) sigma[i * n + j] = -Math.max(-sigma[i * n + j], core[i], core[j]);
        }
      }
    }
    onProgress?.({ stage: "forest", done: 0, total: 1 });
    const hierarchy = unsafeForestHierarchy(fromData(n, sigma));
    const forest = forestAt(hierarchy, k);
    onProgress?.({ stage: "forest", done: 1, total: 1 });
    return { labels: forest.labels, forest, hierarchy, graph: undefined, method, core };
  }
  let graph: Graph, core: Float64Array | undefined;
  if (method === "delaunay") {
    onProgress?.({ stage: "delaunay", done: 0, total: 1 });
    // Connected for every input we know of (duplicates and collinear sets included); the join
    // is a cheap safety net (one union–find pass when nothing is to be done).
    graph = joinComponents(delaunayGraph(p), p);
    onProgress?.({ stage: "delaunay", done: 1, total: 1 });
  } else {
    let nb: Neighbours;
    if (n === 1) {
      nb = { n, k: 1, index: new Int32Array([-1]), distance2: new Float64Array([Infinity]) };
    } else if (method === "knn") nb = exactNeighbours(p, kNN, { gemm, onProgress });
    else nb = approximateNeighbours(p, { k: kNN, seed: options.seed ?? 0, onProgress });
    graph = neighbourGraph(nb);
    if (minSamples !== undefined) {
      graph = mutualReachability(graph, nb, minSamples);
      core = new Float64Array(n);
      for (let i = 0; i < n; i++) core[i] = nb.distance2[i * nb.k + minSamples - 1];
    }
    graph = joinComponents(graph, p);
  }
  onProgress?.({ stage: "forest", done: 0, total: 1 });
  const hierarchy = unsafeForestHierarchyOnGraph(graph);
  const forest = forestAtOnGraph(hierarchy, k);
  onProgress?.({ stage: "forest", done: 1, total: 1 });
  return { labels: forest.labels, forest, hierarchy, graph, method, core };
}
