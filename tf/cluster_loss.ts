/**
 * The tfjs adapter of the perturbed partial Fenchel–Young loss (Stewart et al., 2023, §3):
 * trains a tfjs model end-to-end through clustering.
 *
 * Pipeline for embeddings V = f_θ(X) (n × d):
 *
 *   Σ(V) = −‖v_i − v_j‖²  (optionally standardised)  — built in tfjs, so autodiff reaches θ
 *   ℓ(Σ) = F_ε(Σ) − F_ε(Σ; M_Ω),  ∇_Σ ℓ = A*_ε(Σ) − A*_ε(Σ; M_Ω) =: G   (Proposition 1)
 *                                                      — computed on the CPU by `lib/losses/fy_loss.ts`
 *
 * Why a surrogate. The loss is computed by the pure-TS core on a Σ read back from the device
 * (`await sigma.data()`: on WebGPU, synchronous reads fail), but tfjs's `tf.grad` /
 * `tf.variableGrads` only differentiate synchronous functions. So one step is split in two:
 *
 * 1. forward, async: evaluate Σ(V), read it, compute (ℓ, G) on the CPU with a fixed seed;
 * 2. backward, sync: differentiate the surrogate  s(V) = ⟨stopGradient(G), Σ(V)⟩.
 *
 * Identity (chain rule; G is symmetric, in the full-matrix convention of `fy_loss.ts`, where
 * dℓ = Σ_{i,j} G_ij dΣ_ij over all n² ordered pairs for symmetric dΣ):
 *
 *   ∂ℓ(Σ(V))/∂V = Σ_{i,j} G_ij ∂Σ_ij/∂V = ∂/∂V ⟨G, Σ(V)⟩ |_{G fixed}.
 *
 * The surrogate is implemented as a `tf.customGrad` op on Σ whose forward value is the true
 * loss ℓ (not ⟨G, Σ⟩) and whose backward is dy · G, so the scalar it returns can be logged
 * as the loss and its gradient is the loss's gradient. With a fixed seed the Monte-Carlo
 * estimate ℓ̂ is a continuous piecewise-linear function of Σ (a difference of averages of
 * maxima of linear functions, with common noise draws), so G is its exact gradient away from
 * kinks and finite differences check it (see `cluster_loss_test.ts`). Explicitly, without
 * standardisation, dℓ/dv_i = Σ_j (G_ij + G_ji)(−2)(v_i − v_j) = −4 Σ_j G_ij (v_i − v_j).
 *
 * One forward pass where reads are synchronous. On backends that read tensors synchronously
 * (cpu, wasm, tensorflow), {@link clusterLossGrads} does both halves inside the tape: it
 * evaluates Σ(V) once under `tf.variableGrads`, reads it with `dataSync`, computes (ℓ, G) on the
 * CPU and applies the surrogate to that same Σ. The values are those of the two-pass path bit
 * for bit (same kernels on the same inputs, so the same Σ, hence the same G; the tests compare
 * them), at the cost of one forward pass instead of two. On webgpu, whose reads must be async,
 * the two-pass path remains.
 *
 * Standardisation (`standardise: true`, the paper's code): Σ ← (Σ − mean Σ) / std Σ over all
 * n² entries (diagonal included, population std), done in tfjs so its Jacobian is part of the
 * backward pass. It makes ε relative to the spread of Σ and the loss invariant to the scale of
 * V (otherwise the model can lower the loss just by scaling up its embeddings).
 *
 * Memory: every intermediate tensor is created inside `tf.tidy` or disposed explicitly; the
 * only tensors a step leaves behind are the gradients it returns (the caller applies and
 * disposes them, e.g. with {@link applySgd} or an optimizer).
 *
 * @module
 */
import { type Constraints, constraintsFromLabels } from "../lib/constrained/constrained_forest.ts";
import { type FyLossOptions, type LossAndGradient, partialFyLoss } from "../lib/losses/fy_loss.ts";
import { fromData, type Matrix } from "../lib/core/matrix.ts";
import { show } from "../lib/core/errors.ts";
import {
  assertEmbeddingsTensor,
  assertFiniteRows,
  assertLabelCount,
  variableGradsOfEmbeddings,
} from "./_embeddings.ts";
import { tf } from "./_tfjs.ts";

/**
 * What to cluster against: constraints M_Ω, or one label per point (`null` = unlabelled; all
 * pairs involving an unlabelled point are unknown).
 *
 * @category Losses on embeddings
 */
export type ClusterTarget = Constraints | readonly (number | null)[];

/**
 * Options of {@link clusterLoss}: the loss's options plus the similarity's.
 *
 * @category Losses on embeddings
 */
export interface ClusterLossOptions extends FyLossOptions {
  /** Standardise Σ over its n² entries before the loss, like the paper's code. Default true. */
  readonly standardise?: boolean;
}

/**
 * One evaluation of the loss at a given V, ready for the backward pass.
 *
 * @category Losses on embeddings
 */
export interface PreparedClusterLoss extends LossAndGradient {
  /** Σ(V) as read from the device (float32 values in a float64 matrix), standardised if asked. */
  readonly sigma: Matrix;
  /**
   * The differentiable op V ↦ ℓ: forward value ℓ (the number computed at preparation), gradient
   * ∂⟨G, Σ(V)⟩/∂V. Valid only for the V it was prepared at (call it on the same V, recomputed
   * under a gradient tape); synchronous, so usable inside `tf.grad` / `tf.variableGrads`.
   */
  readonly op: (v: tf.Tensor2D) => tf.Scalar;
}

/**
 * A loss value and the gradients of the trainable variables (owned by the caller).
 *
 * @category Losses on embeddings
 */
export interface ClusterLossStep {
  /** The loss estimate ℓ̂ at this step. */
  readonly loss: number;
  /** ∂ℓ̂/∂θ per variable name; dispose them (or hand them to an optimizer) after use. */
  readonly grads: tf.NamedTensorMap;
  /** Σ at this step (as in {@link PreparedClusterLoss}). */
  readonly sigma: Matrix;
  /** Seconds spent reading Σ back and computing the loss on the CPU. */
  readonly lossSeconds: number;
  /** Whether the step ran the network once (synchronous read inside the tape) or twice. */
  readonly passes: 1 | 2;
}

/**
 * Options of {@link clusterLossGrads}: the loss's, and how to run the forward pass.
 *
 * @category Losses on embeddings
 */
export interface ClusterLossGradsOptions extends ClusterLossOptions {
  /**
   * `auto` (default): one forward pass on backends with synchronous reads (cpu, wasm,
   * tensorflow), two on webgpu. `one` / `two` force a path (`one` fails on webgpu).
   */
  readonly passes?: "auto" | "one" | "two";
}

/** Backends whose tensors can be read synchronously without stalling or failing. */
const SYNC_READ_BACKENDS = new Set(["cpu", "wasm", "tensorflow"]);

/**
 * Checks a `passes` option and returns, per step, whether to run the network once (the loss read
 * synchronously inside the tape) on the current backend.
 *
 * @param option `"auto"` (one pass where reads are synchronous), `"one"` or `"two"`; default auto.
 * @returns A function of no argument, called at each step (the backend may change between steps).
 * @throws {TypeError} If `option` is none of these; the returned function throws an Error for
 *   `"one"` on a backend that reads asynchronously only (webgpu).
 */
export function onePassChooser(option: unknown): () => boolean {
  const passes = option ?? "auto";
  if (passes !== "auto" && passes !== "one" && passes !== "two") {
    throw new TypeError(`Invalid passes = ${String(passes)}: expected "auto", "one" or "two"`);
  }
  return () => {
    const sync = SYNC_READ_BACKENDS.has(tf.getBackend());
    if (passes === "one" && !sync) {
      throw new Error(
        `passes "one" needs a backend with synchronous reads (cpu, wasm, tensorflow), ` +
          `not ${tf.getBackend()}`,
      );
    }
    return passes === "one" || (passes === "auto" && sync);
  };
}

/**
 * Σ_ij = −‖v_i − v_j‖², built from broadcast differences rather than the
 * ‖v_i‖² + ‖v_j‖² − 2⟨v_i, v_j⟩ expansion: (a − b)² = (b − a)² in floating point, so the result
 * is exactly symmetric with an exact zero diagonal (the CPU core checks symmetry), and there is
 * no cancellation for nearby points. Memory n²d, fine for batches of ≲ 100 points.
 *
 * @param v Embeddings, n × d.
 * @returns Σ, n × n (a new tensor; autodiff flows to `v`).
 * @throws {Error} If `v` is not rank 2 (tfjs's own shape error).
 *
 * @example Three points on a line
 * ```ts
 * import { tf } from "./deps/tfjs.ts";
 * import { negSquaredDistancesTf } from "./cluster_loss.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const v = tf.tensor2d([[0], [1], [3]]);
 * const sigma = negSquaredDistancesTf(v);
 * assert.deepEqual(await sigma.array(), [[-0, -1, -9], [-1, -0, -4], [-9, -4, -0]]);
 * tf.dispose([v, sigma]);
 * ```
 */
export function negSquaredDistancesTf(v: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const diff = tf.sub(tf.expandDims(v, 1), tf.expandDims(v, 0)); // n × n × d
    return tf.neg(tf.sum(tf.square(diff), 2)) as tf.Tensor2D;
  });
}

/**
 * Standardises Σ over all n² entries (diagonal included): (Σ − mean) / std with the population
 * std, like `lib/core/similarity.ts`'s `standardise` and the paper's code, but in tfjs so autodiff
 * carries its Jacobian. A tiny floor (1e-12) on the variance keeps a degenerate Σ (all
 * embeddings equal) from producing NaN; the CPU core then rejects nothing, it sees zeros.
 *
 * @param sigma Σ, n × n.
 * @returns The standardised Σ (a new tensor).
 *
 * @example Mean 0, unit spread
 * ```ts
 * import { tf } from "./deps/tfjs.ts";
 * import { standardiseTf } from "./cluster_loss.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const s = tf.tensor2d([[0, -2], [-2, 0]]);
 * const z = standardiseTf(s);
 * assert.deepEqual(await z.array(), [[1, -1], [-1, 1]]);
 * tf.dispose([s, z]);
 * ```
 */
export function standardiseTf(sigma: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(sigma);
    return tf.div(tf.sub(sigma, mean), tf.sqrt(tf.add(variance, 1e-12))) as tf.Tensor2D;
  });
}

/**
 * The similarity the loss sees: {@link negSquaredDistancesTf}, then {@link standardiseTf} when
 * `standardise` is true.
 *
 * @param v Embeddings, n × d.
 * @param standardise Whether to standardise.
 * @returns Σ, n × n.
 *
 * @example
 * ```ts
 * import { tf } from "./deps/tfjs.ts";
 * import { similarityTf } from "./cluster_loss.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const v = tf.tensor2d([[0], [1]]);
 * const s = similarityTf(v, false);
 * assert.deepEqual(await s.array(), [[-0, -1], [-1, -0]]);
 * tf.dispose([v, s]);
 * ```
 */
export function similarityTf(v: tf.Tensor2D, standardise: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    const sigma = negSquaredDistancesTf(v);
    return standardise ? standardiseTf(sigma) : sigma;
  });
}

/**
 * A scalar op on Σ with a fixed value and a fixed gradient (the surrogate of the module doc):
 * forward returns `loss`, backward returns dy · G. Built with `tf.customGrad`.
 *
 * @param estimate The loss ℓ and its gradient G = ∂ℓ/∂Σ (n × n, symmetric) at the current Σ.
 * @returns Σ ↦ scalar ℓ with ∂/∂Σ = G; call it on the Σ the estimate was computed at.
 *
 * @example The gradient is G
 * ```ts
 * import { tf } from "./deps/tfjs.ts";
 * import { matrix } from "../lib/core/matrix.ts";
 * import { fixedGradientLoss } from "./cluster_loss.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const op = fixedGradientLoss({ loss: 3, grad: matrix([[0, 0.5], [0.5, 0]]) });
 * const sigma = tf.tensor2d([[0, -1], [-1, 0]]);
 * const { value, grad } = tf.valueAndGrad((s: tf.Tensor) => op(s as tf.Tensor2D))(sigma);
 * assert.equal((await value.data())[0], 3);
 * assert.deepEqual(await grad.array(), [[0, 0.5], [0.5, 0]]);
 * tf.dispose([sigma, value, grad]);
 * ```
 */
export function fixedGradientLoss(estimate: LossAndGradient): (sigma: tf.Tensor2D) => tf.Scalar {
  const { loss, grad } = estimate;
  const g32 = Float32Array.from(grad.data);
  // tfjs types the custom function's arguments as (Tensor | save)[]; there is one input.
  const op = tf.customGrad((...args: unknown[]) => {
    const sigma = args[0] as tf.Tensor;
    if (sigma.shape[0] !== grad.n || sigma.shape[1] !== grad.n) {
      throw new RangeError(
        `Invalid sigma shape [${sigma.shape}]: the loss was prepared for n = ${grad.n}`,
      );
    }
    return {
      value: tf.scalar(loss),
      gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.tensor2d(g32, [grad.n, grad.n])),
    };
  });
  return (sigma) => op(sigma) as tf.Scalar;
}

/** Turns a {@link ClusterTarget} into constraints for a batch of n embeddings. */
function toConstraints(target: ClusterTarget, n: number): Constraints {
  if (Array.isArray(target)) {
    assertLabelCount(target, n);
    return constraintsFromLabels(target as readonly (number | null)[]);
  }
  const c = target as Constraints;
  if (typeof c !== "object" || c === null || typeof c.n !== "number") {
    throw new TypeError(
      `Expected target to be constraints or an array of labels, got ${show(target)}`,
    );
  }
  if (c.n !== n) {
    throw new RangeError(
      `Invalid target: it covers ${c.n} points but the batch has n = ${n} embeddings`,
    );
  }
  return c;
}

/**
 * Reads an n × n tensor into a {@link Matrix}, averaging (i, j) and (j, i): a no-op for the
 * exactly symmetric Σ built here, a safeguard against backends that round the two halves
 * differently.
 */
async function readSymmetric(sigma: tf.Tensor2D): Promise<Matrix> {
  return symmetricMatrix(await sigma.data(), sigma.shape[0]);
}

/** The n × n values as a {@link Matrix}, (i, j) and (j, i) averaged (see readSymmetric). */
function symmetricMatrix(raw: ArrayLike<number>, n: number): Matrix {
  const data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = i === j ? raw[i * n + i] : 0.5 * (raw[i * n + j] + raw[j * n + i]);
      data[i * n + j] = data[j * n + i] = v;
    }
  }
  return fromData(n, data);
}

/**
 * The clustering loss as a tfjs-differentiable function of embeddings (the factory of the
 * module doc). The returned function evaluates the perturbed partial FY loss at V (async: it
 * reads Σ from the device and runs the CPU core) and returns the loss, its gradient G in Σ and
 * a synchronous differentiable op for the backward pass.
 *
 * @param opts ε, samples, noise, k, constrained solver (see `lib/losses/fy_loss.ts`) and
 * `standardise` (default true).
 * @returns `(v, target, seed) => Promise<PreparedClusterLoss>`; the same (V, target, seed)
 * gives the same result. `v` is not disposed.
 * @throws {TypeError | RangeError} On invalid options; the returned function rejects, before
 * computing anything, on embeddings that are not an n × d tensor or hold a NaN or an infinity
 * (naming the row), on labels or constraints not of n points, and then on an invalid seed or
 * k > n.
 *
 * @example Gradient of the loss w.r.t. embeddings
 * ```ts
 * import { tf } from "./deps/tfjs.ts";
 * import { clusterLoss } from "./cluster_loss.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const loss = clusterLoss({ k: 2, epsilon: 0.1, samples: 10, noise: "gaussian" });
 * // Points 1 and 2 are labelled together but lie far apart.
 * const v = tf.tensor2d([[0, 0], [0.1, 0], [3, 0], [3.1, 0]]);
 * const prepared = await loss(v, [0, 1, 1, 0], 0);
 * assert.ok(prepared.loss > 0);
 * const g = tf.grad((x: tf.Tensor) => prepared.op(x as tf.Tensor2D))(v);
 * const rows = await g.array() as number[][];
 * assert.ok(rows[1][0] < 0 && rows[2][0] > 0); // descent (−g) pulls 1 right and 2 left
 * tf.dispose([v, g]);
 * ```
 *
 * @category Losses on embeddings
 */
export function clusterLoss(
  opts: ClusterLossOptions,
): (v: tf.Tensor2D, target: ClusterTarget, seed: number) => Promise<PreparedClusterLoss> {
  const standardise = opts.standardise ?? true;
  if (typeof standardise !== "boolean") {
    throw new TypeError(`Expected standardise to be a boolean, got ${String(standardise)}`);
  }
  const cpuLoss = partialFyLoss(opts);
  return async (v, target, seed) => {
    assertEmbeddingsTensor(v);
    const [n, d] = v.shape;
    const constraints = toConstraints(target, n);
    assertFiniteRows(await v.data(), n, d);
    const sigmaTensor = similarityTf(v, standardise);
    let sigma: Matrix;
    try {
      sigma = await readSymmetric(sigmaTensor);
    } finally {
      sigmaTensor.dispose();
    }
    const estimate = cpuLoss(sigma, constraints, seed);
    const onSigma = fixedGradientLoss(estimate);
    return {
      loss: estimate.loss,
      grad: estimate.grad,
      sigma,
      op: (x) => tf.tidy(() => onSigma(similarityTf(x, standardise))),
    };
  };
}

/**
 * One training step's loss and parameter gradients through clustering. With one pass (module
 * doc; the default on cpu, wasm and tensorflow) `embed()` runs once, under the tape; with two,
 * it runs once outside the tape to prepare the loss (async read) and once under it, so it must
 * then be deterministic (same V both times: no dropout with fresh randomness between calls).
 *
 * @param opts As for {@link clusterLoss}, plus `passes`.
 * @returns `(embed, target, seed, varList?) => Promise<ClusterLossStep>`; `varList` defaults to
 * all trainable variables. The caller owns (and must dispose) the returned gradients.
 * @throws {TypeError | RangeError} On invalid options; the returned function rejects as
 * {@link clusterLoss}'s does (the embeddings `embed()` returns, then the target), on an `embed`
 * that is not a function, and on `passes: "one"` with a backend whose reads are async.
 *
 * @example One SGD step on a linear map
 * ```ts
 * import { tf } from "./deps/tfjs.ts";
 * import { applySgd, clusterLossGrads } from "./cluster_loss.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const x = tf.tensor2d([[0, 0], [0.1, 1], [3, 0], [3.1, 1]]);
 * const theta = tf.variable(tf.tensor2d([[1], [1]]));
 * const step = clusterLossGrads({ k: 2, epsilon: 0.1, samples: 10, noise: "gaussian" });
 * const { loss, grads, passes } = await step(() => tf.matMul(x, theta), [0, 0, 1, 1], 0, [theta]);
 * assert.ok(loss >= 0);
 * assert.equal(passes, 1); // the cpu backend reads synchronously
 * applySgd(grads, [theta], 0.1);
 * tf.dispose([x, theta]);
 * ```
 *
 * @category Losses on embeddings
 */
export function clusterLossGrads(
  opts: ClusterLossGradsOptions,
): (
  embed: () => tf.Tensor2D,
  target: ClusterTarget,
  seed: number,
  varList?: tf.Variable[],
) => Promise<ClusterLossStep> {
  const onePass = onePassChooser(opts.passes);
  const standardise = opts.standardise ?? true;
  const prepare = clusterLoss(opts);
  const cpuLoss = partialFyLoss(opts);
  return async (embed, target, seed, varList) => {
    if (typeof embed !== "function") {
      throw new TypeError(
        `Expected embed to be a function returning the batch's embeddings, got ${show(embed)}`,
      );
    }
    if (onePass()) {
      let sigma: Matrix | null = null, loss = 0, lossSeconds = 0;
      const { value, grads } = variableGradsOfEmbeddings(embed, (v) => {
        assertEmbeddingsTensor(v);
        const [n, d] = v.shape;
        const constraints = toConstraints(target, n);
        assertFiniteRows(v.dataSync(), n, d);
        const s = similarityTf(v, standardise);
        const t0 = performance.now();
        sigma = symmetricMatrix(s.dataSync(), s.shape[0]);
        const estimate = cpuLoss(sigma, constraints, seed);
        lossSeconds = (performance.now() - t0) / 1000;
        loss = estimate.loss;
        return fixedGradientLoss(estimate)(s);
      }, varList);
      value.dispose();
      return { loss, grads, sigma: sigma!, lossSeconds, passes: 1 };
    }
    const v = tf.tidy(embed);
    let prepared: PreparedClusterLoss;
    const t0 = performance.now();
    try {
      prepared = await prepare(v, target, seed);
    } finally {
      tf.dispose(v); // not v.dispose(): embed may have returned something else (prepare says so)
    }
    const lossSeconds = (performance.now() - t0) / 1000;
    const { value, grads } = tf.variableGrads(() => prepared.op(embed()), varList);
    value.dispose();
    return { loss: prepared.loss, grads, sigma: prepared.sigma, lossSeconds, passes: 2 };
  };
}

/**
 * Plain SGD: θ ← θ − lr · ∂ℓ/∂θ for each variable, then disposes the gradients.
 *
 * @param grads Gradients by variable name (disposed here).
 * @param vars The variables to update (each must have an entry in `grads`).
 * @param lr Learning rate.
 * @throws {RangeError} If a variable has no gradient.
 *
 * @example
 * ```ts
 * import { tf } from "./deps/tfjs.ts";
 * import { applySgd } from "./cluster_loss.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const w = tf.variable(tf.scalar(1));
 * applySgd({ [w.name]: tf.scalar(2) }, [w], 0.5);
 * assert.equal((await w.data())[0], 0);
 * w.dispose();
 * ```
 */
export function applySgd(grads: tf.NamedTensorMap, vars: readonly tf.Variable[], lr: number): void {
  try {
    for (const w of vars) {
      const g = grads[w.name];
      if (g === undefined) throw new RangeError(`Missing gradient for variable ${w.name}`);
      tf.tidy(() => {
        w.assign(tf.sub(w, tf.mul(g, lr)));
      });
    }
  } finally {
    tf.dispose(Object.values(grads));
  }
}
