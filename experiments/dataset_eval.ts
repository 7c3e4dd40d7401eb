/**
 * Data-set-level evaluation of an embedding: what the batch-wise precision of
 * exp:mnist does not say — does the embedding cluster and label a whole data set?
 *
 * 1. The symmetrised 15-NN graph of the n points (exact up to {@link EXACT_KNN_MAX_POINTS}
 *    points, or {@link EXACT_GEMM_MAX_POINTS} with a native matrix product `gemm`; NN-descent
 *    beyond), joined so that it spans (`joinComponents`).
 * 2. Clustering at k (the number of classes): single linkage (the k-forest of the kNN graph),
 *    HDBSCAN's mutual reachability (minSamples 10), and single linkage with a minimum cluster
 *    size (`cutAtMinSize` of the same hierarchy: splits that cut off fewer than `minClusterSize`
 *    points are not splits; default {@link defaultMinClusterSize}), each scored by Hungarian
 *    ACC, NMI and ARI against the labels.
 * 3. Transductive labelling: a seeded 1 % of the labels ({@link drawLabelled}) given to
 *    `propagateLabels` on the same joined kNN graph; accuracy on the other points.
 *
 * The pipeline is pure (no file system, no tfjs) and deterministic apart from its `seconds`:
 * the same embeddings, labels and options give the same figures, which is what lets
 * `scripts/transductive_mnist.ts --embeddings <run>` reproduce a run's summary exactly.
 *
 * @module
 */
import { assertIntegerInRange, show } from "../lib/core/errors.ts";
import { toRectMatrix } from "../lib/core/rect_matrix.ts";
import { checkGemm, type NeighbourGemm } from "../lib/graph/exact_neighbours.ts";
import {
  exactNeighbours,
  joinComponents,
  mutualReachability,
  neighbourGraph,
  type Neighbours,
} from "../lib/graph/point_graphs.ts";
import { approximateNeighbours } from "../lib/graph/nn_descent.ts";
import { EXACT_GEMM_MAX_POINTS, EXACT_KNN_MAX_POINTS } from "../lib/graph/cluster_points.ts";
import { type Graph, graphComponents } from "../lib/graph/graph.ts";
import {
  forestAtOnGraph,
  unsafeForestHierarchyOnGraph,
} from "../lib/forest/spanning_forest_on_graph.ts";
import { cutAtMinSize, maxClustersAtMinSize } from "../lib/forest/hierarchy.ts";
import { propagateLabels } from "../lib/constrained/constrained_forest_on_graph.ts";
import {
  adjustedRandIndex,
  clusteringAccuracy,
  normalizedMutualInfo,
} from "../lib/metrics/metrics.ts";
import { streamFor, uniformOpen01 } from "../lib/core/random.ts";

export { EXACT_GEMM_MAX_POINTS, EXACT_KNN_MAX_POINTS };

/** Options of {@link evaluateDataset}; every one has a default. */
export interface DatasetEvalOptions {
  /** Neighbours per point of the kNN graph (default 15, as scikit-learn's label spreading). */
  readonly neighbours?: number;
  /** HDBSCAN's minSamples of the mutual-reachability variant, at most `neighbours` (default 10). */
  readonly minSamples?: number;
  /**
   * Minimum cluster size of the min-size single-linkage cut, an integer in [1, n] (default
   * {@link defaultMinClusterSize}: ⌈n / (4k)⌉).
   */
  readonly minClusterSize?: number;
  /** Fraction of the points whose label the transductive labelling is given, in (0, 1). */
  readonly labelledFraction?: number;
  /** Seed of the labelled draw (default {@link DEFAULT_LABEL_SEED}). */
  readonly seed?: number;
  /**
   * kNN search (default: exact up to {@link EXACT_KNN_MAX_POINTS} points, or
   * {@link EXACT_GEMM_MAX_POINTS} with `gemm`; else NN-descent).
   */
  readonly search?: "exact" | "nn-descent";
  /**
   * The matrix product of the exact search (`exactNeighbours`), e.g. OpenBLAS from
   * `native_gemm.ts`; the neighbours, hence every figure, are the same with any product.
   */
  readonly gemm?: NeighbourGemm;
}

/** The defaults of {@link DatasetEvalOptions}. */
export const DATASET_EVAL_DEFAULTS = {
  neighbours: 15,
  minSamples: 10,
  labelledFraction: 0.01,
  seed: 15,
} as const;

/**
 * The default minimum cluster size of the min-size single-linkage cut: ⌈n / (4k)⌉, a quarter of
 * a class's share of the points were the k classes balanced. A priori, not tuned: a class four
 * times smaller than the average is still a cluster, while the outliers and small clumps that
 * plain single linkage isolates (single points to a few dozen among thousands) are far below
 * it; and it scales with n, as the number of outliers does.
 *
 * @param n Number of points.
 * @param k Number of clusters asked for.
 * @returns ⌈n / (4k)⌉.
 *
 * @example
 * ```ts
 * import { defaultMinClusterSize } from "./dataset_eval.ts";
 * if (defaultMinClusterSize(10000, 10) !== 250) throw new Error();
 * ```
 */
export function defaultMinClusterSize(n: number, k: number): number {
  return Math.ceil(n / (4 * k));
}

/** The default seed of the labelled draw (the one `scripts/transductive_mnist.ts` always used). */
export const DEFAULT_LABEL_SEED = DATASET_EVAL_DEFAULTS.seed;

/** A clustering of the whole data set scored against the labels. */
export interface ClusterScores {
  /** Hungarian accuracy (best one-to-one matching of clusters to classes). */
  readonly acc: number;
  readonly nmi: number;
  readonly ari: number;
  /** Points in the largest cluster (single linkage's failure mode: one giant cluster). */
  readonly largest: number;
}

/** What {@link evaluateDataset} returns (the `datasetLevel` of an exp:mnist summary). */
export interface DatasetEvaluation {
  /** Points evaluated. */
  readonly images: number;
  /** Their dimension. */
  readonly dim: number;
  /** Clusters asked for (the number of classes). */
  readonly k: number;
  /** Neighbours per point of the kNN graph. */
  readonly neighbours: number;
  readonly search: "exact" | "nn-descent";
  /** Edges of the symmetrised kNN graph, and how many connected components it had. */
  readonly edges: number;
  readonly components: number;
  readonly singleLinkage: ClusterScores;
  readonly mutualReachability: ClusterScores & { readonly minSamples: number };
  /**
   * Single linkage with a minimum cluster size (`cutAtMinSize` of the single-linkage hierarchy):
   * `clusters` = k, or fewer when the hierarchy has fewer clusters of ≥ `minSize` points (then
   * the finest such cut is scored).
   */
  readonly singleLinkageMinSize: ClusterScores & {
    readonly minSize: number;
    readonly clusters: number;
  };
  readonly transductive: {
    readonly labelledFraction: number;
    readonly seed: number;
    /** Points whose label was given. */
    readonly labelled: number;
    /** Accuracy on the other points (a point no label reached counts as wrong). */
    readonly accuracy: number;
  };
  /** Wall time of the kNN search, and of the whole evaluation. */
  readonly seconds: { readonly graph: number; readonly total: number };
}

/**
 * Draws the labelled points of a transductive evaluation: each point independently with
 * probability `fraction` (one uniform draw per point, in index order, from `streamFor(seed)`),
 * then, for every class that drew no point, one of its points uniformly at random (further
 * draws of the same stream), so that every class present has at least one label.
 *
 * @param labels The true class of every point (non-negative integers).
 * @param fraction Probability that a point is labelled, in (0, 1).
 * @param seed Seed of the draw (an integer).
 * @returns The given labels: the class, or −1 for an unlabelled point (`PartialLabels`).
 * @throws {RangeError} If `fraction` is not in (0, 1), `seed` is not an integer or a label is
 * not a non-negative integer.
 *
 * @example Every class gets a label even when the fraction alone would miss one
 * ```ts
 * import { drawLabelled } from "./dataset_eval.ts";
 * const given = drawLabelled([0, 0, 0, 1, 1, 1, 2], 0.01, 15);
 * if (new Set([...given].filter((l) => l !== -1)).size !== 3) throw new Error();
 * ```
 */
export function drawLabelled(
  labels: ArrayLike<number>,
  fraction: number,
  seed: number,
): Int32Array {
  if (!(typeof fraction === "number" && fraction > 0 && fraction < 1)) {
    throw new RangeError(
      `Invalid labelledFraction = ${show(fraction)}: a number in (0, 1) is needed`,
    );
  }
  assertIntegerInRange("seed", seed, -0x80000000, 0xffffffff);
  const n = labels.length, rng = streamFor(seed), given = new Int32Array(n);
  const members = new Map<number, number>(), labelled = new Set<number>();
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (!Number.isInteger(l) || l < 0 || l > 0x7fffffff) {
      throw new RangeError(`Invalid labels[${i}] = ${show(l)}: a non-negative integer is needed`);
    }
    members.set(l, (members.get(l) ?? 0) + 1);
    if (uniformOpen01(rng) < fraction) {
      given[i] = l;
      labelled.add(l);
    } else given[i] = -1;
  }
  for (const [c, count] of [...members].sort((a, b) => a[0] - b[0])) {
    if (labelled.has(c)) continue;
    let pick = Math.min(count - 1, Math.floor(uniformOpen01(rng) * count));
    for (let i = 0; i < n; i++) {
      if (labels[i] === c && pick-- === 0) {
        given[i] = c;
        break;
      }
    }
  }
  return given;
}

/**
 * Accuracy of a transductive labelling on the points whose label was not given.
 *
 * @param predicted Predicted label of every point (null: no label reached it, counted wrong).
 * @param truth True labels.
 * @param given Given labels (−1 = not given), as from {@link drawLabelled}.
 * @returns Correct / unlabelled points.
 * @throws {RangeError} If the lengths differ or every point was given its label.
 *
 * @example
 * ```ts
 * import { transductiveAccuracy } from "./dataset_eval.ts";
 * const acc = transductiveAccuracy([0, 0, 1, null], [0, 0, 1, 1], Int32Array.from([0, -1, -1, -1]));
 * if (Math.abs(acc - 2 / 3) > 1e-15) throw new Error();
 * ```
 */
export function transductiveAccuracy(
  predicted: ArrayLike<number | null>,
  truth: ArrayLike<number>,
  given: Int32Array,
): number {
  const n = truth.length;
  if (predicted.length !== n || given.length !== n) {
    throw new RangeError(
      `Invalid lengths: predicted ${predicted.length}, truth ${n}, given ${given.length} must be equal`,
    );
  }
  let right = 0, rest = 0;
  for (let i = 0; i < n; i++) {
    if (given[i] !== -1) continue;
    rest++;
    if (predicted[i] === truth[i]) right++;
  }
  if (rest === 0) {
    throw new RangeError(`Invalid given labels: all ${n} points are labelled, none left to score`);
  }
  return right / rest;
}

function scores(labels: Int32Array, truth: ArrayLike<number>, k: number): ClusterScores {
  const size = new Int32Array(k); // k ≥ the number of clusters in `labels`
  for (const l of labels) size[l]++;
  return {
    acc: clusteringAccuracy(labels, truth),
    nmi: normalizedMutualInfo(labels, truth),
    ari: adjustedRandIndex(labels, truth),
    largest: Math.max(...size),
  };
}

/**
 * The data-set-level evaluation (module doc) of n embedded points.
 *
 * @param embeddings Row-major n × d coordinates, finite.
 * @param n Number of points, an integer ≥ 2.
 * @param d Their dimension, a positive integer.
 * @param labels True class of every point (non-negative integers), length n.
 * @param k Clusters (the number of classes), an integer in [1, n].
 * @param options Neighbours, minSamples, minimum cluster size, labelled fraction, seed, kNN
 * search.
 * @returns Scores of the three clusterings, the transductive accuracy, sizes and timings.
 * @throws {TypeError | RangeError} One line naming the argument and its value: e.g.
 * `Invalid k = 12: k must be an integer in [1, 10] for n = 10 points`, a wrong length of
 * `embeddings` or `labels`, `neighbours` outside [1, n − 1], `minSamples` outside
 * [1, neighbours], `minClusterSize` outside [1, n], a fraction outside (0, 1), or a non-finite
 * coordinate.
 *
 * @example Two tight pairs far apart
 * ```ts
 * import { evaluateDataset } from "./dataset_eval.ts";
 * const x = Float64Array.from([0, 0, 0, 1, 9, 9, 9, 10]);
 * const r = evaluateDataset(x, 4, 2, [0, 0, 1, 1], 2, { neighbours: 1, minSamples: 1 });
 * if (r.singleLinkage.acc !== 1 || r.transductive.accuracy !== 1) throw new Error();
 * ```
 */
export function evaluateDataset(
  embeddings: Float64Array,
  n: number,
  d: number,
  labels: ArrayLike<number>,
  k: number,
  options: DatasetEvalOptions = {},
): DatasetEvaluation {
  const t0 = performance.now();
  assertIntegerInRange("n", n, 2, 0x7fffffff, "(a kNN graph needs two points)");
  assertIntegerInRange("d", d, 1, 0x7fffffff);
  if (!(embeddings instanceof Float64Array) || embeddings.length !== n * d) {
    throw new RangeError(
      `Invalid embeddings = ${show(embeddings)}: a Float64Array of n × d = ${n} × ${d} = ${
        n * d
      } values is needed`,
    );
  }
  const points = toRectMatrix({ rows: n, cols: d, data: embeddings }, "embeddings");
  if (labels.length !== n) {
    throw new RangeError(`Invalid labels: length ${labels.length}, expected n = ${n}`);
  }
  assertIntegerInRange("k", k, 1, n, `for n = ${n} points`);
  const neighbours = options.neighbours ?? DATASET_EVAL_DEFAULTS.neighbours;
  assertIntegerInRange("neighbours", neighbours, 1, n - 1, `for n = ${n} points`);
  const minSamples = options.minSamples ?? DATASET_EVAL_DEFAULTS.minSamples;
  assertIntegerInRange("minSamples", minSamples, 1, neighbours, `(neighbours = ${neighbours})`);
  const minSize = options.minClusterSize ?? defaultMinClusterSize(n, k);
  assertIntegerInRange("minClusterSize", minSize, 1, n, `for n = ${n} points`);
  const fraction = options.labelledFraction ?? DATASET_EVAL_DEFAULTS.labelledFraction;
  const seed = options.seed ?? DATASET_EVAL_DEFAULTS.seed;
  const gemm = options.gemm === undefined ? undefined : checkGemm(options.gemm);
  const exactMax = gemm === undefined ? EXACT_KNN_MAX_POINTS : EXACT_GEMM_MAX_POINTS;
  const search = options.search ?? (n <= exactMax ? "exact" : "nn-descent");
  if (search !== "exact" && search !== "nn-descent") {
    throw new RangeError(`Invalid search = ${show(search)}: "exact" or "nn-descent" is needed`);
  }
  // Drawn before the expensive part, so that a bad fraction or label fails at once.
  const given = drawLabelled(labels, fraction, seed);

  const tg = performance.now();
  const nb: Neighbours = search === "exact"
    ? exactNeighbours(points, neighbours, { gemm })
    : approximateNeighbours(points, { k: neighbours, seed: 0 });
  const graphSeconds = (performance.now() - tg) / 1e3;
  const knn = neighbourGraph(nb);
  const joined = joinComponents(knn, points);

  const clusterAtK = (g: Graph) => forestAtOnGraph(unsafeForestHierarchyOnGraph(g), k).labels;
  const tree = unsafeForestHierarchyOnGraph(joined);
  const singleLinkage = scores(forestAtOnGraph(tree, k).labels, labels, k);
  // The joined graph spans: one component of n ≥ minSize points, so the cut exists for some
  // number of clusters; fewer than k when the hierarchy has fewer clusters of ≥ minSize points.
  const clusters = Math.min(k, maxClustersAtMinSize(tree, minSize));
  const minSizeCut = scores(cutAtMinSize(tree, clusters, minSize).labels, labels, k);
  // Joined after the reweighting, as scripts/transductive_mnist.ts always did: the joining
  // edges are plain −distance², the kNN edges mutual-reachability weights.
  const mr = scores(
    clusterAtK(joinComponents(mutualReachability(knn, nb, minSamples), points)),
    labels,
    k,
  );
  const predicted = propagateLabels(joined, given).labels;
  let labelled = 0;
  for (const l of given) if (l !== -1) labelled++;
  return {
    images: n,
    dim: d,
    k,
    neighbours,
    search,
    edges: knn.from.length,
    components: graphComponents(knn).count,
    singleLinkage,
    mutualReachability: { ...mr, minSamples },
    singleLinkageMinSize: { ...minSizeCut, minSize, clusters },
    transductive: {
      labelledFraction: fraction,
      seed,
      labelled,
      accuracy: transductiveAccuracy(predicted, labels, given),
    },
    seconds: { graph: graphSeconds, total: (performance.now() - t0) / 1e3 },
  };
}

/**
 * One line per figure of an evaluation, for logs (no trailing newline).
 *
 * @param r An evaluation.
 * @returns Four lines: single linkage, mutual reachability, single linkage with a minimum
 * cluster size, transductive labelling.
 *
 * @example
 * ```ts
 * import { evaluateDataset, formatDatasetEvaluation } from "./dataset_eval.ts";
 * const x = Float64Array.from([0, 1, 9, 10]);
 * const r = evaluateDataset(x, 4, 1, [0, 0, 1, 1], 2, { neighbours: 1, minSamples: 1 });
 * if (formatDatasetEvaluation(r).length !== 4) throw new Error();
 * ```
 */
export function formatDatasetEvaluation(r: DatasetEvaluation): string[] {
  const row = (s: ClusterScores) =>
    `ACC ${s.acc.toFixed(3)}, NMI ${s.nmi.toFixed(3)}, ARI ${s.ari.toFixed(3)} ` +
    `(largest cluster ${s.largest} of ${r.images})`;
  const t = r.transductive, ms = r.singleLinkageMinSize;
  return [
    `single linkage on the ${r.neighbours}-NN graph (${r.search}), k = ${r.k}: ` +
    row(r.singleLinkage),
    `mutual reachability (minSamples ${r.mutualReachability.minSamples}), k = ${r.k}: ` +
    row(r.mutualReachability),
    `single linkage, clusters of ≥ ${ms.minSize} points, k = ${r.k}: ` + row(ms) +
    (ms.clusters < r.k
      ? ` (only ${ms.clusters} cluster${
        ms.clusters === 1 ? "" : "s"
      } of ≥ ${ms.minSize} points exist)`
      : ""),
    `transductive labelling from ${t.labelled} labels (${
      (100 * t.labelledFraction).toFixed(1)
    } %,` +
    ` seed ${t.seed}): accuracy ${t.accuracy.toFixed(4)} on the other ${r.images - t.labelled}`,
  ];
}
