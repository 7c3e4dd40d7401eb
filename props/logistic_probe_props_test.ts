import assert from "node:assert/strict";
import { fc } from "./deps.ts";
import {
  fitLogisticProbe,
  fitStandardiser,
  multinomialObjective,
} from "../experiments/probe/logistic.ts";

// Small random problems: n points in d dimensions, labels i mod K so every class is present.
const problem = fc.record({
  n: fc.integer({ min: 6, max: 24 }),
  d: fc.integer({ min: 1, max: 4 }),
  K: fc.integer({ min: 2, max: 4 }),
  logC: fc.double({ min: -2, max: 2, noNaN: true }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
}).map(({ n, d, K, logC, seed }) => {
  let s = seed;
  const u = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const x = Array.from({ length: n }, () => Array.from({ length: d }, () => 4 * u() - 2));
  const y = Array.from({ length: n }, (_, i) => i % K);
  const theta = Float64Array.from({ length: K * (d + 1) }, () => 2 * u() - 1);
  return { n, d, K, C: 10 ** logC, x, y, theta };
});

Deno.test("logistic objective: analytic gradient equals central finite differences", () => {
  fc.assert(
    fc.property(problem, ({ K, C, x, y, theta }) => {
      const f = multinomialObjective(x, y, K, C);
      const { gradient } = f(theta);
      // Float64 central differences: truncation O(h²·f''') ≈ 1e-10 and rounding
      // O(eps·|f|/h) ≈ 1e-10 at h = 1e-5, so 1e-6 (relative to max(1, |g|)) cannot flake.
      const h = 1e-5;
      for (let t = 0; t < theta.length; t++) {
        const plus = Float64Array.from(theta), minus = Float64Array.from(theta);
        plus[t]! += h, minus[t]! -= h;
        const fd = (f(plus).value - f(minus).value) / (2 * h);
        assert.ok(
          Math.abs(fd - gradient[t]!) <= 1e-6 * Math.max(1, Math.abs(fd)),
          `θ[${t}]: finite difference ${fd} vs gradient ${gradient[t]}`,
        );
      }
    }),
    { seed: 42, numRuns: 40 },
  );
});

Deno.test("logistic probe: the fitted parameters are a stationary point and a minimum", () => {
  fc.assert(
    fc.property(problem, ({ n, d, K, C, x, y, theta }) => {
      const tol = 1e-8;
      const probe = fitLogisticProbe(x, y, { C, tol });
      assert.ok(probe.converged, `converged: gradNorm ${probe.gradNorm}`);
      // Recompute the gradient independently on the standardised features.
      const { mean, scale } = fitStandardiser(x);
      const z = x.map((row) => row.map((v, j) => (v - mean[j]!) / scale[j]!));
      const f = multinomialObjective(z, y, K, C);
      const solution = new Float64Array(K * (d + 1));
      for (let k = 0; k < K; k++) {
        for (let j = 0; j < d; j++) solution[k * (d + 1) + j] = probe.weights[k * d + j]!;
        solution[k * (d + 1) + d] = probe.intercepts[k]!;
      }
      const at = f(solution);
      for (const g of at.gradient) {
        assert.ok(Math.abs(g) / n <= tol * (1 + 1e-9), `|∇f|/n = ${g / n}`);
      }
      assert.ok(Math.abs(at.value - probe.objective) <= 1e-9 * Math.max(1, at.value));
      // Convexity: no nearby point (a random direction, small step) is lower.
      const step = Float64Array.from(solution, (v, t) => v + 1e-3 * theta[t]!);
      assert.ok(f(step).value >= at.value - 1e-9 * Math.max(1, at.value));
    }),
    { seed: 42, numRuns: 40 },
  );
});
