/**
 * OT k-means with cluster-size constraints (Genevay, Dulac-Arnold and Vert 2019,
 * "Differentiable Deep Clustering with Cluster Size Constraints").
 *
 * k-means is rewritten as optimal transport between the n points (weights a = 1/n) and k
 * centroids with prescribed cluster proportions r (uniform by default):
 *
 *   min_{c}  min_{P ∈ U(a, r)}  ⟨P, C(x, c)⟩ + ε KL(P ‖ a rᵀ),   C_ij = ‖x_i − c_j‖².
 *
 * The inner problem is solved by log-domain Sinkhorn (`sinkhorn.ts`); its soft assignment P is
 * differentiable in the points and in the centroids (∇_C = P, then the chain rule), which is
 * what makes end-to-end deep clustering possible. Alternating the exact minimisations over P
 * (Sinkhorn) and over c (plan-weighted means) never increases the objective.
 *
 * @module
 */
import { assertIntegerInRange, assertPositiveFinite, show } from "../core/errors.ts";
import { kMeansPlusPlus } from "./kmeans.ts";
import { type PointsLike, type RectMatrix, toRectMatrix } from "../core/rect_matrix.ts";
import {
  MASS_TOLERANCE,
  sinkhorn,
  type SinkhornResult,
  squaredEuclideanCost,
  squaredEuclideanGradients,
} from "./sinkhorn.ts";
export type { PointsLike, RectMatrix } from "../core/rect_matrix.ts";
export type { SinkhornResult } from "./sinkhorn.ts";

/**
 * Options forwarded to each inner {@link sinkhorn} solve.
 *
 * @category Optimal transport
 */
export interface InnerSinkhornOptions {
  /** Iteration budget per solve; default 10 000. */
  readonly maxIters?: number;
  /** Marginal tolerance relative to the mass; default 1e-7. */
  readonly tol?: number;
  /** ε-scaling factor of the first (cold) solve; default 0.5. */
  readonly epsilonScaling?: number;
}

/**
 * Options of {@link otKMeans}.
 *
 * @category Optimal transport
 */
export interface OtKMeansOptions {
  /**
   * Entropic regularisation ε > 0, in the units of squared distances. Small (say 1e-3 to
   * 1e-2 times the mean squared distance) gives nearly hard assignments; large gives soft ones.
   * Default: 0.01 × the mean squared distance between the points (1 if they all coincide).
   */
  readonly epsilon?: number;
  /** 32-bit integer seed of the k-means++ initialisation; default 0 (deterministic). */
  readonly seed?: number;
  /** Cluster proportions r (length k, entries > 0, sum 1); default uniform 1/k. */
  readonly sizes?: Float64Array | readonly number[];
  /** Maximum number of (assignment, centroid) rounds; default 100. */
  readonly maxIters?: number;
  /** Stop when the objective decreases by at most tol × |objective|; default 1e-9. */
  readonly tol?: number;
  /** Initial `k × d` centroids instead of k-means++. */
  readonly initialCentroids?: PointsLike;
  /** Options of the inner Sinkhorn solves. */
  readonly sinkhorn?: InnerSinkhornOptions;
}

/**
 * 0.01 × the mean squared distance over all ordered pairs of points (2 × the total
 * variance), or 1 when every point coincides.
 */
function defaultEpsilon(x: RectMatrix): number {
  const n = x.rows, d = x.cols;
  let total = 0;
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x.data[i * d + j]!;
    mean /= n;
    for (let i = 0; i < n; i++) total += (x.data[i * d + j]! - mean) ** 2;
  }
  const meanSq = (2 * total) / n;
  return meanSq > 0 && Number.isFinite(meanSq) ? 0.01 * meanSq : 1;
}

/**
 * What {@link otKMeans} returns.
 *
 * @category Optimal transport
 */
export interface OtKMeansResult {
  /** The `k × d` centroids. */
  readonly centroids: RectMatrix;
  /** The final `n × k` transport plan (soft assignment; row i sums to 1/n). */
  readonly plan: RectMatrix;
  /** Hard labels: argmax of each row of the plan. */
  readonly labels: Int32Array;
  /**
   * Hard labels with exactly `targetCounts[j]` points in cluster j, by
   * {@link balancedAssignment} on the plan's log-probabilities.
   */
  readonly balancedLabels: Int32Array;
  /** Integer cluster sizes closest to n·r (largest remainder): |targetCounts_j − n r_j| < 1. */
  readonly targetCounts: Int32Array;
  /** Entropic OT objective after each assignment step (non-increasing up to Sinkhorn tol). */
  readonly history: readonly number[];
  /** Assignment/centroid rounds performed. */
  readonly iterations: number;
  /** Whether the objective stopped decreasing (after a converged solve) within `maxIters`. */
  readonly converged: boolean;
  /** Whether the last inner Sinkhorn solve (the one behind `plan`) met its tolerance. */
  readonly sinkhornConverged: boolean;
  /**
   * How many inner solves stopped at their iteration budget (typically the first, cold one at
   * small ε; later ones are warm-started). If > 0, `history` may not be monotone there.
   */
  readonly unconvergedSolves: number;
  /** The last inner Sinkhorn result (potentials, marginal error, …). */
  readonly lastSinkhorn: SinkhornResult;
}

/**
 * Validated cluster proportions: uniform 1/k when absent, else length k, entries > 0, sum 1.
 *
 * @param sizes The proportions as given.
 * @param k The number of centroids.
 * @returns The proportions as a fresh Float64Array.
 * @throws {TypeError | RangeError} On a wrong type, length, entry or sum.
 */
export function checkSizes(
  sizes: Float64Array | readonly number[] | undefined,
  k: number,
): Float64Array {
  if (sizes === undefined) return new Float64Array(k).fill(1 / k);
  if (!(sizes instanceof Float64Array) && !Array.isArray(sizes)) {
    throw new TypeError(`Expected sizes to be a Float64Array or number[], got ${show(sizes)}`);
  }
  if (sizes.length !== k) {
    throw new RangeError(`Invalid sizes: it has length ${sizes.length} but k = ${k}`);
  }
  let total = 0;
  for (let j = 0; j < k; j++) {
    const v = sizes[j];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      throw new RangeError(`Invalid sizes[${j}] = ${show(v)}: proportions must be finite and > 0`);
    }
    total += v;
  }
  if (Math.abs(total - 1) > MASS_TOLERANCE) {
    throw new RangeError(
      `Invalid sizes: proportions sum to ${total}, they must sum to 1 (the points' total mass); ` +
        `divide counts by n`,
    );
  }
  return Float64Array.from(sizes);
}

/**
 * Integer cluster sizes closest to n·r by the largest-remainder rule: floor(n r_j) each, then
 * one more to the clusters with the largest fractional parts (ties: lower index) until they
 * sum to n. So |counts_j − n r_j| < 1 for every j.
 *
 * @param n Number of points (≥ 1).
 * @param sizes Proportions r (entries > 0, sum 1).
 * @returns The k counts, summing to n.
 * @throws {TypeError | RangeError} If n is not a positive integer or `sizes` is invalid.
 *
 * @example
 * ```ts
 * import { targetCounts } from "./ot_kmeans.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(Array.from(targetCounts(10, [1 / 3, 1 / 3, 1 / 3])), [4, 3, 3]);
 * ```
 */
export function targetCounts(n: number, sizes: Float64Array | readonly number[]): Int32Array {
  assertIntegerInRange("n", n, 1, Number.MAX_SAFE_INTEGER);
  const r = checkSizes(sizes, sizes?.length ?? 0);
  const k = r.length;
  const counts = new Int32Array(k);
  const remainders: { j: number; frac: number }[] = [];
  let assigned = 0;
  for (let j = 0; j < k; j++) {
    const exact = n * r[j];
    counts[j] = Math.floor(exact);
    assigned += counts[j];
    remainders.push({ j, frac: exact - counts[j] });
  }
  remainders.sort((p, q) => q.frac - p.frac || p.j - q.j);
  for (let t = 0; assigned < n; t = (t + 1) % k) {
    counts[remainders[t].j]++;
    assigned++;
  }
  return counts;
}

/**
 * Rounds a soft assignment to a hard one with prescribed cluster sizes, greedily: all (point,
 * cluster) pairs are visited by decreasing score (ties: lower point, then lower cluster index)
 * and a point joins a cluster if it is still unassigned and the cluster is not yet full.
 *
 * Guarantees: (1) cluster j gets exactly `counts[j]` points (a point left over at the end would
 * contradict Σ counts = n, since it was offered every cluster); (2) if the per-row argmax
 * already has these sizes it is returned unchanged; (3) each point gets its best-scored cluster
 * among those not yet full when its turn comes. It is not the minimum-cost assignment with
 * these sizes in general; that one is the plan of {@link otKMeans} as ε → 0 when it is unique.
 *
 * @param scores `n × k` scores, higher = preferred (e.g. log P_ij; −Infinity allowed).
 * @param counts Target cluster sizes, non-negative integers summing to n.
 * @returns The labels.
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If counts have the wrong length, are negative or do not sum to n, or a
 *   score is NaN or +Infinity.
 *
 * @example Two points prefer cluster 0, which has room for one
 * ```ts
 * import { balancedAssignment } from "./ot_kmeans.ts";
 * import { rectMatrix } from "../core/rect_matrix.ts";
 * import assert from "node:assert/strict";
 * const labels = balancedAssignment(rectMatrix([[0.9, 0.1], [0.6, 0.4]]), [1, 1]);
 * assert.deepEqual(Array.from(labels), [0, 1]);
 * ```
 */
export function balancedAssignment(
  scores: RectMatrix,
  counts: Int32Array | readonly number[],
): Int32Array {
  if (typeof scores !== "object" || scores === null || !(scores.data instanceof Float64Array)) {
    throw new TypeError(`Expected scores to be a RectMatrix, got ${show(scores)}`);
  }
  const { rows: n, cols: k, data } = scores;
  if (data.length !== n * k || n < 1 || k < 1) {
    throw new RangeError(`Invalid scores: shape ${show(n)} × ${show(k)}, length ${data.length}`);
  }
  for (let t = 0; t < data.length; t++) {
    if (Number.isNaN(data[t]) || data[t] === Infinity) {
      throw new RangeError(
        `Invalid scores[${Math.floor(t / k)}][${t % k}] = ${show(data[t])}: scores must be ` +
          `finite or −Infinity`,
      );
    }
  }
  if (counts?.length !== k) {
    throw new RangeError(
      `Invalid counts: length ${show(counts?.length)} but scores has ${k} columns`,
    );
  }
  let total = 0;
  for (let j = 0; j < k; j++) {
    assertIntegerInRange(`counts[${j}]`, counts[j], 0, n);
    total += counts[j];
  }
  if (total !== n) {
    throw new RangeError(`Invalid counts: they sum to ${total} but there are n = ${n} points`);
  }
  const order = Array.from({ length: n * k }, (_, t) => t);
  order.sort((p, q) => data[q] - data[p] || p - q || 0);
  // −Infinity − (−Infinity) is NaN: the `|| p − q` above then keeps the order total.
  const labels = new Int32Array(n).fill(-1);
  const room = Int32Array.from(counts);
  let left = n;
  for (const t of order) {
    const i = Math.floor(t / k), j = t - i * k;
    if (labels[i] !== -1 || room[j] === 0) continue;
    labels[i] = j;
    room[j]--;
    if (--left === 0) break;
  }
  return labels;
}

/** Row-wise log soft-assignment log(P_ij / a_i) = log r_j + (f_i + g_j − C_ij)/ε, no underflow. */
function logAssignment(cost: RectMatrix, r: Float64Array, s: SinkhornResult): RectMatrix {
  const { rows: n, cols: k, data: C } = cost;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      out[i * k + j] = Math.log(r[j]) + (s.f[i] + s.g[j] - C[i * k + j]) / s.epsilon;
    }
  }
  return { rows: n, cols: k, data: out };
}

/**
 * OT k-means (Genevay et al. 2019): from k-means++ centroids, alternate the assignment step
 * P ← Sinkhorn plan for the cost ‖x_i − c_j‖² between a = 1/n and b = r, and the centroid step
 * c_j ← Σ_i P_ij x_i / Σ_i P_ij (the exact minimiser of ⟨P, C(x, c)⟩ in c), until the entropic
 * objective stops decreasing. Each Sinkhorn solve is warm-started from the previous potentials.
 *
 * Hard assignments: `labels` (argmax per point; as ε → 0 these are the exact size-constrained
 * assignment when it is unique) and `balancedLabels` (sizes exactly `targetCounts`, see
 * {@link balancedAssignment}).
 *
 * @param points The `n × d` points.
 * @param k Number of clusters, 1 ≤ k ≤ n.
 * @param options ε, seed, cluster proportions and iteration budgets.
 * @returns Centroids, plan, labels, objective history, iterations.
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If the points are invalid, k ∉ [1, n], ε ≤ 0, sizes are not positive
 *   proportions summing to 1, or initial centroids have the wrong shape.
 *
 * @example Equal-size clusters even when the data say otherwise
 * ```ts
 * import { otKMeans } from "./ot_kmeans.ts";
 * import assert from "node:assert/strict";
 * const points = [[0], [0.1], [0.2], [10]]; // plain 2-means: sizes 3 and 1
 * const r = otKMeans(points, 2, { epsilon: 0.01, seed: 1 });
 * const sizes = [0, 0];
 * for (const l of r.labels) sizes[l]++;
 * assert.deepEqual(sizes, [2, 2]);
 * ```
 *
 * @category Optimal transport
 */
export function otKMeans(
  points: PointsLike,
  k: number,
  options: OtKMeansOptions = {},
): OtKMeansResult {
  const x = toRectMatrix(points);
  const n = x.rows, d = x.cols;
  assertIntegerInRange("k", k, 1, n, `for n = ${n} points`);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected options to be an object, got ${show(options)}`);
  }
  const epsilon = options.epsilon ?? defaultEpsilon(x);
  assertPositiveFinite("epsilon", epsilon);
  const r = checkSizes(options.sizes, k);
  const maxIters = options.maxIters ?? 100;
  assertIntegerInRange("maxIters", maxIters, 1, Number.MAX_SAFE_INTEGER);
  const tol = options.tol ?? 1e-9;
  assertPositiveFinite("tol", tol);
  let centroids: Float64Array;
  if (options.initialCentroids !== undefined) {
    const c0 = toRectMatrix(options.initialCentroids, "initialCentroids");
    if (c0.rows !== k || c0.cols !== d) {
      throw new RangeError(
        `Invalid initialCentroids: shape ${c0.rows} × ${c0.cols} but k × d = ${k} × ${d}`,
      );
    }
    centroids = c0.data.slice();
  } else {
    centroids = kMeansPlusPlus(x, k, options.seed ?? 0).data;
  }
  const a = new Float64Array(n).fill(1 / n);
  const inner = {
    epsilon,
    maxIters: options.sinkhorn?.maxIters ?? 10_000,
    tol: options.sinkhorn?.tol ?? 1e-7,
    epsilonScaling: options.sinkhorn?.epsilonScaling,
  };

  const history: number[] = [];
  let iterations = 0;
  let converged = false;
  let unconvergedSolves = 0;
  let g: Float64Array | undefined;
  let cost: RectMatrix;
  let solved: SinkhornResult;
  for (;;) {
    cost = squaredEuclideanCost(x, { rows: k, cols: d, data: centroids });
    solved = sinkhorn(cost, a, r, { ...inner, initialG: g });
    g = solved.g;
    if (!solved.converged) unconvergedSolves++;
    iterations++;
    const value = solved.objective;
    const previous = history.length > 0 ? history[history.length - 1] : Infinity;
    history.push(value);
    // Only a converged solve gives a trustworthy objective; an early, unconverged one (cold
    // start far from the optimum) is still a fine warm start for the next round.
    if (solved.converged && previous - value <= tol * Math.abs(value)) {
      converged = true;
      break;
    }
    if (iterations >= maxIters) break;
    // Centroid step: the minimiser of Σ_ij P_ij ‖x_i − c_j‖² over c_j is the P-weighted mean.
    const next = new Float64Array(k * d);
    const mass = new Float64Array(k);
    const P = solved.plan.data;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        const w = P[i * k + j];
        if (w === 0) continue;
        mass[j] += w;
        for (let t = 0; t < d; t++) next[j * d + t] += w * x.data[i * d + t];
      }
    }
    for (let j = 0; j < k; j++) {
      if (mass[j] > 0) {
        for (let t = 0; t < d; t++) next[j * d + t] /= mass[j];
      } else {
        for (let t = 0; t < d; t++) next[j * d + t] = centroids[j * d + t];
      }
    }
    centroids = next;
  }

  const scores = logAssignment(cost, r, solved);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (scores.data[i * k + j] > scores.data[i * k + best]) best = j;
    labels[i] = best;
  }
  const counts = targetCounts(n, r);
  return {
    centroids: { rows: k, cols: d, data: centroids },
    plan: solved.plan,
    labels,
    balancedLabels: balancedAssignment(scores, counts),
    targetCounts: counts,
    history,
    iterations,
    converged,
    sinkhornConverged: solved.converged,
    unconvergedSolves,
    lastSinkhorn: solved,
  };
}

/**
 * Options of {@link otKMeansLoss}.
 *
 * @category Optimal transport
 */
export interface OtKMeansLossOptions extends InnerSinkhornOptions {
  /** Entropic regularisation ε > 0. */
  readonly epsilon: number;
  /** Cluster proportions r (length k, entries > 0, sum 1); default uniform. */
  readonly sizes?: Float64Array | readonly number[];
  /** Warm start for the column potential (e.g. `g` of the previous batch). */
  readonly initialG?: Float64Array;
}

/**
 * What {@link otKMeansLoss} returns.
 *
 * @category Optimal transport
 */
export interface OtKMeansLossResult {
  /** OT_ε(1/n, r, C(x, c)) with C_ij = ‖x_i − c_j‖². */
  readonly loss: number;
  /** ∂loss/∂x, `n × d`. */
  readonly gradPoints: RectMatrix;
  /** ∂loss/∂c, `k × d`. */
  readonly gradCentroids: RectMatrix;
  /** The Sinkhorn solve behind it (plan = ∂loss/∂C, potentials, convergence). */
  readonly sinkhorn: SinkhornResult;
}

/**
 * The OT k-means loss of a batch and its gradients, for end-to-end training of an embedding
 * and learnable centroids (Genevay et al. 2019): loss = OT_ε(1/n, r, C) with
 * C_ij = ‖x_i − c_j‖², ∂loss/∂C = P (Danskin), hence ∂loss/∂x_i = Σ_j P_ij 2(x_i − c_j) and
 * ∂loss/∂c_j = Σ_i P_ij 2(c_j − x_i).
 *
 * @param points The `n × d` embeddings.
 * @param centroids The `k × d` centroids.
 * @param options ε, proportions, inner Sinkhorn options.
 * @returns Loss, gradients and the Sinkhorn result.
 * @throws {TypeError | RangeError} On invalid points, centroids, sizes or ε.
 *
 * @example Gradient points from the point to its centroid
 * ```ts
 * import { otKMeansLoss } from "./ot_kmeans.ts";
 * import assert from "node:assert/strict";
 * const r = otKMeansLoss([[1], [5]], [[0], [6]], { epsilon: 0.01 });
 * assert.ok(Math.abs(r.gradPoints.data[0] - 1) < 1e-6); // (1/2)·2·(1 − 0)
 * ```
 *
 * @category Optimal transport
 */
export function otKMeansLoss(
  points: PointsLike,
  centroids: PointsLike,
  options: OtKMeansLossOptions,
): OtKMeansLossResult {
  const x = toRectMatrix(points);
  const c = toRectMatrix(centroids, "centroids");
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected options to be an object, got ${show(options)}`);
  }
  const r = checkSizes(options.sizes, c.rows);
  const cost = squaredEuclideanCost(x, c);
  const a = new Float64Array(x.rows).fill(1 / x.rows);
  const solved = sinkhorn(cost, a, r, {
    epsilon: options.epsilon,
    maxIters: options.maxIters,
    tol: options.tol ?? 1e-7,
    epsilonScaling: options.epsilonScaling,
    initialG: options.initialG,
  });
  const grads = squaredEuclideanGradients(x, c, solved.plan);
  return {
    loss: solved.objective,
    gradPoints: grads.points,
    gradCentroids: grads.centroids,
    sinkhorn: solved,
  };
}
