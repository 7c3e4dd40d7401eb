/**
 * Score-function (log-derivative) estimators for perturbed solvers (Berthet et al., 2020,
 * Lemma/Prop. 3.1; the paper's blog): with μ(dz) ∝ exp(−ν(z)) dz,
 *
 *   ∇_θ E[g(θ + εZ)] = (1/ε) E[ g(θ + εZ) ∇ν(Z) ]
 *
 * for any bounded g — including the piecewise-constant forest A*(·) and connectivity M*(·), so
 * any loss on M*_ε (e.g. ‖M*_ε(Σ) − M_Ω‖² on the known pairs) can be differentiated.
 * ∇ν(z) = z for Gaussian noise and 1 − e^{−z} for Gumbel noise (`noiseScore`).
 *
 * Which coordinates. Z is symmetric with iid upper entries z_ij (i < j), so the lemma
 * differentiates with respect to the upper coordinates θ_ij of Σ, each of which moves both
 * Σ_ij and Σ_ji. This library reports gradients in the full-matrix convention of
 * `Forest.value` (∇F = A, with ⟨A, Σ⟩ summing over both triangles), which is half the upper
 * derivative on each off-diagonal entry:
 *
 *   (∇_Σ E[g])_ij = (1/(2ε)) E[ g ∇ν(z_ij) ]          (i ≠ j; the diagonal is 0)
 *   J·T = (1/ε) E[ y(Σ + εZ) Σ_{i<j} ∇ν(z_ij) (T_ij + T_ji)/2 ]
 *       = (1/(2ε)) E[ y(Σ + εZ) ⟨∇ν(Z), T⟩ ]          (T symmetric)
 *
 * — note the 1/2 compared with the formula J·t = (1/(Bε)) Σ_b y_b ⟨Z_b, t⟩ for a full iid noise
 * matrix of which the solver reads the upper triangle only (the reference code): there the
 * lower-triangle noise has zero correlation with y and only adds variance.
 *
 * Variance and baseline. Since E[∇ν(Z)] = 0, subtracting any constant c from g keeps the
 * estimator unbiased. Per sample and entry, Var ≈ E[(g − c)² ∇ν(z_ij)²]/(4ε²): with c = 0 and
 * g = F this is ≈ F(Σ)²/(4ε²), unbounded as ε → 0; with c ≈ E[g] it is ≈ Var(g)/(4ε²), and for
 * g = F, g − E g ≈ ε⟨A*, Z⟩ = 2ε Σ_{edges} z_e, giving ≈ (n − k) + O(1) per sample whatever ε —
 * still ≈ 4(n − k) times the pathwise estimator's per-entry variance A_ij(1 − A_ij) ≤ 1/4.
 * `baseline: "leave-one-out"` (default) uses for sample b the mean of g over the other
 * samples, c_b = (Σ_{b'≠b} g_{b'})/(B − 1), which is independent of Z_b, so the estimator stays
 * exactly unbiased; it equals B/(B − 1) × the estimator with the plain sample mean subtracted.
 * With antithetic pairs (Z, −Z) every constant cancels within the pair (g₊∇ν(z) + g₋∇ν(−z) =
 * (g₊ − g₋) z for Gaussian noise), so no baseline is applied.
 *
 * @module
 */
import { show } from "../core/errors.ts";
import { assertSimilarity, fromData, type Matrix } from "../core/matrix.ts";
import { noiseScore, upperTriangleSize } from "../core/noise.ts";
import {
  accumulateEdges,
  accumulateSameCluster,
  assertSeed,
  checkPerturbedOptions,
  forEachPerturbation,
  type PerturbedOptions,
  symmetricMean,
} from "./perturbed.ts";
import type { Forest, Solver } from "../forest/spanning_forest.ts";

/**
 * Options of the score-function estimators.
 *
 * @category Perturbed forests
 */
export interface ScoreFunctionOptions extends PerturbedOptions {
  /**
   * Control variate: "leave-one-out" (default; unbiased, usually far lower variance) or "none".
   * Ignored with antithetic pairs, where constants cancel exactly.
   */
  readonly baseline?: "leave-one-out" | "none";
}

function checkScoreOptions(opts: ScoreFunctionOptions) {
  const perturbed = checkPerturbedOptions(opts);
  const baseline = opts.baseline ?? "leave-one-out";
  if (baseline !== "leave-one-out" && baseline !== "none") {
    throw new RangeError(
      `Invalid baseline = ${show(baseline)}: baseline must be "leave-one-out" or "none"`,
    );
  }
  if (baseline === "leave-one-out" && !perturbed.antithetic && perturbed.samples < 2) {
    throw new RangeError(
      `Invalid samples = ${perturbed.samples} with baseline = "leave-one-out": it needs at least 2 samples`,
    );
  }
  return { perturbed, useBaseline: baseline === "leave-one-out" && !perturbed.antithetic };
}

/**
 * Core: (1/(2ε)) E[(g_b − c_b) ∇ν(z_b)] on the upper coordinates, where g_b = payoff(forest_b).
 * Streams over samples: keeps Σ g_b ∇ν_b, Σ ∇ν_b and Σ g_b, so the leave-one-out baseline needs
 * no per-sample storage.
 */
function scoreEstimate(
  solver: Solver,
  sigma: Matrix,
  perturbed: Required<PerturbedOptions>,
  useBaseline: boolean,
  seed: number,
  payoff: (forest: Forest) => number,
): Matrix {
  const n = sigma.n, m = upperTriangleSize(n), B = perturbed.samples;
  const weighted = new Float64Array(m), plain = new Float64Array(m), score = new Float64Array(m);
  let payoffSum = 0;
  forEachPerturbation(sigma, perturbed, seed, ({ sigma: p, z, sign }) => {
    const g = payoff(solver(p));
    noiseScore(perturbed.noise, z, score);
    // Antithetic partner: its noise is −z and, for Gaussian ν, ∇ν(−z) = −∇ν(z).
    const gs = g * sign;
    for (let u = 0; u < m; u++) weighted[u] += gs * score[u];
    if (useBaseline) { for (let u = 0; u < m; u++) plain[u] += sign * score[u]; }
    payoffSum += g;
  });
  // Σ_b (g_b − c_b) s_b with c_b leave-one-out = B/(B − 1) · (Σ g_b s_b − ḡ Σ s_b).
  const mean = payoffSum / B;
  const factor = useBaseline ? B / (B - 1) : 1;
  const out = new Float64Array(n * n);
  const scale = factor / (2 * perturbed.epsilon * B);
  for (let i = 0, u = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, u++) {
      const v = (weighted[u] - (useBaseline ? mean * plain[u] : 0)) * scale;
      out[i * n + j] = out[j * n + i] = v;
    }
  }
  return fromData(n, out);
}

/**
 * Score-function estimate of ∇F_ε(Σ) (= A*_ε(Σ) in expectation): (1/(2ε)) E[(F(Σ + εZ) − c)
 * ∇ν(z_ij)] per off-diagonal entry, zero diagonal. Needs only values F, never forests — the
 * estimator to use when a solver returns a value but no argmax; its variance is documented in
 * the module doc (roughly (n − k) per sample and entry with the baseline).
 *
 * @param solver Any solver Σ ↦ forest (only `value` is read).
 * @param opts ε, samples, noise, antithetic, baseline.
 * @returns `(sigma, seed) => gradient estimate` (n × n, symmetric).
 * @throws {TypeError | RangeError} On invalid options (message names the option); the returned
 * function throws on an invalid `sigma` or `seed`.
 *
 * @example Agrees with the pathwise estimate on an easy instance
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { maxSpanningForest } from "../forest/spanning_forest.ts";
 * import { scoreFunctionGradient } from "./score_function.ts";
 * import assert from "node:assert/strict";
 * const sigma = matrix([[0, 3, -3], [3, 0, -3], [-3, -3, 0]]);
 * const grad = scoreFunctionGradient((s) => maxSpanningForest(s, 2),
 *   { epsilon: 1, samples: 4000, noise: "gaussian" })(sigma, 3);
 * // A*_ε ≈ [[0,1,0],[1,0,0],[0,0,0]]; per-sample sd ≲ 2, so 4000 samples give SE ≲ 0.03.
 * assert.ok(Math.abs(grad.data[1] - 1) < 0.15);
 * assert.ok(Math.abs(grad.data[2]) < 0.15);
 * ```
 *
 * @category Perturbed forests
 */
export function scoreFunctionGradient(
  solver: Solver,
  opts: ScoreFunctionOptions,
): (sigma: Matrix, seed: number) => Matrix {
  assertSolver(solver);
  const { perturbed, useBaseline } = checkScoreOptions(opts);
  return (sigma, seed) => {
    assertSimilarity("sigma", sigma);
    assertSeed(seed);
    return scoreEstimate(solver, sigma, perturbed, useBaseline, seed, (f) => f.value);
  };
}

/**
 * Cotangents of {@link perturbedVjp}: ∂L/∂A*_ε and/or ∂L/∂M*_ε (each n × n, may be omitted).
 *
 * @category Perturbed forests
 */
export interface PerturbedCotangent {
  /** G_A = ∂L/∂A*_ε. */
  readonly adjacency?: Matrix;
  /** G_M = ∂L/∂M*_ε. */
  readonly connectivity?: Matrix;
}

/**
 * Vector–Jacobian product of the perturbed forest and connectivity, by the score function:
 * the gradient with respect to Σ of L(Σ) = ⟨G_A, A*_ε(Σ)⟩ + ⟨G_M, M*_ε(Σ)⟩, i.e.
 * (1/(2ε)) E[(⟨G_A, A_b⟩ + ⟨G_M, M_b⟩ − c) ∇ν(z_ij)] per entry. Chain rule for any loss on
 * M*_ε: pass G_M = ∂loss/∂M at M̂_ε (e.g. 2(M̂_ε − M_Ω) on the known pairs, 0 elsewhere).
 *
 * @param solver Any solver Σ ↦ forest.
 * @param opts ε, samples, noise, antithetic, baseline.
 * @returns `(sigma, cotangent, seed) => gradient` (n × n, symmetric, zero diagonal).
 * @throws {TypeError | RangeError} On invalid options; the returned function throws on an
 * invalid `sigma`, `seed`, or a cotangent of the wrong size or with non-finite entries.
 *
 * @example Pushing M*_ε(Σ)_01 up means raising Σ_01
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { maxSpanningForest } from "../forest/spanning_forest.ts";
 * import { perturbedVjp } from "./score_function.ts";
 * import assert from "node:assert/strict";
 * const sigma = matrix([[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
 * // L = ⟨G, M*_ε⟩ = 2 M*_ε(Σ)_01 with G = e_01 + e_10.
 * const grad = perturbedVjp((s) => maxSpanningForest(s, 2),
 *   { epsilon: 1, samples: 2000, noise: "gaussian" })(sigma, { connectivity: matrix(
 *     [[0, 1, 0], [1, 0, 0], [0, 0, 0]]) }, 5);
 * assert.ok(grad.data[1] > 0);
 * ```
 *
 * @category Perturbed forests
 */
export function perturbedVjp(
  solver: Solver,
  opts: ScoreFunctionOptions,
): (sigma: Matrix, cotangent: PerturbedCotangent, seed: number) => Matrix {
  assertSolver(solver);
  const { perturbed, useBaseline } = checkScoreOptions(opts);
  return (sigma, cotangent, seed) => {
    assertSimilarity("sigma", sigma);
    assertSeed(seed);
    const n = sigma.n;
    if (typeof cotangent !== "object" || cotangent === null) {
      throw new TypeError(`Expected cotangent to be an object, got ${show(cotangent)}`);
    }
    const ga = cotangent.adjacency, gm = cotangent.connectivity;
    if (ga !== undefined) assertSquare("cotangent.adjacency", ga, n);
    if (gm !== undefined) assertSquare("cotangent.connectivity", gm, n);
    let gmDiagonal = 0;
    if (gm) { for (let i = 0; i < n; i++) gmDiagonal += gm.data[i * n + i]; }
    const payoff = (f: Forest): number => {
      let s = 0;
      if (ga) {
        for (const [i, j] of f.edges) s += ga.data[i * n + j] + ga.data[j * n + i];
      }
      if (gm) {
        s += gmDiagonal;
        const lab = f.labels, d = gm.data;
        for (let i = 0; i < n; i++) {
          const li = lab[i], row = i * n;
          for (let j = i + 1; j < n; j++) if (lab[j] === li) s += d[row + j] + d[j * n + i];
        }
      }
      return s;
    };
    return scoreEstimate(solver, sigma, perturbed, useBaseline, seed, payoff);
  };
}

/**
 * Jacobian–vector products of the perturbed forest and connectivity along a direction T.
 *
 * @category Perturbed forests
 */
export interface PerturbedTangent {
  /** J_A · T ≈ d/dh A*_ε(Σ + hT) at h = 0. */
  readonly adjacency: Matrix;
  /** J_M · T ≈ d/dh M*_ε(Σ + hT) at h = 0 (zero diagonal: M's diagonal is constant). */
  readonly connectivity: Matrix;
}

/**
 * Jacobian–vector products of A*_ε and M*_ε along T, by the score function:
 * J·T = (1/ε) E[(y_b − c_b) s_b], s_b = Σ_{i<j} ∇ν(z_ij)(T_ij + T_ji)/2, with the leave-one-out
 * baseline on y (a matrix baseline, same unbiasedness argument as in the module doc).
 *
 * @param solver Any solver Σ ↦ forest.
 * @param opts ε, samples, noise, antithetic, baseline.
 * @returns `(sigma, tangent, seed) => { adjacency, connectivity }`.
 * @throws {TypeError | RangeError} On invalid options; the returned function throws on an
 * invalid `sigma`, `seed`, or a tangent of the wrong size or with non-finite entries.
 *
 * @example Raising Σ_01 makes the pair (0, 1) more likely to be joined
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { maxSpanningForest } from "../forest/spanning_forest.ts";
 * import { perturbedJvp } from "./score_function.ts";
 * import assert from "node:assert/strict";
 * const sigma = matrix([[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
 * const t = matrix([[0, 1, 0], [1, 0, 0], [0, 0, 0]]);
 * const jvp = perturbedJvp((s) => maxSpanningForest(s, 2),
 *   { epsilon: 1, samples: 2000, noise: "gaussian" })(sigma, t, 5);
 * assert.ok(jvp.connectivity.data[1] > 0);
 * ```
 *
 * @category Perturbed forests
 */
export function perturbedJvp(
  solver: Solver,
  opts: ScoreFunctionOptions,
): (sigma: Matrix, tangent: Matrix, seed: number) => PerturbedTangent {
  assertSolver(solver);
  const { perturbed, useBaseline } = checkScoreOptions(opts);
  return (sigma, tangent, seed) => {
    assertSimilarity("sigma", sigma);
    assertSeed(seed);
    const n = sigma.n, m = upperTriangleSize(n), B = perturbed.samples;
    assertSquare("tangent", tangent, n);
    const t = new Float64Array(m);
    for (let i = 0, u = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++, u++) {
        t[u] = 0.5 * (tangent.data[i * n + j] + tangent.data[j * n + i]);
      }
    }
    const score = new Float64Array(m);
    // Σ_b s_b y_b and Σ_b y_b for A and M, upper triangles; Σ_b s_b.
    const aWeighted = new Float64Array(n * n), aSum = new Float64Array(n * n);
    const mWeighted = new Float64Array(n * n), mSum = new Float64Array(n * n);
    let sSum = 0;
    forEachPerturbation(sigma, perturbed, seed, ({ sigma: p, z, sign }) => {
      const forest = solver(p);
      noiseScore(perturbed.noise, z, score);
      let s = 0;
      for (let u = 0; u < m; u++) s += score[u] * t[u];
      s *= sign;
      sSum += s;
      accumulateEdges(aWeighted, n, forest, s);
      const lab = forest.labels;
      for (let i = 0; i < n; i++) {
        const li = lab[i], row = i * n;
        for (let j = i + 1; j < n; j++) if (lab[j] === li) mWeighted[row + j] += s;
      }
      if (useBaseline) {
        accumulateEdges(aSum, n, forest, 1);
        accumulateSameCluster(mSum, n, lab);
      }
    });
    const factor = useBaseline ? B / (B - 1) : 1;
    const finish = (weighted: Float64Array, sum: Float64Array): Matrix => {
      if (useBaseline) {
        for (let k = 0; k < weighted.length; k++) weighted[k] -= (sum[k] / B) * sSum;
      }
      return symmetricMean(weighted, n, (perturbed.epsilon * B) / factor, 0);
    };
    return { adjacency: finish(aWeighted, aSum), connectivity: finish(mWeighted, mSum) };
  };
}

function assertSolver(solver: unknown): asserts solver is Solver {
  if (typeof solver !== "function") {
    throw new TypeError(`Expected solver to be a function (sigma) => Forest, got ${show(solver)}`);
  }
}

function assertSquare(name: string, m: unknown, n: number): asserts m is Matrix {
  if (typeof m !== "object" || m === null || !((m as Matrix).data instanceof Float64Array)) {
    throw new TypeError(`Expected ${name} to be a Matrix {n, data: Float64Array}, got ${show(m)}`);
  }
  const mm = m as Matrix;
  if (mm.n !== n || mm.data.length !== n * n) {
    throw new RangeError(
      `Invalid ${name}: it is ${show(mm.n)} × ${show(mm.n)} but sigma is ${n} × ${n}`,
    );
  }
  for (let k = 0; k < mm.data.length; k++) {
    if (!Number.isFinite(mm.data[k])) {
      throw new RangeError(
        `Invalid ${name}[${Math.floor(k / n)}][${k % n}] = ${
          show(mm.data[k])
        }: entries must be finite`,
      );
    }
  }
}
