/**
 * Which backend can train which network: the one place the command line asks before training
 * (so `--model small-cnn --backend wasm` is a usage error naming the backends that work, not a
 * crash inside tfjs after the data has loaded). Update it when a backend gains kernels.
 *
 * @module
 */
import type { BackendChoice } from "./tf/backend.ts";
import type { ModelChoice } from "./tf/models.ts";

/** Networks with convolutions (their backward pass needs Conv2DBackpropFilter/Input). */
const CONVOLUTIONAL: readonly ModelChoice[] = ["small-cnn", "paper-lenet", "resnet"];

/** Backends whose tfjs 4.22 kernels lack the convolution gradients. */
const NO_CONV_GRADIENTS: readonly string[] = ["wasm"];

/**
 * Whether a backend can train a network.
 *
 * @param backend A backend name (`auto` is always accepted: it is resolved later).
 * @param model The network.
 * @returns null when it can; otherwise why not and which backends can.
 *
 * @example
 * ```ts
 * import { canTrain } from "./can_train.ts";
 * import assert from "node:assert/strict";
 * assert.equal(canTrain("wasm", "mlp"), null);
 * assert.match(canTrain("wasm", "small-cnn")!, /webgpu/);
 * ```
 */
export function canTrain(backend: BackendChoice | string, model: ModelChoice): string | null {
  if (CONVOLUTIONAL.includes(model) && NO_CONV_GRADIENTS.includes(backend)) {
    return `--model ${model} cannot be trained on the ${backend} backend (tfjs-backend-${backend} ` +
      `4.22 has no Conv2DBackpropFilter kernel); use --backend webgpu, tensorflow or cpu, or ` +
      `--model mlp`;
  }
  return null;
}
