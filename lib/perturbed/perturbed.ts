/**
 * Perturbed solvers (Definition 6 of Stewart et al., 2023; Berthet et al., 2020): for a solver
 * Σ ↦ forest and noise Z (symmetric, upper triangle iid ν, see `noise.ts`),
 *
 *   F_ε(Σ)  = E[ F(Σ + εZ) ]            (perturbed maximum; F(Σ) = ⟨A*(Σ), Σ⟩)
 *   A*_ε(Σ) = E[ A*(Σ + εZ) ] = ∇F_ε(Σ)  (perturbed forest)
 *   M*_ε(Σ) = E[ M*(Σ + εZ) ]            (perturbed connectivity)
 *
 * estimated by Monte Carlo over `samples` draws Z_1..Z_B. Sample b of seed s is always the same
 * matrix (stream `foldIn(s, b)`), so two estimators called with the same seed share their noise
 * (common random numbers) — which is what makes the partial Fenchel–Young loss exactly ≥ 0 and
 * finite differences of F̂_ε consistent with Â_ε.
 *
 * Antithetic sampling (Gaussian noise only): samples 2p and 2p + 1 use Z_p and −Z_p. Both are
 * N(0, I)-distributed, so the estimators stay unbiased; the odd part of Σ ↦ A*(Σ + εZ) in Z
 * cancels within each pair, which lowers the variance.
 *
 * @module
 */
import { assertIntegerInRange, assertPositiveFinite, show } from "../core/errors.ts";
import { assertSimilarity, fromData, type Matrix } from "../core/matrix.ts";
import { assertNoiseName, type NoiseName, upperTriangleSize } from "../core/noise.ts";
import type { Forest, Solver } from "../forest/spanning_forest.ts";
import { forEachNoiseDraw } from "./_noise_draws.ts";

/**
 * Options of every Monte-Carlo estimator of Definition 6.
 *
 * @category Perturbed forests
 */
export interface PerturbedOptions {
  /** Noise scale ε > 0 (the paper's text uses 0.1 on a standardised Σ). */
  readonly epsilon: number;
  /** Number of Monte-Carlo samples B (solver calls per estimate); even when antithetic. */
  readonly samples: number;
  /** Distribution ν of the upper-triangle entries of Z. */
  readonly noise: NoiseName;
  /** Use antithetic pairs (Z, −Z); Gaussian noise only. Default false. */
  readonly antithetic?: boolean;
}

/**
 * Monte-Carlo estimates of Definition 6 at one Σ.
 *
 * @category Perturbed forests
 */
export interface PerturbedEstimate {
  /** Â_ε ≈ A*_ε(Σ) = E[A*(Σ + εZ)], entries in [0, 1], zero diagonal. */
  readonly adjacency: Matrix;
  /** M̂_ε ≈ M*_ε(Σ) = E[M*(Σ + εZ)], entries in [0, 1], unit diagonal. */
  readonly connectivity: Matrix;
  /** F̂_ε ≈ F_ε(Σ) = E[F(Σ + εZ)] (F = ⟨A*, ·⟩ evaluated at the perturbed Σ). */
  readonly value: number;
}

/** Largest accepted number of samples (keeps a typo such as 1e9 from hanging a caller). */
export const MAX_SAMPLES = 10_000_000;

/**
 * Validates {@link PerturbedOptions} and returns a frozen copy with `antithetic` filled in.
 *
 * @param opts The options to check.
 * @returns The checked options.
 * @throws {TypeError} If `opts` is not an object or an option has the wrong type.
 * @throws {RangeError} If `epsilon` is not a finite number > 0, `samples` is not an integer in
 * [1, {@link MAX_SAMPLES}], `noise` is unknown, or `antithetic` is requested with non-Gaussian
 * noise or an odd number of samples.
 *
 * @example Errors name the option
 * ```ts
 * import { checkPerturbedOptions } from "./perturbed.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => checkPerturbedOptions({ epsilon: 0, samples: 10, noise: "gaussian" }),
 *   /Invalid epsilon = 0/);
 * assert.throws(() => checkPerturbedOptions({ epsilon: 1, samples: 2.5, noise: "gaussian" }),
 *   /Invalid samples = 2.5/);
 * ```
 */
export function checkPerturbedOptions(opts: PerturbedOptions): Required<PerturbedOptions> {
  if (typeof opts !== "object" || opts === null) {
    throw new TypeError(`Expected opts to be an object, got ${show(opts)}`);
  }
  assertPositiveFinite("epsilon", opts.epsilon);
  assertIntegerInRange("samples", opts.samples, 1, MAX_SAMPLES);
  assertNoiseName("noise", opts.noise);
  const antithetic = opts.antithetic ?? false;
  if (typeof antithetic !== "boolean") {
    throw new TypeError(`Expected antithetic to be a boolean, got ${show(antithetic)}`);
  }
  if (antithetic && opts.noise !== "gaussian") {
    throw new RangeError(
      `Invalid antithetic = true with noise = ${
        show(opts.noise)
      }: antithetic pairs (Z, −Z) need a noise distribution symmetric about 0 ("gaussian")`,
    );
  }
  if (antithetic && opts.samples % 2 !== 0) {
    throw new RangeError(
      `Invalid samples = ${opts.samples} with antithetic = true: samples must be even (pairs Z, −Z)`,
    );
  }
  return Object.freeze({
    epsilon: opts.epsilon,
    samples: opts.samples,
    noise: opts.noise,
    antithetic,
  });
}

/**
 * Checks that `seed` is a 32-bit integer.
 *
 * @param seed The value to check.
 * @throws {TypeError | RangeError} If it is not an integer in [−2³¹, 2³² − 1].
 *
 * @example
 * ```ts
 * import { assertSeed } from "./perturbed.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => assertSeed(0.5), /Invalid seed = 0.5/);
 * ```
 */
export function assertSeed(seed: unknown): asserts seed is number {
  if (typeof seed !== "number") {
    throw new TypeError(`Expected seed to be a number, got ${show(seed)}`);
  }
  if (!Number.isInteger(seed) || seed < -0x80000000 || seed > 0xffffffff) {
    throw new RangeError(
      `Invalid seed = ${show(seed)}: seed must be a 32-bit integer in [-2^31, 2^32 - 1]`,
    );
  }
}

/** What {@link forEachPerturbation} hands to its visitor for sample b. */
export interface PerturbationSample {
  /** Sample number b in [0, samples). */
  readonly index: number;
  /** Σ + sign · ε Z_b, exactly symmetric. A reused buffer: read it before returning. */
  readonly sigma: Matrix;
  /** Upper-triangle coordinates z of Z_b (before the sign). A reused buffer. */
  readonly z: Float64Array;
  /** +1, or −1 for the second member of an antithetic pair. */
  readonly sign: number;
}

/**
 * The sampling loop shared by every estimator: for b = 0..B−1 writes Σ + sign·εZ_b into one
 * reused buffer and calls `visit`. No n × n allocation per sample. Options and seed are assumed
 * checked (use {@link checkPerturbedOptions}, {@link assertSeed}).
 *
 * @param sigma The similarity matrix Σ (not mutated).
 * @param opts Checked options.
 * @param seed 32-bit seed; sample b draws from stream (seed, b), or (seed, ⌊b/2⌋) when
 * antithetic.
 * @param visit Called once per sample, in order; the buffers it sees are overwritten next time.
 *
 * @example Counting samples
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { forEachPerturbation } from "./perturbed.ts";
 * let count = 0;
 * forEachPerturbation(matrix([[0, 1], [1, 0]]), { epsilon: 1, samples: 4, noise: "gaussian",
 *   antithetic: true }, 7, () => count++);
 * if (count !== 4) throw new Error();
 * ```
 */
export function forEachPerturbation(
  sigma: Matrix,
  opts: Required<PerturbedOptions>,
  seed: number,
  visit: (sample: PerturbationSample) => void,
): void {
  const n = sigma.n;
  const z = new Float64Array(upperTriangleSize(n));
  const half = symmetrisedUpper(sigma);
  const buffer = new Float64Array(n * n);
  const perturbed = fromData(n, buffer);
  const sample = { index: 0, sigma: perturbed, z, sign: 1 };
  forEachNoiseDraw(opts, seed, 0, opts.samples, z, (b, sign) => {
    writePerturbed(sigma, half, sign * opts.epsilon, z, buffer);
    sample.index = b;
    sample.sign = sign;
    visit(sample);
  });
}

/** The upper coordinates of (Σ + Σᵀ)/2, computed once per estimate rather than per sample. */
function symmetrisedUpper(sigma: Matrix): Float64Array {
  const n = sigma.n, s = sigma.data, half = new Float64Array(upperTriangleSize(n));
  for (let i = 0, u = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, u++) half[u] = 0.5 * (s[i * n + j] + s[j * n + i]);
  }
  return half;
}

/**
 * `addScaledUpperNoise` (noise.ts) from the precomputed symmetrised upper triangle `half`: the same
 * numbers, (Σ_ij + Σ_ji)/2 + scale · z_ij on both sides and Σ's diagonal.
 */
function writePerturbed(
  sigma: Matrix,
  half: Float64Array,
  scale: number,
  z: Float64Array,
  out: Float64Array,
): void {
  const n = sigma.n, s = sigma.data;
  for (let i = 0, u = 0; i < n; i++) {
    const row = i * n;
    out[row + i] = s[row + i];
    for (let j = i + 1; j < n; j++, u++) out[row + j] = out[j * n + i] = half[u] + scale * z[u];
  }
}

/**
 * Adds `weight` at (i, j) for every edge of `forest` into the strict upper triangle of `acc`
 * (row-major n × n). Reads `forest.edges` only, never the lazy n × n adjacency.
 *
 * @param acc Accumulator of length n² (mutated).
 * @param n Matrix size.
 * @param forest The forest.
 * @param weight Added per edge.
 *
 * @example
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { maxSpanningForest } from "../forest/spanning_forest.ts";
 * import { accumulateEdges } from "./perturbed.ts";
 * const acc = new Float64Array(4);
 * accumulateEdges(acc, 2, maxSpanningForest(matrix([[0, 1], [1, 0]]), 1), 1);
 * if (acc[1] !== 1 || acc[2] !== 0) throw new Error();
 * ```
 */
export function accumulateEdges(
  acc: Float64Array,
  n: number,
  forest: Forest,
  weight: number,
): void {
  const edges = forest.edges;
  for (let t = 0; t < edges.length; t++) {
    const i = edges[t][0], j = edges[t][1];
    acc[i < j ? i * n + j : j * n + i] += weight;
  }
}

/**
 * Adds 1 at (i, j), i < j, for every pair in the same cluster of `labels` into the strict upper
 * triangle of `acc`. Reads the labels only, never the lazy n × n connectivity.
 *
 * @param acc Accumulator of length n² (mutated).
 * @param n Matrix size.
 * @param labels Cluster id per point.
 *
 * @example
 * ```ts
 * import { accumulateSameCluster } from "./perturbed.ts";
 * const acc = new Float64Array(9);
 * accumulateSameCluster(acc, 3, new Int32Array([0, 1, 0]));
 * if (acc[2] !== 1 || acc[1] !== 0) throw new Error();
 * ```
 */
export function accumulateSameCluster(acc: Float64Array, n: number, labels: Int32Array): void {
  for (let i = 0; i < n; i++) {
    const li = labels[i], row = i * n;
    for (let j = i + 1; j < n; j++) if (labels[j] === li) acc[row + j] += 1;
  }
}

/**
 * Turns an upper-triangle accumulator into a symmetric mean: divides by `count`, mirrors the
 * strict upper triangle and sets the diagonal to `diagonal`, in place.
 *
 * @param acc Accumulator of length n² (mutated).
 * @param n Matrix size.
 * @param count Divisor (number of samples).
 * @param diagonal Value written on the diagonal.
 * @returns `acc` wrapped as a Matrix.
 *
 * @example
 * ```ts
 * import { symmetricMean } from "./perturbed.ts";
 * const m = symmetricMean(new Float64Array([0, 2, 0, 0]), 2, 4, 1);
 * if (m.data[2] !== 0.5 || m.data[0] !== 1) throw new Error();
 * ```
 */
export function symmetricMean(
  acc: Float64Array,
  n: number,
  count: number,
  diagonal: number,
): Matrix {
  for (let i = 0; i < n; i++) {
    acc[i * n + i] = diagonal;
    for (let j = i + 1; j < n; j++) acc[j * n + i] = acc[i * n + j] = acc[i * n + j] / count;
  }
  return fromData(n, acc);
}

/**
 * The optax-style factory of Definition 6: wraps any solver Σ ↦ forest (unconstrained
 * `maxSpanningForest`, constrained `constrainedSpanningForest`, …) into a pure function
 * `(sigma, seed) => { adjacency, connectivity, value }` returning the Monte-Carlo estimates of
 * A*_ε(Σ), M*_ε(Σ) and F_ε(Σ). Gradient identity: ∇_Σ F_ε = A*_ε (Berthet et al., 2020,
 * Prop. 2.2), in the full-matrix convention of `Forest.value` — so `adjacency` is the gradient
 * of `value` (checked by finite differences with common random numbers in props/).
 *
 * @param solver Any solver; it receives Σ + εZ_b (a reused buffer — it must not keep it). A
 * solver of (sigma, k) such as `maxSpanningForest` itself is accepted with `k` in the options.
 * @param opts ε, number of samples, noise, antithetic; `k` for a solver of (sigma, k).
 * @returns The estimator. Same `(sigma, seed)` ⇒ bit-identical result.
 * @throws {TypeError | RangeError} On invalid options (message names the option); the returned
 * function throws on an invalid `sigma` or `seed` and passes on the solver's errors.
 *
 * @example Two well separated pairs: the perturbed 2-forest keeps them apart
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { maxSpanningForest } from "../forest/spanning_forest.ts";
 * import { makePerturbed } from "./perturbed.ts";
 * import assert from "node:assert/strict";
 * const x = [0, 1, 10, 11];
 * const sigma = matrix(x.map((a) => x.map((b) => -Math.abs(a - b))));
 * const perturbed = makePerturbed((s) => maxSpanningForest(s, 2),
 *   { epsilon: 0.1, samples: 50, noise: "gaussian" });
 * const { connectivity, adjacency } = perturbed(sigma, 0);
 * assert.equal(connectivity.data[0 * 4 + 1], 1);
 * assert.equal(connectivity.data[0 * 4 + 2], 0);
 * assert.equal(adjacency.data[2 * 4 + 3], 1);
 * // The same with the solver and k given separately:
 * const same = makePerturbed(maxSpanningForest, { k: 2, epsilon: 0.1, samples: 50, noise: "gaussian" });
 * assert.deepEqual(same(sigma, 0).connectivity, connectivity);
 * ```
 *
 * @category Perturbed forests
 */
export function makePerturbed(
  solver: Solver,
  opts: PerturbedOptions,
): (sigma: Matrix, seed: number) => PerturbedEstimate;
/**
 * {@link makePerturbed} for a solver of (sigma, k), such as `maxSpanningForest` itself, with k
 * given in the options.
 *
 * @param solver A solver of (sigma, k).
 * @param opts ε, number of samples, noise, antithetic, and k.
 * @returns The estimator.
 * @throws {TypeError | RangeError} On invalid options or k.
 *
 * @example
 * ```ts
 * import { makePerturbed, matrix, maxSpanningForest } from "../../mod.ts";
 * const p = makePerturbed(maxSpanningForest, { k: 1, epsilon: 1, samples: 2, noise: "gaussian" });
 * if (p(matrix([[0, 1], [1, 0]]), 0).connectivity.data[1] !== 1) throw new Error();
 * ```
 *
 * @category Perturbed forests
 */
export function makePerturbed(
  solver: (sigma: Matrix, k: number) => Forest,
  opts: PerturbedOptions & { readonly k: number },
): (sigma: Matrix, seed: number) => PerturbedEstimate;
export function makePerturbed(
  solver: Solver | ((sigma: Matrix, k: number) => Forest),
  opts: PerturbedOptions & { readonly k?: number },
): (sigma: Matrix, seed: number) => PerturbedEstimate {
  if (typeof solver !== "function") {
    throw new TypeError(`Expected solver to be a function (sigma) => Forest, got ${show(solver)}`);
  }
  const o = checkPerturbedOptions(opts);
  const k = (opts as { k?: unknown }).k;
  if (k !== undefined && (typeof k !== "number" || !Number.isInteger(k) || k < 1)) {
    throw new RangeError(`Invalid k = ${show(k)}: k must be a positive integer`);
  }
  if (solver.length >= 2 && k === undefined) {
    // The usual first try: makePerturbed(maxSpanningForest, { epsilon, … }) with no k.
    throw new TypeError(
      `makePerturbed got a solver that takes (sigma, k) but no k: pass { k } in the options ` +
        `(makePerturbed(${solver.name || "solver"}, { k: 3, … })) or bind it yourself ` +
        `((s) => ${solver.name || "solver"}(s, 3))`,
    );
  }
  // A solver of sigma alone has k bound already: a k in the options (say, shared loss options)
  // is not its business.
  const solve: Solver = k === undefined || solver.length < 2
    ? (solver as Solver)
    : (s: Matrix) => (solver as (sigma: Matrix, k: number) => Forest)(s, k);
  return (sigma: Matrix, seed: number): PerturbedEstimate => {
    assertSimilarity("sigma", sigma);
    assertSeed(seed);
    const n = sigma.n;
    const adjacency = new Float64Array(n * n), connectivity = new Float64Array(n * n);
    let value = 0;
    forEachPerturbation(sigma, o, seed, ({ sigma: perturbed }) => {
      const forest = solve(perturbed);
      accumulateEdges(adjacency, n, forest, 1);
      accumulateSameCluster(connectivity, n, forest.labels);
      value += forest.value;
    });
    return {
      adjacency: symmetricMean(adjacency, n, o.samples, 0),
      connectivity: symmetricMean(connectivity, n, o.samples, 1),
      value: value / o.samples,
    };
  };
}
