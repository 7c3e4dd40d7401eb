/**
 * The minimiser behind the logistic probe (`logistic.ts`): L-BFGS (memory 10) with a
 * strong-Wolfe line search (Nocedal & Wright, Algorithms 3.5–3.6, 7.4–7.5), for a smooth convex
 * objective given as value + gradient. Private to the probe.
 *
 * @module
 */

/** Objective value and gradient at one parameter vector. */
export interface ObjectiveValue {
  /** f(θ). */
  readonly value: number;
  /** ∇f(θ), same layout as θ. */
  readonly gradient: Float64Array;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let t = 0; t < a.length; t++) s += a[t]! * b[t]!;
  return s;
}

export function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let t = 0; t < a.length; t++) m = Math.max(m, Math.abs(a[t]!));
  return m;
}

export interface Point {
  readonly theta: Float64Array;
  readonly value: number;
  readonly gradient: Float64Array;
}

/**
 * A strong-Wolfe line search (Nocedal & Wright, Algorithms 3.5–3.6) along `dir` from `p`,
 * with safeguarded cubic interpolation in the zoom phase. Returns null if no point with
 * sufficient decrease was found (the direction is numerically flat).
 */
function wolfeLineSearch(
  f: (theta: Float64Array) => ObjectiveValue,
  p: Point,
  dir: Float64Array,
  step0: number,
  count: { evaluations: number },
): Point | null {
  const c1 = 1e-4, c2 = 0.9;
  const dphi0 = dot(p.gradient, dir);
  const at = (a: number): Point & { readonly slope: number } => {
    const theta = new Float64Array(p.theta.length);
    for (let t = 0; t < theta.length; t++) theta[t] = p.theta[t]! + a * dir[t]!;
    const r = f(theta);
    count.evaluations++;
    return { theta, value: r.value, gradient: r.gradient, slope: dot(r.gradient, dir) };
  };
  // Sufficient decrease, or — near the optimum, where decreases fall below the rounding of
  // f — Hager & Zhang's approximate-Wolfe relaxation: f may not rise by more than a few ulps.
  const fSlack = 1e-13 * Math.abs(p.value);
  const armijo = (a: number, v: number) =>
    v <= p.value + c1 * a * dphi0 || (a * -dphi0 <= 1e3 * fSlack && v <= p.value + fSlack);
  const curvature = (slope: number) => Math.abs(slope) <= -c2 * dphi0;
  let best: Point | null = null;
  const consider = (q: Point, a: number) => {
    if (Number.isFinite(q.value) && armijo(a, q.value) && (best === null || q.value < best.value)) {
      best = q;
    }
  };

  const zoom = (
    lo: { a: number; v: number; s: number },
    hi: { a: number; v: number; s: number },
  ): Point | null => {
    for (let it = 0; it < 40; it++) {
      const width = hi.a - lo.a;
      // Cubic interpolant through (lo, hi) with their slopes; fall back to bisection when it
      // is undefined or leaves the central 80 % of the bracket.
      const d1 = lo.s + hi.s - 3 * (lo.v - hi.v) / (lo.a - hi.a);
      const rad = d1 * d1 - lo.s * hi.s;
      let a = lo.a + width / 2;
      if (rad >= 0) {
        const d2 = Math.sign(hi.a - lo.a) * Math.sqrt(rad);
        const cand = hi.a - (hi.a - lo.a) * (hi.s + d2 - d1) / (hi.s - lo.s + 2 * d2);
        const lower = Math.min(lo.a, hi.a) + 0.1 * Math.abs(width);
        const upper = Math.max(lo.a, hi.a) - 0.1 * Math.abs(width);
        if (Number.isFinite(cand) && cand >= lower && cand <= upper) a = cand;
      }
      const q = at(a);
      consider(q, a);
      if (!Number.isFinite(q.value) || !armijo(a, q.value) || q.value >= lo.v) {
        hi = { a, v: q.value, s: q.slope };
      } else {
        if (curvature(q.slope)) return q;
        if (q.slope * (hi.a - lo.a) >= 0) hi = lo;
        lo = { a, v: q.value, s: q.slope };
      }
      if (Math.abs(hi.a - lo.a) <= 1e-16 * Math.max(1, Math.abs(lo.a))) break;
    }
    return best;
  };

  let prev = { a: 0, v: p.value, s: dphi0 };
  let a = step0;
  for (let it = 0; it < 60; it++) {
    const q = at(a);
    consider(q, a);
    const cur = { a, v: q.value, s: q.slope };
    if (!Number.isFinite(q.value) || !armijo(a, q.value) || (it > 0 && q.value >= prev.v)) {
      return zoom(prev, cur);
    }
    if (curvature(q.slope)) return q;
    if (q.slope >= 0) return zoom(cur, prev);
    prev = cur;
    a *= 2;
  }
  return best;
}

/**
 * Minimises a smooth convex function with L-BFGS (memory 10) and a strong-Wolfe line
 * search, from `theta0`, until ‖∇f‖_∞ ≤ gtol.
 */
export function lbfgs(
  f: (theta: Float64Array) => ObjectiveValue,
  theta0: Float64Array,
  gtol: number,
  maxIters: number,
): Point & { iterations: number; evaluations: number; converged: boolean } {
  const memory = 10;
  const count = { evaluations: 1 };
  const r0 = f(theta0);
  let p: Point = { theta: theta0, value: r0.value, gradient: r0.gradient };
  const ss: Float64Array[] = [], ys: Float64Array[] = [], rhos: number[] = [];
  let iterations = 0;
  while (iterations < maxIters && maxAbs(p.gradient) > gtol) {
    // Two-loop recursion: dir = −H ∇f with H the L-BFGS inverse-Hessian estimate.
    const q = Float64Array.from(p.gradient);
    const alpha: number[] = [];
    for (let m = ss.length - 1; m >= 0; m--) {
      const a = rhos[m]! * dot(ss[m]!, q);
      alpha[m] = a;
      const y = ys[m]!;
      for (let t = 0; t < q.length; t++) q[t]! -= a * y[t]!;
    }
    if (ss.length > 0) {
      const last = ss.length - 1;
      const gamma = dot(ss[last]!, ys[last]!) / dot(ys[last]!, ys[last]!);
      for (let t = 0; t < q.length; t++) q[t]! *= gamma;
    }
    for (let m = 0; m < ss.length; m++) {
      const b = rhos[m]! * dot(ys[m]!, q);
      const s = ss[m]!;
      for (let t = 0; t < q.length; t++) q[t]! += (alpha[m]! - b) * s[t]!;
    }
    for (let t = 0; t < q.length; t++) q[t] = -q[t]!;
    let dir = q;
    if (!(dot(dir, p.gradient) < 0)) {
      // Not a descent direction (rounding after many updates): restart from steepest descent.
      ss.length = ys.length = rhos.length = 0;
      dir = p.gradient.map((g) => -g);
    }
    const step0 = ss.length === 0 ? Math.min(1, 1 / Math.sqrt(dot(dir, dir))) : 1;
    const next = wolfeLineSearch(f, p, dir, step0, count);
    iterations++;
    if (next === null || !(next.value <= p.value + 1e-13 * Math.abs(p.value))) {
      if (ss.length === 0) break; // even steepest descent cannot decrease f: at rounding level
      ss.length = ys.length = rhos.length = 0;
      continue;
    }
    const s = new Float64Array(dir.length), y = new Float64Array(dir.length);
    for (let t = 0; t < s.length; t++) {
      s[t] = next.theta[t]! - p.theta[t]!;
      y[t] = next.gradient[t]! - p.gradient[t]!;
    }
    const sy = dot(s, y);
    // Keep the pair only under positive curvature (always true for a strictly convex f up to
    // rounding), so the inverse-Hessian estimate stays positive definite.
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      ss.push(s), ys.push(y), rhos.push(1 / sy);
      if (ss.length > memory) ss.shift(), ys.shift(), rhos.shift();
    }
    p = next;
  }
  return {
    ...p,
    iterations,
    evaluations: count.evaluations,
    converged: maxAbs(p.gradient) <= gtol,
  };
}
