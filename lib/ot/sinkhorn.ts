/**
 * Entropy-regularised optimal transport solved by log-domain (stabilised) Sinkhorn
 * iterations, and its gradients — the assignment step of OT k-means (Genevay, Dulac-Arnold
 * and Vert 2019, "Differentiable Deep Clustering with Cluster Size Constraints").
 *
 * The problem solved is
 *
 *   OT_ε(a, b, C) = min_{P ≥ 0, P1 = a, Pᵀ1 = b}  ⟨P, C⟩ + ε KL(P ‖ a bᵀ),
 *
 * with KL(P ‖ Q) = Σ P_ij log(P_ij / Q_ij) (terms with P_ij = 0 are 0). Its solution has the
 * Gibbs form P_ij = a_i b_j exp((f_i + g_j − C_ij) / ε) for dual potentials f, g, and at the
 * optimum OT_ε = ⟨f, a⟩ + ⟨g, b⟩. Because OT_ε is a minimum over P of a function affine in
 * C with a unique minimiser, Danskin's (envelope) theorem gives ∇_C OT_ε = P.
 *
 * @module
 */
import {
  assertIntegerInRange,
  assertPositiveFinite,
  ConvergenceError,
  show,
} from "../core/errors.ts";
import { type PointsLike, type RectMatrix, toRectMatrix } from "../core/rect_matrix.ts";
export type { PointsLike, RectMatrix } from "../core/rect_matrix.ts";

/** Relative tolerance on |Σa − Σb| / max(Σa, Σb) above which marginals are rejected. */
export const MASS_TOLERANCE = 1e-9;

/** Default ε-scaling factor of {@link sinkhorn} (see {@link SinkhornOptions.epsilonScaling}). */
export const DEFAULT_EPSILON_SCALING = 0.5;

/** Marginal tolerance (relative to mass) of the intermediate ε-scaling stages. */
const INTERMEDIATE_TOLERANCE = 1e-3;

/**
 * Options of {@link sinkhorn}.
 *
 * @category Optimal transport
 */
export interface SinkhornOptions {
  /** Entropic regularisation ε > 0 (same units as the cost). */
  readonly epsilon: number;
  /** Maximum number of (f, g) update pairs; default 10 000. */
  readonly maxIters?: number;
  /**
   * Stop when the L1 error of the column marginal, divided by the total mass, is ≤ tol
   * (the row marginal is exact after every f-update); default 1e-9.
   */
  readonly tol?: number;
  /** Throw {@link ConvergenceError} instead of returning `converged: false`; default false. */
  readonly requireConvergence?: boolean;
  /**
   * ε-scaling factor θ ∈ (0, 1]: solve first for ε_0 = max C, then ε_0 θ, ε_0 θ², … down to
   * ε, warm-starting each stage (much faster for small ε). 1 disables it; default 0.5.
   * Ignored when `initialG` is given (a warm start is already close).
   */
  readonly epsilonScaling?: number;
  /** Warm start for the column potential g (length = cost.cols), e.g. from a previous solve. */
  readonly initialG?: Float64Array;
}

/**
 * What {@link sinkhorn} returns.
 *
 * @category Optimal transport
 */
export interface SinkhornResult {
  /** Transport plan P (rows × cols); rows sum exactly (to rounding) to a. */
  readonly plan: RectMatrix;
  /** Row potential f: P_ij = a_i b_j exp((f_i + g_j − C_ij)/ε). */
  readonly f: Float64Array;
  /** Column potential g. */
  readonly g: Float64Array;
  /** Number of (f, g) update pairs performed. */
  readonly iterations: number;
  /** L1 distance between the plan's column sums and b (its row sums equal a). */
  readonly marginalError: number;
  /** Whether `marginalError ≤ tol × mass` was reached within `maxIters`. */
  readonly converged: boolean;
  /** Transport cost ⟨P, C⟩ (no entropy term). */
  readonly cost: number;
  /** Entropic objective ⟨P, C⟩ + ε KL(P ‖ a bᵀ), evaluated as ⟨f, a⟩ + ⟨g, b⟩. */
  readonly objective: number;
  /** The ε the problem was solved with. */
  readonly epsilon: number;
}

function checkMarginal(name: string, v: ArrayLike<number>, len: number, lenName: string): number {
  if (!(v instanceof Float64Array) && !Array.isArray(v)) {
    throw new TypeError(`Expected ${name} to be a Float64Array or number[], got ${show(v)}`);
  }
  if (v.length !== len) {
    throw new RangeError(
      `Invalid ${name}: it has length ${v.length} but the cost matrix has ${len} ${lenName}`,
    );
  }
  let mass = 0;
  for (let i = 0; i < len; i++) {
    const x = v[i];
    if (typeof x !== "number" || !Number.isFinite(x) || x < 0) {
      throw new RangeError(
        `Invalid ${name}[${i}] = ${show(x)}: marginal entries must be finite and ≥ 0`,
      );
    }
    mass += x;
  }
  if (!(mass > 0)) throw new RangeError(`Invalid ${name}: its total mass is 0, it must be > 0`);
  return mass;
}

function checkCost(cost: RectMatrix): void {
  if (typeof cost !== "object" || cost === null || !(cost.data instanceof Float64Array)) {
    throw new TypeError(`Expected cost to be a RectMatrix { rows, cols, data }, got ${show(cost)}`);
  }
  const { rows, cols, data } = cost;
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1) {
    throw new RangeError(
      `Invalid cost: shape ${show(rows)} × ${show(cols)} must be positive integers`,
    );
  }
  if (data.length !== rows * cols) {
    throw new RangeError(
      `Invalid cost.data: length ${data.length} but rows × cols = ${rows} × ${cols}`,
    );
  }
  for (let t = 0; t < data.length; t++) {
    const c = data[t];
    if (!Number.isFinite(c) || c < 0) {
      throw new RangeError(
        `Invalid cost[${Math.floor(t / cols)}][${t % cols}] = ${show(c)}: costs must be finite ` +
          `and ≥ 0 (adding a constant to C changes only the objective, by that constant × mass)`,
      );
    }
  }
}

/**
 * Solves entropic optimal transport between `a` (rows) and `b` (columns) for the cost `cost`
 * with log-domain Sinkhorn iterations: every update is a log-sum-exp, so no kernel
 * exp(−C/ε) is ever formed and nothing underflows for small ε (ε = 1e-3 with costs ≈ 1e2 is
 * fine; a plain Sinkhorn would see exp(−1e5) = 0).
 *
 * Each iteration sets f so that the rows of P sum to a, then g so that the columns sum to b;
 * the returned plan is the one right after an f-update (rows exact), and convergence is
 * measured on its column sums. Non-convergence is reported (`converged: false`, with the
 * `marginalError`), or thrown with `requireConvergence`.
 *
 * @param cost The `n × k` cost matrix C (finite, ≥ 0).
 * @param a Row marginal, length n, entries ≥ 0, positive total mass.
 * @param b Column marginal, length k, entries ≥ 0, the same total mass as `a`.
 * @param options ε, iteration budget, tolerance, warm start.
 * @returns The plan, potentials, iterations, marginal error, cost and entropic objective.
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If costs are negative or non-finite, a marginal has a negative or
 *   non-finite entry, the wrong length or a different total mass, or ε ≤ 0.
 * @throws {ConvergenceError} If `requireConvergence` is set and the tolerance is not met.
 *
 * @example Two points, two equally sized clusters
 * ```ts
 * import { sinkhorn } from "./sinkhorn.ts";
 * import { rectMatrix } from "../core/rect_matrix.ts";
 * import assert from "node:assert/strict";
 * const cost = rectMatrix([[0, 1], [1, 0]]);
 * const r = sinkhorn(cost, [0.5, 0.5], [0.5, 0.5], { epsilon: 0.01 });
 * assert.ok(r.converged);
 * assert.ok(r.plan.data[0] > 0.499 && r.plan.data[1] < 1e-10); // point 0 → cluster 0
 * ```
 *
 * @category Optimal transport
 */
export function sinkhorn(
  cost: RectMatrix,
  a: Float64Array | readonly number[],
  b: Float64Array | readonly number[],
  options: SinkhornOptions,
): SinkhornResult {
  checkCost(cost);
  const { rows: n, cols: k, data: C } = cost;
  const massA = checkMarginal("a", a, n, "rows");
  const massB = checkMarginal("b", b, k, "columns");
  if (Math.abs(massA - massB) > MASS_TOLERANCE * Math.max(massA, massB)) {
    throw new RangeError(
      `Invalid marginals: a has total mass ${massA} but b has ${massB}; they must be equal ` +
        `(relative tolerance ${MASS_TOLERANCE})`,
    );
  }
  const { epsilon: targetEps, scaling, maxIters, tol } = checkSinkhornOptions(options);

  const logA = new Float64Array(n);
  for (let i = 0; i < n; i++) logA[i] = Math.log(a[i]); // −Infinity for empty rows
  const logB = new Float64Array(k);
  for (let j = 0; j < k; j++) logB[j] = Math.log(b[j]);

  const f = new Float64Array(n);
  const g = initialPotential(options.initialG, k);
  const gNext = new Float64Array(k);
  const colMax = new Float64Array(k);
  const colSum = new Float64Array(k);
  let eps = targetEps;
  let invEps = 1 / eps;

  // f_i = −ε log Σ_j b_j exp((g_j − C_ij)/ε): rows of P then sum to a exactly.
  const updateF = () => {
    for (let i = 0; i < n; i++) {
      const off = i * k;
      let m = -Infinity;
      for (let j = 0; j < k; j++) {
        const t = logB[j] + (g[j] - C[off + j]) * invEps;
        if (t > m) m = t;
      }
      let s = 0;
      for (let j = 0; j < k; j++) s += Math.exp(logB[j] + (g[j] - C[off + j]) * invEps - m);
      f[i] = -eps * (m + Math.log(s));
    }
  };
  // gNext_j = −ε log Σ_i a_i exp((f_i − C_ij)/ε): the column sums of the current plan are
  // b_j exp((g_j − gNext_j)/ε), so the same pass measures the column error for free.
  const updateG = () => {
    colMax.fill(-Infinity);
    for (let i = 0; i < n; i++) {
      const off = i * k;
      const base = logA[i] + f[i] * invEps;
      for (let j = 0; j < k; j++) {
        const t = base - C[off + j] * invEps;
        if (t > colMax[j]) colMax[j] = t;
      }
    }
    colSum.fill(0);
    for (let i = 0; i < n; i++) {
      if (logA[i] === -Infinity) continue;
      const off = i * k;
      const base = logA[i] + f[i] * invEps;
      for (let j = 0; j < k; j++) colSum[j] += Math.exp(base - C[off + j] * invEps - colMax[j]);
    }
    for (let j = 0; j < k; j++) gNext[j] = -eps * (colMax[j] + Math.log(colSum[j]));
  };

  const schedule = epsilonSchedule(C, targetEps, options.initialG === undefined ? scaling : 1);

  let iterations = 0;
  let marginalError = Infinity;
  let converged = false;
  for (let stage = 0; stage < schedule.length; stage++) {
    eps = schedule[stage];
    invEps = 1 / eps;
    const last = stage === schedule.length - 1;
    const stageTol = last ? tol : Math.max(tol, INTERMEDIATE_TOLERANCE);
    converged = false;
    while (iterations < maxIters) {
      updateF();
      iterations++;
      updateG();
      let err = 0;
      for (let j = 0; j < k; j++) {
        if (b[j] > 0) err += b[j] * Math.abs(Math.exp((g[j] - gNext[j]) * invEps) - 1);
      }
      marginalError = err;
      if (err <= stageTol * massA) {
        converged = true;
        break;
      }
      if (iterations < maxIters) g.set(gNext);
    }
    if (!converged && !last) {
      // Budget spent before reaching the target ε: re-balance rows at the target ε so the
      // plan returned is still the target problem's (rows exact), and report failure.
      eps = targetEps;
      invEps = 1 / eps;
      updateF();
      updateG();
      let err = 0;
      for (let j = 0; j < k; j++) {
        if (b[j] > 0) err += b[j] * Math.abs(Math.exp((g[j] - gNext[j]) * invEps) - 1);
      }
      marginalError = err;
      break;
    }
  }
  converged = converged && eps === targetEps;
  // Now (f, g) is the plan just after an f-update: rows exact, columns off by marginalError.

  const { plan, transport } = gibbsPlan(C, n, k, logA, logB, f, g, invEps);
  let objective = 0;
  for (let i = 0; i < n; i++) if (a[i] > 0) objective += a[i] * f[i];
  for (let j = 0; j < k; j++) if (b[j] > 0) objective += b[j] * g[j];

  if (!Number.isFinite(marginalError)) converged = false;
  if (!converged && options.requireConvergence) {
    throw new ConvergenceError(
      `Sinkhorn did not converge: after ${iterations} iterations the marginal error is ` +
        `${show(marginalError)} > tol × mass = ${tol * massA} (epsilon = ${targetEps}); raise ` +
        `maxIters, raise epsilon or loosen tol`,
    );
  }
  return {
    plan: { rows: n, cols: k, data: plan },
    f,
    g,
    iterations,
    marginalError,
    converged,
    cost: transport,
    objective,
    epsilon: targetEps,
  };
}

/** The checked options of {@link sinkhorn}, defaults filled in. */
function checkSinkhornOptions(
  options: SinkhornOptions,
): { epsilon: number; scaling: number; maxIters: number; tol: number } {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected options to be an object, got ${show(options)}`);
  }
  const epsilon = options.epsilon;
  assertPositiveFinite("epsilon", epsilon);
  const scaling = options.epsilonScaling ?? DEFAULT_EPSILON_SCALING;
  if (typeof scaling !== "number" || !(scaling > 0 && scaling <= 1)) {
    throw new RangeError(
      `Invalid epsilonScaling = ${show(scaling)}: it must be a number in (0, 1]`,
    );
  }
  const maxIters = options.maxIters ?? 10_000;
  assertIntegerInRange("maxIters", maxIters, 1, Number.MAX_SAFE_INTEGER);
  const tol = options.tol ?? 1e-9;
  assertPositiveFinite("tol", tol);
  return { epsilon, scaling, maxIters, tol };
}

/** The starting column potential: a checked copy of `initialG`, or zeros when it is absent. */
function initialPotential(g0: Float64Array | undefined, k: number): Float64Array {
  const g = new Float64Array(k);
  if (g0 === undefined) return g;
  if (!(g0 instanceof Float64Array) || g0.length !== k) {
    throw new RangeError(
      `Invalid initialG: expected a Float64Array of length ${k}, got ${show(g0)}`,
    );
  }
  for (let j = 0; j < k; j++) {
    if (!Number.isFinite(g0[j])) {
      throw new RangeError(`Invalid initialG[${j}] = ${show(g0[j])}: entries must be finite`);
    }
    g[j] = g0[j];
  }
  return g;
}

/**
 * ε-scaling (annealing): the decreasing sequence ε_0 = max C > ε_0 θ > … > ε, ending at ε,
 * solved loosely in turn with g warm-started, since Sinkhorn needs O(max C / ε) iterations from
 * a cold start but few from the potentials of a slightly larger ε. Potentials are in cost units,
 * so they carry. θ = 1 gives ε alone.
 */
function epsilonSchedule(C: Float64Array, epsilon: number, scaling: number): number[] {
  let maxCost = 0;
  for (let t = 0; t < C.length; t++) if (C[t] > maxCost) maxCost = C[t];
  const schedule: number[] = [];
  if (scaling < 1) {
    for (let e = maxCost; e > epsilon; e *= scaling) schedule.push(e);
  }
  schedule.push(epsilon);
  return schedule;
}

/** The plan P_ij = a_i b_j exp((f_i + g_j − C_ij) / ε) and its transport cost ⟨P, C⟩. */
function gibbsPlan(
  C: Float64Array,
  n: number,
  k: number,
  logA: Float64Array,
  logB: Float64Array,
  f: Float64Array,
  g: Float64Array,
  invEps: number,
): { plan: Float64Array; transport: number } {
  const plan = new Float64Array(n * k);
  let transport = 0;
  for (let i = 0; i < n; i++) {
    const off = i * k;
    for (let j = 0; j < k; j++) {
      const p = Math.exp(logA[i] + logB[j] + (f[i] + g[j] - C[off + j]) * invEps);
      plan[off + j] = p;
      transport += p * C[off + j];
    }
  }
  return { plan, transport };
}

/**
 * Gradient of the entropic OT value OT_ε(a, b, C) with respect to the cost matrix C. By
 * Danskin's (envelope) theorem it is the optimal plan itself: OT_ε is a minimum over P of
 * ⟨P, C⟩ + ε KL(P ‖ a bᵀ), affine in C, with a unique minimiser.
 *
 * @param result A (converged) {@link sinkhorn} result.
 * @returns ∂OT_ε/∂C, a copy of `result.plan`.
 * @throws {TypeError} If `result` has no plan.
 *
 * @example
 * ```ts
 * import { sinkhorn, sinkhornCostGradient } from "./sinkhorn.ts";
 * import { rectMatrix } from "../core/rect_matrix.ts";
 * import assert from "node:assert/strict";
 * const r = sinkhorn(rectMatrix([[0, 2], [1, 0]]), [0.5, 0.5], [0.5, 0.5], { epsilon: 1 });
 * assert.deepEqual(sinkhornCostGradient(r).data, r.plan.data);
 * ```
 *
 * @category Optimal transport
 */
export function sinkhornCostGradient(result: SinkhornResult): RectMatrix {
  if (
    typeof result !== "object" || result === null || !(result.plan?.data instanceof Float64Array)
  ) {
    throw new TypeError(`Expected result to be a sinkhorn result, got ${show(result)}`);
  }
  const { rows, cols, data } = result.plan;
  return { rows, cols, data: data.slice() };
}

/**
 * The squared-Euclidean cost between points and centroids, C_ij = ‖x_i − c_j‖², the cost of
 * k-means as optimal transport (Genevay et al. 2019, Section 2).
 *
 * @param points The `n × d` points.
 * @param centroids The `k × d` centroids.
 * @returns The `n × k` cost matrix.
 * @throws {TypeError} If an argument is not points.
 * @throws {RangeError} If shapes are invalid, the dimensions differ, or a value is not finite.
 *
 * @example
 * ```ts
 * import { squaredEuclideanCost } from "./sinkhorn.ts";
 * import assert from "node:assert/strict";
 * const c = squaredEuclideanCost([[0, 0], [1, 1]], [[0, 1]]);
 * assert.deepEqual(Array.from(c.data), [1, 1]);
 * ```
 *
 * @category Optimal transport
 */
export function squaredEuclideanCost(points: PointsLike, centroids: PointsLike): RectMatrix {
  const x = toRectMatrix(points, "points");
  const c = toRectMatrix(centroids, "centroids");
  checkSameDimension(x, c);
  const n = x.rows, k = c.rows, d = x.cols;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) {
        const diff = x.data[i * d + t] - c.data[j * d + t];
        s += diff * diff;
      }
      out[i * k + j] = s;
    }
  }
  return { rows: n, cols: k, data: out };
}

function checkSameDimension(x: RectMatrix, c: RectMatrix): void {
  if (x.cols !== c.cols) {
    throw new RangeError(
      `Invalid centroids: they have dimension ${c.cols} but points have dimension ${x.cols}`,
    );
  }
}

/**
 * Gradients of ⟨P, C(X, Cen)⟩ for the squared-Euclidean cost, at fixed plan P.
 *
 * @category Optimal transport
 */
export interface SquaredEuclideanGradients {
  /** ∂/∂x_i = Σ_j P_ij 2(x_i − c_j), `n × d`. */
  readonly points: RectMatrix;
  /** ∂/∂c_j = Σ_i P_ij 2(c_j − x_i), `k × d`. */
  readonly centroids: RectMatrix;
}

/**
 * Gradients of the entropic OT value with respect to point and centroid coordinates for the
 * squared-Euclidean cost C_ij = ‖x_i − c_j‖². By the chain rule through
 * {@link sinkhornCostGradient} (∂OT_ε/∂C = P):
 * ∂OT_ε/∂x_i = Σ_j P_ij 2(x_i − c_j) and ∂OT_ε/∂c_j = Σ_i P_ij 2(c_j − x_i).
 *
 * @param points The `n × d` points.
 * @param centroids The `k × d` centroids.
 * @param plan The optimal `n × k` plan for the cost {@link squaredEuclideanCost}(points, centroids).
 * @returns The gradients with respect to the points and to the centroids.
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If shapes disagree or a value is not finite.
 *
 * @example Gradient of a single point transported to a single centroid
 * ```ts
 * import { squaredEuclideanGradients } from "./sinkhorn.ts";
 * import { rectMatrix } from "../core/rect_matrix.ts";
 * import assert from "node:assert/strict";
 * const grad = squaredEuclideanGradients([[3]], [[1]], rectMatrix([[1]]));
 * assert.deepEqual(Array.from(grad.points.data), [4]); // 2 (3 − 1)
 * assert.deepEqual(Array.from(grad.centroids.data), [-4]);
 * ```
 *
 * @category Optimal transport
 */
export function squaredEuclideanGradients(
  points: PointsLike,
  centroids: PointsLike,
  plan: RectMatrix,
): SquaredEuclideanGradients {
  const x = toRectMatrix(points, "points");
  const c = toRectMatrix(centroids, "centroids");
  checkSameDimension(x, c);
  const p = toRectMatrix(plan, "plan");
  const n = x.rows, k = c.rows, d = x.cols;
  if (p.rows !== n || p.cols !== k) {
    throw new RangeError(
      `Invalid plan: shape ${p.rows} × ${p.cols} but points × centroids is ${n} × ${k}`,
    );
  }
  const gx = new Float64Array(n * d);
  const gc = new Float64Array(k * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const w = 2 * p.data[i * k + j];
      if (w === 0) continue;
      for (let t = 0; t < d; t++) {
        const diff = x.data[i * d + t] - c.data[j * d + t];
        gx[i * d + t] += w * diff;
        gc[j * d + t] -= w * diff;
      }
    }
  }
  return { points: { rows: n, cols: d, data: gx }, centroids: { rows: k, cols: d, data: gc } };
}
