/**
 * Soft k-means against OT k-means: the identities of the module doc, checked with the Sinkhorn
 * solver (an independent computation: alternating scalings, not the closed form), direct
 * evaluation of the primal objective, and central finite differences.
 */
import assert from "node:assert/strict";
import { softKMeansLoss } from "./soft_kmeans.ts";
import { otKMeansLoss } from "./ot_kmeans.ts";
import { sinkhorn, squaredEuclideanCost } from "./sinkhorn.ts";
import { standardNormal, streamFor, uniformOpen01 } from "../core/random.ts";
import { rectFromData, type RectMatrix } from "../core/rect_matrix.ts";

interface Instance {
  readonly x: RectMatrix;
  readonly c: RectMatrix;
  readonly r: Float64Array;
  readonly epsilon: number;
}

/** Random points, centroids, proportions and a temperature on the scale of the costs. */
function instance(seed: number, n: number, k: number, d: number): Instance {
  const rng = streamFor(seed);
  const gauss = (m: number) => Float64Array.from({ length: m }, () => standardNormal(rng));
  const r = Float64Array.from({ length: k }, () => 0.2 + uniformOpen01(rng));
  const total = r.reduce((s, v) => s + v, 0);
  for (let j = 0; j < k; j++) r[j] /= total;
  return {
    x: rectFromData(n, d, gauss(n * d)),
    c: rectFromData(k, d, gauss(k * d)),
    r,
    epsilon: 0.3 + uniformOpen01(rng),
  };
}

/** ⟨P, C⟩ + ε KL(P ‖ a rᵀ) with a = 1/n, evaluated term by term. */
function primal(plan: Float64Array, cost: Float64Array, n: number, r: Float64Array, eps: number) {
  const k = r.length;
  let value = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const p = plan[i * k + j];
      if (p > 0) value += p * cost[i * k + j] + eps * p * Math.log(p / (r[j] / n));
    }
  }
  return value;
}

function columnSums(plan: Float64Array, n: number, k: number): Float64Array {
  const q = new Float64Array(k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) q[j] += plan[i * k + j];
  return q;
}

const SEEDS = [1, 2, 3, 4, 5, 6];

Deno.test("soft k-means: the loss is the primal objective at its plan, and rows sum to 1/n", () => {
  for (const seed of SEEDS) {
    const { x, c, r, epsilon } = instance(seed, 23, 4, 3);
    const result = softKMeansLoss(x, c, { epsilon, sizes: r });
    const cost = squaredEuclideanCost(x, c).data;
    const value = primal(result.plan.data, cost, x.rows, r, epsilon);
    assert.ok(Math.abs(value - result.loss) <= 1e-12 * Math.max(1, Math.abs(value)), `${seed}`);
    for (let i = 0; i < x.rows; i++) {
      const row = result.plan.data.subarray(i * 4, i * 4 + 4).reduce((s, v) => s + v, 0);
      assert.ok(Math.abs(row - 1 / x.rows) < 1e-15, `row ${i}`);
    }
  }
});

Deno.test("soft k-means: no plan with the same row sums has a lower objective", () => {
  // The plan must be the minimiser over {P ≥ 0, P1 = a}: move mass within rows at random.
  const { x, c, r, epsilon } = instance(7, 15, 3, 2);
  const result = softKMeansLoss(x, c, { epsilon, sizes: r });
  const cost = squaredEuclideanCost(x, c).data;
  const rng = streamFor(70);
  for (let trial = 0; trial < 200; trial++) {
    const moved = Float64Array.from(result.plan.data);
    const i = Math.floor(uniformOpen01(rng) * x.rows);
    const from = Math.floor(uniformOpen01(rng) * 3), to = (from + 1) % 3;
    const delta = moved[i * 3 + from] * uniformOpen01(rng) * 0.5;
    moved[i * 3 + from] -= delta;
    moved[i * 3 + to] += delta;
    assert.ok(primal(moved, cost, x.rows, r, epsilon) >= result.loss - 1e-13, `trial ${trial}`);
  }
});

Deno.test("soft k-means is OT with the soft plan's own column sums, less ε KL(q ‖ r)", () => {
  for (const seed of SEEDS) {
    const { x, c, r, epsilon } = instance(seed, 31, 5, 4);
    const soft = softKMeansLoss(x, c, { epsilon, sizes: r });
    const q = columnSums(soft.plan.data, x.rows, 5);
    let kl = 0;
    for (let j = 0; j < 5; j++) kl += q[j] * Math.log(q[j] / r[j]);
    const a = new Float64Array(x.rows).fill(1 / x.rows);
    const ot = sinkhorn(squaredEuclideanCost(x, c), a, q, { epsilon, tol: 1e-13, maxIters: 1e5 });
    assert.ok(ot.converged, `seed ${seed}: Sinkhorn did not converge`);
    assert.ok(Math.abs(ot.objective - (soft.loss - epsilon * kl)) < 1e-9, `seed ${seed} loss`);
    for (let e = 0; e < soft.plan.data.length; e++) {
      assert.ok(Math.abs(ot.plan.data[e] - soft.plan.data[e]) < 1e-10, `seed ${seed} plan ${e}`);
    }
  }
});

Deno.test("the size constraint only raises the loss; equal loss and gradients when it is idle", () => {
  for (const seed of SEEDS) {
    const { x, c, r, epsilon } = instance(seed, 31, 4, 3);
    const soft = softKMeansLoss(x, c, { epsilon, sizes: r });
    const ot = otKMeansLoss(x, c, { epsilon, sizes: r, tol: 1e-12, maxIters: 1e5 });
    assert.ok(ot.loss >= soft.loss - 1e-9, `seed ${seed}: OT ${ot.loss} < soft ${soft.loss}`);
  }
  // Symmetric points about two symmetric centroids: the soft plan's columns are already
  // (1/2, 1/2), so with r = (1/2, 1/2) the constraint is idle and OT k-means is soft k-means.
  const x = [[-2, 0.3], [-1, -0.2], [1, 0.3], [2, -0.2]];
  const c = [[-1.5, 0], [1.5, 0]];
  const soft = softKMeansLoss(x, c, { epsilon: 2 });
  const ot = otKMeansLoss(x, c, { epsilon: 2, tol: 1e-13, maxIters: 1e5 });
  assert.ok(Math.abs(ot.loss - soft.loss) < 1e-10);
  for (let e = 0; e < 8; e++) {
    assert.ok(Math.abs(ot.gradPoints.data[e] - soft.gradPoints.data[e]) < 1e-9, `x ${e}`);
  }
  for (let e = 0; e < 4; e++) {
    assert.ok(Math.abs(ot.gradCentroids.data[e] - soft.gradCentroids.data[e]) < 1e-9, `c ${e}`);
  }
});

Deno.test("soft k-means gradients match central finite differences", () => {
  const { x, c, r, epsilon } = instance(11, 9, 3, 2);
  const base = softKMeansLoss(x, c, { epsilon, sizes: r });
  const h = 1e-6;
  const check = (m: RectMatrix, grad: Float64Array, which: string) => {
    for (let e = 0; e < m.data.length; e++) {
      const keep = m.data[e];
      m.data[e] = keep + h;
      const up = softKMeansLoss(x, c, { epsilon, sizes: r }).loss;
      m.data[e] = keep - h;
      const down = softKMeansLoss(x, c, { epsilon, sizes: r }).loss;
      m.data[e] = keep;
      const fd = (up - down) / (2 * h);
      assert.ok(Math.abs(fd - grad[e]) < 1e-7, `${which} ${e}: fd ${fd} vs ${grad[e]}`);
    }
  };
  check(x, base.gradPoints.data, "points");
  check(c, base.gradCentroids.data, "centroids");
});

Deno.test("soft k-means at low temperature is the k-means objective, within ε log(1/r)", () => {
  const { x, c, r } = instance(13, 40, 4, 3);
  const cost = squaredEuclideanCost(x, c).data;
  let hard = 0;
  let slack = 0;
  for (let i = 0; i < 40; i++) {
    let best = 0;
    for (let j = 1; j < 4; j++) if (cost[i * 4 + j] < cost[i * 4 + best]) best = j;
    hard += cost[i * 4 + best] / 40;
    slack += Math.log(1 / r[best]) / 40;
  }
  for (const epsilon of [1e-1, 1e-2, 1e-4]) {
    const { loss } = softKMeansLoss(x, c, { epsilon, sizes: r });
    assert.ok(loss <= hard + epsilon * slack + 1e-12, `ε ${epsilon}: ${loss} above the bound`);
    assert.ok(loss >= hard - 1e-12, `ε ${epsilon}: ${loss} below k-means`);
  }
});

Deno.test("soft k-means rejects bad input before any work, naming it", () => {
  assert.throws(() => softKMeansLoss([[0]], [[1]], { epsilon: 0 }), /epsilon/);
  assert.throws(() => softKMeansLoss([[0]], [[1]], { epsilon: NaN }), /epsilon/);
  assert.throws(() => softKMeansLoss([[0]], [[1], [2]], { epsilon: 1, sizes: [1] }), /sizes/);
  assert.throws(() => softKMeansLoss([[0, 1]], [[1]], { epsilon: 1 }), RangeError);
  assert.throws(() => softKMeansLoss([[NaN]], [[1]], { epsilon: 1 }), RangeError);
});
