import assert from "node:assert/strict";
import { kMeans, kMeansPlusPlus } from "./kmeans.ts";
import { standardNormal, streamFor } from "../core/random.ts";
import { samePartition } from "../../props/brute_force.ts";

/** `sizes[b]` points around `centres[b]` with isotropic Gaussian spread `spread`. */
function blobs(
  centres: readonly (readonly number[])[],
  sizes: readonly number[],
  spread: number,
  seed: number,
): { points: number[][]; truth: number[] } {
  const rng = streamFor(seed);
  const points: number[][] = [], truth: number[] = [];
  centres.forEach((c, b) => {
    for (let s = 0; s < sizes[b]; s++) {
      points.push(c.map((v) => v + spread * standardNormal(rng)));
      truth.push(b);
    }
  });
  return { points, truth };
}

Deno.test("kMeans", async (t) => {
  const { points, truth } = blobs([[0, 0], [10, 0], [0, 10]], [20, 15, 10], 0.5, 1);

  await t.step("recovers well separated blobs", () => {
    const r = kMeans(points, 3, { seed: 7 });
    assert.ok(r.converged);
    assert.ok(samePartition(r.labels, truth));
    // Inertia is the sum of squared distances to the returned centroids.
    let inertia = 0;
    for (let i = 0; i < points.length; i++) {
      const c = r.centroids.data.subarray(r.labels[i] * 2, r.labels[i] * 2 + 2);
      inertia += (points[i][0] - c[0]) ** 2 + (points[i][1] - c[1]) ** 2;
    }
    assert.ok(Math.abs(inertia - r.inertia) < 1e-9);
  });

  await t.step("same seed ⇒ identical result; k = n ⇒ zero inertia", () => {
    const a = kMeans(points, 4, { seed: 3 }), b = kMeans(points, 4, { seed: 3 });
    assert.deepEqual(a.centroids.data, b.centroids.data);
    assert.deepEqual(a.labels, b.labels);
    const few = points.slice(0, 5);
    assert.equal(kMeans(few, 5, { seed: 1 }).inertia, 0);
  });

  await t.step("k-means++ picks k distinct points even with duplicates", () => {
    const dup = [[1, 1], [1, 1], [1, 1], [2, 2]];
    const c = kMeansPlusPlus(dup, 3, 5);
    const rows = [0, 1, 2].map((j) => `${c.data[2 * j]},${c.data[2 * j + 1]}`);
    assert.ok(rows.includes("2,2"));
    assert.equal(rows.filter((r) => r === "1,1").length, 2);
  });

  await t.step("does not mutate the points", () => {
    const copy = structuredClone(points);
    kMeans(points, 3, { seed: 2 });
    assert.deepEqual(points, copy);
  });

  await t.step("bad input", () => {
    assert.throws(() => kMeans(points, 0, { seed: 1 }), { name: "RangeError", message: /k = 0/ });
    assert.throws(() => kMeans([[0], [1]], 3, { seed: 1 }), {
      name: "RangeError",
      message: /Invalid k = 3: k must be an integer in \[1, 2\] for n = 2 points/,
    });
    assert.throws(() => kMeans(points, 2, { seed: 1.5 }), { name: "RangeError", message: /seed/ });
    assert.throws(() => kMeans([[0], [1, 2]], 1, { seed: 1 }), {
      name: "RangeError",
      message: /points\[1\]/,
    });
  });
});

Deno.test("kMeans: options are optional; the default seed is 0 (deterministic)", () => {
  const pts = [[0, 0], [0, 1], [10, 10], [10, 11], [20, 0], [21, 0]];
  const a = kMeans(pts, 3);
  assert.deepEqual(a, kMeans(pts, 3, { seed: 0 }));
  assert.equal(new Set(a.labels).size, 3);
});
