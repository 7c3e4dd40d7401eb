import assert from "node:assert/strict";
import { ConvergenceError } from "../core/errors.ts";
import { rectFromData, rectMatrix } from "../core/rect_matrix.ts";
import { streamFor, uniformOpen01 } from "../core/random.ts";
import {
  sinkhorn,
  sinkhornCostGradient,
  squaredEuclideanCost,
  squaredEuclideanGradients,
} from "./sinkhorn.ts";

function randomCost(n: number, k: number, scale: number, seed: number, offset = 0) {
  const rng = streamFor(seed);
  const data = new Float64Array(n * k);
  for (let t = 0; t < data.length; t++) data[t] = offset + scale * uniformOpen01(rng);
  return rectFromData(n, k, data);
}

function rowSums(p: { rows: number; cols: number; data: Float64Array }) {
  const out = new Float64Array(p.rows);
  for (let i = 0; i < p.rows; i++) {
    for (let j = 0; j < p.cols; j++) out[i] += p.data[i * p.cols + j];
  }
  return out;
}

function colSums(p: { rows: number; cols: number; data: Float64Array }) {
  const out = new Float64Array(p.cols);
  for (let i = 0; i < p.rows; i++) {
    for (let j = 0; j < p.cols; j++) out[j] += p.data[i * p.cols + j];
  }
  return out;
}

Deno.test("sinkhorn", async (t) => {
  await t.step("2 × 2 matches the closed form P_00 = sigmoid(1/ε)/2", () => {
    // For a = b = (1/2, 1/2) and C = [[0, 1], [1, 0]], the Gibbs form forces
    // P_00 P_11 / (P_01 P_10) = exp(2/ε) and symmetry gives P_00 = P_11 = 1/2 − P_01.
    for (const eps of [0.3, 1, 5]) {
      const r = sinkhorn(rectMatrix([[0, 1], [1, 0]]), [0.5, 0.5], [0.5, 0.5], {
        epsilon: eps,
        tol: 1e-14,
      });
      const expected = 0.5 / (1 + Math.exp(-1 / eps));
      assert.ok(r.converged);
      assert.ok(Math.abs(r.plan.data[0] - expected) < 1e-12, `ε = ${eps}: ${r.plan.data[0]}`);
      assert.ok(Math.abs(r.plan.data[1] - (0.5 - expected)) < 1e-12);
    }
  });

  await t.step("ε = 1e-3 on costs of scale 1e2 does not underflow", () => {
    const n = 50, k = 5;
    const cost = randomCost(n, k, 100, 11, 100); // C_ij ∈ [100, 200]
    // A plain (non-log) Sinkhorn kernel exp(−C/ε) would be all zeros here:
    for (const c of cost.data) assert.equal(Math.exp(-c / 1e-3), 0);
    const a = new Float64Array(n).fill(1 / n), b = new Float64Array(k).fill(1 / k);
    const r = sinkhorn(cost, a, b, { epsilon: 1e-3, maxIters: 100_000, tol: 1e-9 });
    assert.ok(r.converged, `marginal error ${r.marginalError} after ${r.iterations}`);
    for (const v of r.plan.data) assert.ok(Number.isFinite(v) && v >= 0);
    for (const s of rowSums(r.plan)) assert.ok(Math.abs(s - 1 / n) < 1e-12);
    const cols = colSums(r.plan);
    let err = 0;
    for (let j = 0; j < k; j++) err += Math.abs(cols[j] - 1 / k);
    assert.ok(err <= 1e-9 + 1e-15, `column error ${err}`);
    // The reported error is measured in the log domain: potentials ≈ 1e2 carry rounding
    // ≈ 1e-14, i.e. ≈ 1e-11 after division by ε, so the two measures agree to ≈ 1e-11.
    assert.ok(Math.abs(err - r.marginalError) < 1e-10);
    assert.ok(Number.isFinite(r.objective) && Number.isFinite(r.cost));
    for (const v of r.f) assert.ok(Number.isFinite(v));
    for (const v of r.g) assert.ok(Number.isFinite(v));
    // Nearly hard: every point sends almost all of its 1/n to one cluster.
    for (let i = 0; i < n; i++) {
      const row = Array.from(r.plan.data.subarray(i * k, (i + 1) * k));
      assert.ok(Math.max(...row) > 0.5 / n);
    }
  });

  await t.step("objective equals ⟨P, C⟩ + ε KL(P ‖ a bᵀ) computed from the plan", () => {
    const cost = randomCost(7, 3, 4, 5);
    const a = [0.1, 0.2, 0.05, 0.15, 0.2, 0.2, 0.1], b = [0.5, 0.3, 0.2];
    const eps = 0.7;
    const r = sinkhorn(cost, a, b, { epsilon: eps, tol: 1e-13 });
    let primal = 0;
    for (let i = 0; i < 7; i++) {
      for (let j = 0; j < 3; j++) {
        const p = r.plan.data[i * 3 + j];
        primal += p * cost.data[i * 3 + j] + eps * p * Math.log(p / (a[i] * b[j]));
      }
    }
    assert.ok(Math.abs(primal - r.objective) < 1e-10, `${primal} vs ${r.objective}`);
    assert.ok(r.objective >= r.cost - 1e-12); // KL ≥ 0
  });

  await t.step("a constant cost gives the independent plan a bᵀ", () => {
    const cost = rectFromData(3, 2, new Float64Array(6).fill(2.5));
    const a = [0.2, 0.3, 0.5], b = [0.4, 0.6];
    const r = sinkhorn(cost, a, b, { epsilon: 0.01 });
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 2; j++) assert.ok(Math.abs(r.plan.data[i * 2 + j] - a[i] * b[j]) < 1e-15);
    }
    assert.ok(Math.abs(r.objective - 2.5) < 1e-12);
  });

  await t.step("zero-mass rows and columns get zero plan entries", () => {
    const cost = randomCost(3, 3, 1, 2);
    const r = sinkhorn(cost, [0.5, 0, 0.5], [0, 0.5, 0.5], { epsilon: 0.1 });
    assert.ok(r.converged);
    for (let j = 0; j < 3; j++) assert.equal(r.plan.data[3 + j], 0);
    for (let i = 0; i < 3; i++) assert.equal(r.plan.data[i * 3], 0);
    assert.ok(Number.isFinite(r.objective));
  });

  await t.step("a warm start from the converged g needs a single iteration", () => {
    const cost = randomCost(20, 4, 10, 3);
    const a = new Float64Array(20).fill(1 / 20), b = new Float64Array(4).fill(1 / 4);
    const cold = sinkhorn(cost, a, b, { epsilon: 0.5 });
    const warm = sinkhorn(cost, a, b, { epsilon: 0.5, initialG: cold.g });
    assert.ok(cold.iterations > 1);
    assert.equal(warm.iterations, 1);
    assert.ok(warm.converged);
  });

  await t.step("does not mutate its inputs", () => {
    const cost = randomCost(4, 2, 3, 9);
    const copy = cost.data.slice();
    const a = new Float64Array([0.25, 0.25, 0.25, 0.25]), b = new Float64Array([0.5, 0.5]);
    const g0 = new Float64Array([1, -1]);
    sinkhorn(cost, a, b, { epsilon: 0.2, initialG: g0 });
    assert.deepEqual(cost.data, copy);
    assert.deepEqual(Array.from(a), [0.25, 0.25, 0.25, 0.25]);
    assert.deepEqual(Array.from(b), [0.5, 0.5]);
    assert.deepEqual(Array.from(g0), [1, -1]);
  });
});

Deno.test("sinkhorn: non-convergence and bad input", async (t) => {
  await t.step("reports non-convergence, or throws with requireConvergence", () => {
    const cost = randomCost(30, 3, 100, 4);
    const a = new Float64Array(30).fill(1 / 30), b = new Float64Array(3).fill(1 / 3);
    const opts = { epsilon: 0.01, maxIters: 3, epsilonScaling: 1 };
    const r = sinkhorn(cost, a, b, opts);
    assert.equal(r.converged, false);
    assert.equal(r.iterations, 3);
    assert.ok(r.marginalError > 1e-9 && Number.isFinite(r.marginalError));
    // The returned plan is still usable: rows exact, entries finite.
    for (const s of rowSums(r.plan)) assert.ok(Math.abs(s - 1 / 30) < 1e-12);
    assert.throws(
      () => sinkhorn(cost, a, b, { ...opts, requireConvergence: true }),
      (e: unknown) => e instanceof ConvergenceError && /after 3 iterations/.test(e.message),
    );
    // Running out of budget during ε-scaling is reported at the target ε too.
    const scaled = sinkhorn(cost, a, b, { epsilon: 1e-3, maxIters: 5 });
    assert.equal(scaled.converged, false);
    assert.equal(scaled.epsilon, 1e-3);
    for (const s of rowSums(scaled.plan)) assert.ok(Math.abs(s - 1 / 30) < 1e-12);
  });

  await t.step("bad input gives typed errors naming the argument", () => {
    const ok = rectMatrix([[0, 1], [1, 0]]);
    const h = [0.5, 0.5];
    const e = { epsilon: 1 };
    const cases: [() => unknown, string, RegExp][] = [
      [() => sinkhorn(rectMatrix([[0, -1], [1, 0]]), h, h, e), "RangeError", /cost\[0\]\[1\] = -1/],
      [
        () => sinkhorn(rectFromData(1, 2, new Float64Array([0, NaN])), [1], h, e),
        "RangeError",
        /cost\[0\]\[1\] = NaN/,
      ],
      [
        () => sinkhorn(rectFromData(1, 2, new Float64Array([0, Infinity])), [1], h, e),
        "RangeError",
        /cost\[0\]\[1\] = Infinity/,
      ],
      [() => sinkhorn(ok, [1.5, -0.5], h, e), "RangeError", /a\[1\] = -0\.5/],
      [() => sinkhorn(ok, h, [0.5, NaN], e), "RangeError", /b\[1\] = NaN/],
      [() => sinkhorn(ok, [1], h, e), "RangeError", /Invalid a: it has length 1/],
      [() => sinkhorn(ok, h, [0.2, 0.2, 0.6], e), "RangeError", /Invalid b: it has length 3/],
      [() => sinkhorn(ok, h, [0.5, 0.6], e), "RangeError", /a has total mass 1 but b has 1\.1/],
      [() => sinkhorn(ok, [0, 0], [0, 0], e), "RangeError", /Invalid a: its total mass is 0/],
      [() => sinkhorn(ok, h, h, { epsilon: 0 }), "RangeError", /Invalid epsilon = 0/],
      [() => sinkhorn(ok, h, h, { epsilon: -1 }), "RangeError", /Invalid epsilon = -1/],
      [() => sinkhorn(ok, h, h, { epsilon: NaN }), "RangeError", /Invalid epsilon = NaN/],
      [() => sinkhorn(ok, h, h, { epsilon: 1, maxIters: 0 }), "RangeError", /maxIters = 0/],
      [() => sinkhorn(ok, h, h, { epsilon: 1, tol: -1 }), "RangeError", /tol = -1/],
      [
        () => sinkhorn(ok, h, h, { epsilon: 1, epsilonScaling: 2 }),
        "RangeError",
        /epsilonScaling = 2/,
      ],
      [
        () => sinkhorn(ok, h, h, { epsilon: 1, initialG: new Float64Array(3) }),
        "RangeError",
        /initialG/,
      ],
      [
        () => sinkhorn({ rows: 2, cols: 2, data: new Float64Array(3) }, h, h, e),
        "RangeError",
        /cost\.data: length 3/,
      ],
      [() => sinkhorn(null as never, h, h, e), "TypeError", /cost/],
      [() => sinkhorn(ok, "x" as never, h, e), "TypeError", /Expected a to be/],
    ];
    for (const [fn, name, message] of cases) assert.throws(fn, { name, message });
  });
});

Deno.test("sinkhornCostGradient returns a copy of the plan", () => {
  const r = sinkhorn(rectMatrix([[0, 2], [1, 0]]), [0.5, 0.5], [0.5, 0.5], { epsilon: 1 });
  const grad = sinkhornCostGradient(r);
  assert.deepEqual(grad.data, r.plan.data);
  assert.notEqual(grad.data, r.plan.data);
  assert.throws(() => sinkhornCostGradient({} as never), { name: "TypeError" });
});

Deno.test("squaredEuclideanCost and its gradients", async (t) => {
  await t.step("cost entries are squared distances", () => {
    const c = squaredEuclideanCost([[0, 0], [3, 4]], [[0, 0], [1, 1], [3, 0]]);
    assert.deepEqual([c.rows, c.cols], [2, 3]);
    assert.deepEqual(Array.from(c.data), [0, 2, 9, 25, 13, 16]);
  });
  await t.step("gradients are plan-weighted differences (hand-computed)", () => {
    const plan = rectMatrix([[0.25, 0.25], [0, 0.5]]);
    const g = squaredEuclideanGradients([[1, 0], [0, 2]], [[0, 0], [2, 2]], plan);
    // x_0: 0.25·2·(1,0) + 0.25·2·(−1,−2) = (0, −1); x_1: 0.5·2·(−2, 0) = (−2, 0)
    assert.deepEqual(Array.from(g.points.data), [0, -1, -2, 0]);
    // c_0: 0.25·2·(−1, 0) = (−0.5, 0); c_1: 0.25·2·(1, 2) + 0.5·2·(2, 0) = (2.5, 1)
    assert.deepEqual(Array.from(g.centroids.data), [-0.5, 0, 2.5, 1]);
  });
  await t.step("shape mismatches are RangeErrors naming the argument", () => {
    assert.throws(() => squaredEuclideanCost([[0, 0]], [[0]]), {
      name: "RangeError",
      message: /centroids: they have dimension 1 but points have dimension 2/,
    });
    assert.throws(() => squaredEuclideanGradients([[0]], [[0]], rectMatrix([[1, 0]])), {
      name: "RangeError",
      message: /Invalid plan: shape 1 × 2/,
    });
    assert.throws(() => squaredEuclideanCost([[0], [NaN]], [[0]]), {
      name: "RangeError",
      message: /points\[1\]\[0\] = NaN/,
    });
  });
});
