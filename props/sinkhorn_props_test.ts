import assert from "node:assert/strict";
import { fc } from "./deps.ts";
import { rectFromData, type RectMatrix } from "../lib/core/rect_matrix.ts";
import { sinkhorn, squaredEuclideanCost, squaredEuclideanGradients } from "../lib/ot/sinkhorn.ts";
import { balancedAssignment } from "../lib/ot/ot_kmeans.ts";

const SEED = 42;

/** An n × k cost matrix with entries in [lo, hi] plus positive marginals of equal mass 1. */
const problem = (lo: number, hi: number) =>
  fc.record({ n: fc.integer({ min: 1, max: 6 }), k: fc.integer({ min: 1, max: 4 }) }).chain((
    { n, k },
  ) =>
    fc.record({
      cost: fc.array(fc.double({ min: lo, max: hi, noNaN: true }), {
        minLength: n * k,
        maxLength: n * k,
      }).map((d) => rectFromData(n, k, Float64Array.from(d))),
      a: weights(n),
      b: weights(k),
      epsilon: fc.double({ min: 0.2, max: 2, noNaN: true }),
    })
  );

function weights(len: number) {
  return fc.array(fc.double({ min: 0.1, max: 1, noNaN: true }), {
    minLength: len,
    maxLength: len,
  }).map((w) => {
    const s = w.reduce((p, q) => p + q, 0);
    return Float64Array.from(w, (v) => v / s);
  });
}

function marginals(p: RectMatrix): { rows: Float64Array; cols: Float64Array } {
  const rows = new Float64Array(p.rows), cols = new Float64Array(p.cols);
  for (let i = 0; i < p.rows; i++) {
    for (let j = 0; j < p.cols; j++) {
      rows[i] += p.data[i * p.cols + j];
      cols[j] += p.data[i * p.cols + j];
    }
  }
  return { rows, cols };
}

function withEntry(m: RectMatrix, t: number, delta: number): RectMatrix {
  const data = m.data.slice();
  data[t] += delta;
  return { rows: m.rows, cols: m.cols, data };
}

Deno.test("sinkhorn properties", async (t) => {
  await t.step("at convergence the plan is ≥ 0 and has marginals a and b", () => {
    fc.assert(
      fc.property(problem(0, 10), ({ cost, a, b, epsilon }) => {
        const tol = 1e-10;
        const r = sinkhorn(cost, a, b, { epsilon, tol, maxIters: 100_000 });
        assert.ok(r.converged);
        for (const v of r.plan.data) assert.ok(v >= 0 && Number.isFinite(v));
        const { rows, cols } = marginals(r.plan);
        rows.forEach((s, i) => assert.ok(Math.abs(s - a[i]) < 1e-12));
        let err = 0;
        cols.forEach((s, j) => err += Math.abs(s - b[j]));
        assert.ok(err <= tol + 1e-13, `column error ${err}`);
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  await t.step("∂OT_ε/∂C = P (central finite differences, h = 1e-5)", () => {
    fc.assert(
      fc.property(problem(0.01, 5), fc.nat(), ({ cost, a, b, epsilon }, pick) => {
        // FD error: O(h²) truncation + (objective error ≈ 1e-14)/h; tolerance 1e-7 covers both.
        const opts = { epsilon, tol: 1e-14, maxIters: 200_000 };
        const r = sinkhorn(cost, a, b, opts);
        assert.ok(r.converged, `marginal error ${r.marginalError}`);
        const t = pick % cost.data.length, h = 1e-5;
        const up = sinkhorn(withEntry(cost, t, h), a, b, opts).objective;
        const down = sinkhorn(withEntry(cost, t, -h), a, b, opts).objective;
        const fd = (up - down) / (2 * h);
        assert.ok(Math.abs(fd - r.plan.data[t]) < 1e-7, `fd ${fd} vs plan ${r.plan.data[t]}`);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  await t.step("coordinate gradients for C_ij = ‖x_i − c_j‖² match finite differences", () => {
    const coords = (len: number) =>
      fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: len, maxLength: len });
    const arb = fc.record({
      n: fc.integer({ min: 1, max: 6 }),
      k: fc.integer({ min: 1, max: 3 }),
      d: fc.integer({ min: 1, max: 3 }),
    }).chain(({ n, k, d }) =>
      fc.record({
        x: coords(n * d).map((v) => rectFromData(n, d, Float64Array.from(v))),
        c: coords(k * d).map((v) => rectFromData(k, d, Float64Array.from(v))),
        epsilon: fc.double({ min: 0.5, max: 3, noNaN: true }),
        which: fc.boolean(),
        pick: fc.nat(),
      })
    );
    fc.assert(
      fc.property(arb, ({ x, c, epsilon, which, pick }) => {
        const n = x.rows, k = c.rows;
        const a = new Float64Array(n).fill(1 / n), b = new Float64Array(k).fill(1 / k);
        const opts = { epsilon, tol: 1e-14, maxIters: 200_000 };
        const value = (xx: RectMatrix, cc: RectMatrix) =>
          sinkhorn(squaredEuclideanCost(xx, cc), a, b, opts).objective;
        const r = sinkhorn(squaredEuclideanCost(x, c), a, b, opts);
        assert.ok(r.converged, `marginal error ${r.marginalError}`);
        const grad = squaredEuclideanGradients(x, c, r.plan);
        const h = 1e-5;
        const target = which ? x : c;
        const t = pick % target.data.length;
        const fd = which
          ? (value(withEntry(x, t, h), c) - value(withEntry(x, t, -h), c)) / (2 * h)
          : (value(x, withEntry(c, t, h)) - value(x, withEntry(c, t, -h))) / (2 * h);
        const analytic = which ? grad.points.data[t] : grad.centroids.data[t];
        assert.ok(Math.abs(fd - analytic) < 1e-6, `fd ${fd} vs ${analytic}`);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  await t.step("adding a constant to C leaves the plan unchanged", () => {
    fc.assert(
      fc.property(
        problem(0, 10),
        fc.double({ min: 0, max: 50, noNaN: true }),
        ({ cost, a, b, epsilon }, shift) => {
          const opts = { epsilon, tol: 1e-12, maxIters: 100_000 };
          const r = sinkhorn(cost, a, b, opts);
          const shifted = sinkhorn(
            { ...cost, data: cost.data.map((v) => v + shift) },
            a,
            b,
            opts,
          );
          r.plan.data.forEach((p, t) => assert.ok(Math.abs(p - shifted.plan.data[t]) < 1e-9));
          // Mass is 1, so both the transport cost and the objective move by exactly `shift`.
          assert.ok(Math.abs(shifted.objective - r.objective - shift) < 1e-8);
          assert.ok(Math.abs(shifted.cost - r.cost - shift) < 1e-8);
        },
      ),
      { seed: SEED, numRuns: 100 },
    );
  });

  await t.step("ε → 0 recovers the exact size-constrained assignment (brute force)", () => {
    // Instances: n ≤ 8 points, k ≤ 3 clusters, n divisible by k, a = 1/n, b = 1/k, so feasible
    // hard assignments put exactly n/k points in each cluster. Bounds used:
    //  • 0 ≤ OT_ε − OT_0 ≤ ε KL(P‖abᵀ) ≤ ε log k (KL here is a mutual information ≤ H(b)),
    //    and ⟨P_ε, C⟩ ≤ OT_ε, so OT_0 ≤ ⟨P_ε, C⟩ ≤ OT_0 + ε log k.
    //  • U(a, b) scaled by n is an integral polytope (totally unimodular), its vertices the
    //    hard assignments; writing P_ε = Σ λ_v V_v gives (1 − λ*) gap ≤ ε log k, with gap the
    //    difference between the best and second-best assignment costs (each / n). If
    //    ε log k / gap < 1/2, every row's best entry is the optimal assignment's, so argmax
    //    (and the greedy balanced rounding) equal the brute-force optimum.
    const arb = fc.constantFrom([2, 1], [2, 2], [4, 2], [6, 2], [8, 2], [3, 3], [6, 3]).chain((
      [n, k],
    ) =>
      fc.array(fc.integer({ min: 0, max: 100 }), { minLength: n * k, maxLength: n * k })
        .map((d) => rectFromData(n, k, Float64Array.from(d)))
    );
    const epsilon = 1e-3;
    let labelChecks = 0;
    fc.assert(
      fc.property(arb, (cost) => {
        const { rows: n, cols: k } = cost;
        const { best, second, labels } = bruteForce(cost);
        const r = sinkhorn(
          cost,
          new Float64Array(n).fill(1 / n),
          new Float64Array(k).fill(1 / k),
          { epsilon, tol: 1e-9, maxIters: 200_000 },
        );
        assert.ok(r.converged, `marginal error ${r.marginalError}`);
        const slack = 1e-9 * 100; // ⟨P, C⟩ moves by ≤ column error (1e-9) × max cost (100)
        assert.ok(r.cost >= best / n - slack, `${r.cost} < ${best / n}`);
        assert.ok(r.cost <= best / n + epsilon * Math.log(k) + slack);
        const gap = (second - best) / n;
        if (gap > 0 && (epsilon * Math.log(k)) / gap < 0.5) {
          labelChecks++;
          const argmax = Array.from({ length: n }, (_, i) => {
            const row = Array.from(r.plan.data.subarray(i * k, (i + 1) * k));
            return row.indexOf(Math.max(...row));
          });
          assert.deepEqual(argmax, labels);
          const logPlan = { ...r.plan, data: r.plan.data.map(Math.log) };
          const rounded = balancedAssignment(logPlan, new Array(k).fill(n / k));
          assert.deepEqual(Array.from(rounded), labels);
        }
      }),
      { seed: SEED, numRuns: 150 },
    );
    // Integer costs make ties (gap = 0) possible but rare: most instances must be checked.
    assert.ok(labelChecks > 100, `only ${labelChecks} instances had a unique optimum`);
  });
});

/** Best and second-best total cost over all assignments with exactly n/k points per cluster. */
function bruteForce(cost: RectMatrix): { best: number; second: number; labels: number[] } {
  const { rows: n, cols: k, data } = cost;
  const size = n / k;
  const labels = new Array(n).fill(0), room = new Array(k).fill(size);
  let best = Infinity, second = Infinity, bestLabels: number[] = [];
  const visit = (i: number, total: number) => {
    if (i === n) {
      if (total < best) {
        second = best;
        best = total;
        bestLabels = labels.slice();
      } else if (total < second) second = total;
      return;
    }
    for (let j = 0; j < k; j++) {
      if (room[j] === 0) continue;
      room[j]--;
      labels[i] = j;
      visit(i + 1, total + data[i * k + j]);
      room[j]++;
    }
  };
  visit(0, 0);
  return { best, second, labels: bestLabels };
}
