/**
 * The tfjs adapter of the entropic OT k-means loss (Genevay, Dulac-Arnold & Vert 2019): trains
 * an embedding network and k centroids end-to-end on `lib/ot/ot_kmeans.ts`'s `otKMeansLoss`,
 * beside the clustering losses of `cluster_loss.ts` (dense) and `graph_cluster_loss.ts` (graph).
 *
 * For embeddings z_i = f_θ(x_i) (n × d) and centroids c (k × d),
 *
 *   L(z, c) = OT_ε(1/n, r, C),  C_ij = ‖z_i − c_j‖²,  r = the cluster sizes (uniform 1/k),
 *
 * solved by log-domain Sinkhorn in float64 on the CPU. By the envelope theorem (Danskin),
 * ∂L/∂C = P* (the optimal plan), so G_z := ∂L/∂z_i = Σ_j P*_ij 2(z_i − c_j) and
 * G_c := ∂L/∂c_j = Σ_i P*_ij 2(c_j − z_i): the core's `gradPoints` / `gradCentroids`.
 *
 * Why a surrogate. tfjs cannot differentiate through the CPU solve, so the solve feeds constants
 * into the tape: the differentiated function is s(z, c) = ⟨stopGradient(G_z), z⟩ +
 * ⟨stopGradient(G_c), c⟩, whose gradient is, by the chain rule with G held fixed, exactly
 * (∂L/∂z, ∂L/∂c) at the current point. As in `cluster_loss.ts`, it is a `tf.customGrad` op whose
 * forward value is L itself (so the scalar can be logged as the loss) and whose backward is
 * dy · (G_z, G_c).
 *
 * One forward pass where reads are synchronous: {@link otKMeansLossTf} reads z and c with
 * `dataSync` inside the tape (cpu, wasm, tensorflow). On webgpu, whose reads must be async,
 * read them first and call {@link prepareOtKMeansLoss}, then apply its `op` inside the tape.
 *
 * Inputs are checked before the solve: a non-finite embedding is what a diverged training step
 * produces, and Sinkhorn would only report it as a failure to converge.
 *
 * The baseline without the size constraint, soft k-means (`lib/ot/soft_kmeans.ts`), has the same
 * gradient form (∂SKM_ε/∂C = its Gibbs plan) and a closed form instead of a solve:
 * {@link softKMeansLossTf} and {@link prepareSoftKMeansLoss} carry it the same way, with the
 * same input checks.
 *
 * @module
 */
import {
  otKMeansLoss,
  type OtKMeansLossOptions,
  type OtKMeansLossResult,
} from "../lib/ot/ot_kmeans.ts";
import {
  softKMeansLoss,
  type SoftKMeansLossOptions,
  type SoftKMeansLossResult,
} from "../lib/ot/soft_kmeans.ts";
import type { RectMatrix } from "../lib/core/rect_matrix.ts";
import { tf } from "./_tfjs.ts";

/**
 * A loss at given (z, c), ready for the backward pass.
 *
 * @category Losses on embeddings
 */
export interface PreparedOtKMeansLoss extends OtKMeansLossResult {
  /**
   * The differentiable op (z, c) ↦ L: forward value L, gradient (G_z, G_c). Valid only for the
   * (z, c) it was prepared at (recomputed under a gradient tape); synchronous.
   */
  readonly op: (z: tf.Tensor2D, c: tf.Tensor2D) => tf.Scalar;
}

/**
 * A scalar op on (points, centroids) with a fixed value and fixed gradients: forward returns
 * `loss`, backward returns dy · `gradPoints` and dy · `gradCentroids`. The OT k-means loss uses
 * it with its envelope gradients; a loss built on the same plan (e.g. a self-labelling
 * cross-entropy) can use it with its own.
 *
 * @param loss The value at the current point.
 * @param gradPoints ∂loss/∂z, n × d.
 * @param gradCentroids ∂loss/∂c, k × d.
 * @returns (z, c) ↦ scalar with those gradients; call it on the point they were computed at.
 *
 * @example The gradients are the given ones
 * ```ts
 * import { tf } from "./deps/tfjs.ts";
 * import { rectMatrix } from "../lib/core/rect_matrix.ts";
 * import { pointCentroidLossOp } from "./ot_kmeans_loss.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const op = pointCentroidLossOp(2, rectMatrix([[1, -1]]), rectMatrix([[0.5, 0]]));
 * const z = tf.tensor2d([[3, 4]]), c = tf.tensor2d([[0, 0]]);
 * const [gz, gc] = tf.grads((a, b) => op(a as tf.Tensor2D, b as tf.Tensor2D))([z, c]);
 * assert.deepEqual(await gz!.array(), [[1, -1]]);
 * assert.deepEqual(await gc!.array(), [[0.5, 0]]);
 * tf.dispose([z, c, gz!, gc!]);
 * ```
 *
 * @category Losses on embeddings
 */
export function pointCentroidLossOp(
  loss: number,
  gradPoints: RectMatrix,
  gradCentroids: RectMatrix,
): (z: tf.Tensor2D, c: tf.Tensor2D) => tf.Scalar {
  const gz = Float32Array.from(gradPoints.data), gc = Float32Array.from(gradCentroids.data);
  const op = tf.customGrad((...args: unknown[]) => {
    const [z, c] = args as tf.Tensor[];
    for (const [name, t, g] of [["z", z!, gradPoints], ["c", c!, gradCentroids]] as const) {
      if (t.shape[0] !== g.rows || t.shape[1] !== g.cols) {
        throw new RangeError(
          `Invalid ${name} shape [${t.shape}]: the loss was prepared for ${g.rows} × ${g.cols}`,
        );
      }
    }
    return {
      value: tf.scalar(loss),
      gradFunc: (dy: tf.Tensor) => [
        tf.mul(dy, tf.tensor2d(gz, [gradPoints.rows, gradPoints.cols])),
        tf.mul(dy, tf.tensor2d(gc, [gradCentroids.rows, gradCentroids.cols])),
      ],
    };
  });
  return (z, c) => op(z, c) as tf.Scalar;
}

/**
 * A soft k-means loss at given (z, c), ready for the backward pass.
 *
 * @category Losses on embeddings
 */
export interface PreparedSoftKMeansLoss extends SoftKMeansLossResult {
  /** The differentiable op (z, c) ↦ SKM_ε, as {@link PreparedOtKMeansLoss}'s `op`. */
  readonly op: (z: tf.Tensor2D, c: tf.Tensor2D) => tf.Scalar;
}

/** Throws naming the first row of `data` (n × d, row-major) that holds NaN or ±Infinity. */
function assertFiniteRows(name: string, data: ArrayLike<number>, cols: number): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) {
      throw new RangeError(
        `${name} row ${Math.floor(i / cols)} holds ${v} (did training diverge?)`,
      );
    }
  }
}

/**
 * Solves the OT k-means loss at embeddings `z` and centroids `c` (float64, on the CPU) and
 * returns it with the op that carries its gradient into a tfjs tape.
 *
 * @param z Embeddings, n × d (row-major values, e.g. read from a tensor).
 * @param c Centroids, k × d.
 * @param options ε, cluster sizes, Sinkhorn budget and warm start, as `otKMeansLoss`.
 * @returns The core's loss, gradients and Sinkhorn result, plus `op`.
 * @throws {RangeError} If a row of `z` or `c` is not finite (naming the row), if their widths
 *   differ, or as `otKMeansLoss` does (ε, sizes).
 *
 * @example Two centroids on two points: the plan is the identity; the loss is its entropy term
 * ```ts
 * import { prepareOtKMeansLoss } from "./ot_kmeans_loss.ts";
 * import { rectMatrix } from "../lib/core/rect_matrix.ts";
 * import assert from "node:assert/strict";
 * const pts = rectMatrix([[0, 0], [4, 0]]);
 * const r = prepareOtKMeansLoss(pts, pts, { epsilon: 0.1 });
 * // ⟨P, C⟩ = 0, and ε KL(P ‖ a rᵀ) = ε log k for a hard assignment.
 * assert.ok(Math.abs(r.loss - 0.1 * Math.log(2)) < 1e-9);
 * assert.throws(
 *   () => {
 *     const z = { rows: 2, cols: 2, data: Float64Array.from([0, 0, NaN, 1]) };
 *     prepareOtKMeansLoss(z, pts, { epsilon: 0.1 });
 *   },
 *   /embeddings row 1 holds NaN \(did training diverge\?\)/,
 * );
 * ```
 *
 * @category Losses on embeddings
 */
export function prepareOtKMeansLoss(
  z: RectMatrix,
  c: RectMatrix,
  options: OtKMeansLossOptions,
): PreparedOtKMeansLoss {
  assertEmbeddingsAndCentroids(z, c);
  const r = otKMeansLoss(z, c, options);
  return { ...r, op: pointCentroidLossOp(r.loss, r.gradPoints, r.gradCentroids) };
}

/** The checks of every prepared loss: widths agree, every row finite (naming the row). */
function assertEmbeddingsAndCentroids(z: RectMatrix, c: RectMatrix): void {
  if (z.cols !== c.cols) {
    throw new RangeError(
      `Embeddings are ${z.rows} × ${z.cols} but centroids ${c.rows} × ${c.cols}: the widths ` +
        `must agree`,
    );
  }
  assertFiniteRows("embeddings", z.data, z.cols);
  assertFiniteRows("centroids", c.data, c.cols);
}

/** A 2-d tensor's values as a float64 matrix (a synchronous read). */
function readSync(t: tf.Tensor2D): RectMatrix {
  return { rows: t.shape[0], cols: t.shape[1], data: Float64Array.from(t.dataSync()) };
}

/**
 * The OT k-means loss of tensors, differentiable in both: reads z and c synchronously, solves
 * on the CPU, and returns the scalar L whose gradient is (∂L/∂z, ∂L/∂c) (module doc). Use it
 * inside `tf.variableGrads` / `optimizer.minimize` on backends with synchronous reads.
 *
 * @param z Embeddings, n × d.
 * @param c Centroids, k × d.
 * @param options As {@link prepareOtKMeansLoss}.
 * @returns The loss, a scalar tensor.
 * @throws {RangeError} As {@link prepareOtKMeansLoss}.
 *
 * @example Gradient of the loss with respect to the centroids
 * ```ts
 * import { tf } from "./deps/tfjs.ts";
 * import { otKMeansLossTf } from "./ot_kmeans_loss.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const z = tf.tensor2d([[0, 0], [0, 1], [4, 0], [4, 1]]);
 * const c = tf.variable(tf.tensor2d([[0, 0.5], [4, 0.5]]));
 * const { value, grads } = tf.variableGrads(() => otKMeansLossTf(z, c, { epsilon: 0.01 }), [c]);
 * // Each centroid sits at the mean of its two points: ⟨P, C⟩ = 1/4, the gradient is 0.
 * assert.ok(Math.abs((await value.data())[0]! - (0.25 + 0.01 * Math.log(2))) < 1e-6);
 * assert.ok((await grads[c.name]!.abs().max().data())[0]! < 1e-6);
 * tf.dispose([z, c, value, grads[c.name]!]);
 * ```
 *
 * @category Losses on embeddings
 */
export function otKMeansLossTf(
  z: tf.Tensor2D,
  c: tf.Tensor2D,
  options: OtKMeansLossOptions,
): tf.Scalar {
  return prepareOtKMeansLoss(readSync(z), readSync(c), options).op(z, c);
}

/**
 * Computes the soft k-means loss (OT k-means without the size constraint, `softKMeansLoss`) at
 * embeddings `z` and centroids `c` in float64 and returns it with the op that carries its
 * gradient into a tfjs tape. Reads nothing from tensors: the webgpu path, as
 * {@link prepareOtKMeansLoss}.
 *
 * @param z Embeddings, n × d.
 * @param c Centroids, k × d.
 * @param options ε and mixture weights, as `softKMeansLoss`.
 * @returns The core's loss, soft assignment and gradients, plus `op`.
 * @throws {RangeError} If a row of `z` or `c` is not finite (naming the row), if their widths
 *   differ, or as `softKMeansLoss` does (ε, sizes).
 *
 * @example Two points on two centroids: each point's loss is −ε log(½ (1 + e^{−16/ε}))
 * ```ts
 * import { prepareSoftKMeansLoss } from "./ot_kmeans_loss.ts";
 * import { rectMatrix } from "../lib/core/rect_matrix.ts";
 * import assert from "node:assert/strict";
 * const pts = rectMatrix([[0, 0], [4, 0]]);
 * const r = prepareSoftKMeansLoss(pts, pts, { epsilon: 0.1 });
 * // e^{−160} is below float64's resolution next to 1: the loss is ε log 2.
 * assert.ok(Math.abs(r.loss - 0.1 * Math.log(2)) < 1e-12);
 * assert.throws(
 *   () => {
 *     const z = { rows: 2, cols: 2, data: Float64Array.from([0, 0, NaN, 1]) };
 *     prepareSoftKMeansLoss(z, pts, { epsilon: 0.1 });
 *   },
 *   /embeddings row 1 holds NaN \(did training diverge\?\)/,
 * );
 * ```
 *
 * @category Losses on embeddings
 */
export function prepareSoftKMeansLoss(
  z: RectMatrix,
  c: RectMatrix,
  options: SoftKMeansLossOptions,
): PreparedSoftKMeansLoss {
  assertEmbeddingsAndCentroids(z, c);
  const r = softKMeansLoss(z, c, options);
  return { ...r, op: pointCentroidLossOp(r.loss, r.gradPoints, r.gradCentroids) };
}

/**
 * The soft k-means loss of tensors, differentiable in both: the baseline of
 * {@link otKMeansLossTf} without the cluster-size constraint, read and computed the same way.
 *
 * @param z Embeddings, n × d.
 * @param c Centroids, k × d.
 * @param options As {@link prepareSoftKMeansLoss}.
 * @returns The loss, a scalar tensor.
 * @throws {RangeError} As {@link prepareSoftKMeansLoss}.
 *
 * @example Unbalanced clusters: soft k-means lets three points share one centroid, OT k-means not
 * ```ts
 * import { tf } from "./deps/tfjs.ts";
 * import { otKMeansLossTf, softKMeansLossTf } from "./ot_kmeans_loss.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const z = tf.tensor2d([[0, 0], [0, 0], [0, 0], [4, 0]]);
 * const c = tf.tensor2d([[0, 0], [4, 0]]);
 * const soft = (await softKMeansLossTf(z, c, { epsilon: 0.01 }).data())[0]!;
 * const ot = (await otKMeansLossTf(z, c, { epsilon: 0.01 }).data())[0]!;
 * // Each point at its nearest centroid: ⟨P, C⟩ = 0, leaving ε log 2.
 * assert.ok(Math.abs(soft - 0.01 * Math.log(2)) < 1e-6);
 * // Sizes ½, ½ send one of the three coinciding points 4 away: ⟨P, C⟩ = 16 / 4.
 * assert.ok(ot > 3.9);
 * tf.dispose([z, c]);
 * ```
 *
 * @category Losses on embeddings
 */
export function softKMeansLossTf(
  z: tf.Tensor2D,
  c: tf.Tensor2D,
  options: SoftKMeansLossOptions,
): tf.Scalar {
  return prepareSoftKMeansLoss(readSync(z), readSync(c), options).op(z, c);
}
