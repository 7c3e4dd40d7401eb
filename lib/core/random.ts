/**
 * Seeded, splittable random numbers for the Monte-Carlo estimators (Definition 6 of Stewart
 * et al., 2023), built on `pure-rand`'s xoroshiro128+ (never `Math.random`).
 *
 * Splitting: a 32-bit seed is never advanced in place to serve several consumers. Instead a
 * child seed is derived by hashing, `foldIn(seed, index)` (as JAX's `fold_in`), so that sample
 * b of a Monte-Carlo estimate draws from `streamFor(seed, b)` whatever the number of samples,
 * workers or the order in which samples are processed. Same seed ⇒ bit-identical numbers on
 * every run and machine (only 32-bit integer arithmetic, `Math.imul`, `Math.log`, `Math.exp`
 * and `Math.sqrt` — the latter three are used only outside the ziggurat's fast path and are
 * correctly rounded in V8's fdlibm port).
 *
 * @module
 */
import { prand } from "../deps/rand.ts";
import { assertIntegerInRange, show } from "./errors.ts";
import { foldInUnchecked, normalSlow, streamState, zigK, zigW } from "./_random_kernels.ts";

/**
 * A mutable stream of 32-bit integers: the part of pure-rand's `RandomGenerator` used here
 * (`streamFor` returns a pure-rand xoroshiro128+ generator).
 *
 * @category Core
 */
export interface RandomStream {
  /** Advances the stream in place and returns the next 32-bit signed integer. */
  unsafeNext(): number;
  /** An independent copy at the current position. */
  clone(): RandomStream;
}

function assertSeed(name: string, seed: unknown): asserts seed is number {
  if (typeof seed !== "number") {
    throw new TypeError(`Expected ${name} to be a number, got ${show(seed)}`);
  }
  if (!Number.isInteger(seed) || seed < -0x80000000 || seed > 0xffffffff) {
    throw new RangeError(
      `Invalid ${name} = ${show(seed)}: ${name} must be a 32-bit integer in [-2^31, 2^32 - 1]`,
    );
  }
}

/**
 * Derives an independent-looking child seed from `seed` and `data` (JAX-style `fold_in`):
 * `foldIn(s, 0)`, `foldIn(s, 1)`, … are the seeds of the per-sample streams.
 *
 * @param seed A 32-bit integer seed.
 * @param data A 32-bit integer (e.g. a sample index).
 * @returns A 32-bit signed integer seed.
 * @throws {TypeError | RangeError} If `seed` or `data` is not a 32-bit integer.
 *
 * @example Children differ from each other and from the parent
 * ```ts
 * import { foldIn } from "./random.ts";
 * import assert from "node:assert/strict";
 * assert.notEqual(foldIn(42, 0), foldIn(42, 1));
 * assert.equal(foldIn(42, 7), foldIn(42, 7));
 * ```
 *
 * @category Core
 */
export function foldIn(seed: number, data: number): number {
  assertSeed("seed", seed);
  assertSeed("data", data);
  return foldInUnchecked(seed, data);
}

/**
 * A fresh xoroshiro128+ stream whose 128-bit state is four hashes of `(seed, index)`; streams
 * for different `(seed, index)` pairs are unrelated (no shared prefix, unlike seeding the
 * generator with consecutive integers directly).
 *
 * @param seed A 32-bit integer seed.
 * @param index Stream index, e.g. the Monte-Carlo sample number (default 0).
 * @returns A mutable pure-rand generator; read it with `unsafeNext()` or the helpers here.
 * @throws {TypeError | RangeError} If `seed` or `index` is not a 32-bit integer.
 *
 * @example Same (seed, index) ⇒ same numbers
 * ```ts
 * import { streamFor } from "./random.ts";
 * import assert from "node:assert/strict";
 * const a = streamFor(7, 3), b = streamFor(7, 3);
 * assert.equal(a.unsafeNext(), b.unsafeNext());
 * ```
 *
 * @category Core
 */
export function streamFor(seed: number, index = 0): RandomStream {
  assertSeed("seed", seed);
  assertSeed("index", index);
  return streamUnchecked(seed, index);
}

/** {@link streamFor} without argument checks, for inner loops with trusted integers. */
export function streamUnchecked(seed: number, index: number): RandomStream {
  return prand.xoroshiro128plus.fromState(streamState(seed, index));
}

const TWO_POW_M32 = 2 ** -32;

/**
 * A uniform number in the open interval (0, 1) from 32 random bits (midpoint of one of the
 * 2³² cells), so `Math.log` of it is always finite.
 *
 * @param rng The stream to draw from (advanced in place).
 * @returns u ∈ (0, 1).
 *
 * @example
 * ```ts
 * import { streamFor, uniformOpen01 } from "./random.ts";
 * const u = uniformOpen01(streamFor(1));
 * if (!(u > 0 && u < 1)) throw new Error();
 * ```
 *
 * @category Core
 */
export function uniformOpen01(rng: RandomStream): number {
  return ((rng.unsafeNext() >>> 0) + 0.5) * TWO_POW_M32;
}

/**
 * One standard normal N(0, 1) draw (ziggurat method).
 *
 * @param rng The stream to draw from (advanced in place).
 * @returns A standard normal number.
 *
 * @example
 * ```ts
 * import { standardNormal, streamFor } from "./random.ts";
 * if (!Number.isFinite(standardNormal(streamFor(3)))) throw new Error();
 * ```
 *
 * @category Core
 */
export function standardNormal(rng: RandomStream): number {
  const u = rng.unsafeNext();
  const iz = u >>> 25;
  const hz = (u << 7) >> 7;
  if ((hz < 0 ? -hz : hz) < zigK[iz]) return hz * zigW[iz];
  return normalSlow(rng, hz, iz);
}

/**
 * Fills `out[offset .. offset + length)` with iid standard normals (ziggurat), in place.
 *
 * @param rng The stream to draw from (advanced in place).
 * @param out Destination buffer (mutated).
 * @param offset First index written (default 0).
 * @param length Number of values written (default: to the end of `out`).
 * @returns `out`.
 * @throws {RangeError} If the range does not fit in `out`.
 *
 * @example Sample mean and variance of many draws
 * ```ts
 * import { fillStandardNormal, streamFor } from "./random.ts";
 * import assert from "node:assert/strict";
 * const z = fillStandardNormal(streamFor(11), new Float64Array(100_000));
 * const mean = z.reduce((s, v) => s + v, 0) / z.length;
 * const variance = z.reduce((s, v) => s + v * v, 0) / z.length - mean ** 2;
 * // Standard errors: 1/√N ≈ 0.0032 for the mean, √(2/N) ≈ 0.0045 for the variance; 5 SE.
 * assert.ok(Math.abs(mean) < 0.016);
 * assert.ok(Math.abs(variance - 1) < 0.023);
 * ```
 *
 * @category Core
 */
export function fillStandardNormal(
  rng: RandomStream,
  out: Float64Array,
  offset = 0,
  length = out.length - offset,
): Float64Array {
  assertRange(out, offset, length);
  const end = offset + length;
  for (let i = offset; i < end; i++) {
    const u = rng.unsafeNext();
    const iz = u >>> 25;
    const hz = (u << 7) >> 7;
    out[i] = (hz < 0 ? -hz : hz) < zigK[iz] ? hz * zigW[iz] : normalSlow(rng, hz, iz);
  }
  return out;
}

/**
 * Fills `out[offset .. offset + length)` with iid standard Gumbel draws, −log(−log U), in place.
 * (Mean is the Euler–Mascheroni constant γ ≈ 0.5772, variance π²/6.)
 *
 * @param rng The stream to draw from (advanced in place).
 * @param out Destination buffer (mutated).
 * @param offset First index written (default 0).
 * @param length Number of values written (default: to the end of `out`).
 * @returns `out`.
 * @throws {RangeError} If the range does not fit in `out`.
 *
 * @example The mean is γ
 * ```ts
 * import { fillGumbel, streamFor } from "./random.ts";
 * import assert from "node:assert/strict";
 * const g = fillGumbel(streamFor(5), new Float64Array(100_000));
 * const mean = g.reduce((s, v) => s + v, 0) / g.length;
 * // Standard error π/√(6N) ≈ 0.0041; 5 SE.
 * assert.ok(Math.abs(mean - 0.5772156649) < 0.021);
 * ```
 *
 * @category Core
 */
export function fillGumbel(
  rng: RandomStream,
  out: Float64Array,
  offset = 0,
  length = out.length - offset,
): Float64Array {
  assertRange(out, offset, length);
  const end = offset + length;
  for (let i = offset; i < end; i++) {
    out[i] = -Math.log(-Math.log(((rng.unsafeNext() >>> 0) + 0.5) * TWO_POW_M32));
  }
  return out;
}

function assertRange(out: Float64Array, offset: number, length: number): void {
  if (!(out instanceof Float64Array)) {
    throw new TypeError(`Expected out to be a Float64Array, got ${show(out)}`);
  }
  assertIntegerInRange("offset", offset, 0, out.length);
  assertIntegerInRange("length", length, 0, out.length - offset, `for offset = ${offset}`);
}
