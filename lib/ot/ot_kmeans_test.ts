import assert from "node:assert/strict";
import { kMeans } from "./kmeans.ts";
import { balancedAssignment, otKMeans, otKMeansLoss, targetCounts } from "./ot_kmeans.ts";
import { standardNormal, streamFor, uniformOpen01 } from "../core/random.ts";
import { rectFromData } from "../core/rect_matrix.ts";

/** `sizes[b]` points around `centres[b]` with isotropic Gaussian spread `spread`. */
function blobs(
  centres: readonly (readonly number[])[],
  sizes: readonly number[],
  spread: number,
  seed: number,
): number[][] {
  const rng = streamFor(seed);
  const points: number[][] = [];
  centres.forEach((c, b) => {
    for (let s = 0; s < sizes[b]; s++) points.push(c.map((v) => v + spread * standardNormal(rng)));
  });
  return points;
}

function clusterSizes(labels: ArrayLike<number>, k: number): number[] {
  const sizes = new Array(k).fill(0);
  for (let i = 0; i < labels.length; i++) sizes[labels[i]]++;
  return sizes;
}

Deno.test("otKMeans", async (t) => {
  // One dense big blob (60 points) and two small ones (15 each), far apart: plain k-means
  // finds the blobs, sizes (60, 15, 15); uniform size constraints ask for 30 each.
  const points = blobs([[0, 0], [8, 0], [0, 8]], [60, 15, 15], 1, 4);
  const n = points.length, k = 3;

  await t.step("plain k-means is badly unbalanced on this data", () => {
    const sizes = clusterSizes(kMeans(points, k, { seed: 1 }).labels, k).sort((a, b) => b - a);
    assert.ok(sizes[0] >= 55, `k-means sizes ${sizes}`);
  });

  await t.step("uniform sizes: rounded assignments within 1 point of n/k", () => {
    for (const seed of [1, 2, 3]) {
      const r = otKMeans(points, k, { epsilon: 0.2, seed });
      assert.ok(r.converged && r.sinkhornConverged, `seed ${seed}`);
      assert.ok(r.lastSinkhorn.marginalError <= 1e-7);
      for (const s of clusterSizes(r.labels, k)) assert.ok(Math.abs(s - n / k) <= 1, `${s}`);
      assert.deepEqual(clusterSizes(r.balancedLabels, k), [30, 30, 30]);
      assert.deepEqual(Array.from(r.targetCounts), [30, 30, 30]);
      // Rows of the plan are the points' weights 1/n; columns the sizes 1/k.
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += r.plan.data[i * k + j];
        assert.ok(Math.abs(s - 1 / n) < 1e-12);
      }
    }
  });

  await t.step("non-uniform sizes are respected", () => {
    const r = otKMeans(points, k, { epsilon: 0.2, seed: 2, sizes: [0.5, 0.25, 0.25] });
    const sizes = clusterSizes(r.balancedLabels, k);
    assert.deepEqual(sizes, Array.from(r.targetCounts));
    assert.deepEqual(sizes.slice().sort((a, b) => a - b), [22, 23, 45]);
    for (const [j, s] of clusterSizes(r.labels, k).entries()) {
      assert.ok(Math.abs(s - r.targetCounts[j]) <= 1);
    }
  });

  await t.step("the objective never increases (exact alternating minimisation)", () => {
    const r = otKMeans(blobs([[0, 0], [3, 1]], [30, 30], 1.5, 9), 4, {
      epsilon: 0.2,
      seed: 5,
      sinkhorn: { tol: 1e-12 },
    });
    assert.ok(r.history.length >= 3);
    assert.equal(r.unconvergedSolves, 0); // the monotonicity argument needs exact solves
    for (let t = 1; t < r.history.length; t++) {
      assert.ok(r.history[t] <= r.history[t - 1] + 1e-9, `step ${t}: ${r.history}`);
    }
    assert.equal(r.history.length, r.iterations);
  });

  await t.step("same seed ⇒ identical result; inputs untouched", () => {
    const copy = structuredClone(points);
    const a = otKMeans(points, k, { epsilon: 0.1, seed: 8 });
    const b = otKMeans(points, k, { epsilon: 0.1, seed: 8 });
    assert.deepEqual(a.centroids.data, b.centroids.data);
    assert.deepEqual(a.history, b.history);
    assert.deepEqual(points, copy);
  });

  await t.step("bad input gives typed errors naming the argument", () => {
    const e = { epsilon: 0.1, seed: 1 };
    const cases: [() => unknown, string, RegExp][] = [
      [() => otKMeans([[0], [1]], 3, e), "RangeError", /Invalid k = 3.*for n = 2 points/],
      [() => otKMeans(points, 3, { ...e, epsilon: 0 }), "RangeError", /Invalid epsilon = 0/],
      [() => otKMeans(points, 2, { ...e, sizes: [0.5, 0.6] }), "RangeError", /sum to 1\.1/],
      [() => otKMeans(points, 2, { ...e, sizes: [1] }), "RangeError", /sizes: it has length 1/],
      [() => otKMeans(points, 2, { ...e, sizes: [1.5, -0.5] }), "RangeError", /sizes\[1\] = -0\.5/],
      [
        () => otKMeans(points, 2, { ...e, initialCentroids: [[0, 0]] }),
        "RangeError",
        /initialCentroids: shape 1 × 2 but k × d = 2 × 2/,
      ],
      [() => otKMeans([[0], [NaN]], 1, e), "RangeError", /points\[1\]\[0\] = NaN/],
      [() => otKMeans(points, 2, null as never), "TypeError", /options/],
    ];
    for (const [fn, name, message] of cases) assert.throws(fn, { name, message });
  });
});

Deno.test("targetCounts uses largest remainders", () => {
  assert.deepEqual(Array.from(targetCounts(10, [0.25, 0.25, 0.5])), [3, 2, 5]);
  assert.deepEqual(Array.from(targetCounts(7, [0.1, 0.3, 0.6])), [1, 2, 4]);
  for (const n of [1, 5, 13, 100]) {
    const r = [0.15, 0.35, 0.2, 0.3];
    const c = targetCounts(n, r);
    assert.equal(c.reduce((s, v) => s + v, 0), n);
    c.forEach((v, j) => assert.ok(Math.abs(v - n * r[j]) < 1));
  }
});

Deno.test("balancedAssignment", async (t) => {
  await t.step("sizes are exact and argmax is kept when it already fits", () => {
    const rng = streamFor(21);
    for (let trial = 0; trial < 50; trial++) {
      const n = 3 + (trial % 9), k = 1 + (trial % 4);
      const data = new Float64Array(n * k);
      for (let t = 0; t < data.length; t++) data[t] = Math.log(uniformOpen01(rng));
      const scores = rectFromData(n, k, data);
      const counts = targetCounts(n, new Array(k).fill(1 / k));
      assert.deepEqual(clusterSizes(balancedAssignment(scores, counts), k), Array.from(counts));
      // With the argmax sizes as targets, the argmax itself comes back.
      const argmax = Array.from({ length: n }, (_, i) => {
        const row = Array.from(data.subarray(i * k, (i + 1) * k));
        return row.indexOf(Math.max(...row));
      });
      const same = balancedAssignment(scores, clusterSizes(argmax, k));
      assert.deepEqual(Array.from(same), argmax);
    }
  });
  await t.step("−Infinity scores are allowed; bad counts are not", () => {
    const s = rectFromData(2, 2, new Float64Array([-Infinity, -Infinity, 0, -Infinity]));
    assert.deepEqual(Array.from(balancedAssignment(s, [1, 1])), [1, 0]);
    assert.throws(() => balancedAssignment(s, [2, 1]), { name: "RangeError", message: /sum to 3/ });
    assert.throws(() => balancedAssignment(s, [1]), { name: "RangeError", message: /counts/ });
    assert.throws(
      () => balancedAssignment(rectFromData(1, 1, new Float64Array([NaN])), [1]),
      { name: "RangeError", message: /scores\[0\]\[0\] = NaN/ },
    );
  });
});

Deno.test("otKMeansLoss is the Sinkhorn objective with chain-rule gradients", () => {
  const x = [[0, 1], [2, 0], [1, 1], [3, 3]], c = [[0, 0], [3, 2]];
  const r = otKMeansLoss(x, c, { epsilon: 0.5, tol: 1e-12 });
  assert.equal(r.loss, r.sinkhorn.objective);
  assert.ok(r.sinkhorn.converged);
  // Σ_i ∂/∂x_i + Σ_j ∂/∂c_j = 0: the loss is invariant to translating everything.
  for (let t = 0; t < 2; t++) {
    let s = 0;
    for (let i = 0; i < 4; i++) s += r.gradPoints.data[i * 2 + t];
    for (let j = 0; j < 2; j++) s += r.gradCentroids.data[j * 2 + t];
    assert.ok(Math.abs(s) < 1e-12);
  }
});

Deno.test("otKMeans: options are optional (seed 0, ε = 0.01 × mean squared distance)", () => {
  const pts = [[0, 0], [0, 1], [1, 0], [10, 10], [10, 11], [11, 10]];
  // Mean squared distance over all ordered pairs = 2 × total variance (computed by hand here).
  const n = pts.length;
  let meanSq = 0;
  for (const p of pts) for (const q of pts) meanSq += (p[0]! - q[0]!) ** 2 + (p[1]! - q[1]!) ** 2;
  meanSq /= n * n;
  const r = otKMeans(pts, 2);
  assert.deepEqual(r, otKMeans(pts, 2, { seed: 0, epsilon: 0.01 * meanSq }));
  assert.deepEqual(
    [...r.labels].map((l) => l === r.labels[0]),
    [true, true, true, false, false, false],
  );
  // Coincident points: ε falls back to 1 instead of 0.
  assert.equal(otKMeans([[1, 1], [1, 1], [1, 1]], 1).labels.length, 3);
});
