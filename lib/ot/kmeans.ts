/**
 * Plain k-means (Lloyd's algorithm) with seeded k-means++ initialisation — the baseline that
 * OT k-means (Genevay et al. 2019, `ot_kmeans.ts`) is compared against, and its initialiser.
 *
 * @module
 */
import { assertIntegerInRange, show } from "../core/errors.ts";
import { type PointsLike, type RectMatrix, toRectMatrix } from "../core/rect_matrix.ts";
export type { PointsLike, RectMatrix } from "../core/rect_matrix.ts";
import { streamFor, uniformOpen01 } from "../core/random.ts";

/**
 * Options of {@link kMeans}.
 *
 * @category Optimal transport
 */
export interface KMeansOptions {
  /** 32-bit integer seed of the k-means++ initialisation; default 0 (deterministic). */
  readonly seed?: number;
  /** Maximum number of Lloyd iterations; default 100. */
  readonly maxIters?: number;
}

/**
 * What {@link kMeans} returns.
 *
 * @category Optimal transport
 */
export interface KMeansResult {
  /** The `k × d` centroids. */
  readonly centroids: RectMatrix;
  /** Cluster index of each point (nearest centroid). */
  readonly labels: Int32Array;
  /** Sum of squared distances of the points to their centroids. */
  readonly inertia: number;
  /** Lloyd iterations performed. */
  readonly iterations: number;
  /** Whether the labels stopped changing within `maxIters`. */
  readonly converged: boolean;
}

function squaredDistance(x: Float64Array, i: number, c: Float64Array, j: number, d: number) {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const diff = x[i * d + t] - c[j * d + t];
    s += diff * diff;
  }
  return s;
}

/**
 * k-means++ seeding (Arthur and Vassilvitskii 2007): the first centroid is a uniformly drawn
 * point, each next one a point drawn with probability ∝ its squared distance to the nearest
 * centroid chosen so far (uniformly if all those distances are 0).
 *
 * @param points The `n × d` points.
 * @param k Number of centroids, 1 ≤ k ≤ n.
 * @param seed 32-bit integer seed; same seed ⇒ same centroids.
 * @returns The `k × d` initial centroids (copies of k distinct point indices' coordinates).
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If the points are invalid or k is not in [1, n].
 *
 * @example
 * ```ts
 * import { kMeansPlusPlus } from "./kmeans.ts";
 * import assert from "node:assert/strict";
 * const c = kMeansPlusPlus([[0], [0.1], [10]], 2, 1);
 * assert.equal(c.rows, 2);
 * assert.ok(c.data[0] === 10 || c.data[1] === 10); // the far point is always picked
 * ```
 */
export function kMeansPlusPlus(points: PointsLike, k: number, seed: number): RectMatrix {
  const x = toRectMatrix(points);
  const n = x.rows, d = x.cols;
  assertIntegerInRange("k", k, 1, n, `for n = ${n} points`);
  const rng = streamFor(seed);
  const centroids = new Float64Array(k * d);
  const chosen = new Uint8Array(n);
  const nearest = new Float64Array(n).fill(Infinity);
  let pick = Math.min(n - 1, Math.floor(uniformOpen01(rng) * n));
  for (let j = 0; j < k; j++) {
    chosen[pick] = 1;
    centroids.set(x.data.subarray(pick * d, (pick + 1) * d), j * d);
    if (j === k - 1) break;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const dist = squaredDistance(x.data, i, centroids, j, d);
      if (dist < nearest[i]) nearest[i] = dist;
      if (!chosen[i]) total += nearest[i];
    }
    if (total > 0) {
      let u = uniformOpen01(rng) * total;
      pick = -1;
      for (let i = 0; i < n; i++) {
        if (chosen[i] || nearest[i] === 0) continue;
        pick = i;
        u -= nearest[i];
        if (u <= 0) break;
      }
    } else {
      // All remaining points coincide with chosen centroids: take an unchosen one uniformly.
      let r = Math.floor(uniformOpen01(rng) * (n - j - 1));
      pick = -1;
      for (let i = 0; i < n; i++) {
        if (chosen[i]) continue;
        if (r-- === 0) {
          pick = i;
          break;
        }
      }
    }
  }
  return { rows: k, cols: d, data: centroids };
}

/**
 * Plain k-means by Lloyd's algorithm from a k-means++ start: alternately assign each point to
 * its nearest centroid and move each centroid to the mean of its points, until the labels stop
 * changing. An empty cluster is re-seeded at the point farthest from its current centroid.
 * Cluster sizes are unconstrained (compare `otKMeans`, which prescribes them).
 *
 * @param points The `n × d` points.
 * @param k Number of clusters, 1 ≤ k ≤ n.
 * @param options Seed and iteration budget.
 * @returns Centroids, labels, inertia, iterations and whether it converged.
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If the points are invalid, k is not in [1, n], or maxIters < 1.
 *
 * @example Two obvious groups
 * ```ts
 * import { kMeans } from "./kmeans.ts";
 * import assert from "node:assert/strict";
 * const r = kMeans([[0, 0], [0, 1], [10, 10], [10, 11]], 2, { seed: 3 });
 * assert.equal(r.labels[0], r.labels[1]);
 * assert.notEqual(r.labels[0], r.labels[2]);
 * assert.equal(r.inertia, 1);
 * ```
 *
 * @category Optimal transport
 */
export function kMeans(
  points: PointsLike,
  k: number,
  options: KMeansOptions = {},
): KMeansResult {
  const x = toRectMatrix(points);
  const n = x.rows, d = x.cols;
  assertIntegerInRange("k", k, 1, n, `for n = ${n} points`);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected options to be an object, got ${show(options)}`);
  }
  const maxIters = options.maxIters ?? 100;
  assertIntegerInRange("maxIters", maxIters, 1, Number.MAX_SAFE_INTEGER);
  const c = kMeansPlusPlus(x, k, options.seed ?? 0).data;
  const labels = new Int32Array(n).fill(-1);
  const sums = new Float64Array(k * d);
  const counts = new Int32Array(k);
  const dist = new Float64Array(n);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIters) {
    iterations++;
    let changed = false;
    for (let i = 0; i < n; i++) {
      let best = 0, bestDist = Infinity;
      for (let j = 0; j < k; j++) {
        const dd = squaredDistance(x.data, i, c, j, d);
        if (dd < bestDist) {
          bestDist = dd;
          best = j;
        }
      }
      dist[i] = bestDist;
      if (labels[i] !== best) {
        labels[i] = best;
        changed = true;
      }
    }
    if (!changed) {
      converged = true;
      break;
    }
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const j = labels[i];
      counts[j]++;
      for (let t = 0; t < d; t++) sums[j * d + t] += x.data[i * d + t];
    }
    for (let j = 0; j < k; j++) {
      if (counts[j] === 0) {
        // Empty cluster: move it to the worst-served point so k clusters stay in use.
        let far = 0;
        for (let i = 1; i < n; i++) if (dist[i] > dist[far]) far = i;
        c.set(x.data.subarray(far * d, (far + 1) * d), j * d);
        dist[far] = 0;
        continue;
      }
      for (let t = 0; t < d; t++) c[j * d + t] = sums[j * d + t] / counts[j];
    }
  }
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += squaredDistance(x.data, i, c, labels[i], d);
  return { centroids: { rows: k, cols: d, data: c }, labels, inertia, iterations, converged };
}
