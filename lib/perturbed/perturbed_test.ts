/**
 * makePerturbed (Definition 6). Oracles independent of the estimator: a recording solver that
 * keeps every perturbed Σ_b and forest it is handed (so Â_ε, M̂_ε and F̂_ε can be recomputed here
 * as plain means), the documented noise streams (`symmetricNoise`, sample b of seed s), the exact
 * identity ⟨Â_ε, 11ᵀ − I⟩ = 2(n − k), and for k = n − 1 with Gumbel noise the closed forms
 * A*_ε = softmax(w/ε) over the pair weights w and F_ε = 2ε(log Σ_e exp(w_e/ε) + γ) (the forest
 * is the heaviest pair; the max of Gumbels is Gumbel).
 */
import assert from "node:assert/strict";
import { fromData, type Matrix, matrix } from "../core/matrix.ts";
import { makePerturbed, type PerturbedOptions } from "./perturbed.ts";
import { symmetricNoise } from "../core/noise.ts";
import { type Forest, maxSpanningForest } from "../forest/spanning_forest.ts";
import { symmetricData, testRng } from "../../props/mc_stats.ts";

const sigma = matrix([[0, 1, -1], [1, 0, 0.5], [-1, 0.5, 0]]);
const solver = (s: typeof sigma) => maxSpanningForest(s, 2);

/** A solver that records a copy of every Σ it is handed and the forest it returns. */
function recording(k: number) {
  const seen: { sigma: Float64Array; forest: Forest }[] = [];
  return {
    seen,
    solver: (s: Matrix) => {
      const forest = maxSpanningForest(s, k);
      seen.push({ sigma: s.data.slice(), forest });
      return forest;
    },
  };
}

const close = (a: number, b: number, tol = 1e-12) =>
  Math.abs(a - b) <= tol * (1 + Math.abs(a) + Math.abs(b));

Deno.test("makePerturbed", async (t) => {
  await t.step("rejects bad options, sigma and seed with named errors", () => {
    const base = { epsilon: 1, samples: 4, noise: "gaussian" as const };
    assert.throws(() => makePerturbed(solver, { ...base, epsilon: -1 }), /Invalid epsilon = -1/);
    assert.throws(() => makePerturbed(solver, { ...base, samples: -2 }), /Invalid samples = -2/);
    // @ts-expect-error: runtime check of the noise name
    assert.throws(() => makePerturbed(solver, { ...base, noise: "normal" }), /Invalid noise/);
    // @ts-expect-error: runtime check of the solver
    assert.throws(() => makePerturbed(null, base), /Expected solver/);
    const p = makePerturbed(solver, base);
    assert.throws(() => p(matrix([[0, 1], [2, 0]]), 0), /not symmetric/);
    assert.throws(() => p(sigma, 2 ** 40), /Invalid seed/);
  });

  await t.step("Â_ε, M̂_ε, F̂_ε are the means over the forests of the documented draws", () => {
    // Drawn instances: n ∈ [3, 8], k ∈ [1, n], ε log-uniform in [0.05, 3], B ∈ {1, 3, 40}.
    const rand = testRng(99);
    for (let c = 0; c < 30; c++) {
      const n = 3 + Math.floor(rand() * 6), k = 1 + Math.floor(rand() * n);
      const epsilon = Math.exp(Math.log(0.05) + rand() * Math.log(60));
      const s = fromData(n, symmetricData(n, () => 2 * rand() - 1, rand()));
      const kind = c % 3;
      const opts: PerturbedOptions = {
        epsilon,
        samples: [2, 4, 40][Math.floor(c / 3) % 3] - (kind === 2 ? 0 : c % 2),
        noise: kind === 1 ? "gumbel" : "gaussian",
        antithetic: kind === 2,
      };
      const seed = 1000 + c, B = opts.samples;
      const rec = recording(k);
      const est = makePerturbed(rec.solver, opts)(s, seed);
      const what = `n = ${n}, k = ${k}, ${JSON.stringify(opts)}`;
      assert.equal(rec.seen.length, B, what);
      const adjacency = new Float64Array(n * n), connectivity = new Float64Array(n * n);
      let value = 0;
      for (const [b, { sigma: p, forest }] of rec.seen.entries()) {
        // The draw: sample b is Σ + εZ_b, Z_b = symmetricNoise(noise, n, seed, b); antithetic
        // pairs are (Z_p, −Z_p) with p = ⌊b/2⌋.
        const z = symmetricNoise(opts.noise, n, seed, opts.antithetic ? b >> 1 : b).data;
        const sign = opts.antithetic && b % 2 === 1 ? -1 : 1;
        for (let i = 0; i < n; i++) {
          assert.equal(p[i * n + i], s.data[i * n + i], what);
          for (let j = 0; j < n; j++) {
            if (i === j) continue;
            assert.ok(close(p[i * n + j], s.data[i * n + j] + sign * epsilon * z[i * n + j]), what);
          }
        }
        for (const [i, j] of forest.edges) {
          adjacency[i * n + j] += 1 / B;
          adjacency[j * n + i] += 1 / B;
          value += (2 * p[i * n + j]) / B;
        }
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            if (forest.labels[i] === forest.labels[j]) connectivity[i * n + j] += 1 / B;
          }
        }
      }
      for (let u = 0; u < n * n; u++) {
        assert.ok(close(est.adjacency.data[u], adjacency[u]), `Â ${what}`);
        assert.ok(close(est.connectivity.data[u], connectivity[u]), `M̂ ${what}`);
      }
      assert.ok(close(est.value, value), `F̂ ${est.value} vs ${value}, ${what}`);
      // Exact identity: every forest has n − k edges, each counted at (i, j) and (j, i).
      const edgeSum = est.adjacency.data.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(edgeSum - 2 * (n - k)) < 1e-9, `⟨Â, 11ᵀ − I⟩ = ${edgeSum}, ${what}`);
    }
  });

  await t.step("the first B samples do not depend on the total count (B = 2 vs B = 4)", () => {
    for (
      const opts of [{ noise: "gumbel" as const }, { noise: "gaussian" as const, antithetic: true }]
    ) {
      const small = recording(1), large = recording(1);
      const f2 = makePerturbed(small.solver, { epsilon: 1, samples: 2, ...opts })(sigma, 5).value;
      const f4 = makePerturbed(large.solver, { epsilon: 1, samples: 4, ...opts })(sigma, 5).value;
      assert.deepEqual(small.seen.map((r) => r.sigma), large.seen.slice(0, 2).map((r) => r.sigma));
      // F̂ at B = 2 is the mean of the first two of the B = 4 run's sample values.
      assert.ok(close(f2, (large.seen[0].forest.value + large.seen[1].forest.value) / 2));
      assert.ok(close(f4, large.seen.reduce((a, r) => a + r.forest.value, 0) / 4));
      assert.notDeepEqual(large.seen[2].sigma, large.seen[0].sigma);
    }
  });

  await t.step("unbiased: Â_ε and F̂_ε match the exact Gumbel softmax (k = n − 1)", () => {
    // Per entry Â_ij is a mean of B Bernoulli(P_ij) draws (variance P(1 − P)/B, exact); F̂ a
    // mean of B draws of 2(ε G_max + ε log Σ e^{w/ε}) (variance 4 ε² π²/6 / B). Tolerance 6 sd:
    // P ≈ 2e-9 per check under a correct estimator.
    const rand = testRng(31337);
    for (let c = 0; c < 12; c++) {
      const n = 3 + Math.floor(rand() * 6), k = n - 1, B = 4000;
      const epsilon = Math.exp(Math.log(0.05) + rand() * Math.log(60));
      // Weights on the scale of ε, so no pair's probability is negligible.
      const s = fromData(n, symmetricData(n, () => epsilon * (3 * rand() - 1.5)));
      const est = makePerturbed((x) => maxSpanningForest(x, k), {
        epsilon,
        samples: B,
        noise: "gumbel",
      })(s, 4000 + c);
      let z = 0;
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) z += Math.exp(s.data[i * n + j] / epsilon);
      }
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          const p = Math.exp(s.data[i * n + j] / epsilon) / z;
          const sd = Math.sqrt((p * (1 - p)) / B);
          assert.ok(Math.abs(est.adjacency.data[i * n + j] - p) < 6 * sd, `Â (${i}, ${j})`);
          assert.ok(Math.abs(est.connectivity.data[i * n + j] - p) < 6 * sd, `M̂ (${i}, ${j})`);
        }
      }
      const eulerGamma = 0.5772156649015329;
      const exactF = 2 * epsilon * (Math.log(z) + eulerGamma);
      const sdF = 2 * epsilon * Math.sqrt(Math.PI ** 2 / 6 / B);
      assert.ok(Math.abs(est.value - exactF) < 6 * sdF, `F̂ ${est.value} vs ${exactF}`);
    }
  });

  await t.step("the noise has the documented law: N(0, 1) or standard Gumbel, scaled by ε", () => {
    // Pooled (Σ_b − Σ)/ε over 28 pairs × 1000 samples: mean and variance within 6 standard
    // errors (SE of the variance √((μ₄ − σ⁴)/N): kurtosis 3 for the normal, 5.4 for Gumbel).
    for (
      const [noise, mean, variance, kurtosis] of [
        ["gaussian", 0, 1, 3],
        ["gumbel", 0.5772156649015329, Math.PI ** 2 / 6, 5.4],
      ] as const
    ) {
      const n = 8, epsilon = 0.37, rec = recording(3);
      const s = fromData(n, symmetricData(n, () => 0.5));
      makePerturbed(rec.solver, { epsilon, samples: 1000, noise })(s, 12);
      const xs: number[] = [];
      for (const { sigma: p } of rec.seen) {
        for (let i = 0; i < n; i++) {
          for (let j = i + 1; j < n; j++) xs.push((p[i * n + j] - 0.5) / epsilon);
        }
      }
      const N = xs.length, m = xs.reduce((a, b) => a + b, 0) / N;
      const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / (N - 1);
      assert.ok(Math.abs(m - mean) < 6 * Math.sqrt(variance / N), `${noise} mean ${m}`);
      const seVar = Math.sqrt(((kurtosis - 1) * variance ** 2) / N);
      assert.ok(Math.abs(v - variance) < 6 * seVar, `${noise} variance ${v}`);
    }
  });
});

Deno.test("makePerturbed accepts the solver and k separately, or says how", () => {
  const x = [0, 1, 10, 11, 20];
  const sigma = matrix(x.map((a) => x.map((b) => -Math.abs(a - b))));
  const opts = { epsilon: 0.5, samples: 20, noise: "gaussian" } as const;
  const bound = makePerturbed((s) => maxSpanningForest(s, 2), opts)(sigma, 3);
  const separate = makePerturbed(maxSpanningForest, { ...opts, k: 2 })(sigma, 3);
  assert.deepEqual(separate, bound);
  // What users first try: the solver with no k (it said "Expected k to be a number").
  assert.throws(
    () => makePerturbed(maxSpanningForest as never, opts),
    /takes \(sigma, k\) but no k: pass \{ k \} in the options/,
  );
  // A solver with k bound ignores a k in shared options.
  assert.deepEqual(
    makePerturbed((s) => maxSpanningForest(s, 2), { ...opts, k: 5 })(sigma, 3),
    bound,
  );
  assert.throws(() => makePerturbed(maxSpanningForest, { ...opts, k: 0 }), /Invalid k = 0/);
});
