/**
 * A clustering fitted on a trained embedding of the training split, applied to the test split:
 * how often the assignment is right, and whether the membership probabilities can be trusted.
 *
 * 1. Fit: `fitClusters` on the training embeddings with the minimum-size cut (k = the number of
 *    classes, clusters of at least ⌈n / (4k)⌉ points by default). Plain single linkage at k = 10
 *    isolates k − 1 outliers and puts everything else in one cluster (9 990 of 10 000 test
 *    points on the default exp:mnist embedding); the minimum-size cut does not.
 * 2. Name the clusters: the Hungarian matching of fitted clusters to classes on the TRAINING
 *    labels (so no test label is used to read a test prediction).
 * 3. Assign: `assignPoints` (outliers "nearest": every test point gets a cluster), scored on the
 *    test half by that naming ("accuracy") and by the test half's own Hungarian matching
 *    ("Hungarian accuracy", the usual unsupervised figure).
 * 4. How sure: `clusterMembership` at a grid of ε, on `points` images of each half (the first
 *    ones). A point's class probabilities are its cluster probabilities through the naming (the
 *    outlier mass belongs to no class). ε is chosen on the validation half only, by the lowest
 *    expected calibration error; the test half is then read once, at that ε.
 *
 * The halves follow exp:mnist's protocol: test-split images 0 … 4999 are the test half, 5000 …
 * 9999 the validation half (`experiments/data/splits.ts`).
 *
 * @module
 */
import { clusteringAccuracy, hungarian } from "../lib/metrics/metrics.ts";
import { fitClusters, type FittedClusters } from "../lib/graph/fitted_clusters.ts";
import { assignPoints } from "../lib/graph/assign_points.ts";
import { clusterMembership } from "../lib/graph/membership.ts";
import type { NeighbourGemm } from "../lib/graph/exact_neighbours.ts";
import { type Calibration, calibration } from "./calibration.ts";

/** Embeddings of one split: row-major rows × cols, and a class per row. */
export interface LabelledEmbeddings {
  readonly data: Float32Array | Float64Array;
  readonly rows: number;
  readonly cols: number;
  readonly labels: ArrayLike<number>;
}

/** Options of {@link calibrateFittedClusters}. */
export interface FittedCalibrationOptions {
  /** Number of classes (the k of the cut). */
  readonly classes: number;
  /** Training images to fit on (the first ones); default all. */
  readonly trainPoints?: number;
  /** Minimum cluster size; default ⌈n_train / (4k)⌉. */
  readonly minSize?: number;
  /** ε grid, as multiples of |λ| (the fitted cut level); default 0.1, 0.3, 1, 3. */
  readonly epsilonScales?: readonly number[];
  /** Monte-Carlo samples per point; default 64. */
  readonly samples?: number;
  /** Images of each half given to the membership estimate; default 500. */
  readonly points?: number;
  /** Seed of the membership estimates; default 0. */
  readonly seed?: number;
  /** Matrix product of the exact neighbour searches. */
  readonly gemm?: NeighbourGemm;
  /** Called with a line of progress (stage and seconds). */
  readonly log?: (line: string) => void;
}

/** One ε of the grid, read on the validation half. */
export interface EpsilonTrial {
  readonly epsilon: number;
  readonly ece: number;
  readonly accuracy: number;
  readonly meanLogLikelihood: number;
}

/** What {@link calibrateFittedClusters} reports. */
export interface FittedCalibration {
  readonly fit: {
    readonly trainPoints: number;
    readonly dim: number;
    readonly minSize: number;
    readonly lambda: number;
    readonly clusterSizes: readonly number[];
    /** The class each fitted cluster is named after (Hungarian on the training labels). */
    readonly clusterClass: readonly number[];
    /** Training points whose cluster's class is their own. */
    readonly trainAccuracy: number;
    readonly seconds: number;
  };
  readonly assignment: {
    readonly testPoints: number;
    /** By the training naming. */
    readonly accuracy: number;
    /** By the test half's own Hungarian matching. */
    readonly hungarianAccuracy: number;
    /** Test points whose best similarity is not above λ (assigned to the nearest anyway). */
    readonly belowLambda: number;
    readonly seconds: number;
  };
  readonly membership: {
    readonly points: number;
    readonly samples: number;
    readonly validation: readonly EpsilonTrial[];
    readonly epsilon: number;
    /** The test half at the chosen ε. */
    readonly test: Calibration;
    readonly seconds: number;
  };
}

/** Rows [from, from + count) of a split. */
function rows(e: LabelledEmbeddings, from: number, count: number) {
  const data = Float64Array.from(e.data.subarray(from * e.cols, (from + count) * e.cols));
  const labels = Int32Array.from({ length: count }, (_, i) => e.labels[from + i]);
  return { points: { rows: count, cols: e.cols, data }, labels };
}

/** The Hungarian naming of fitted clusters by classes, on the training labels. */
function nameClusters(model: FittedClusters, truth: ArrayLike<number>, classes: number): number[] {
  const counts = Array.from({ length: model.clusters }, () => new Array(classes).fill(0));
  for (let i = 0; i < model.n; i++) counts[model.labels[i]][truth[i]]++;
  const { assignment } = hungarian(counts.map((row) => row.map((c) => -c)));
  return Array.from(assignment);
}

/** Class probabilities (points × classes) from cluster probabilities through the naming. */
function classProbabilities(
  p: Float64Array,
  clusters: number,
  clusterClass: readonly number[],
  classes: number,
): Float64Array {
  const n = p.length / clusters;
  const out = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < clusters; c++) {
      const cls = clusterClass[c];
      if (cls >= 0 && cls < classes) out[i * classes + cls] += p[i * clusters + c];
    }
  }
  return out;
}

/**
 * Fits the minimum-size cut on the training embeddings, assigns the test split, and calibrates
 * the membership probabilities with ε chosen on the validation half (module doc).
 *
 * @param train The training split's embeddings and labels.
 * @param test The test split's embeddings and labels (first half test, second half validation).
 * @param options Classes, cut, ε grid, samples, points.
 * @returns The fit, the assignment's accuracy and the calibration.
 * @throws {RangeError} If the splits disagree in width or the test split has fewer than 2 rows.
 */
export function calibrateFittedClusters(
  train: LabelledEmbeddings,
  test: LabelledEmbeddings,
  options: FittedCalibrationOptions,
): FittedCalibration {
  if (train.cols !== test.cols) {
    throw new RangeError(`Embeddings are ${train.cols}-d (train) but ${test.cols}-d (test)`);
  }
  if (test.rows < 2) throw new RangeError(`Invalid test rows = ${test.rows}: at least 2`);
  const k = options.classes, log = options.log ?? (() => {});
  const n = Math.min(options.trainPoints ?? train.rows, train.rows);
  const minSize = options.minSize ?? Math.ceil(n / (4 * k));
  const gemm = options.gemm === undefined ? {} : { gemm: options.gemm };
  let t0 = performance.now();
  const tr = rows(train, 0, n);
  const model = fitClusters(tr.points, { k, minSize, ...gemm });
  const clusterClass = nameClusters(model, tr.labels, k);
  let right = 0;
  for (let i = 0; i < model.n; i++) if (clusterClass[model.labels[i]] === tr.labels[i]) right++;
  const sizes = new Array(model.clusters).fill(0);
  for (const l of model.labels) sizes[l]++;
  const fit = {
    trainPoints: model.n,
    dim: model.d,
    minSize,
    lambda: model.lambda,
    clusterSizes: sizes,
    clusterClass,
    trainAccuracy: right / model.n,
    seconds: (performance.now() - t0) / 1e3,
  };
  log(`fit ${model.n} × ${model.d}: ${model.clusters} clusters, λ ${model.lambda.toPrecision(4)}`);

  t0 = performance.now();
  const half = Math.floor(test.rows / 2);
  const testHalf = rows(test, 0, half);
  const assigned = assignPoints(model, testHalf.points, { outliers: "nearest", ...gemm });
  let hits = 0, below = 0;
  for (let i = 0; i < half; i++) {
    if (clusterClass[assigned.labels[i]] === testHalf.labels[i]) hits++;
    if (!(assigned.similarity[i] > model.lambda)) below++;
  }
  const assignment = {
    testPoints: half,
    accuracy: hits / half,
    hungarianAccuracy: clusteringAccuracy(assigned.labels, testHalf.labels),
    belowLambda: below,
    seconds: (performance.now() - t0) / 1e3,
  };
  log(`assigned ${half} test points: accuracy ${assignment.accuracy.toFixed(4)}`);

  t0 = performance.now();
  const m = Math.min(options.points ?? 500, half, test.rows - half);
  const samples = options.samples ?? 64, seed = options.seed ?? 0;
  const read = (part: ReturnType<typeof rows>, epsilon: number) => {
    const p = clusterMembership(model, part.points, { epsilon, samples, seed, ...gemm });
    return calibration(
      classProbabilities(p.probabilities, model.clusters, clusterClass, k),
      k,
      part.labels,
    );
  };
  const validation = rows(test, half, m);
  const scale = Math.abs(model.lambda);
  const trials: EpsilonTrial[] = (options.epsilonScales ?? [0.1, 0.3, 1, 3]).map((s) => {
    const c = read(validation, s * scale);
    log(`ε = ${(s * scale).toPrecision(3)} (${s} |λ|): validation ECE ${c.ece.toFixed(4)}`);
    return {
      epsilon: s * scale,
      ece: c.ece,
      accuracy: c.accuracy,
      meanLogLikelihood: c.meanLogLikelihood,
    };
  });
  const chosen = trials.reduce((a, b) => (b.ece < a.ece ? b : a));
  const testCalibration = read(rows(test, 0, m), chosen.epsilon);
  log(`test half at ε = ${chosen.epsilon.toPrecision(3)}: ECE ${testCalibration.ece.toFixed(4)}`);
  return {
    fit,
    assignment,
    membership: {
      points: m,
      samples,
      validation: trials,
      epsilon: chosen.epsilon,
      test: testCalibration,
      seconds: (performance.now() - t0) / 1e3,
    },
  };
}
