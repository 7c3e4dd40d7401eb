/**
 * The self-labelling objective of `exp:otkmeans --objective self-label` (not the default;
 * measured no better than the OT objective): cross-entropy of the distance softmax against the
 * balanced plan of the OT k-means solve.
 *
 * @module
 */
import type { RectMatrix } from "../../lib/core/rect_matrix.ts";
import { squaredEuclideanCost, squaredEuclideanGradients } from "../../lib/ot/sinkhorn.ts";

/**
 * Self-labelling loss against a balanced plan: with q = n·P (rows sum to 1, P held fixed) and
 * the distance softmax p_ij = softmax_j(−C_ij/τ), C_ij = ‖z_i − c_j‖²,
 *
 *   L = −(1/n) Σ_i Σ_j q_ij log p_ij = (1/n) Σ_i [ Σ_j q_ij C_ij/τ + log Σ_j exp(−C_ij/τ) ],
 *
 * so ∂L/∂C_ij = (q_ij − p_ij)/(nτ), and the gradients in z and c follow by the chain rule
 * (`squaredEuclideanGradients` with these weights). The first term is the OT k-means cost of
 * the plan (up to 1/τ); the log-partition term pushes each point away from the centroids it is
 * NOT transported to, so a collapsed embedding (p uniform, L = log k) is a maximum, not a
 * minimum — the link between soft k-means and discriminative models that Genevay et al. build on.
 *
 * @param z The n × d points.
 * @param c The k × d centroids.
 * @param plan The n × k transport plan (rows sum to 1/n).
 * @param temperature τ > 0.
 * @returns The loss and its gradients in the points and in the centroids.
 */
export function selfLabelLoss(
  z: RectMatrix,
  c: RectMatrix,
  plan: RectMatrix,
  temperature: number,
): { loss: number; gradPoints: RectMatrix; gradCentroids: RectMatrix } {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`Expected temperature to be a positive number, got ${temperature}`);
  }
  const n = z.rows, k = c.rows;
  if (plan.rows !== n || plan.cols !== k) {
    throw new RangeError(`Expected plan to be ${n} × ${k}, got ${plan.rows} × ${plan.cols}`);
  }
  const cost = squaredEuclideanCost(z, c).data;
  const weights = new Float64Array(n * k);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let lo = Infinity;
    for (let j = 0; j < k; j++) lo = Math.min(lo, cost[i * k + j]!);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(-(cost[i * k + j]! - lo) / temperature);
    const logZ = Math.log(sum) - lo / temperature;
    for (let j = 0; j < k; j++) {
      const q = n * plan.data[i * k + j]!;
      const logP = -cost[i * k + j]! / temperature - logZ;
      loss -= q * logP / n;
      weights[i * k + j] = (q - Math.exp(logP)) / (n * temperature);
    }
  }
  const grads = squaredEuclideanGradients(z, c, { rows: n, cols: k, data: weights });
  return { loss, gradPoints: grads.points, gradCentroids: grads.centroids };
}
