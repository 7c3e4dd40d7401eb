import assert from "node:assert/strict";
import {
  linearMap,
  makeBlobs,
  makeCircles,
  makeMoons,
  makeUniform,
  type Point,
  SKLEARN_ANISO_TRANSFORM,
  SKLEARN_BLOB_CENTRES,
  standardScale,
  TOY_DATASET_IDS,
  toyDatasets,
} from "./datasets.ts";

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const std = (xs: readonly number[]) => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
};
/** Noise values: coordinates of the noisy points minus those of the noise-free ones. */
const residuals = (noisy: readonly Point[], clean: readonly Point[]) =>
  noisy.flatMap((p, i) => [p[0] - clean[i][0], p[1] - clean[i][1]]);

// With m iid N(0, σ²) values the sample std has standard error ≈ σ/√(2m); tolerances below are
// about 6 standard errors, so a correct generator fails with negligible probability (and the
// seeds are fixed anyway).

Deno.test("makeMoons", async (t) => {
  await t.step("noise-free points lie on the two half circles, split ⌊n/2⌋ / ⌈n/2⌉", () => {
    const { points, labels } = makeMoons(11, 0, 3);
    assert.deepEqual([...labels!], [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    points.forEach(([x, y], i) => {
      const [cx, cy] = labels![i] === 0 ? [0, 0] : [1, 0.5];
      assert.ok(Math.abs(Math.hypot(x - cx, y - cy) - 1) < 1e-12);
      assert.ok(labels![i] === 0 ? y >= -1e-12 : y <= 0.5 + 1e-12, "upper/lower half");
    });
  });
  await t.step("noise is iid N(0, noise²) around the noise-free points", () => {
    const noisy = makeMoons(2000, 0.05, 7).points;
    const r = residuals(noisy, makeMoons(2000, 0, 7).points);
    assert.ok(Math.abs(mean(r)) < 6 * 0.05 / Math.sqrt(r.length));
    assert.ok(Math.abs(std(r) - 0.05) < 6 * 0.05 / Math.sqrt(2 * r.length), `std ${std(r)}`);
  });
  await t.step("same seed ⇒ same points; another seed ⇒ other points", () => {
    assert.deepEqual(makeMoons(50, 0.1, 1), makeMoons(50, 0.1, 1));
    assert.notDeepEqual(makeMoons(50, 0.1, 1).points, makeMoons(50, 0.1, 2).points);
  });
  await t.step("rejects bad arguments, naming them", () => {
    assert.throws(() => makeMoons(1, 0.1, 0), /Invalid n = 1/);
    assert.throws(() => makeMoons(10, -1, 0), /Invalid noise = -1/);
  });
});

Deno.test("makeCircles", async (t) => {
  await t.step("noise-free radii are 1 and factor, angles evenly spaced", () => {
    const { points, labels } = makeCircles(9, 0.3, 0, 0);
    points.forEach((p, i) =>
      assert.ok(Math.abs(Math.hypot(...p) - (labels![i] === 0 ? 1 : 0.3)) < 1e-12)
    );
    // 4 outer points at 0°, 90°, 180°, 270°.
    assert.deepEqual(points[1].map((v) => +v.toFixed(12)), [0, 1]);
  });
  await t.step("noise has the requested standard deviation", () => {
    const r = residuals(
      makeCircles(2000, 0.5, 0.05, 9).points,
      makeCircles(2000, 0.5, 0, 9).points,
    );
    assert.ok(Math.abs(std(r) - 0.05) < 6 * 0.05 / Math.sqrt(2 * r.length));
  });
  await t.step("rejects a factor outside (0, 1)", () => {
    assert.throws(() => makeCircles(10, 1, 0, 0), /Invalid factor = 1/);
  });
});

Deno.test("makeBlobs", async (t) => {
  await t.step("splits n evenly, first blobs one larger", () => {
    const { labels } = makeBlobs(11, SKLEARN_BLOB_CENTRES, [1, 1, 1], 0);
    assert.deepEqual([0, 1, 2].map((c) => labels!.filter((l) => l === c).length), [4, 4, 3]);
  });
  await t.step("blob c has mean ≈ centre and std ≈ stds[c]", () => {
    const stds = [1, 2.5, 0.5];
    const n = 3000;
    const { points, labels } = makeBlobs(n, SKLEARN_BLOB_CENTRES, stds, 5);
    for (let c = 0; c < 3; c++) {
      for (let d = 0; d < 2; d++) {
        const xs = points.filter((_, i) => labels![i] === c).map((p) => p[d]);
        assert.ok(
          Math.abs(mean(xs) - SKLEARN_BLOB_CENTRES[c][d]) < 6 * stds[c] / Math.sqrt(xs.length),
        );
        assert.ok(Math.abs(std(xs) - stds[c]) < 6 * stds[c] / Math.sqrt(2 * xs.length));
      }
    }
  });
  await t.step("rejects mismatched stds", () => {
    assert.throws(() => makeBlobs(10, [[0, 0]], [1, 2], 0), /stds/);
  });
});

Deno.test("linearMap is x ↦ x·T and composes like matrix products", () => {
  const pts: Point[] = [[1, 0], [0, 1], [2, -3]];
  assert.deepEqual(linearMap(pts.slice(0, 2), SKLEARN_ANISO_TRANSFORM), SKLEARN_ANISO_TRANSFORM);
  const s: Point[] = [[2, 1], [0, 3]];
  const st: Point[] = [[2 * 0.6 + 1 * -0.4, 2 * -0.6 + 1 * 0.8], [3 * -0.4, 3 * 0.8]];
  const twice = linearMap(linearMap(pts, s), SKLEARN_ANISO_TRANSFORM);
  linearMap(pts, st).forEach((p, i) =>
    p.forEach((v, d) => assert.ok(Math.abs(v - twice[i][d]) < 1e-12))
  );
});

Deno.test("makeUniform covers the unit square evenly", () => {
  const { points, labels } = makeUniform(4000, 2);
  assert.equal(labels, null);
  assert.ok(points.every(([x, y]) => x > 0 && x < 1 && y > 0 && y < 1));
  // Uniform(0, 1) has std 1/√12; mean within 6 standard errors of 1/2.
  for (const d of [0, 1]) {
    assert.ok(Math.abs(mean(points.map((p) => p[d])) - 0.5) < 6 / Math.sqrt(12 * 4000));
  }
});

Deno.test("standardScale gives zero mean, unit variance, and does not mutate", () => {
  const pts: Point[] = [[1, 10], [2, 30], [6, 20]];
  const copy = pts.map((p) => [...p]);
  const s = standardScale(pts);
  assert.deepEqual(pts, copy);
  for (const d of [0, 1]) {
    const xs = s.map((p) => p[d]);
    assert.ok(Math.abs(mean(xs)) < 1e-12);
    assert.ok(Math.abs(std(xs) - 1) < 1e-12);
  }
});

Deno.test("toyDatasets: the five sklearn datasets, standardised, with ground truth but one", () => {
  const sets = toyDatasets(90, 4);
  assert.deepEqual(sets.map((d) => d.id), [...TOY_DATASET_IDS]);
  for (const d of sets) {
    assert.equal(d.points.length, 90);
    assert.equal(d.labels === null, d.id === "no_structure");
    if (d.labels) assert.equal(new Set(d.labels).size, d.k);
    for (const dim of [0, 1]) {
      const xs = d.points.map((p) => p[dim]);
      assert.ok(Math.abs(mean(xs)) < 1e-9 && Math.abs(std(xs) - 1) < 1e-9, `${d.id} scaled`);
    }
  }
  assert.deepEqual(toyDatasets(90, 4), sets, "deterministic");
  assert.notDeepEqual(toyDatasets(90, 5)[0].points, sets[0].points, "seed matters");
});
