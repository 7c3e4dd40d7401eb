import assert from "node:assert/strict";
import { calibrateFittedClusters, type LabelledEmbeddings } from "./fitted_calibration.ts";
import { standardNormal, streamFor } from "../lib/core/random.ts";

/** n points of 3 blobs in 4-d, class of point i = (i + shift) % 3, spread `sd`. */
function blobs(n: number, seed: number, sd: number, shift = 0): LabelledEmbeddings {
  const rng = streamFor(seed);
  const centres = [[0, 0, 0, 0], [10, 0, 0, 0], [0, 10, 0, 0]];
  const labels = Int32Array.from({ length: n }, (_, i) => (i + shift) % 3);
  const data = new Float64Array(n * 4);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < 4; t++) data[i * 4 + t] = centres[labels[i]][t] + sd * standardNormal(rng);
  }
  return { data, rows: n, cols: 4, labels };
}

Deno.test("fitted calibration: separated blobs are named, assigned and sure", () => {
  // The test split's classes are in another order than the training split's: the naming must
  // come from the training labels, and a cluster's class is the same whatever order.
  const r = calibrateFittedClusters(blobs(300, 1, 0.5), blobs(120, 2, 0.5, 1), {
    classes: 3,
    points: 40,
    samples: 16,
    epsilonScales: [0.01, 0.1],
  });
  assert.deepEqual([...r.fit.clusterClass].sort(), [0, 1, 2]);
  assert.equal(r.fit.trainAccuracy, 1);
  assert.equal(r.fit.minSize, 25); // ⌈300 / 12⌉
  assert.deepEqual([r.assignment.testPoints, r.assignment.accuracy], [60, 1]);
  assert.equal(r.assignment.hungarianAccuracy, 1);
  // Far from every other cluster, tiny noise: every probability is 1 on the right class.
  assert.equal(r.membership.points, 40);
  assert.equal(r.membership.test.accuracy, 1);
  assert.ok(r.membership.test.ece < 1e-12);
  assert.equal(r.membership.validation.length, 2);
  assert.equal(r.membership.epsilon, r.membership.validation[0].epsilon); // ties: the first
});

Deno.test("fitted calibration: a wrong training naming shows in the test accuracy", () => {
  // Training labels rotated relative to the geometry: the naming follows the labels, so the
  // test points (labelled by geometry) are all read as the wrong class.
  const train = blobs(300, 3, 0.5);
  const rotated = { ...train, labels: Int32Array.from(train.labels, (l) => (l + 1) % 3) };
  const r = calibrateFittedClusters(rotated, blobs(120, 4, 0.5), {
    classes: 3,
    points: 20,
    samples: 8,
    epsilonScales: [0.01],
  });
  assert.equal(r.assignment.accuracy, 0);
  assert.equal(r.assignment.hungarianAccuracy, 1); // the partition itself is right
  assert.equal(r.membership.test.accuracy, 0);
  assert.ok(Math.abs(r.membership.test.ece - 1) < 1e-12); // sure and always wrong
});

Deno.test("fitted calibration: splits of different widths are refused", () => {
  const other = { data: new Float64Array(6), rows: 2, cols: 3, labels: [0, 1] };
  assert.throws(
    () => calibrateFittedClusters(blobs(30, 5, 0.5), other, { classes: 3 }),
    /4-d \(train\) but 3-d \(test\)/,
  );
});
