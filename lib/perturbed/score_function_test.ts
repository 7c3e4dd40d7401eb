/**
 * Score-function estimators with power: instances drawn with ε log-uniform in [0.05, 3], n in
 * [3, 8] and B from 4 to 500 samples; each estimate is replicated R ≥ 20 times with distinct
 * seeds and compared with an independent value through the replicates' own variance
 * (`props/mc_stats.ts`). Oracles:
 *
 * - the exact identity ⟨A*_ε, 11ᵀ − I⟩ = 2(n − k) (every forest has n − k edges, each counted
 *   twice), which the score-function gradient must reproduce on average;
 * - the pathwise estimate Â_ε (another estimator, 10 000 samples) entry by entry;
 * - for k = n − 1 with Gumbel noise, the exact A*_ε = M*_ε (off the diagonal) = softmax(w/ε) over
 *   the pair weights w (the forest is the heaviest pair; argmax of w + εG is softmax-distributed)
 *   and its exact Jacobian (1/ε)(diag P − P Pᵀ): the JVP and the VJP in closed form;
 * - central finite differences of the pathwise M̂_ε and Â_ε with common random numbers, for
 *   general k (where M ≠ A).
 *
 * False alarms. A per-instance check fails at |t| > 6.5 (Student t with ≥ 19 degrees of freedom:
 * P ≤ 3.2e-6 per check); across the ≈ 2000 checks below, ≤ 7e-3 in all (Bonferroni). The
 * combined statistics Σ t/√I fail at > 4.5 (sd ≈ 1.06 under the null: P ≈ 2e-5 each). The seeds
 * are fixed, so the suite is deterministic; these rates are those of a correct implementation
 * over the choice of seeds.
 */
import assert from "node:assert/strict";
import { fromData, type Matrix, matrix } from "../core/matrix.ts";
import { unsafeMaxSpanningForest as maxSpanningForest } from "../forest/spanning_forest.ts";
import { makePerturbed } from "./perturbed.ts";
import {
  perturbedJvp,
  perturbedVjp,
  scoreFunctionGradient,
  type ScoreFunctionOptions,
} from "./score_function.ts";
import { replicateT, symmetricData, testRng } from "../../props/mc_stats.ts";

const T_ENTRY = 6.5, Z_COMBINED = 4.5;
/** Total samples per replicated estimate: R = max(20, TOTAL / B) replicates of B samples. */
const TOTAL = 6_000;
const SAMPLE_SIZES = [4, 10, 100, 500];

interface Instance {
  n: number;
  k: number;
  epsilon: number;
  sigma: Matrix;
  opts: ScoreFunctionOptions;
  replicates: number;
}

/** Draws instance i: n ∈ [3, 8], ε log-uniform in [0.05, 3], B cycling through SAMPLE_SIZES. */
function drawInstance(rand: () => number, i: number, k?: (n: number) => number): Instance {
  const n = 3 + Math.floor(rand() * 6);
  const kk = k ? k(n) : 1 + Math.floor(rand() * (n - 1));
  const epsilon = Math.exp(Math.log(0.05) + rand() * Math.log(3 / 0.05));
  const sigma = fromData(n, symmetricData(n, () => 2 * rand() - 1, 4 * rand() - 2));
  const samples = SAMPLE_SIZES[i % SAMPLE_SIZES.length];
  const kind = i % 4;
  const opts: ScoreFunctionOptions = kind === 0
    ? { epsilon, samples, noise: "gumbel" }
    : kind === 1
    ? { epsilon, samples, noise: "gaussian" }
    : kind === 2
    ? { epsilon, samples, noise: "gaussian", antithetic: true }
    : { epsilon, samples, noise: "gumbel", baseline: "none" };
  return { n, k: kk, epsilon, sigma, opts, replicates: Math.max(20, Math.ceil(TOTAL / samples)) };
}

const describe = (c: Instance) =>
  `n = ${c.n}, k = ${c.k}, ε = ${c.epsilon.toFixed(3)}, ${JSON.stringify(c.opts)}`;

const dot = (a: Matrix, b: Matrix) => a.data.reduce((s, v, t) => s + v * b.data[t], 0);

function combined(ts: number[], what: string) {
  const z = ts.reduce((a, b) => a + b, 0) / Math.sqrt(ts.length);
  assert.ok(Math.abs(z) < Z_COMBINED, `${what}: combined statistic ${z.toFixed(2)}`);
}

Deno.test("scoreFunctionGradient has power: drawn ε, n, k, noise, B", async (t) => {
  const rand = testRng(20260415);
  const cases = Array.from({ length: 16 }, (_, i) => drawInstance(rand, i));
  await t.step("⟨Ĝ, 11ᵀ − I⟩ averages to 2(n − k), and Ĝ to the pathwise Â_ε entry-wise", () => {
    const ts: number[] = [];
    for (const [ci, c] of cases.entries()) {
      const { n, k, sigma } = c;
      const solver = (s: Matrix) => maxSpanningForest(s, k);
      const est = scoreFunctionGradient(solver, c.opts);
      const reps = Array.from({ length: c.replicates }, (_, r) => est(sigma, 1000 * ci + r));
      for (const g of reps) {
        for (let i = 0; i < n; i++) assert.equal(g.data[i * n + i], 0);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) assert.equal(g.data[i * n + j], g.data[j * n + i]);
        }
      }
      const sums = reps.map((g) => g.data.reduce((a, b) => a + b, 0));
      const total = replicateT(sums, 2 * (n - k));
      assert.ok(Math.abs(total.t) < T_ENTRY, `${describe(c)}: sum ${total.text}`);
      ts.push(total.t);
      // Entry-wise against the pathwise estimate (variance of a mean of 0/1 draws ≤ 1/(4B)).
      const Bp = 10_000;
      const path = makePerturbed(solver, { epsilon: c.epsilon, samples: Bp, noise: c.opts.noise })(
        sigma,
        77 + ci,
      ).adjacency;
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          const e = replicateT(reps.map((g) => g.data[i * n + j]), path.data[i * n + j], 0.25 / Bp);
          assert.ok(Math.abs(e.t) < T_ENTRY, `${describe(c)}: entry (${i}, ${j}) ${e.text}`);
        }
      }
    }
    combined(ts, "⟨Ĝ, 11ᵀ − I⟩ − 2(n − k) over all instances");
  });
});

/** Exact A*_ε = M*_ε (off-diagonal) and its JVP / VJP for k = n − 1 under Gumbel noise. */
function softmaxOracle(sigma: Matrix, epsilon: number) {
  const n = sigma.n, p = new Float64Array(n * n);
  let max = -Infinity, z = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) max = Math.max(max, sigma.data[i * n + j]);
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) z += Math.exp((sigma.data[i * n + j] - max) / epsilon);
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      p[i * n + j] = p[j * n + i] = Math.exp((sigma.data[i * n + j] - max) / epsilon) / z;
    }
  }
  /** Σ_{i<j} P_ij c_ij for a per-pair quantity c given as a symmetric matrix's upper entries. */
  const mean = (c: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += p[i * n + j] * c[i * n + j];
    return s;
  };
  return {
    /** d/dh P(Σ + hT): the pair weight w_ij moves by (T_ij + T_ji)/2. */
    jvp(tangent: Matrix): Matrix {
      const tt = new Float64Array(n * n);
      for (let u = 0; u < n * n; u++) {
        tt[u] = 0.5 * (tangent.data[u] + tangent.data[(u % n) * n + Math.floor(u / n)]);
      }
      const m = mean(tt), out = new Float64Array(n * n);
      for (let u = 0; u < n * n; u++) {
        if (u % n !== Math.floor(u / n)) out[u] = (p[u] * (tt[u] - m)) / epsilon;
      }
      return fromData(n, out);
    },
    /** ∇_Σ of ⟨G_A, A*_ε⟩ + ⟨G_M, M*_ε⟩ in the full-matrix convention (half of d/dw_ij). */
    vjp(ga: Matrix | undefined, gm: Matrix | undefined): Matrix {
      const c = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (i === j) continue;
          for (const g of [ga, gm]) if (g) c[i * n + j] += g.data[i * n + j] + g.data[j * n + i];
        }
      }
      const m = mean(c), out = new Float64Array(n * n);
      for (let u = 0; u < n * n; u++) {
        if (u % n !== Math.floor(u / n)) out[u] = (p[u] * (c[u] - m)) / (2 * epsilon);
      }
      return fromData(n, out);
    },
  };
}

/** Checks replicates of a matrix estimate against an exact matrix: entries and projection. */
function checkMatrix(reps: Matrix[], exact: Matrix, what: string): number {
  const n = exact.n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const e = replicateT(reps.map((g) => g.data[i * n + j]), exact.data[i * n + j]);
      assert.ok(Math.abs(e.t) < T_ENTRY, `${what}: entry (${i}, ${j}) ${e.text}`);
    }
  }
  // Projection on the exact answer: catches a scale error spread thinly over the entries.
  const proj = replicateT(reps.map((g) => dot(g, exact)), dot(exact, exact));
  assert.ok(Math.abs(proj.t) < T_ENTRY, `${what}: projection ${proj.text}`);
  return proj.t;
}

Deno.test("JVP and VJP equal the exact softmax Jacobian (Gumbel, k = n − 1)", () => {
  const rand = testRng(777);
  const ts: number[] = [];
  for (let ci = 0; ci < 16; ci++) {
    const base = drawInstance(rand, ci, (n) => n - 1);
    const c = { ...base, opts: { ...base.opts, noise: "gumbel" as const, antithetic: false } };
    const { n, k, epsilon } = c;
    // Weights on the scale of ε (w/ε uniform in [−1.5, 1.5]): every pair keeps a probability
    // ≥ e^{-3}/m, so no replicate set is degenerate (a rare event would make the replicates'
    // variance meaningless), whatever ε.
    const sigma = fromData(n, c.sigma.data.map((v) => 1.5 * epsilon * v));
    const solver = (s: Matrix) => maxSpanningForest(s, k);
    const oracle = softmaxOracle(sigma, epsilon);
    // Tangent and cotangents deliberately not symmetric: the estimators symmetrise.
    const tangent = fromData(n, new Float64Array(n * n).map(() => 2 * rand() - 1));
    const ga = fromData(n, new Float64Array(n * n).map(() => 2 * rand() - 1));
    const gm = fromData(n, new Float64Array(n * n).map(() => 2 * rand() - 1));
    const jvp = perturbedJvp(solver, c.opts), vjp = perturbedVjp(solver, c.opts);
    const jReps = Array.from({ length: c.replicates }, (_, r) => jvp(sigma, tangent, 50_000 + r));
    const exactJ = oracle.jvp(tangent);
    ts.push(checkMatrix(jReps.map((j) => j.adjacency), exactJ, `JVP_A ${describe(c)}`));
    ts.push(checkMatrix(jReps.map((j) => j.connectivity), exactJ, `JVP_M ${describe(c)}`));
    // Cotangent on M only, on A only, and on both.
    const which = ci % 3;
    const cot = which === 0
      ? { connectivity: gm }
      : which === 1
      ? { adjacency: ga }
      : { adjacency: ga, connectivity: gm };
    const vReps = Array.from({ length: c.replicates }, (_, r) => vjp(sigma, cot, 90_000 + r));
    const exactV = oracle.vjp(cot.adjacency, cot.connectivity);
    ts.push(checkMatrix(vReps, exactV, `VJP ${Object.keys(cot)} ${describe(c)}`));
  }
  combined(ts, "JVP / VJP projections over all instances");
});

Deno.test("connectivity JVP / VJP match finite differences of M̂_ε (general k, CRN)", () => {
  const rand = testRng(4242);
  for (let ci = 0; ci < 6; ci++) {
    // n ∈ [4, 8] and 2 ≤ k ≤ n − 2, so that M* is not A* (off the diagonal).
    const base = drawInstance(rand, ci, (n) => 2 + Math.floor(rand() * (n - 3)));
    if (base.n < 4) continue;
    const { n, k, sigma, epsilon } = base;
    const solver = (s: Matrix) => maxSpanningForest(s, k);
    const samples = SAMPLE_SIZES[ci % 4], R = base.replicates;
    const tangent = fromData(n, symmetricData(n, () => 2 * rand() - 1));
    const u = fromData(n, symmetricData(n, () => 2 * rand() - 1));
    // Reference: d/dh ⟨U, M̂_ε(Σ + hT)⟩ by central differences, same seed on both sides;
    // h = ε/5 keeps the O(h²) bias at ≈ 1 % of the derivative, far below the tolerance.
    const h = epsilon / 5, Bp = 1000, Rp = 20;
    const shifted = (sgn: number) =>
      fromData(n, sigma.data.map((v, t) => v + sgn * h * tangent.data[t]));
    const up = shifted(1), down = shifted(-1);
    const pathwise = makePerturbed(solver, { epsilon, samples: Bp, noise: "gaussian" });
    const fdM: number[] = [], fdA: number[] = [];
    for (let r = 0; r < Rp; r++) {
      const p = pathwise(up, 7000 + r), q = pathwise(down, 7000 + r);
      fdM.push((dot(p.connectivity, u) - dot(q.connectivity, u)) / (2 * h));
      fdA.push((dot(p.adjacency, u) - dot(q.adjacency, u)) / (2 * h));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const varOfMean = (xs: number[]) =>
      xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1) / xs.length;
    for (const antithetic of ci % 2 === 0 ? [false] : [true]) {
      const opts = { epsilon, samples, noise: "gaussian" as const, antithetic };
      const what = `n = ${n}, k = ${k}, ε = ${epsilon.toFixed(3)}, B = ${samples}${
        antithetic ? " antithetic" : ""
      }`;
      const jvp = perturbedJvp(solver, opts), vjp = perturbedVjp(solver, opts);
      const jReps = Array.from({ length: R }, (_, r) => jvp(sigma, tangent, 300 + r));
      const vmReps = Array.from({ length: R }, (_, r) => vjp(sigma, { connectivity: u }, 900 + r));
      const vaReps = Array.from({ length: R }, (_, r) => vjp(sigma, { adjacency: u }, 1900 + r));
      const checks: [string, number[], number[]][] = [
        ["⟨JVP_M, U⟩", jReps.map((j) => dot(j.connectivity, u)), fdM],
        ["⟨VJP(G_M = U), T⟩", vmReps.map((g) => dot(g, tangent)), fdM],
        ["⟨JVP_A, U⟩", jReps.map((j) => dot(j.adjacency, u)), fdA],
        ["⟨VJP(G_A = U), T⟩", vaReps.map((g) => dot(g, tangent)), fdA],
      ];
      for (const [name, xs, fd] of checks) {
        const e = replicateT(xs, mean(fd), varOfMean(fd));
        assert.ok(Math.abs(e.t) < T_ENTRY, `${name} vs finite differences, ${what}: ${e.text}`);
      }
    }
  }
});

Deno.test("score-function estimators: baseline and inputs", async (t) => {
  const sigma = matrix([[3, 0.4, -0.3, 0.1], [0.4, 3, 0.2, -0.5], [-0.3, 0.2, 3, 0.6], [
    0.1,
    -0.5,
    0.6,
    3,
  ]]);
  const solver = (s: Matrix) => maxSpanningForest(s, 2);
  await t.step("the leave-one-out baseline cuts the variance when F is far from 0", () => {
    // Shift Σ by +20 off the diagonal: F grows by 2(n − k)·20 = 80, so without a baseline the
    // per-entry sd is ≈ 80/(2ε) = 40; with it, O(√(n − k)). Spread across 10 seeds.
    const shifted = matrix(
      [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => sigma.data[i * 4 + j] + (i === j ? 0 : 20))),
    );
    const spread = (baseline: "none" | "leave-one-out") => {
      const est = scoreFunctionGradient(solver, {
        epsilon: 1,
        samples: 200,
        noise: "gaussian",
        baseline,
      });
      const xs = Array.from({ length: 10 }, (_, seed) => est(shifted, seed).data[1]);
      const mean = xs.reduce((a, b) => a + b) / xs.length;
      return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    };
    assert.ok(spread("leave-one-out") < 0.25 * spread("none"));
  });
  await t.step("bad inputs are named", () => {
    const opts = { epsilon: 1, samples: 1, noise: "gaussian" as const };
    assert.throws(() => scoreFunctionGradient(solver, opts), /Invalid samples = 1/);
    // A value that escaped the type checker (e.g. from JSON) is still rejected at run time.
    assert.throws(
      () => scoreFunctionGradient(solver, { ...opts, samples: 4, baseline: "x" as "none" }),
      /Invalid baseline/,
    );
    assert.throws(
      () => perturbedJvp(solver, { ...opts, samples: 4 })(sigma, matrix([[0]]), 0),
      /Invalid tangent/,
    );
  });
});
