import assert from "node:assert/strict";
import { type Matrix, matrix } from "./matrix.ts";
import { maxSpanningForest } from "./spanning_forest.ts";
import { makePerturbed } from "./perturbed.ts";
import { perturbedJvp, perturbedVjp, scoreFunctionGradient } from "./score_function.ts";

const sigma = matrix([[3, 0.4, -0.3, 0.1], [0.4, 3, 0.2, -0.5], [-0.3, 0.2, 3, 0.6], [
  0.1,
  -0.5,
  0.6,
  3,
]]);
const solver = (s: Matrix) => maxSpanningForest(s, 2);

Deno.test("score-function estimators", async (t) => {
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
  await t.step("VJP with G_A = E matches ⟨E, JVP⟩ pattern: both estimate d⟨E, A*_ε⟩", () => {
    // ⟨E, J·E⟩ (JVP) and ⟨VJP(E), E⟩ estimate the same number; compare to the pathwise finite
    // difference of Â_ε with CRN-free seeds. Per-sample sd ≲ √(m + 2)·‖E‖ ≈ 4; 4000 samples →
    // SE ≈ 0.07; tolerance 5 SE = 0.35 on a quantity of order 1/ε.
    const e = matrix([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, -1], [0, 0, -1, 0]]);
    const opts = { epsilon: 0.5, samples: 4000, noise: "gaussian" as const };
    const jvp = perturbedJvp(solver, opts)(sigma, e, 1).adjacency;
    const vjp = perturbedVjp(solver, opts)(sigma, { adjacency: e }, 2);
    const dot = (a: Matrix, b: Matrix) => a.data.reduce((s, v, i) => s + v * b.data[i], 0);
    // Pathwise reference by finite differences of Â_ε at many samples (same seed both sides).
    const p = makePerturbed(solver, { ...opts, samples: 40_000 });
    const h = 0.05;
    const up = p(
      matrix(
        [0, 1, 2, 3].map((i) =>
          [0, 1, 2, 3].map((j) => sigma.data[i * 4 + j] + h * e.data[i * 4 + j])
        ),
      ),
      3,
    );
    const dn = p(
      matrix(
        [0, 1, 2, 3].map((i) =>
          [0, 1, 2, 3].map((j) => sigma.data[i * 4 + j] - h * e.data[i * 4 + j])
        ),
      ),
      3,
    );
    const fd = (dot(up.adjacency, e) - dot(dn.adjacency, e)) / (2 * h);
    assert.ok(Math.abs(dot(jvp, e) - fd) < 0.35, `jvp ${dot(jvp, e)} vs fd ${fd}`);
    assert.ok(Math.abs(dot(vjp, e) - fd) < 0.35, `vjp ${dot(vjp, e)} vs fd ${fd}`);
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
