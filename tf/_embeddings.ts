/**
 * Checks of what a training step hands to the tfjs losses, run before any loss is computed, so
 * that a bad batch is named where it comes from: a NaN in row 1 of the embeddings is reported
 * as such, not as a non-finite entry of the similarity Σ built from them (where it first shows
 * up as Σ[0][1], or everywhere once Σ is standardised).
 *
 * @module
 */
import { show } from "../lib/core/errors.ts";
import { tf } from "./deps/tfjs.ts";

/**
 * Checks that `v` is a rank-2 tfjs tensor with at least one row.
 *
 * @param v What the model returned for the batch.
 * @throws {TypeError} If `v` is not a tensor.
 * @throws {RangeError} If it is not rank 2, or has no rows.
 *
 * @example A vector is refused, naming its shape
 * ```ts
 * import { tf } from "./deps/tfjs.ts";
 * import { assertEmbeddingsTensor } from "./_embeddings.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const v = tf.tensor1d([1, 2, 3]);
 * assert.throws(() => assertEmbeddingsTensor(v), /embeddings of shape \[3\]: expected rank 2/);
 * v.dispose();
 * ```
 */
export function assertEmbeddingsTensor(v: unknown): asserts v is tf.Tensor2D {
  if (!(v instanceof tf.Tensor)) {
    throw new TypeError(
      `Expected embeddings to be a tf.Tensor (n × d) of spanclust's tfjs, got ${describe(v)}`,
    );
  }
  if (v.rank !== 2) {
    throw new RangeError(
      `Invalid embeddings of shape [${v.shape}]: expected rank 2 (n × d), got rank ${v.rank}`,
    );
  }
  if (v.shape[0] === 0) {
    throw new RangeError(`Invalid embeddings of shape [${v.shape}]: the batch has no rows`);
  }
}

/**
 * Checks that every entry of the n × d embeddings is finite, naming the first row that is not.
 *
 * @param values The embeddings, row-major (as read from the device).
 * @param n Rows.
 * @param d Columns.
 * @throws {RangeError} On the first row holding NaN or ±Infinity.
 *
 * @example
 * ```ts
 * import { assertFiniteRows } from "./_embeddings.ts";
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => assertFiniteRows(new Float32Array([0, 1, 2, NaN]), 2, 2),
 *   /embeddings row 1 holds NaN \(did training diverge\?\)/,
 * );
 * ```
 */
export function assertFiniteRows(values: ArrayLike<number>, n: number, d: number): void {
  for (let i = 0; i < n; i++) {
    for (let c = i * d, end = c + d; c < end; c++) {
      const x = values[c];
      if (x - x !== 0) { // NaN or ±Infinity
        throw new RangeError(`embeddings row ${i} holds ${show(x)} (did training diverge?)`);
      }
    }
  }
}

/**
 * Checks that a label array has one entry per row of the embeddings.
 *
 * @param labels The batch's labels (an array, or an Int32Array).
 * @param n Rows of the embeddings.
 * @throws {TypeError} If `labels` is neither an array nor an Int32Array.
 * @throws {RangeError} If its length is not n.
 *
 * @example
 * ```ts
 * import { assertLabelCount } from "./_embeddings.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => assertLabelCount([0, 1, null], 4), /3 labels for n = 4 embeddings/);
 * ```
 */
export function assertLabelCount(labels: unknown, n: number): void {
  if (!Array.isArray(labels) && !(labels instanceof Int32Array)) {
    throw new TypeError(
      `Expected labels to be an array of integers or null (one per row), got ${show(labels)}`,
    );
  }
  if (labels.length !== n) {
    throw new RangeError(
      `Invalid labels: ${labels.length} labels for n = ${n} embeddings (one per row)`,
    );
  }
}

/**
 * `tf.variableGrads` of `loss(embed())` for a loss that may refuse its batch. An error thrown
 * inside the tape would leave behind the tensors the tape saved for the backward pass (the
 * network's activations), so an error of `loss` is caught there, the tape is closed on a zero
 * that depends on the embeddings, its value and gradients are disposed, and the error is
 * rethrown.
 *
 * @param embed The network on the batch (run once, under the tape).
 * @param loss The loss of the embeddings (it runs the checks first).
 * @param varList The variables to differentiate (default: all trainable ones).
 * @returns The loss and the gradients (owned by the caller).
 * @throws The error `loss` (or `embed`) threw.
 *
 * @example A refused batch leaves no tensor behind
 * ```ts
 * import { tf } from "./deps/tfjs.ts";
 * import { variableGradsOfEmbeddings } from "./_embeddings.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const w = tf.variable(tf.scalar(2));
 * const before = tf.memory().numTensors;
 * const refuse = (): tf.Scalar => {
 *   throw new RangeError("refused");
 * };
 * assert.throws(() => variableGradsOfEmbeddings(() => tf.mul(w, tf.ones([2, 2])), refuse), /refused/);
 * assert.equal(tf.memory().numTensors, before);
 * w.dispose();
 * ```
 */
export function variableGradsOfEmbeddings(
  embed: () => tf.Tensor,
  loss: (v: tf.Tensor) => tf.Scalar,
  varList?: tf.Variable[],
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  let refusal = null as { error: unknown } | null;
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
  try {
    result = tf.variableGrads(() => {
      const v = embed();
      try {
        return loss(v);
      } catch (error) {
        refusal = { error };
        if (!(v instanceof tf.Tensor)) throw error;
        return tf.mul(tf.sum(v), 0) as tf.Scalar;
      }
    }, varList);
  } catch (error) {
    // The zero did not reach a variable (embed ignores them): tfjs's complaint hides ours.
    throw refusal === null ? error : refusal.error;
  }
  if (refusal !== null) {
    tf.dispose([result.value, ...Object.values(result.grads)]);
    throw refusal.error;
  }
  return result;
}

/** `show`, plus the shape of a tensor from another copy of tfjs. */
function describe(v: unknown): string {
  const shape = (v as { shape?: unknown } | null)?.shape;
  return Array.isArray(shape) ? `a tensor of another tfjs (shape [${shape}])` : show(v);
}
