/**
 * `tf` as the `./tf` entry exports it: the tfjs 4.22.0 namespace of `deps/tfjs.ts` (the same
 * object, so a user's model and our losses share one engine, one backend and one tape), and the
 * tfjs types that our signatures and a training loop name (`tf.Tensor2D`, `tf.Variable`, …).
 *
 * Why not `export { tf }` of the namespace itself: `deno doc` then documents, and its `--lint`
 * checks, all of tfjs (≈ 1000 undocumented symbols), and it still counts the types our
 * signatures take from tfjs as private. A constant typed as the namespace carries every value;
 * the namespace of the same name beside it carries the types, each an alias of tfjs's own
 * (identical to it, so tensors built with the real `@tensorflow/tfjs` types are accepted). The
 * aliases reach tfjs's types through an indexed access on `typeof`, which the checker resolves
 * and `deno doc` does not follow. Other tfjs types are one `import type` away:
 * `import type { Tensor4D } from "npm:@tensorflow/tfjs@4.22.0"`.
 *
 * @module
 */
import { tf as tfjs } from "./deps/tfjs.ts";

/**
 * tfjs 4.22.0, the one spanclust's losses run on: build and train your model with it (layers,
 * optimizers, backends), so that the model's tensors and the loss's are on one engine and one
 * gradient tape. Its types used most in a training loop are in the namespace of the same name
 * (`tf.Tensor2D`, `tf.Variable`, `tf.LayersModel`, …).
 *
 * @example A model built with it, typed with its types
 * ```ts
 * import { tf } from "./mod.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] });
 * const v: tf.Tensor2D = model.predict(tf.ones([4, 3])) as tf.Tensor2D;
 * assert.deepEqual(v.shape, [4, 2]);
 * ```
 *
 * @category tfjs
 */
export const tf: typeof tfjs = tfjs;

/**
 * tfjs's types, under the name of the tfjs value they come with ({@link tf}).
 *
 * @category tfjs
 */
export declare namespace tf {
  /** A tensor of any rank (tfjs's `Tensor`). */
  export type Tensor = InstanceType<(typeof tfjs)["Tensor"]>;
  /** A rank-0 tensor (tfjs's `Scalar`): the loss a training step returns. */
  export type Scalar = ReturnType<(typeof tfjs)["scalar"]>;
  /** A rank-1 tensor (tfjs's `Tensor1D`). */
  export type Tensor1D = ReturnType<(typeof tfjs)["tensor1d"]>;
  /** A rank-2 tensor (tfjs's `Tensor2D`): a batch of n embeddings of dimension d. */
  export type Tensor2D = ReturnType<(typeof tfjs)["tensor2d"]>;
  /** A rank-3 tensor (tfjs's `Tensor3D`). */
  export type Tensor3D = ReturnType<(typeof tfjs)["tensor3d"]>;
  /** A rank-4 tensor (tfjs's `Tensor4D`): a batch of images, n × height × width × channels. */
  export type Tensor4D = ReturnType<(typeof tfjs)["tensor4d"]>;
  /** A mutable tensor that training updates (tfjs's `Variable`). */
  export type Variable = InstanceType<(typeof tfjs)["Variable"]>;
  /** Tensors by name (tfjs's `NamedTensorMap`): the gradients of a step, by variable name. */
  export type NamedTensorMap = ReturnType<(typeof tfjs)["variableGrads"]>["grads"];
  /** A model of tfjs layers (tfjs's `LayersModel`). */
  export type LayersModel = InstanceType<(typeof tfjs)["LayersModel"]>;
  /** A linear stack of layers (tfjs's `Sequential`, what `tf.sequential` returns). */
  export type Sequential = InstanceType<(typeof tfjs)["Sequential"]>;
  /** An optimizer (tfjs's `Optimizer`, what `tf.train.adam` and the like return). */
  export type Optimizer = InstanceType<(typeof tfjs)["Optimizer"]>;
}
