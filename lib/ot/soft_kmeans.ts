/**
 * Soft k-means as entropic transport without the size constraint: the baseline that OT k-means
 * (Genevay, Dulac-Arnold and Vert 2019) generalises.
 *
 * OT k-means solves, for points x (weights a = 1/n) and centroids c with proportions r,
 *
 *   min_{P ≥ 0, P1 = a, Pᵀ1 = r}  ⟨P, C⟩ + ε KL(P ‖ a rᵀ),   C_ij = ‖x_i − c_j‖²   (`ot_kmeans.ts`).
 *
 * Drop the column (size) constraint Pᵀ1 = r and the problem splits by rows; each row is a
 * Gibbs distribution, P_ij = a_i r_j exp(−C_ij/ε) / Z_i with Z_i = Σ_j r_j exp(−C_ij/ε), and
 *
 *   SKM_ε(x, c) = min_{P ≥ 0, P1 = a} ⟨P, C⟩ + ε KL(P ‖ a rᵀ) = −ε Σ_i a_i log Z_i,
 *
 * the negative log-likelihood (times ε) of a mixture of isotropic Gaussians of variance ε/2 with
 * weights r: soft k-means at temperature ε. As for OT, the minimiser is unique and Danskin's
 * theorem gives ∇_C SKM_ε = P, so the gradients in x and c have the same form
 * (`squaredEuclideanGradients`). Two exact relations tie it to OT k-means (tested):
 *
 * - OT_ε(a, r, C) ≥ SKM_ε: the size constraint can only raise the minimum; equal when the soft
 *   plan's column sums q already equal r.
 * - OT_ε(a, q, C) = SKM_ε − ε KL(q ‖ r) with q = Pᵀ1 the soft plan's own column sums, and the
 *   two plans coincide: on the set {Pᵀ1 = q} the two KL references differ by the constant
 *   ε KL(q ‖ r), and the unconstrained minimiser lies in that set.
 *
 * @module
 */
import { assertPositiveFinite, show } from "../core/errors.ts";
import { type PointsLike, type RectMatrix, toRectMatrix } from "../core/rect_matrix.ts";
import { squaredEuclideanCost, squaredEuclideanGradients } from "./sinkhorn.ts";
import { checkSizes } from "./ot_kmeans.ts";

/**
 * Options of {@link softKMeansLoss}.
 *
 * @category Optimal transport
 */
export interface SoftKMeansLossOptions {
  /** Temperature ε > 0, in the units of squared distances. */
  readonly epsilon: number;
  /** Mixture weights r (length k, entries > 0, sum 1); default uniform 1/k. */
  readonly sizes?: Float64Array | readonly number[];
}

/**
 * What {@link softKMeansLoss} returns.
 *
 * @category Optimal transport
 */
export interface SoftKMeansLossResult {
  /** SKM_ε(x, c) = −ε Σ_i (1/n) log Σ_j r_j exp(−‖x_i − c_j‖²/ε). */
  readonly loss: number;
  /** The `n × k` soft assignment P (row i sums to 1/n); ∂loss/∂C = P. */
  readonly plan: RectMatrix;
  /** ∂loss/∂x, `n × d`. */
  readonly gradPoints: RectMatrix;
  /** ∂loss/∂c, `k × d`. */
  readonly gradCentroids: RectMatrix;
}

/**
 * The soft k-means loss of a batch and its gradients: OT k-means' objective without the
 * cluster-size constraint (module doc), computed in closed form with a stable log-sum-exp.
 *
 * @param points The `n × d` embeddings.
 * @param centroids The `k × d` centroids.
 * @param options Temperature ε and mixture weights.
 * @returns Loss, soft assignment and gradients.
 * @throws {TypeError | RangeError} On invalid points, centroids, sizes or ε.
 *
 * @example Far from the other centroid, the loss is the squared distance to the nearest one
 * ```ts
 * import { softKMeansLoss } from "./soft_kmeans.ts";
 * import assert from "node:assert/strict";
 * const r = softKMeansLoss([[1], [5]], [[0], [6]], { epsilon: 0.01, sizes: [0.5, 0.5] });
 * // −ε log(½ e^{−1/ε}) = 1 + ε log 2 for each point.
 * assert.ok(Math.abs(r.loss - (1 + 0.01 * Math.log(2))) < 1e-12);
 * assert.ok(Math.abs(r.gradPoints.data[0] - 1) < 1e-12); // (1/2)·2·(1 − 0)
 * ```
 *
 * @category Optimal transport
 */
export function softKMeansLoss(
  points: PointsLike,
  centroids: PointsLike,
  options: SoftKMeansLossOptions,
): SoftKMeansLossResult {
  const x = toRectMatrix(points);
  const c = toRectMatrix(centroids, "centroids");
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected options to be an object, got ${show(options)}`);
  }
  const epsilon = options.epsilon;
  assertPositiveFinite("epsilon", epsilon);
  const r = checkSizes(options.sizes, c.rows);
  const cost = squaredEuclideanCost(x, c);
  const n = x.rows, k = c.rows;
  const a = 1 / n;
  const plan = new Float64Array(n * k);
  const logR = Float64Array.from(r, Math.log);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    // log Z_i = log Σ_j r_j exp(−C_ij/ε), shifted by the largest exponent.
    let top = -Infinity;
    for (let j = 0; j < k; j++) top = Math.max(top, logR[j] - cost.data[i * k + j] / epsilon);
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const w = Math.exp(logR[j] - cost.data[i * k + j] / epsilon - top);
      plan[i * k + j] = w;
      sum += w;
    }
    for (let j = 0; j < k; j++) plan[i * k + j] *= a / sum;
    loss -= epsilon * a * (top + Math.log(sum));
  }
  const planMatrix = { rows: n, cols: k, data: plan };
  const grads = squaredEuclideanGradients(x, c, planMatrix);
  return { loss, plan: planMatrix, gradPoints: grads.points, gradCentroids: grads.centroids };
}
