/**
 * Fit a single-linkage clustering once, keep it, and assign new points to it.
 *
 * {@link fitClusters} clusters points as `clusterPoints` does (the maximum spanning forest of
 * Σ_ij = −‖x_i − x_j‖² on a dense, Delaunay or kNN representation chosen by n and d, or HDBSCAN's
 * mutual reachability with `minSamples`), cuts the hierarchy, and returns a
 * {@link FittedClusters}: the training labels, the cut level λ, and what prediction needs (the
 * preprocessed training points, their labels and core distances, the preprocessing, the fitted
 * graph).
 *
 * The cut level λ is the similarity a new point must beat to join a cluster:
 *
 * | cut                         | clusters                                   | λ                                          |
 * | --------------------------- | ------------------------------------------ | ------------------------------------------ |
 * | `threshold: θ`              | components of the pairs with Σ_ij ≥ θ      | θ                                          |
 * | `k`                         | the first n − k merges                     | `weights[n − k]`: the strongest merge cut  |
 * | `k` with `minSize`          | `cutAtMinSize`: k clusters of ≥ minSize    | the strongest genuine split undone         |
 *
 * (λ = −∞ when nothing is cut: k = 1.) Every merge stronger than λ is kept, so every cluster is
 * a union of the single-linkage components above λ.
 *
 * `assignPoints` (`assign_points.ts`): for a new point x, s* = max_j Σ(x, x_j) over the training points. If
 * s* > λ, x takes the label of its most similar training point: single linkage of
 * train ∪ {x} at the same cut puts it there whenever no training point of another cluster is
 * above λ too (x would then bridge two clusters; checked against brute force in the tests).
 * Otherwise x is an outlier: −1 with `outliers: "reject"` (the default for a threshold cut), or
 * that label anyway with `"nearest"` (the default for k cuts). The search is exact
 * (`neighbour_index.ts`: blocked matrix products with a rigorous recheck), whatever graph the
 * fit used: on a kNN-graph fit the answer is the exact nearest training point's label.
 *
 * Similarities. `metric: "sqeuclidean"` (default): Σ(x, y) = −‖x − y‖². `"cosine"`: the points
 * are scaled to unit length and Σ(x, y) = −‖x̂ − ŷ‖² = 2 cos(x, y) − 2, a monotone map of the
 * cosine (so a cosine threshold c is `threshold: 2c − 2`). `standardise: true` first maps each
 * column to mean 0 and standard deviation 1 (population; a constant column to 0) with the
 * training means and deviations, kept in the model. With `minSamples` (mutual reachability),
 * Σ(x, y) = −max(‖x − y‖², core_x², core_y²), where core_y² is y's fitted squared core distance
 * and core_x² the squared distance from x to its `minSamples`-th nearest training point.
 *
 * @module
 */
import { assertIntegerInRange, show } from "../core/errors.ts";
import { type PointsLike, type RectMatrix, toRectMatrix } from "../core/rect_matrix.ts";
import { chooseK, cutAtMinSize, kAtThreshold } from "../forest/hierarchy.ts";
import { type Hierarchy, labelsAt } from "../forest/spanning_forest.ts";
import type { Graph } from "./graph.ts";
import { type ClusterMethod, clusterPoints, type ClusterPointsOptions } from "./cluster_points.ts";
import { type NeighbourIndex, neighbourIndex } from "./neighbour_index.ts";

/**
 * How similarities are measured (module doc).
 *
 * @category Fitted clusterings
 */
export type FitMetric = "sqeuclidean" | "cosine";

const METRICS: readonly FitMetric[] = ["sqeuclidean", "cosine"];
const CLUSTER_METHODS: readonly ClusterMethod[] = [
  "auto",
  "dense",
  "delaunay",
  "knn",
  "nn-descent",
];

/**
 * The cut of a fitted hierarchy, as resolved by {@link fitClusters}.
 *
 * @category Fitted clusterings
 */
export type ClusterCut =
  | {
    /** k clusters: the first n − k merges. */
    readonly kind: "k";
    /** Number of clusters. */
    readonly k: number;
  }
  | {
    /** The components of the pairs with Σ_ij ≥ threshold. */
    readonly kind: "threshold";
    /** The similarity threshold θ, in Σ's units. */
    readonly threshold: number;
  }
  | {
    /** `cutAtMinSize`: k clusters of at least minSize points. */
    readonly kind: "min-size";
    /** Number of clusters. */
    readonly k: number;
    /** Minimum cluster size. */
    readonly minSize: number;
  };

/**
 * Options of {@link fitClusters}: the cut, the similarities and how Σ is represented (the
 * options of `clusterPoints`; its `gemm` serves the fit's searches and assignment's).
 *
 * @category Fitted clusterings
 */
export interface FitClustersOptions extends ClusterPointsOptions {
  /** Number of clusters, or "largest-gap" to choose it from the hierarchy (`chooseK`). */
  readonly k?: number | "largest-gap";
  /** Similarity threshold θ instead of k (Σ's units: −distance², or 2 cos − 2). */
  readonly threshold?: number;
  /** With a numeric k: clusters of at least this many points (`cutAtMinSize`). */
  readonly minSize?: number;
  /** "sqeuclidean" (default) or "cosine". */
  readonly metric?: FitMetric;
  /** Standardise each column with the training mean and standard deviation (default false). */
  readonly standardise?: boolean;
  /** Names of the d columns, kept in the model so that new data can be checked against them. */
  readonly columns?: readonly string[];
}

/**
 * A fitted clustering: training labels, the cut level λ, and what assigning new points needs.
 * A plain data object (typed arrays, numbers, strings): `fittedClustersToParts` and
 * `fittedClustersFromParts` turn it into a JSON header and arrays and back, bit for bit.
 *
 * @category Fitted clusterings
 */
export interface FittedClusters {
  /** Number of training points. */
  readonly n: number;
  /** Number of coordinates. */
  readonly d: number;
  /** Cluster of each training point, 0..clusters−1, numbered by first appearance. */
  readonly labels: Int32Array;
  /** Number of clusters. */
  readonly clusters: number;
  /** The cut (a "largest-gap" k resolved to its number). */
  readonly cut: ClusterCut;
  /** The cut level λ in Σ's units (module doc); −∞ when nothing is cut. */
  readonly lambda: number;
  /** How similarities are measured. */
  readonly metric: FitMetric;
  /** The representation of Σ the fit used. */
  readonly method: Exclude<ClusterMethod, "auto">;
  /** Neighbours per point of the kNN graphs. */
  readonly neighbours: number;
  /** min_samples of mutual reachability, or undefined for plain similarities. */
  readonly minSamples: number | undefined;
  /** Names of the columns, when given. */
  readonly columns: readonly string[] | undefined;
  /** Standardisation: per-column training mean, or undefined. */
  readonly mean: Float64Array | undefined;
  /** Standardisation: per-column training standard deviation (population), or undefined. */
  readonly sd: Float64Array | undefined;
  /** The preprocessed training points (n × d): standardised, unit length for cosine. */
  readonly points: RectMatrix;
  /** Squared core distances of the training points (mutual reachability), or undefined. */
  readonly core: Float64Array | undefined;
  /** The fitted graph with its similarities; undefined for a dense fit (the complete graph). */
  readonly graph: Graph | undefined;
  /**
   * The exact search's locality order of the training points (`neighbourIndex`'s `perm`):
   * kept so that a loaded model's search index is rebuilt in O(n d).
   */
  readonly searchOrder: Int32Array;
}

const OPTION_KEYS = new Set([
  "k",
  "threshold",
  "minSize",
  "metric",
  "standardise",
  "columns",
  "method",
  "neighbours",
  "minSamples",
  "gemm",
  "seed",
  "onProgress",
]);

/**
 * Fits a single-linkage clustering (module doc) and keeps what assigning new points needs.
 * O(fit of `clusterPoints`) + O(n d) for the preprocessing.
 *
 * @param points n × d training coordinates, finite.
 * @param options The cut (`k`, or `threshold`, and optionally `minSize` with a numeric k), the
 *   metric and standardisation, column names, and `clusterPoints`'s method, neighbours,
 *   minSamples, matrix product, seed and progress callback.
 * @returns The fitted model.
 * @throws {TypeError | RangeError} One line naming the argument and value, before any work: bad
 *   points; neither or both of k and threshold; minSize without a numeric k; an unknown metric
 *   or option; columns that are not d distinct names; k out of range; a cut that does not exist
 *   (e.g. more clusters of ≥ minSize than the hierarchy holds); for cosine, a zero point.
 *
 * @example Two groups on a line, then two new points
 * ```ts
 * import { fitClusters } from "./fitted_clusters.ts";
 * import { assignPoints } from "./assign_points.ts";
 * import assert from "node:assert/strict";
 * const model = fitClusters([[0], [1], [2], [10], [11], [12]], { k: 2 });
 * assert.deepEqual([...model.labels], [0, 0, 0, 1, 1, 1]);
 * assert.equal(model.lambda, -64); // the merge the cut removes: 2 — 10, distance 8
 * const { labels } = assignPoints(model, [[9], [40]], { outliers: "reject" });
 * assert.deepEqual([...labels], [1, -1]); // 40 is 28 from 12: −784 is not above λ
 * ```
 *
 * @category Fitted clusterings
 */
export function fitClusters(points: PointsLike, options: FitClustersOptions): FittedClusters {
  return fitClustersWithHierarchy(points, options).model;
}

/**
 * {@link fitClusters}, also returning the whole single-linkage hierarchy of the preprocessed
 * points (for a dendrogram or a linkage matrix; not part of the model).
 *
 * @param points n × d training coordinates, finite.
 * @param options As {@link fitClusters}.
 * @returns The model and the hierarchy it was cut from.
 * @throws {TypeError | RangeError} As {@link fitClusters}.
 *
 * @example
 * ```ts
 * import { fitClustersWithHierarchy } from "./fitted_clusters.ts";
 * const { model, hierarchy } = fitClustersWithHierarchy([[0], [1], [5]], { k: 2 });
 * if (hierarchy.weights.join() !== "-1,-16" || model.lambda !== -16) throw new Error();
 * ```
 */
export function fitClustersWithHierarchy(
  points: PointsLike,
  options: FitClustersOptions,
): { readonly model: FittedClusters; readonly hierarchy: Hierarchy } {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected options to be an object, got ${show(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      throw new RangeError(
        `Invalid option ${JSON.stringify(key)}: fitClusters takes ${[...OPTION_KEYS].join(", ")}`,
      );
    }
  }
  const p = toRectMatrix(points, "points");
  const n = p.rows, d = p.cols;
  const { k, threshold, minSize } = options;
  if ((k === undefined) === (threshold === undefined)) {
    throw new RangeError(
      k === undefined
        ? 'Invalid options: give k (a number of clusters, or "largest-gap") or threshold'
        : `Invalid options: k = ${show(k)} and threshold = ${
          show(threshold)
        } both given; choose one`,
    );
  }
  if (k !== undefined && k !== "largest-gap") {
    assertIntegerInRange("k", k, 1, n, `for n = ${n} points`);
  }
  if (k === "largest-gap" && n < 3) {
    throw new RangeError(`Invalid k = "largest-gap": choosing k needs n ≥ 3 points, got ${n}`);
  }
  if (threshold !== undefined && (typeof threshold !== "number" || !Number.isFinite(threshold))) {
    throw new RangeError(`Invalid threshold = ${show(threshold)}: it must be a finite number`);
  }
  if (minSize !== undefined) {
    if (typeof k !== "number") {
      throw new RangeError(
        `Invalid minSize = ${show(minSize)}: a minimum-size cut needs a numeric k (got ${
          k === undefined ? `threshold = ${show(threshold)}` : `k = ${show(k)}`
        })`,
      );
    }
    assertIntegerInRange("minSize", minSize, 1, n, `for n = ${n} points`);
  }
  const metric = options.metric ?? "sqeuclidean";
  if (!METRICS.includes(metric)) {
    throw new RangeError(
      `Invalid metric = ${show(metric)}: metric must be one of ${METRICS.join(", ")}`,
    );
  }
  const standardise = options.standardise ?? false;
  if (typeof standardise !== "boolean") {
    throw new TypeError(`Expected standardise to be a boolean, got ${show(standardise)}`);
  }
  const columns = checkColumns(options.columns, d);
  // clusterPoints checks these too, but after the preprocessing: here before any work.
  const method = options.method ?? "auto";
  if (!CLUSTER_METHODS.includes(method)) {
    throw new RangeError(
      `Invalid method = ${show(method)}: method must be one of ${CLUSTER_METHODS.join(", ")}`,
    );
  }
  if (options.neighbours !== undefined) {
    assertIntegerInRange("neighbours", options.neighbours, 1, 1 << 16);
  }
  if (options.minSamples !== undefined) {
    assertIntegerInRange("minSamples", options.minSamples, 1, Math.max(1, n - 1), `for n = ${n}`);
  }
  let mean: Float64Array | undefined, sd: Float64Array | undefined;
  if (standardise) {
    mean = new Float64Array(d);
    sd = new Float64Array(d);
    const x = p.data;
    for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) mean[t] += x[i * d + t];
    for (let t = 0; t < d; t++) mean[t] /= n;
    for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) sd[t] += (x[i * d + t] - mean[t]) ** 2;
    for (let t = 0; t < d; t++) sd[t] = Math.sqrt(sd[t] / n);
  }
  const pre = preprocessWith(metric, mean, sd, p, "points");
  const fit = clusterPoints(pre, typeof k === "number" ? k : 1, {
    method: options.method,
    neighbours: options.neighbours,
    minSamples: options.minSamples,
    gemm: options.gemm,
    seed: options.seed,
    onProgress: options.onProgress,
  });
  const index = neighbourIndex(pre);
  const h = fit.hierarchy,
    weightAt = (t: number) => t < h.weights.length ? h.weights[t] : -Infinity;
  let labels: Int32Array, lambda: number, cut: ClusterCut;
  if (threshold !== undefined) {
    labels = labelsAt(h, kAtThreshold(h, threshold));
    lambda = threshold + 0; // −0 → +0: the same cut, and a JSON number keeps it
    cut = { kind: "threshold", threshold: lambda };
  } else if (minSize !== undefined) {
    const c = cutAtMinSize(h, k as number, minSize);
    labels = c.labels;
    lambda = c.splits.length > 0 ? h.weights[c.splits[c.splits.length - 1]] : -Infinity;
    cut = { kind: "min-size", k: k as number, minSize };
  } else {
    const kk = k === "largest-gap" ? chooseK(h).k : k as number;
    labels = kk === fit.forest.k ? fit.labels : labelsAt(h, kk);
    lambda = weightAt(n - kk);
    cut = { kind: "k", k: kk };
  }
  let clusters = 0;
  for (let i = 0; i < n; i++) if (labels[i] >= clusters) clusters = labels[i] + 1;
  const minSamples = options.minSamples;
  const model: FittedClusters = {
    n,
    d,
    labels,
    clusters,
    cut,
    lambda,
    metric,
    method: fit.method,
    neighbours: options.neighbours ?? 15,
    minSamples,
    columns,
    mean,
    sd,
    points: pre,
    core: minSamples === undefined ? undefined : fit.core ?? new Float64Array(n).fill(Infinity),
    graph: fit.graph,
    searchOrder: index.perm,
  };
  indexes.set(model, index);
  return { model, hierarchy: h };
}

function checkColumns(columns: unknown, d: number): readonly string[] | undefined {
  if (columns === undefined) return undefined;
  if (!Array.isArray(columns) || columns.some((c) => typeof c !== "string")) {
    throw new TypeError(`Expected columns to be an array of strings, got ${show(columns)}`);
  }
  if (columns.length !== d) {
    throw new RangeError(`Invalid columns: ${columns.length} names for points of d = ${d}`);
  }
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c)) throw new RangeError(`Invalid columns: ${JSON.stringify(c)} appears twice`);
    seen.add(c);
  }
  return Object.freeze([...columns]);
}

/**
 * The model's preprocessing of raw coordinates: standardisation with the training means and
 * deviations (a constant column maps to 0), then unit length for cosine. The same arithmetic
 * for training and new points, so a training point maps to its stored row bit for bit.
 */
function preprocessWith(
  metric: FitMetric,
  mean: Float64Array | undefined,
  sd: Float64Array | undefined,
  p: RectMatrix,
  name: string,
): RectMatrix {
  const n = p.rows, d = p.cols, x = p.data, out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) {
      const v = x[i * d + t];
      out[i * d + t] = mean === undefined ? v : sd![t] > 0 ? (v - mean[t]) / sd![t] : 0;
    }
  }
  if (metric === "cosine") {
    for (let i = 0; i < n; i++) {
      // Scaled by the largest |coordinate| first, so that the norm neither over- nor underflows.
      let big = 0;
      for (let t = 0; t < d; t++) big = Math.max(big, Math.abs(out[i * d + t]));
      if (big === 0) {
        throw new RangeError(
          `Invalid ${name}[${i}]: it is the zero vector${
            mean === undefined ? "" : " after standardising"
          }, whose cosine similarity is undefined`,
        );
      }
      let s = 0;
      for (let t = 0; t < d; t++) {
        out[i * d + t] /= big;
        s += out[i * d + t] * out[i * d + t];
      }
      const norm = Math.sqrt(s);
      for (let t = 0; t < d; t++) out[i * d + t] /= norm;
    }
  }
  return { rows: n, cols: d, data: out };
}

/**
 * Checks that `model` has the shape of a {@link FittedClusters} (types and lengths; O(1) beyond
 * reading the fields).
 *
 * @param name Argument name used in the message.
 * @param model The value to check.
 * @throws {TypeError} Naming the first field that is missing or of the wrong type or length.
 *
 * @example
 * ```ts
 * import { assertFittedClusters } from "./fitted_clusters.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => assertFittedClusters("model", {}), /Expected model to be a FittedClusters/);
 * ```
 */
export function assertFittedClusters(
  name: string,
  model: unknown,
): asserts model is FittedClusters {
  const m = model as Partial<FittedClusters> | null;
  const why = typeof m !== "object" || m === null
    ? "not an object"
    : !Number.isInteger(m.n) || !Number.isInteger(m.d) || m.n! < 1 || m.d! < 1
    ? "n and d must be positive integers"
    : !(m.labels instanceof Int32Array) || m.labels.length !== m.n
    ? "labels must be an Int32Array of length n"
    : typeof m.points !== "object" || m.points === null ||
        !(m.points.data instanceof Float64Array) || m.points.rows !== m.n ||
        m.points.cols !== m.d || m.points.data.length !== m.n! * m.d!
    ? "points must be an n × d RectMatrix"
    : typeof m.lambda !== "number" || Number.isNaN(m.lambda)
    ? "lambda must be a number"
    : !Number.isInteger(m.clusters) || m.clusters! < 1
    ? "clusters must be a positive integer"
    : !METRICS.includes(m.metric as FitMetric)
    ? `metric must be one of ${METRICS.join(", ")}`
    : typeof m.cut !== "object" || m.cut === null ||
        !["k", "threshold", "min-size"].includes(m.cut.kind)
    ? "cut must be a ClusterCut"
    : m.minSamples !== undefined &&
        (!(m.core instanceof Float64Array) || m.core.length !== m.n ||
          !Number.isInteger(m.minSamples) || m.minSamples < 1 || m.minSamples > m.n!)
    ? "with minSamples, core must be a Float64Array of length n"
    : (m.mean === undefined) !== (m.sd === undefined) ||
        (m.mean !== undefined &&
          (!(m.mean instanceof Float64Array) || !(m.sd instanceof Float64Array) ||
            m.mean.length !== m.d || m.sd.length !== m.d))
    ? "mean and sd must both be absent or Float64Arrays of length d"
    : m.graph !== undefined && (typeof m.graph !== "object" || m.graph === null ||
        m.graph.n !== m.n || !(m.graph.from instanceof Int32Array))
    ? "graph must be a Graph on the n training points"
    : !(m.searchOrder instanceof Int32Array) || m.searchOrder.length !== m.n
    ? "searchOrder must be an Int32Array of length n"
    : null;
  if (why !== null) {
    throw new TypeError(`Expected ${name} to be a FittedClusters from fitClusters (${why})`);
  }
}

/**
 * New raw coordinates through a model's preprocessing, after checking their shape.
 *
 * @param model A fitted model.
 * @param points New points, d coordinates each.
 * @param name Argument name used in messages.
 * @returns The preprocessed n × d coordinates.
 * @throws {TypeError | RangeError} If `points` is empty, not finite or of another dimension; for
 *   cosine, a zero point.
 */
export function preprocessPoints(
  model: FittedClusters,
  points: PointsLike,
  name: string,
): RectMatrix {
  const p = toRectMatrix(points, name);
  if (p.cols !== model.d) {
    throw new RangeError(
      `Invalid ${name}: they have ${p.cols} coordinates but the model was fitted on ${model.d}`,
    );
  }
  return preprocessWith(model.metric, model.mean, model.sd, p, name);
}

const indexes = new WeakMap<FittedClusters, NeighbourIndex>();

/**
 * The exact search structure over a model's training points, built once per model object.
 *
 * @param model A fitted model.
 * @returns Its neighbour index.
 */
export function modelIndex(model: FittedClusters): NeighbourIndex {
  let index = indexes.get(model);
  if (index === undefined) {
    index = neighbourIndex(model.points, { order: model.searchOrder });
    indexes.set(model, index);
  }
  return index;
}

/**
 * Σ between preprocessed points and their m nearest training points: −d², or with mutual
 * reachability −max(d², core_x², core_y²) where core_x² is each point's `minSamples`-th
 * nearest training distance² (the first `minSamples` of the lists must be the exact nearest).
 *
 * @param model A fitted model.
 * @param nb Each point's nearest training points, nearest first (q × m).
 * @returns The q × m similarities, aligned with `nb.index`.
 */
export function similaritiesTo(
  model: FittedClusters,
  nb: {
    readonly n: number;
    readonly k: number;
    readonly index: Int32Array;
    readonly distance2: Float64Array;
  },
): Float64Array {
  const out = new Float64Array(nb.n * nb.k), ms = model.minSamples, core = model.core;
  for (let i = 0; i < nb.n; i++) {
    const cx = ms === undefined ? 0 : nb.distance2[i * nb.k + ms - 1];
    for (let t = 0; t < nb.k; t++) {
      const j = nb.index[i * nb.k + t], d2 = nb.distance2[i * nb.k + t];
      if (ms === undefined) out[i * nb.k + t] = -d2;
      else {
        const cy = core![j] < Infinity ? core![j] : d2;
        out[i * nb.k + t] = -Math.max(d2, cx, cy);
      }
    }
  }
  return out;
}
