/**
 * Properties of the perturbed solvers and the (partial) Fenchel–Young losses: gradients
 * (Definition 6), Proposition 1, Proposition 2, convexity, MC rates, determinism.
 *
 * Monte-Carlo tolerances. Where an identity holds sample by sample under common random numbers
 * (CRN: same seed ⇒ same Z_b), it is checked to rounding precision. Where two estimators only
 * agree in expectation, the tolerance is 5 standard errors, SE = σ_max/√B with σ_max a bound on
 * the per-sample standard deviation derived in the comment next to the test.
 */
import assert from "node:assert/strict";
import { fc } from "./deps.ts";
import { fromData, type Matrix } from "../lib/core/matrix.ts";
import { maxSpanningForest } from "../lib/forest/spanning_forest.ts";
import {
  type Constraints,
  constraintsFromLabels,
  exactConstrainedSpanningForest,
} from "../lib/constrained/constrained_forest.ts";
import { makePerturbed, type PerturbedOptions } from "../lib/perturbed/perturbed.ts";
import { fyLoss, partialFyLoss } from "../lib/losses/fy_loss.ts";
import { scoreFunctionGradient } from "../lib/perturbed/score_function.ts";
import { symmetricNoise } from "../lib/core/noise.ts";
import { forEachForest, respects } from "./brute_force.ts";

/** Symmetric Σ from n(n−1)/2 upper-triangle values (diagonal 0). */
function symmetric(n: number, upper: readonly number[]): Matrix {
  const data = new Float64Array(n * n);
  for (let i = 0, t = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, t++) data[i * n + j] = data[j * n + i] = upper[t];
  }
  return fromData(n, data);
}

/** Continuous-looking Σ on a fine grid in [−3, 3] (ties have probability ~0). */
const sigmaArb = (minN: number, maxN: number) =>
  fc.integer({ min: minN, max: maxN }).chain((n) => {
    const m = (n * (n - 1)) / 2;
    // noBias: uniform integers, so ties (which break "unique optimum") have probability ~1e-7.
    return fc.array(fc.noBias(fc.integer({ min: -3e6, max: 3e6 })).map((v) => v / 1e6), {
      minLength: m,
      maxLength: m,
    }).map((u) => symmetric(n, u));
  });

/** A symmetric direction with entries in [−1, 1] for a given n. */
const directionArb = (n: number) =>
  fc.array(fc.noBias(fc.integer({ min: -1e6, max: 1e6 })).map((v) => v / 1e6), {
    minLength: (n * (n - 1)) / 2,
    maxLength: (n * (n - 1)) / 2,
  }).map((u) => symmetric(n, u));

/** Σ, a direction E, k and a 32-bit seed. */
const problemArb = (minN: number, maxN: number) =>
  sigmaArb(minN, maxN).chain((sigma) =>
    fc.record({
      sigma: fc.constant(sigma),
      direction: directionArb(sigma.n),
      k: fc.integer({ min: 1, max: sigma.n }),
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
    })
  );

/** Labels with some points unlabelled (null), from at most `classes` classes. */
const labelsArb = (n: number, classes: number) =>
  fc.array(fc.option(fc.integer({ min: 0, max: classes - 1 }), { nil: null, freq: 3 }), {
    minLength: n,
    maxLength: n,
  });

function plus(a: Matrix, h: number, e: Matrix): Matrix {
  return fromData(a.n, a.data.map((v, i) => v + h * e.data[i]));
}
function inner(a: Matrix, b: Matrix): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * b.data[i];
  return s;
}
/** Number of distinct labels among labelled points (the smallest feasible k, at least 1). */
function labelCount(labels: readonly (number | null)[]): number {
  return new Set(labels.filter((l) => l !== null)).size;
}
/** Number of must-link groups (the largest feasible k): unlabelled points + distinct labels. */
function groupCount(labels: readonly (number | null)[]): number {
  return labels.filter((l) => l === null).length + labelCount(labels);
}

const gaussian = (epsilon: number, samples: number): PerturbedOptions => ({
  epsilon,
  samples,
  noise: "gaussian",
});

Deno.test("1. ∇F_k = A*_k: central differences of the exact value along random directions", () => {
  // F is piecewise linear; with continuous Σ the optimum is unique a.s. and no breakpoint lies
  // within ±h, so the central difference equals ⟨A*, E⟩ up to rounding (≈ 1e-16·|Σ|/h).
  const h = 1e-6;
  fc.assert(
    fc.property(problemArb(2, 8), ({ sigma, direction, k }) => {
      const a = maxSpanningForest(sigma, k);
      const fd = (maxSpanningForest(plus(sigma, h, direction), k).value -
        maxSpanningForest(plus(sigma, -h, direction), k).value) / (2 * h);
      assert.ok(Math.abs(fd - inner(a.adjacency, direction)) < 1e-6, `fd ${fd}`);
    }),
    { seed: 42, numRuns: 200 },
  );
});

Deno.test("2a. ∇F_ε = A*_ε: finite differences of F̂_ε with common random numbers", () => {
  // With a fixed seed, F̂_ε(Σ) = (1/B) Σ_b F(Σ + εZ_b) is piecewise linear in Σ with gradient
  // Â_ε wherever no sample's argmax switches within ±h (probability ~0), so the identity is
  // checked to rounding precision, not MC precision.
  const h = 1e-7;
  fc.assert(
    fc.property(problemArb(3, 8), ({ sigma, direction, k, seed }) => {
      for (const noise of ["gaussian", "gumbel"] as const) {
        const perturbed = makePerturbed((s) => maxSpanningForest(s, k), {
          epsilon: 0.5,
          samples: 20,
          noise,
        });
        const fd = (perturbed(plus(sigma, h, direction), seed).value -
          perturbed(plus(sigma, -h, direction), seed).value) / (2 * h);
        const grad = inner(perturbed(sigma, seed).adjacency, direction);
        assert.ok(Math.abs(fd - grad) < 1e-5, `${noise}: fd ${fd} vs ⟨Â_ε, E⟩ ${grad}`);
      }
    }),
    { seed: 42, numRuns: 60 },
  );
});

Deno.test("2b. score-function estimate of ∇F_ε agrees with the pathwise Â_ε", () => {
  // Per-sample sd of the score-function entry (with baseline c ≈ F(Σ)): |F(Σ+εZ) − F(Σ)| ≤
  // 2ε Σ_{n−k edges}|z_e| ≤ 2ε√(n−k)‖z‖, so (F − c) z_ij / (2ε) has second moment ≤
  // (n − k) E[‖z‖² z_ij²] = (n − k)(m + 2), m = n(n−1)/2. For n = 4, k = 2: σ ≤ √16 = 4. The
  // pathwise entry has σ ≤ 1/2. Tolerance: 5 × (4 + 0.5)/√B per entry.
  const n = 4, k = 2, B = 20_000;
  const tolerance = 5 * (4 + 0.5) / Math.sqrt(B);
  fc.assert(
    fc.property(sigmaArb(n, n), fc.integer({ min: 0, max: 1e6 }), (sigma, seed) => {
      const solver = (s: Matrix) => maxSpanningForest(s, k);
      const opts = gaussian(1, B);
      const pathwise = makePerturbed(solver, opts)(sigma, seed).adjacency;
      const score = scoreFunctionGradient(solver, opts)(sigma, seed + 1);
      for (let u = 0; u < n * n; u++) {
        assert.ok(
          Math.abs(pathwise.data[u] - score.data[u]) < tolerance,
          `entry ${u}: pathwise ${pathwise.data[u]} vs score ${score.data[u]} (tol ${tolerance})`,
        );
      }
    }),
    { seed: 42, numRuns: 4 },
  );
});

Deno.test("3. Proposition 1: partial FY loss with exact solvers and ε → 0", async (t) => {
  // With ε = 1e-9 the perturbed argmaxes equal the unperturbed ones a.s. (continuous Σ), so the
  // estimates equal F(Σ) − F(Σ; M_Ω) and A*(Σ) − A*(Σ; M_Ω) up to O(ε) in the value.
  const opts = (k: number) => ({
    ...gaussian(1e-9, 3),
    k,
    constrainedSolver: "exact" as const,
  });
  const caseArb = sigmaArb(2, 7).chain((sigma) =>
    fc.record({
      sigma: fc.constant(sigma),
      labels: labelsArb(sigma.n, 3),
      seed: fc.integer({ min: 0, max: 1e6 }),
    }).chain((r) =>
      fc.integer({ min: Math.max(1, labelCount(r.labels)), max: groupCount(r.labels) }).map((
        k,
      ) => ({
        ...r,
        k,
      }))
    )
  );
  await t.step("loss = F(Σ) − F(Σ; M_Ω) ≥ 0 and grad = A*(Σ) − A*(Σ; M_Ω)", () => {
    fc.assert(
      fc.property(caseArb, ({ sigma, labels, k, seed }) => {
        const c = constraintsFromLabels(labels);
        const free = maxSpanningForest(sigma, k),
          bound = exactConstrainedSpanningForest(sigma, k, c);
        const { loss, grad } = partialFyLoss(opts(k))(sigma, c, seed);
        assert.ok(loss >= 0);
        assert.ok(Math.abs(loss - (free.value - bound.value)) < 1e-6);
        for (let u = 0; u < sigma.n ** 2; u++) {
          assert.equal(grad.data[u], free.adjacency.data[u] - bound.adjacency.data[u]);
        }
      }),
      { seed: 42, numRuns: 150 },
    );
  });
  await t.step("full information: equals the FY loss against M_Ω's best forest", () => {
    const fullArb = sigmaArb(2, 7).chain((sigma) =>
      fc.record({
        sigma: fc.constant(sigma),
        labels: fc.array(fc.integer({ min: 0, max: 2 }), {
          minLength: sigma.n,
          maxLength: sigma.n,
        }),
        seed: fc.integer({ min: 0, max: 1e6 }),
      })
    );
    fc.assert(
      fc.property(fullArb, ({ sigma, labels, seed }) => {
        const k = labelCount(labels), c = constraintsFromLabels(labels);
        const target = exactConstrainedSpanningForest(sigma, k, c).adjacency;
        // The default greedy is exact with every point labelled: check it, not only "exact".
        const partial = partialFyLoss({ ...gaussian(1e-9, 3), k })(sigma, c, seed);
        const full = fyLoss({ ...gaussian(1e-9, 3), k })(sigma, target, seed);
        assert.ok(Math.abs(partial.loss - full.loss) < 1e-6);
        assert.deepEqual(partial.grad.data, full.grad.data);
      }),
      { seed: 42, numRuns: 150 },
    );
  });
  await t.step("no information: loss and gradient exactly 0 (any ε, CRN)", () => {
    fc.assert(
      fc.property(problemArb(2, 8), ({ sigma, k, seed }) => {
        const c = constraintsFromLabels(new Array(sigma.n).fill(null));
        const { loss, grad } = partialFyLoss({ ...gaussian(0.5, 10), k })(sigma, c, seed);
        assert.equal(loss, 0);
        assert.ok(grad.data.every((g) => g === 0));
      }),
      { seed: 42, numRuns: 100 },
    );
  });
});

Deno.test("4. Proposition 2: partial loss ≤ min over y ∈ C_k(M_Ω) of the FY loss (CRN)", () => {
  // Sample by sample: F(Σ+εZ_b; M_Ω) ≥ ⟨Σ+εZ_b, y⟩ for every y in C_k(M_Ω), so the estimated
  // partial loss is ≤ every estimated FY loss with the same seed (exact constrained solver).
  const caseArb = sigmaArb(3, 6).chain((sigma) =>
    fc.record({
      sigma: fc.constant(sigma),
      labels: labelsArb(sigma.n, 2),
      seed: fc.integer({ min: 0, max: 1e6 }),
      noise: fc.constantFrom("gaussian" as const, "gumbel" as const),
    }).chain((r) =>
      fc.integer({ min: Math.max(1, labelCount(r.labels)), max: groupCount(r.labels) }).map((
        k,
      ) => ({
        ...r,
        k,
      }))
    )
  );
  fc.assert(
    fc.property(caseArb, ({ sigma, labels, seed, noise, k }) => {
      const c: Constraints = constraintsFromLabels(labels);
      const opts = { epsilon: 0.5, samples: 8, noise, k, constrainedSolver: "exact" as const };
      const partial = partialFyLoss(opts)(sigma, c, seed).loss;
      const full = fyLoss(opts);
      let best = Infinity, count = 0;
      forEachForest(sigma.n, k, (f) => {
        if (!respects(c, f.labels)) return;
        const data = new Float64Array(sigma.n ** 2);
        for (const [i, j] of f.edges) data[i * sigma.n + j] = data[j * sigma.n + i] = 1;
        best = Math.min(best, full(sigma, fromData(sigma.n, data), seed).loss);
        count++;
      });
      assert.ok(count > 0);
      assert.ok(partial <= best + 1e-9, `partial ${partial} > min FY ${best}`);
      assert.ok(partial >= 0);
    }),
    { seed: 42, numRuns: 60 },
  );
});

Deno.test("5. convexity, ranges, ε → 0 and the 1/√B rate", async (t) => {
  await t.step("F̂_ε is convex along random lines (midpoint, CRN)", () => {
    // Each F(· + εZ_b) is a max of linear functions, so the midpoint inequality holds sample
    // by sample; the slack covers rounding only.
    fc.assert(
      fc.property(problemArb(3, 8), fc.integer({ min: 1, max: 1e6 }), (p, step) => {
        const perturbed = makePerturbed((s) => maxSpanningForest(s, p.k), gaussian(0.3, 10));
        const far = plus(p.sigma, (step % 7) + 1, p.direction);
        const mid = plus(p.sigma, ((step % 7) + 1) / 2, p.direction);
        const [a, b, m] = [p.sigma, far, mid].map((s) => perturbed(s, p.seed).value);
        assert.ok(m <= (a + b) / 2 + 1e-9 * (1 + Math.abs(a) + Math.abs(b)));
      }),
      { seed: 42, numRuns: 100 },
    );
  });
  await t.step("Â_ε ∈ [0, 1] with zero diagonal; M̂_ε ∈ [0, 1] with unit diagonal", () => {
    fc.assert(
      fc.property(problemArb(2, 8), ({ sigma, k, seed }) => {
        const n = sigma.n;
        const { adjacency, connectivity } = makePerturbed(
          (s) => maxSpanningForest(s, k),
          { epsilon: 1, samples: 16, noise: "gumbel" },
        )(sigma, seed);
        for (let i = 0; i < n; i++) {
          assert.equal(adjacency.data[i * n + i], 0);
          assert.equal(connectivity.data[i * n + i], 1);
        }
        for (const v of [...adjacency.data, ...connectivity.data]) assert.ok(v >= 0 && v <= 1);
        // Each sample has n − k edges and Σ_i (cluster size)² same-cluster pairs ≥ n²/k.
        const edgeSum = adjacency.data.reduce((s, v) => s + v, 0);
        assert.ok(Math.abs(edgeSum - 2 * (n - k)) < 1e-9);
      }),
      { seed: 42, numRuns: 100 },
    );
  });
  await t.step("A*_ε → A* and M*_ε → M* as ε → 0 on instances with a unique optimum", () => {
    fc.assert(
      fc.property(problemArb(2, 8), ({ sigma, k, seed }) => {
        const forest = maxSpanningForest(sigma, k);
        // Grid Σ entries differ by ≥ 1e-6, so ε = 1e-9 × |z| never reorders them in practice.
        const est = makePerturbed((s) => maxSpanningForest(s, k), gaussian(1e-9, 5))(sigma, seed);
        assert.deepEqual(est.adjacency.data, forest.adjacency.data);
        // M* from the labels, written out here rather than read from the forest's connectivity.
        const n = sigma.n, labels = forest.labels;
        const connectivity = new Float64Array(n * n).map((_, u) =>
          labels[Math.floor(u / n)] === labels[u % n] ? 1 : 0
        );
        assert.deepEqual(est.connectivity.data, connectivity);
      }),
      { seed: 42, numRuns: 100 },
    );
  });
  await t.step("MC error of Â_ε shrinks like 1/√B", () => {
    // RMS error against a B = 2^15 reference, averaged over 12 seeds, for B = 16 and 1024: the
    // ratio should be √64 = 8; accept [4, 16] (the trend, robust to the fixed seeds).
    const sigma = symmetric(5, [0.3, -0.2, 0.1, 0.05, 0.4, -0.1, 0.2, 0.0, 0.15, -0.3]);
    const solver = (s: Matrix) => maxSpanningForest(s, 2);
    const reference = makePerturbed(solver, gaussian(0.3, 1 << 15))(sigma, 999).adjacency.data;
    const rms = (B: number) => {
      let total = 0;
      for (let seed = 0; seed < 12; seed++) {
        const est = makePerturbed(solver, gaussian(0.3, B))(sigma, seed).adjacency.data;
        total += est.reduce((s, v, u) => s + (v - reference[u]) ** 2, 0);
      }
      return Math.sqrt(total / 12);
    };
    const ratio = rms(16) / rms(1024);
    assert.ok(ratio > 4 && ratio < 16, `ratio ${ratio}`);
  });
  await t.step("antithetic sampling does not increase the error here", () => {
    const sigma = symmetric(4, [0.5, -0.2, 0.1, 0.3, -0.4, 0.2]);
    const solver = (s: Matrix) => maxSpanningForest(s, 2);
    const reference = makePerturbed(solver, gaussian(0.5, 1 << 15))(sigma, 7).adjacency.data;
    const err = (antithetic: boolean) => {
      let total = 0;
      for (let seed = 0; seed < 20; seed++) {
        const est = makePerturbed(solver, { ...gaussian(0.5, 64), antithetic })(sigma, seed);
        total += est.adjacency.data.reduce((s, v, u) => s + (v - reference[u]) ** 2, 0);
      }
      return total;
    };
    // Antithetic variance ≤ iid variance for monotone-in-z parts; allow 30% sampling slack.
    assert.ok(err(true) <= 1.3 * err(false));
  });
});

Deno.test("6. determinism: same seed ⇒ identical output; different seeds ⇒ different draws", () => {
  fc.assert(
    fc.property(problemArb(3, 7), ({ sigma, k, seed }) => {
      const c = constraintsFromLabels(
        Array.from({ length: sigma.n }, (_, i) => (i < 2 ? 0 : null)),
      );
      // Points 0 and 1 must-link: at most n − 1 clusters.
      const loss = partialFyLoss({ ...gaussian(0.5, 6), k: Math.min(k, sigma.n - 1) });
      const a = loss(sigma, c, seed), b = loss(sigma, c, seed);
      assert.equal(a.loss, b.loss);
      assert.deepEqual(a.grad.data, b.grad.data);
      // k = 1: the value sums n − 1 perturbed weights, so it differs when the draws do.
      const perturbed = makePerturbed((s) => maxSpanningForest(s, 1), gaussian(1, 4));
      assert.notEqual(perturbed(sigma, seed).value, perturbed(sigma, seed + 1).value);
      const z = symmetricNoise("gumbel", sigma.n, seed),
        w = symmetricNoise("gumbel", sigma.n, seed + 1);
      assert.notDeepEqual(z.data, w.data);
      assert.deepEqual(z.data, symmetricNoise("gumbel", sigma.n, seed).data);
    }),
    { seed: 42, numRuns: 100 },
  );
});
