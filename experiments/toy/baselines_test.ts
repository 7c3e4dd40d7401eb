import assert from "node:assert/strict";
import { ConvergenceError } from "../../lib/core/errors.ts";
import { adjustedRandIndex } from "../../lib/metrics/metrics.ts";
import { estimateBandwidth, gaussianMixture, kMeans, meanShift } from "./baselines.ts";
import { linearMap, makeBlobs, SKLEARN_ANISO_TRANSFORM, SKLEARN_BLOB_CENTRES } from "./datasets.ts";

const FAR_CENTRES = [[0, 0], [20, 0], [0, 20]] as const;
const farBlobs = makeBlobs(150, FAR_CENTRES, [1, 1, 1], 11);
const toRows = (pts: readonly (readonly number[])[]) => pts.map((p) => [...p]);

Deno.test("kMeans", async (t) => {
  await t.step("recovers well-separated blobs exactly", () => {
    const { labels, centroids } = kMeans(toRows(farBlobs.points), 3, { seed: 1 });
    assert.equal(adjustedRandIndex(labels, farBlobs.labels!), 1);
    for (const c of FAR_CENTRES) {
      assert.ok(centroids.some((m) => Math.hypot(m[0] - c[0], m[1] - c[1]) < 0.5));
    }
  });
  await t.step("inertia is the sum of squared distances to the assigned centroid", () => {
    const pts = toRows(farBlobs.points);
    const r = kMeans(pts, 3, { seed: 2 });
    const inertia = pts.reduce(
      (s, p, i) =>
        s + (p[0] - r.centroids[r.labels[i]][0]) ** 2 + (p[1] - r.centroids[r.labels[i]][1]) ** 2,
      0,
    );
    assert.ok(Math.abs(r.inertia - inertia) < 1e-9 * inertia);
  });
  await t.step("restarts keep the best run (the first restart is the single run)", () => {
    const pts = toRows(makeBlobs(120, SKLEARN_BLOB_CENTRES, [1, 2.5, 0.5], 3).points);
    for (const seed of [0, 1, 2, 3]) {
      const one = kMeans(pts, 5, { seed, restarts: 1 });
      const many = kMeans(pts, 5, { seed, restarts: 8 });
      assert.ok(many.inertia <= one.inertia);
    }
  });
  await t.step("same seed ⇒ same labels", () => {
    const pts = toRows(makeBlobs(60, SKLEARN_BLOB_CENTRES, [3, 3, 3], 1).points);
    assert.deepEqual(kMeans(pts, 3, { seed: 5 }), kMeans(pts, 3, { seed: 5 }));
  });
  await t.step("rejects k out of range", () => {
    assert.throws(() => kMeans([[0, 0], [1, 1]], 3), /Invalid k = 3/);
  });
});

Deno.test("estimateBandwidth is the mean distance to the ⌊quantile·n⌋-th neighbour", () => {
  // Points 0, 1, 3, 7 on a line; 2 neighbours (incl. self) → nearest other point:
  // 1, 1, 2, 4 → mean 2. 3 neighbours → 2nd nearest other: 3, 2, 3, 6 → 3.5.
  const pts = [[0], [1], [3], [7]];
  assert.equal(estimateBandwidth(pts, 0.5), 2);
  assert.equal(estimateBandwidth(pts, 0.75), 3.5);
  assert.throws(() => estimateBandwidth(pts, 0), /Invalid quantile = 0/);
});

Deno.test("meanShift", async (t) => {
  await t.step("finds one mode per well-separated blob, at the blob centre", () => {
    const { labels, centres } = meanShift(toRows(farBlobs.points), { bandwidth: 4 });
    assert.equal(centres.length, 3);
    for (const c of FAR_CENTRES) {
      // A mode of a flat kernel on an N(c, I) blob: the mean of the points within 4 of it,
      // within a few standard errors (1/√50 ≈ 0.14) of c.
      assert.ok(centres.some((m) => Math.hypot(m[0] - c[0], m[1] - c[1]) < 0.5), `mode near ${c}`);
    }
    assert.equal(adjustedRandIndex(labels, farBlobs.labels!), 1);
  });
  await t.step("with the estimated bandwidth too", () => {
    const r = meanShift(toRows(farBlobs.points));
    assert.equal(r.centres.length, 3);
    assert.ok(r.bandwidth > 0);
  });
  await t.step("a bandwidth larger than the data gives one cluster", () => {
    const { labels, centres } = meanShift(toRows(farBlobs.points), { bandwidth: 100 });
    assert.equal(centres.length, 1);
    assert.ok(labels.every((l) => l === 0));
  });
  await t.step("bin seeding and point seeding agree on separated blobs", () => {
    const pts = toRows(farBlobs.points);
    const a = meanShift(pts, { bandwidth: 4, binSeeding: true });
    const b = meanShift(pts, { bandwidth: 4, binSeeding: false });
    assert.equal(adjustedRandIndex(a.labels, b.labels), 1);
  });
  await t.step("rejects a non-positive bandwidth", () => {
    assert.throws(() => meanShift([[0, 0], [0, 0]]), /Invalid bandwidth = 0/);
  });
});

Deno.test("gaussianMixture", async (t) => {
  const aniso = makeBlobs(300, SKLEARN_BLOB_CENTRES, [1, 1, 1], 170);
  const anisoPoints = toRows(linearMap(aniso.points, SKLEARN_ANISO_TRANSFORM));

  await t.step("EM never decreases the log-likelihood (regCovar = 0, poor start)", () => {
    // Start from an arbitrary partition (i mod 3) so that EM has many steps to take.
    const initialLabels = Int32Array.from(anisoPoints, (_, i) => i % 3);
    const { logLikelihoods } = gaussianMixture(anisoPoints, 3, {
      initialLabels,
      regCovar: 0,
      tol: 0,
      maxIterations: 60,
    });
    assert.equal(logLikelihoods.length, 60);
    for (let i = 1; i < logLikelihoods.length; i++) {
      assert.ok(
        logLikelihoods[i] >= logLikelihoods[i - 1] - 1e-12,
        `iteration ${i}: ${logLikelihoods[i]} < ${logLikelihoods[i - 1]}`,
      );
    }
    assert.ok(logLikelihoods.at(-1)! > logLikelihoods[0] + 0.1, "EM made progress");
  });
  await t.step("full covariances recover anisotropic blobs that k-means splits wrongly", () => {
    const gmm = gaussianMixture(anisoPoints, 3, { seed: 0 });
    const km = kMeans(anisoPoints, 3, { seed: 0 });
    assert.ok(gmm.converged);
    assert.ok(adjustedRandIndex(gmm.labels, aniso.labels!) > 0.95);
    assert.ok(adjustedRandIndex(km.labels, aniso.labels!) < 0.9);
    // Equal blob sizes: weights ≈ 1/3 (±3 standard errors of a proportion, √(2/9/300) ≈ 0.027).
    for (const w of gmm.weights) assert.ok(Math.abs(w - 1 / 3) < 0.08);
    // The fitted covariance is the image of I under T: Tᵀ T. A sample variance from m = 100
    // points has standard error ≈ σ²·√(2/m) ≈ 0.14 for the largest entry (1.0): allow 3 of
    // them; the off-diagonal −0.68 still rules out an isotropic fit.
    const [[a, b], [c, d]] = SKLEARN_ANISO_TRANSFORM;
    const expected = [[a * a + c * c, a * b + c * d], [a * b + c * d, b * b + d * d]];
    for (const cov of gmm.covariances) {
      cov.forEach((row, i) =>
        row.forEach((v, j) => assert.ok(Math.abs(v - expected[i][j]) < 0.45))
      );
    }
  });
  await t.step("a degenerate component without regularisation is a ConvergenceError", () => {
    const pts = [[0, 0], [0, 0], [1, 1], [1, 1]];
    assert.throws(
      () => gaussianMixture(pts, 2, { initialLabels: [0, 0, 1, 1], regCovar: 0 }),
      ConvergenceError,
    );
    // The default regularisation keeps it finite.
    const r = gaussianMixture(pts, 2, { initialLabels: [0, 0, 1, 1] });
    assert.deepEqual([...r.labels], [0, 0, 1, 1]);
  });
  await t.step("rejects initial labels outside [0, k)", () => {
    assert.throws(
      () => gaussianMixture([[0], [1], [2]], 2, { initialLabels: [0, 1, 2] }),
      /Invalid initialLabels\[2\] = 2/,
    );
  });
});
