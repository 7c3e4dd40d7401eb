/**
 * A {@link FittedClusters} as a JSON header and named typed arrays, and back: what a file format
 * stores (`experiments/fitted_model_io.ts` writes the header as `model.json` and each array as a
 * `.npy` file). No file system here. Every number of the model travels either as a typed array
 * or as a JSON number (shortest round-trip form) or, for λ, as its decimal string (−∞ is not
 * JSON), so decoding gives the model back bit for bit.
 *
 * Decoding validates everything once, at the edge: the format name and version, every field,
 * every array's type and length, the labels' range, the graph's edges. Each error is one line
 * that names the field and the value.
 *
 * @module
 */
import { show } from "../core/errors.ts";
import { assertGraph } from "./graph.ts";
import { assertPermutation } from "./neighbour_index.ts";
import type { ClusterCut, FitMetric, FittedClusters } from "./fitted_clusters.ts";
import type { ClusterMethod } from "./cluster_points.ts";

/** The format name written in every header. */
export const FITTED_CLUSTERS_FORMAT = "spanclust-fitted-clusters";
/** The version this code writes and reads. */
export const FITTED_CLUSTERS_VERSION = 1;

/**
 * The JSON header of a fitted model: every field but the arrays.
 *
 * @category Fitted clusterings
 */
export interface FittedClustersHeader {
  /** Always {@link FITTED_CLUSTERS_FORMAT}. */
  readonly format: string;
  /** {@link FITTED_CLUSTERS_VERSION}. */
  readonly version: number;
  /** Number of training points. */
  readonly n: number;
  /** Number of coordinates. */
  readonly d: number;
  /** Number of clusters. */
  readonly clusters: number;
  /** The cut. */
  readonly cut: ClusterCut;
  /** λ as a decimal string ("-Infinity" when nothing is cut, "-0" for −0). */
  readonly lambda: string;
  /** The metric. */
  readonly metric: FitMetric;
  /** The representation of Σ the fit used. */
  readonly method: Exclude<ClusterMethod, "auto">;
  /** Neighbours per point of the kNN graphs. */
  readonly neighbours: number;
  /** min_samples of mutual reachability, or null. */
  readonly minSamples: number | null;
  /** Column names, or null. */
  readonly columns: readonly string[] | null;
  /** Whether `mean` and `sd` arrays are stored. */
  readonly standardised: boolean;
  /** Number of edges of the stored graph, or null for a dense fit (the complete graph). */
  readonly graphEdges: number | null;
}

/**
 * The arrays of a fitted model, by name (absent ones are undefined).
 *
 * @category Fitted clusterings
 */
export interface FittedClustersArrays {
  /** n × d preprocessed training points. */
  readonly points: Float64Array;
  /** n training labels. */
  readonly labels: Int32Array;
  /** n squared core distances (mutual reachability only). */
  readonly core?: Float64Array;
  /** d column means (standardised only). */
  readonly mean?: Float64Array;
  /** d column standard deviations (standardised only). */
  readonly sd?: Float64Array;
  /** The graph's m edges' smaller endpoints (graph fits only). */
  readonly graphFrom?: Int32Array;
  /** The graph's m edges' larger endpoints (graph fits only). */
  readonly graphTo?: Int32Array;
  /** The graph's m edges' similarities (graph fits only). */
  readonly graphWeight?: Float64Array;
  /** n: the exact search's locality order (a permutation of the training points). */
  readonly searchOrder: Int32Array;
}

/** Every array name, in the order a format lists them. */
export const FITTED_CLUSTERS_ARRAYS: readonly (keyof FittedClustersArrays)[] = [
  "points",
  "labels",
  "core",
  "mean",
  "sd",
  "graphFrom",
  "graphTo",
  "graphWeight",
  "searchOrder",
];

/**
 * Splits a model into its JSON header and arrays (no copy of the arrays).
 *
 * @param model A fitted model.
 * @returns Header and arrays.
 *
 * @example
 * ```ts
 * import { fitClusters } from "./fitted_clusters.ts";
 * import { fittedClustersFromParts, fittedClustersToParts } from "./fitted_clusters_codec.ts";
 * import assert from "node:assert/strict";
 * const model = fitClusters([[0], [1], [9]], { k: 2 });
 * const { header, arrays } = fittedClustersToParts(model);
 * assert.equal(header.lambda, "-64");
 * assert.deepEqual(fittedClustersFromParts(JSON.parse(JSON.stringify(header)), arrays), model);
 * ```
 *
 * @category Fitted clusterings
 */
export function fittedClustersToParts(
  model: FittedClusters,
): { header: FittedClustersHeader; arrays: FittedClustersArrays } {
  const header: FittedClustersHeader = {
    format: FITTED_CLUSTERS_FORMAT,
    version: FITTED_CLUSTERS_VERSION,
    n: model.n,
    d: model.d,
    clusters: model.clusters,
    cut: model.cut,
    lambda: Object.is(model.lambda, -0) ? "-0" : String(model.lambda),
    metric: model.metric,
    method: model.method,
    neighbours: model.neighbours,
    minSamples: model.minSamples ?? null,
    columns: model.columns ?? null,
    standardised: model.mean !== undefined,
    graphEdges: model.graph === undefined ? null : model.graph.from.length,
  };
  const arrays: FittedClustersArrays = {
    points: model.points.data,
    labels: model.labels,
    ...(model.core === undefined ? {} : { core: model.core }),
    ...(model.mean === undefined ? {} : { mean: model.mean, sd: model.sd }),
    ...(model.graph === undefined ? {} : {
      graphFrom: model.graph.from,
      graphTo: model.graph.to,
      graphWeight: model.graph.weight,
    }),
    searchOrder: model.searchOrder,
  };
  return { header, arrays };
}

const bad = (field: string, value: unknown, why: string) =>
  new RangeError(`Invalid model ${field} = ${show(value)}: ${why}`);

function integer(h: Record<string, unknown>, key: string, lo: number, hi: number): number {
  const v = h[key];
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) {
    throw bad(key, v, `an integer in [${lo}, ${hi}] is needed`);
  }
  return v;
}

function oneOf<T extends string>(h: Record<string, unknown>, key: string, choices: readonly T[]) {
  const v = h[key];
  if (typeof v !== "string" || !(choices as readonly string[]).includes(v)) {
    throw bad(key, v, `one of ${choices.join(", ")} is needed`);
  }
  return v as T;
}

function array<T extends Float64Array | Int32Array>(
  arrays: FittedClustersArrays | Readonly<Record<string, unknown>>,
  name: string,
  type: { new (n: number): T; name: string },
  length: number,
  present: boolean,
): T | undefined {
  const a = (arrays as Readonly<Record<string, unknown>>)[name];
  if (!present) {
    if (a !== undefined) {
      throw new RangeError(`Invalid model: array ${name} is stored but the header has none`);
    }
    return undefined;
  }
  if (a === undefined) throw new RangeError(`Invalid model: array ${name} is missing`);
  if (!(a instanceof type)) {
    throw new TypeError(`Expected model array ${name} to be a ${type.name}, got ${show(a)}`);
  }
  if (a.length !== length) {
    throw new RangeError(
      `Invalid model array ${name}: ${a.length} values, the header says ${length}`,
    );
  }
  return a;
}

/**
 * Checks that a parsed header names this format and version (what a reader checks first,
 * before reading any array).
 *
 * @param header The parsed header.
 * @throws {TypeError | RangeError} One line naming the format or version found.
 *
 * @example
 * ```ts
 * import { checkFittedClustersFormat } from "./fitted_clusters_codec.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => checkFittedClustersFormat({ format: "other" }), /Invalid model format/);
 * ```
 */
export function checkFittedClustersFormat(header: unknown): void {
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new TypeError(`Expected the model header to be a JSON object, got ${show(header)}`);
  }
  const h = header as Record<string, unknown>;
  if (h.format !== FITTED_CLUSTERS_FORMAT) {
    throw bad("format", h.format, `not a fitted model (${FITTED_CLUSTERS_FORMAT} expected)`);
  }
  if (h.version !== FITTED_CLUSTERS_VERSION) {
    throw bad("version", h.version, `this code reads version ${FITTED_CLUSTERS_VERSION}`);
  }
}

/**
 * Rebuilds a model from its header (parsed JSON, untrusted) and arrays, validating both.
 *
 * @param header The parsed header.
 * @param arrays The arrays by name (see {@link FittedClustersArrays}).
 * @returns The model, sharing the arrays.
 * @throws {TypeError | RangeError} One line naming the field and value: another format or
 *   version, a missing or malformed field, an array missing, of another type or length, a
 *   label out of range, an invalid graph edge.
 *
 * @example Another version is refused
 * ```ts
 * import { fittedClustersFromParts } from "./fitted_clusters_codec.ts";
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => fittedClustersFromParts({ format: "spanclust-fitted-clusters", version: 2 }, {}),
 *   /Invalid model version = 2: this code reads version 1/,
 * );
 * ```
 *
 * @category Fitted clusterings
 */
export function fittedClustersFromParts(
  header: unknown,
  arrays: FittedClustersArrays | Readonly<Record<string, unknown>>,
): FittedClusters {
  checkFittedClustersFormat(header);
  const h = header as Record<string, unknown>;
  const n = integer(h, "n", 1, 0x7fffffff), d = integer(h, "d", 1, 0x7fffffff);
  const clusters = integer(h, "clusters", 1, n);
  const cut = checkCut(h.cut, n);
  const lambda = typeof h.lambda === "string" ? Number(h.lambda) : NaN;
  if (typeof h.lambda !== "string" || Number.isNaN(lambda) || lambda === Infinity) {
    throw bad("lambda", h.lambda, "a decimal string of a number < ∞ is needed");
  }
  const metric = oneOf(h, "metric", ["sqeuclidean", "cosine"] as const);
  const method = oneOf(h, "method", ["dense", "delaunay", "knn", "nn-descent"] as const);
  const neighbours = integer(h, "neighbours", 1, 1 << 16);
  const minSamples = h.minSamples === null ? undefined : integer(h, "minSamples", 1, n);
  let columns: readonly string[] | undefined;
  if (h.columns !== null) {
    if (
      !Array.isArray(h.columns) || h.columns.length !== d ||
      h.columns.some((c) => typeof c !== "string")
    ) {
      throw bad("columns", h.columns, `null or ${d} names are needed`);
    }
    columns = Object.freeze([...h.columns as string[]]);
  }
  if (typeof h.standardised !== "boolean") {
    throw bad("standardised", h.standardised, "true or false is needed");
  }
  const edges = h.graphEdges === null ? null : integer(h, "graphEdges", 0, 2 ** 31 - 1);
  if ((edges === null) !== (method === "dense")) {
    throw bad(
      "graphEdges",
      h.graphEdges,
      `a ${method} fit ${edges === null ? "has" : "has no"} graph`,
    );
  }
  for (const name of Object.keys(arrays)) {
    if (!(FITTED_CLUSTERS_ARRAYS as readonly string[]).includes(name)) {
      throw new RangeError(`Invalid model: unknown array ${name}`);
    }
  }
  const points = array(arrays, "points", Float64Array, n * d, true)!;
  const labels = array(arrays, "labels", Int32Array, n, true)!;
  let top = -1;
  for (let i = 0; i < n; i++) {
    if (labels[i] < 0 || labels[i] >= clusters) {
      throw bad(`labels[${i}]`, labels[i], `labels are in [0, ${clusters - 1}]`);
    }
    if (labels[i] > top) top = labels[i];
  }
  if (top !== clusters - 1) throw bad("clusters", clusters, `the labels use ${top + 1}`);
  const core = array(arrays, "core", Float64Array, n, minSamples !== undefined);
  const mean = array(arrays, "mean", Float64Array, d, h.standardised);
  const sd = array(arrays, "sd", Float64Array, d, h.standardised);
  const from = array(arrays, "graphFrom", Int32Array, edges ?? 0, edges !== null);
  const to = array(arrays, "graphTo", Int32Array, edges ?? 0, edges !== null);
  const weight = array(arrays, "graphWeight", Float64Array, edges ?? 0, edges !== null);
  const graph = from === undefined ? undefined : { n, from, to: to!, weight: weight! };
  if (graph !== undefined) assertGraph("model graph", graph);
  const searchOrder = array(arrays, "searchOrder", Int32Array, n, true)!;
  assertPermutation("model array searchOrder", searchOrder, n);
  return {
    n,
    d,
    labels,
    clusters,
    cut,
    lambda,
    metric,
    method,
    neighbours,
    minSamples,
    columns,
    mean,
    sd,
    points: { rows: n, cols: d, data: points },
    core,
    graph,
    searchOrder,
  };
}

function checkCut(cut: unknown, n: number): ClusterCut {
  const c = cut as Record<string, unknown> | null;
  if (typeof c !== "object" || c === null) throw bad("cut", cut, "an object is needed");
  const k = () => integer(c, "k", 1, n);
  if (c.kind === "k" && Object.keys(c).length === 2) return { kind: "k", k: k() };
  if (c.kind === "min-size" && Object.keys(c).length === 3) {
    return { kind: "min-size", k: k(), minSize: integer(c, "minSize", 1, n) };
  }
  if (
    c.kind === "threshold" && Object.keys(c).length === 2 && typeof c.threshold === "number" &&
    Number.isFinite(c.threshold)
  ) {
    return { kind: "threshold", threshold: c.threshold };
  }
  throw bad("cut", JSON.stringify(cut), "{kind: k | threshold | min-size, …} is needed");
}
