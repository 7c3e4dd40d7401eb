/**
 * Random symmetric perturbations Z of a similarity matrix (the noise of Definition 6 of Stewart
 * et al., 2023): the n(n − 1)/2 strictly-upper-triangular entries are iid from ν (standard
 * Gaussian or standard Gumbel), the lower triangle mirrors them and the diagonal is zero (the
 * solvers ignore it). Sample b of seed s always comes from the stream `streamFor(s, b)`, so it
 * is the same whatever the number of samples or the order they are drawn in.
 *
 * Coordinates. Z is parametrised by its upper triangle z ∈ ℝ^{n(n−1)/2}, stored row-major
 * ((0,1), (0,2), …, (0,n−1), (1,2), …). Gradients with respect to Σ in this library use the
 * full-matrix convention (∇F = A with ⟨A, Σ⟩ counting both (i, j) and (j, i)), so a derivative
 * with respect to the upper coordinate z_ij equals 2 × the (i, j) entry of the full-matrix one.
 *
 * @module
 */
import { show } from "./errors.ts";
import { fromData, type Matrix } from "./matrix.ts";
import { fillGumbelFromSeed, fillStandardNormalFromSeed } from "./_random_kernels.ts";

/**
 * The closed set of noise distributions ν.
 *
 * @category Core
 */
export type NoiseName = "gaussian" | "gumbel";

/**
 * Every {@link NoiseName}, for validation and documentation.
 *
 * @category Core
 */
export const NOISE_NAMES: readonly NoiseName[] = ["gaussian", "gumbel"];

/**
 * Asserts that `value` names a supported noise distribution.
 *
 * @param name Option name used in the message (e.g. "noise").
 * @param value The value to check.
 * @throws {TypeError} If `value` is not a string.
 * @throws {RangeError} If it is not one of {@link NOISE_NAMES}.
 *
 * @example
 * ```ts
 * import { assertNoiseName } from "./noise.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => assertNoiseName("noise", "cauchy"), /Invalid noise = "cauchy"/);
 * ```
 */
export function assertNoiseName(name: string, value: unknown): asserts value is NoiseName {
  if (typeof value !== "string") {
    throw new TypeError(`Expected ${name} to be a string, got ${show(value)}`);
  }
  if (!(NOISE_NAMES as readonly string[]).includes(value)) {
    throw new RangeError(
      `Invalid ${name} = ${show(value)}: ${name} must be one of ${
        NOISE_NAMES.map((v) => JSON.stringify(v)).join(", ")
      }`,
    );
  }
}

/**
 * Number of free coordinates of a symmetric zero-diagonal n × n matrix, n(n − 1)/2.
 *
 * @param n Matrix size.
 * @returns n(n − 1)/2.
 *
 * @example
 * ```ts
 * import { upperTriangleSize } from "./noise.ts";
 * if (upperTriangleSize(4) !== 6) throw new Error();
 * ```
 */
export function upperTriangleSize(n: number): number {
  return (n * (n - 1)) / 2;
}

/**
 * Fills `out` with the upper-triangle coordinates z of noise sample `index` of `seed`, in place
 * (no allocation: the hot path of every Monte-Carlo estimator).
 *
 * @param noise The distribution ν.
 * @param seed A 32-bit integer seed.
 * @param index The sample number (a non-negative 32-bit integer).
 * @param out Buffer of length n(n − 1)/2 (mutated).
 * @returns `out`.
 * @throws {RangeError} If `noise` is unknown.
 *
 * @example Reproducible per-sample draws
 * ```ts
 * import { fillUpperNoise } from "./noise.ts";
 * import assert from "node:assert/strict";
 * const a = fillUpperNoise("gaussian", 1, 5, new Float64Array(6));
 * const b = fillUpperNoise("gaussian", 1, 5, new Float64Array(6));
 * assert.deepEqual(a, b);
 * ```
 */
export function fillUpperNoise(
  noise: NoiseName,
  seed: number,
  index: number,
  out: Float64Array,
): Float64Array {
  // Same numbers as fillStandardNormal / fillGumbel on streamUnchecked(seed, index).
  switch (noise) {
    case "gaussian":
      return fillStandardNormalFromSeed(seed, index, out);
    case "gumbel":
      return fillGumbelFromSeed(seed, index, out);
    default:
      assertNoiseName("noise", noise);
      return out; // unreachable: assertNoiseName threw
  }
}

/**
 * A symmetric noise matrix Z (upper triangle iid ν, mirrored, zero diagonal), sample `index`
 * of `seed` — the same draw the Monte-Carlo estimators use for that sample.
 *
 * @param noise The distribution ν.
 * @param n Matrix size (positive integer).
 * @param seed A 32-bit integer seed.
 * @param index The sample number (default 0).
 * @param out Optional preallocated buffer of length n² to write into (mutated and wrapped).
 * @returns Z as a {@link Matrix}.
 * @throws {RangeError} If `noise` is unknown, `n` is not a positive integer, or `out` has the
 * wrong length.
 *
 * @example Symmetric with a zero diagonal
 * ```ts
 * import { symmetricNoise } from "./noise.ts";
 * import assert from "node:assert/strict";
 * const z = symmetricNoise("gaussian", 3, 42);
 * assert.equal(z.data[0 * 3 + 2], z.data[2 * 3 + 0]);
 * assert.equal(z.data[1 * 3 + 1], 0);
 * ```
 *
 * @category Core
 */
export function symmetricNoise(
  noise: NoiseName,
  n: number,
  seed: number,
  index = 0,
  out: Float64Array = new Float64Array(n * n),
): Matrix {
  assertNoiseName("noise", noise);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`Invalid n = ${show(n)}: n must be a positive integer`);
  }
  if (out.length !== n * n) {
    throw new RangeError(`Invalid out: length ${out.length} is not n * n = ${n * n}`);
  }
  const z = fillUpperNoise(noise, seed, index, new Float64Array(upperTriangleSize(n)));
  let u = 0;
  for (let i = 0; i < n; i++) {
    out[i * n + i] = 0;
    for (let j = i + 1; j < n; j++, u++) out[i * n + j] = out[j * n + i] = z[u];
  }
  return fromData(n, out);
}

/**
 * Writes Σ + scale · Z into `out` (Z given by its upper coordinates `z`), keeping Σ's diagonal.
 * The result is exactly symmetric: both (i, j) and (j, i) get (Σ_ij + Σ_ji)/2 + scale · z_ij.
 *
 * @param sigma The similarity matrix Σ (read only).
 * @param scale The factor on the noise (± ε).
 * @param z Upper coordinates of Z, length n(n − 1)/2.
 * @param out Buffer of length n² (mutated).
 * @returns `out`.
 *
 * @example
 * ```ts
 * import { matrix } from "./matrix.ts";
 * import { addScaledUpperNoise } from "./noise.ts";
 * import assert from "node:assert/strict";
 * const out = addScaledUpperNoise(matrix([[0, 1], [1, 0]]), 0.5, new Float64Array([2]),
 *   new Float64Array(4));
 * assert.deepEqual([...out], [0, 2, 2, 0]);
 * ```
 */
export function addScaledUpperNoise(
  sigma: Matrix,
  scale: number,
  z: Float64Array,
  out: Float64Array,
): Float64Array {
  const n = sigma.n, s = sigma.data;
  let u = 0;
  for (let i = 0; i < n; i++) {
    const row = i * n;
    out[row + i] = s[row + i];
    for (let j = i + 1; j < n; j++, u++) {
      out[row + j] = out[j * n + i] = 0.5 * (s[row + j] + s[j * n + i]) + scale * z[u];
    }
  }
  return out;
}

/**
 * Writes ∇ν(z) = −d/dz log(density of ν)(z) coordinate-wise into `out`: the factor of the
 * score-function (log-derivative) estimator. Gaussian: ∇ν(z) = z. Gumbel (density
 * exp(−z − e^{−z})): ∇ν(z) = 1 − e^{−z}. Both have mean zero under ν.
 *
 * @param noise The distribution ν.
 * @param z Coordinates drawn from ν.
 * @param out Buffer of the same length (mutated; may be `z` itself).
 * @returns `out`.
 * @throws {RangeError} If `noise` is unknown.
 *
 * @example
 * ```ts
 * import { noiseScore } from "./noise.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...noiseScore("gumbel", new Float64Array([0]), new Float64Array(1))], [0]);
 * assert.deepEqual([...noiseScore("gaussian", new Float64Array([2]), new Float64Array(1))], [2]);
 * ```
 */
export function noiseScore(noise: NoiseName, z: Float64Array, out: Float64Array): Float64Array {
  switch (noise) {
    case "gaussian":
      if (out !== z) out.set(z);
      return out;
    case "gumbel":
      for (let i = 0; i < z.length; i++) out[i] = 1 - Math.exp(-z[i]);
      return out;
    default:
      assertNoiseName("noise", noise);
      return out;
  }
}
