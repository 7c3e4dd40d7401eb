/**
 * Baseline clusterings for the toy comparison (Figure 3, left, of Stewart et al., 2023):
 * k-means (mljs `ml-kmeans`, k-means++ with restarts), and — since npm has no maintained,
 * seedable mean-shift or full-covariance Gaussian mixture that runs under Deno — small
 * implementations of scikit-learn's `MeanShift` (flat kernel, bin seeding, bandwidth from
 * `estimate_bandwidth`) and `GaussianMixture` (EM, full covariances, k-means initialisation).
 *
 * @module
 */
import { mlKMeans } from "../deps/ml.ts";
import { assertIntegerInRange, ConvergenceError } from "../../lib/core/errors.ts";
import { streamFor } from "../../lib/core/random.ts";

/** Points as rows of coordinates (any dimension, all rows the same length). */
export type Points = readonly (readonly number[])[];

function checkPoints(points: Points, minCount = 1): number {
  if (!Array.isArray(points) || points.length < minCount) {
    throw new RangeError(
      `Invalid points: need at least ${minCount} point(s), got ${
        Array.isArray(points) ? points.length : typeof points
      }`,
    );
  }
  const d = points[0].length;
  if (d < 1) throw new RangeError("Invalid points[0]: a point needs at least one coordinate");
  points.forEach((p, i) => {
    if (p.length !== d) {
      throw new RangeError(
        `Invalid points[${i}]: it has ${p.length} coordinates, points[0] has ${d}`,
      );
    }
    p.forEach((v: number, j: number) => {
      if (!Number.isFinite(v)) {
        throw new RangeError(`Invalid points[${i}][${j}] = ${v}: coordinates must be finite`);
      }
    });
  });
  return d;
}

function squaredDistance(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j] - b[j]) ** 2;
  return s;
}

function nearest(p: readonly number[], centres: readonly (readonly number[])[]): number {
  let best = 0, bestD = Infinity;
  centres.forEach((c, i) => {
    const dist = squaredDistance(p, c);
    if (dist < bestD) [best, bestD] = [i, dist];
  });
  return best;
}

// ---- k-means ---------------------------------------------------------------------------------

/** Result of {@link kMeans}. */
export interface KMeansResult {
  /** Cluster of each point, `0..k−1`. */
  readonly labels: Int32Array;
  /** The k centroids. */
  readonly centroids: number[][];
  /** Sum of squared distances of the points to their centroid. */
  readonly inertia: number;
}

/**
 * k-means (Lloyd's algorithm with k-means++ initialisation, from `ml-kmeans`), best of
 * `restarts` seeded runs by inertia (as sklearn's `n_init`).
 *
 * @param points The points.
 * @param k Number of clusters, in [1, n].
 * @param options `seed` (32-bit, default 0), `restarts` (default 10), `maxIterations`
 * (default 300).
 * @returns Labels, centroids and inertia of the best run.
 * @throws {RangeError} If the points are malformed or `k`/`restarts` is out of range.
 *
 * @example Two well-separated pairs
 * ```ts
 * import { kMeans } from "./baselines.ts";
 * import assert from "node:assert/strict";
 * const { labels } = kMeans([[0, 0], [0, 1], [9, 9], [9, 10]], 2, { seed: 1 });
 * assert.equal(labels[0], labels[1]);
 * assert.notEqual(labels[0], labels[2]);
 * ```
 */
export function kMeans(
  points: Points,
  k: number,
  options: { seed?: number; restarts?: number; maxIterations?: number } = {},
): KMeansResult {
  checkPoints(points);
  assertIntegerInRange("k", k, 1, points.length, `for n = ${points.length}`);
  const restarts = options.restarts ?? 10;
  assertIntegerInRange("restarts", restarts, 1, 1000);
  const data = points.map((p) => [...p]);
  let best: KMeansResult | null = null;
  for (let r = 0; r < restarts; r++) {
    // ml-kmeans seeds its own PRNG from a non-negative integer.
    const seed = streamFor(options.seed ?? 0, r).unsafeNext() >>> 1;
    const run = mlKMeans(data, k, seed, options.maxIterations ?? 300);
    const labels = Int32Array.from(run.clusters);
    let inertia = 0;
    data.forEach((p, i) => (inertia += squaredDistance(p, run.centroids[labels[i]])));
    if (best === null || inertia < best.inertia) {
      best = { labels, centroids: run.centroids.map((c) => [...c]), inertia };
    }
  }
  return best!;
}

// ---- mean shift --------------------------------------------------------------------------------

/**
 * sklearn's `estimate_bandwidth`: the mean over points of the distance to their
 * ⌊quantile·n⌋-th nearest neighbour (the point itself counting as the first).
 *
 * @param points The points (at least one).
 * @param quantile In (0, 1]; sklearn's default is 0.3.
 * @returns The bandwidth (0 if all points coincide).
 * @throws {RangeError} If the points are malformed or `quantile` is outside (0, 1].
 *
 * @example
 * ```ts
 * import { estimateBandwidth } from "./baselines.ts";
 * import assert from "node:assert/strict";
 * // Four points on a line 1 apart; 2 neighbours incl. itself → distance 1 for every point.
 * assert.equal(estimateBandwidth([[0], [1], [2], [3]], 0.5), 1);
 * ```
 */
export function estimateBandwidth(points: Points, quantile = 0.3): number {
  checkPoints(points);
  if (!(quantile > 0 && quantile <= 1)) {
    throw new RangeError(`Invalid quantile = ${quantile}: quantile must be in (0, 1]`);
  }
  const n = points.length;
  const neighbours = Math.max(1, Math.floor(n * quantile));
  let total = 0;
  for (const p of points) {
    const dists = points.map((q) => squaredDistance(p, q)).sort((a, b) => a - b);
    total += Math.sqrt(dists[neighbours - 1]);
  }
  return total / n;
}

/** Result of {@link meanShift}. */
export interface MeanShiftResult {
  /** Cluster of each point (index of its nearest mode). */
  readonly labels: Int32Array;
  /** The modes found, most populated first. */
  readonly centres: number[][];
  /** The bandwidth used. */
  readonly bandwidth: number;
}

/**
 * Mean shift with a flat kernel, as sklearn's `MeanShift(bin_seeding=True)`: seeds are the
 * centres of occupied bandwidth-sized grid cells; each seed moves to the mean of the points
 * within `bandwidth` until it moves less than 10⁻³·bandwidth; converged modes within
 * `bandwidth` of a more populated one are dropped; every point joins its nearest mode.
 *
 * @param points The points.
 * @param options `bandwidth` (default: {@link estimateBandwidth} with `quantile`, default
 * 0.3), `binSeeding` (default true), `maxIterations` per seed (default 300).
 * @returns Labels, modes and the bandwidth.
 * @throws {RangeError} If the points are malformed or the bandwidth is not positive.
 * @throws {ConvergenceError} If no seed has any point within the bandwidth.
 *
 * @example Two blobs give two modes
 * ```ts
 * import { meanShift } from "./baselines.ts";
 * import assert from "node:assert/strict";
 * const pts = [[0, 0], [0.1, 0], [0, 0.1], [5, 5], [5.1, 5], [5, 5.1]];
 * const { labels, centres } = meanShift(pts, { bandwidth: 1 });
 * assert.equal(centres.length, 2);
 * assert.deepEqual([...labels], [labels[0], labels[0], labels[0], labels[3], labels[3], labels[3]]);
 * ```
 */
export function meanShift(
  points: Points,
  options: {
    bandwidth?: number;
    quantile?: number;
    binSeeding?: boolean;
    maxIterations?: number;
  } = {},
): MeanShiftResult {
  const d = checkPoints(points);
  const bandwidth = options.bandwidth ?? estimateBandwidth(points, options.quantile ?? 0.3);
  if (!(bandwidth > 0 && Number.isFinite(bandwidth))) {
    throw new RangeError(
      `Invalid bandwidth = ${bandwidth}: it must be positive (estimated 0 means all points coincide)`,
    );
  }
  const maxIterations = options.maxIterations ?? 300;
  const r2 = bandwidth * bandwidth;

  let seeds: number[][] = points.map((p) => [...p]);
  if (options.binSeeding ?? true) {
    const bins = new Map<string, number[]>();
    for (const p of points) {
      const cell = p.map((v) => Math.round(v / bandwidth));
      bins.set(cell.join(","), cell);
    }
    // sklearn falls back to the points themselves when binning does not reduce their number.
    if (bins.size < points.length) {
      seeds = [...bins.values()].map((c) => c.map((v) => v * bandwidth));
    }
  }

  const modes = new Map<string, { centre: number[]; intensity: number }>();
  for (const seed of seeds) {
    let mean = seed;
    let within = 0;
    for (let it = 0;; it++) {
      const sum = new Array<number>(d).fill(0);
      let count = 0;
      for (const p of points) {
        if (squaredDistance(p, mean) <= r2) {
          count++;
          for (let j = 0; j < d; j++) sum[j] += p[j];
        }
      }
      if (count === 0) break;
      within = count;
      const next = sum.map((s) => s / count);
      const moved = Math.sqrt(squaredDistance(next, mean));
      mean = next;
      if (moved <= 1e-3 * bandwidth || it === maxIterations) break;
    }
    if (within > 0) modes.set(mean.join(","), { centre: mean, intensity: within });
  }
  if (modes.size === 0) {
    throw new ConvergenceError(
      `No point was within bandwidth = ${bandwidth} of any seed: try a larger bandwidth`,
    );
  }
  // Most populated first (ties: larger coordinates first, as sklearn's sort of tuples).
  const sorted = [...modes.values()].sort((a, b) => {
    if (a.intensity !== b.intensity) return b.intensity - a.intensity;
    for (let j = 0; j < d; j++) if (a.centre[j] !== b.centre[j]) return b.centre[j] - a.centre[j];
    return 0;
  }).map((m) => m.centre);
  const unique = sorted.map(() => true);
  sorted.forEach((c, i) => {
    if (!unique[i]) return;
    sorted.forEach((other, j) => {
      if (j !== i && squaredDistance(c, other) <= r2) unique[j] = false;
    });
  });
  const centres = sorted.filter((_, i) => unique[i]);
  const labels = Int32Array.from(points, (p) => nearest(p, centres));
  return { labels, centres, bandwidth };
}

// ---- Gaussian mixture ------------------------------------------------------------------------

/** Result of {@link gaussianMixture}. */
export interface GaussianMixtureResult {
  /** Most probable component of each point. */
  readonly labels: Int32Array;
  /** Mixture weights (sum to 1). */
  readonly weights: number[];
  /** Component means. */
  readonly means: number[][];
  /** Component covariances (d × d, row-major rows). */
  readonly covariances: number[][][];
  /**
   * Mean log-likelihood per point after each E-step (EM never decreases it when
   * `regCovar = 0`; a positive `regCovar` perturbs the M-step slightly).
   */
  readonly logLikelihoods: number[];
  /** Whether the change fell below `tol` within `maxIterations`. */
  readonly converged: boolean;
}

/** Lower Cholesky factor of a symmetric positive-definite matrix, or null if not PD. */
function cholesky(a: readonly number[][]): number[][] | null {
  const d = a.length;
  const l = a.map(() => new Array<number>(d).fill(0));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i][j];
      for (let m = 0; m < j; m++) s -= l[i][m] * l[j][m];
      if (i === j) {
        if (!(s > 0)) return null;
        l[i][i] = Math.sqrt(s);
      } else {
        l[i][j] = s / l[j][j];
      }
    }
  }
  return l;
}

/**
 * A Gaussian mixture with full covariances fitted by EM, as sklearn's
 * `GaussianMixture(covariance_type="full")`: responsibilities initialised from a k-means
 * partition (one-hot), `regCovar` added to every covariance diagonal, stop when the mean
 * log-likelihood changes by less than `tol`; labels from a final E-step.
 *
 * @param points The points.
 * @param k Number of components, in [1, n].
 * @param options `initialLabels` (a partition into `0..k−1`; default: {@link kMeans} with
 * `seed`), `seed` (default 0), `maxIterations` (default 100), `tol` (default 1e-3),
 * `regCovar` (default 1e-6).
 * @returns The fitted mixture, labels and the log-likelihood trace.
 * @throws {RangeError} If an argument is malformed or out of range.
 * @throws {ConvergenceError} If a covariance stops being positive definite (only possible
 * with `regCovar = 0` and degenerate data).
 *
 * @example Two elongated clusters
 * ```ts
 * import { gaussianMixture } from "./baselines.ts";
 * import assert from "node:assert/strict";
 * const pts = [[0, 0], [1, 0.1], [2, -0.1], [3, 0], [0, 3], [1, 3.1], [2, 2.9], [3, 3]];
 * const { labels, weights } = gaussianMixture(pts, 2, { seed: 0 });
 * assert.equal(new Set(labels.slice(0, 4)).size, 1);
 * assert.ok(Math.abs(weights[0] + weights[1] - 1) < 1e-12);
 * ```
 */
export function gaussianMixture(
  points: Points,
  k: number,
  options: {
    initialLabels?: ArrayLike<number>;
    seed?: number;
    maxIterations?: number;
    tol?: number;
    regCovar?: number;
  } = {},
): GaussianMixtureResult {
  const d = checkPoints(points);
  const n = points.length;
  assertIntegerInRange("k", k, 1, n, `for n = ${n}`);
  const maxIterations = options.maxIterations ?? 100;
  assertIntegerInRange("maxIterations", maxIterations, 1, 100_000);
  const tol = options.tol ?? 1e-3;
  const regCovar = options.regCovar ?? 1e-6;
  if (!(tol >= 0) || !(regCovar >= 0)) {
    throw new RangeError(`Invalid tol = ${tol} or regCovar = ${regCovar}: both must be ≥ 0`);
  }
  const init = options.initialLabels ?? kMeans(points, k, { seed: options.seed ?? 0 }).labels;
  if (init.length !== n) {
    throw new RangeError(`Invalid initialLabels: length ${init.length}, expected n = ${n}`);
  }
  // resp[i * k + c]: responsibility of component c for point i.
  const resp = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const c = init[i];
    if (!Number.isInteger(c) || c < 0 || c >= k) {
      throw new RangeError(
        `Invalid initialLabels[${i}] = ${c}: labels must be integers in [0, ${k - 1}]`,
      );
    }
    resp[i * k + c] = 1;
  }

  let weights: number[] = [], means: number[][] = [], covariances: number[][][] = [];
  // M-step (maximises the expected complete log-likelihood given resp).
  const mStep = () => {
    weights = [];
    means = [];
    covariances = [];
    for (let c = 0; c < k; c++) {
      // 10·eps keeps an empty component finite, as sklearn does.
      let nk = 10 * Number.EPSILON;
      const mu = new Array<number>(d).fill(0);
      for (let i = 0; i < n; i++) {
        const r = resp[i * k + c];
        nk += r;
        for (let j = 0; j < d; j++) mu[j] += r * points[i][j];
      }
      for (let j = 0; j < d; j++) mu[j] /= nk;
      const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
      for (let i = 0; i < n; i++) {
        const r = resp[i * k + c];
        for (let a = 0; a < d; a++) {
          const da = points[i][a] - mu[a];
          for (let b = 0; b <= a; b++) cov[a][b] += r * da * (points[i][b] - mu[b]);
        }
      }
      for (let a = 0; a < d; a++) {
        for (let b = 0; b <= a; b++) cov[b][a] = cov[a][b] = cov[a][b] / nk;
        cov[a][a] += regCovar;
      }
      weights.push(nk / n);
      means.push(mu);
      covariances.push(cov);
    }
    const total = weights.reduce((s, w) => s + w, 0);
    weights = weights.map((w) => w / total);
  };
  // E-step: fills resp, returns the mean log-likelihood per point.
  const eStep = (): number => {
    const factors = covariances.map((cov, c) => {
      const l = cholesky(cov);
      if (l === null) {
        throw new ConvergenceError(
          `Covariance of component ${c} is not positive definite: increase regCovar (now ${regCovar})`,
        );
      }
      return l;
    });
    const logNorm = factors.map((l, c) => {
      let logDet = 0;
      for (let j = 0; j < d; j++) logDet += 2 * Math.log(l[j][j]);
      return Math.log(weights[c]) - 0.5 * (d * Math.log(2 * Math.PI) + logDet);
    });
    const y = new Array<number>(d);
    const logp = new Float64Array(k);
    let total = 0;
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let c = 0; c < k; c++) {
        // Mahalanobis distance via forward substitution L y = x − μ.
        const l = factors[c];
        let maha = 0;
        for (let a = 0; a < d; a++) {
          let s = points[i][a] - means[c][a];
          for (let b = 0; b < a; b++) s -= l[a][b] * y[b];
          y[a] = s / l[a][a];
          maha += y[a] * y[a];
        }
        logp[c] = logNorm[c] - 0.5 * maha;
        if (logp[c] > max) max = logp[c];
      }
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp(logp[c] - max);
      const logSum = max + Math.log(sum);
      total += logSum;
      for (let c = 0; c < k; c++) resp[i * k + c] = Math.exp(logp[c] - logSum);
    }
    return total / n;
  };

  mStep();
  const logLikelihoods: number[] = [];
  let converged = false;
  for (let it = 0; it < maxIterations; it++) {
    const ll = eStep();
    logLikelihoods.push(ll);
    mStep();
    if (it > 0 && Math.abs(ll - logLikelihoods[it - 1]) < tol) {
      converged = true;
      break;
    }
  }
  eStep();
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (resp[i * k + c] > resp[i * k + best]) best = c;
    labels[i] = best;
  }
  return { labels, weights, means, covariances, logLikelihoods, converged };
}
