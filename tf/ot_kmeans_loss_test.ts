import assert from "node:assert/strict";
import { tf } from "./deps/tfjs.ts";
import { otKMeansLoss } from "../lib/ot/ot_kmeans.ts";
import { softKMeansLoss } from "../lib/ot/soft_kmeans.ts";
import type { RectMatrix } from "../lib/core/rect_matrix.ts";
import {
  otKMeansLossTf,
  pointCentroidLossOp,
  prepareOtKMeansLoss,
  prepareSoftKMeansLoss,
  softKMeansLossTf,
} from "./ot_kmeans_loss.ts";

await tf.setBackend("cpu");

/** Deterministic points in [-1, 1) (a linear congruential generator). */
function points(rows: number, cols: number, seed: number): number[][] {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return Array.from({ length: rows }, () => Array.from({ length: cols }, next));
}

const rect = (rows: number[][]): RectMatrix => ({
  rows: rows.length,
  cols: rows[0]!.length,
  data: Float64Array.from(rows.flat()),
});

const OPTS = { epsilon: 0.1, tol: 1e-12, maxIters: 100000 };

Deno.test("otKMeansLossTf: value and gradients are the core's otKMeansLoss (float32)", () => {
  const z0 = points(12, 3, 1), c0 = points(4, 3, 2);
  const oracle = otKMeansLoss(z0, c0, OPTS);
  const z = tf.variable(tf.tensor2d(z0)), c = tf.variable(tf.tensor2d(c0));
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => otKMeansLossTf(z, c, OPTS), [z, c]);
  // The tensors hold float32: the oracle runs on the same rounded inputs.
  const z32 = rect(z.arraySync()), c32 = rect(c.arraySync());
  const same = otKMeansLoss(z32, c32, OPTS);
  assert.equal(value.dataSync()[0], Math.fround(same.loss));
  assert.deepEqual(grads[z.name]!.dataSync(), Float32Array.from(same.gradPoints.data));
  assert.deepEqual(grads[c.name]!.dataSync(), Float32Array.from(same.gradCentroids.data));
  // And the float32 rounding of the inputs moves the loss by float32 noise only.
  assert.ok(Math.abs(same.loss - oracle.loss) < 1e-6 * (1 + Math.abs(oracle.loss)));
  tf.dispose([value, ...Object.values(grads)]);
  assert.equal(tf.memory().numTensors, before, "the loss left tensors behind");
  tf.dispose([z, c]);
});

/** A batch x (6 × 3), a linear map W (3 × 2) with z = X W, and centroids c (2 × 2). */
const NET = {
  x: [[1, 0, 0.5], [0, 1, -0.5], [1, 1, 0], [-1, 0.5, 1], [0.3, -1, 0.2], [2, 0, -1]],
  w0: [[0.5, -0.2], [0.1, 0.7], [-0.4, 0.3]],
  c0: [[0.2, 0.1], [-0.5, 0.4]],
};
const zOf = (w: number[][]) =>
  NET.x.map((r) => [0, 1].map((j) => r.reduce((s, v, t) => s + v * w[t]![j]!, 0)));

/**
 * Tapes `op(X W, c)` and checks its gradients in W and c against central differences of
 * `loss(z, c)` (h = 1e-5; float32 tape ⇒ tolerance 1e-3). Returns the taped value.
 */
function checkThroughNetwork(
  op: (z: tf.Tensor2D, c: tf.Tensor2D) => tf.Scalar,
  loss: (z: number[][], c: number[][]) => number,
): number {
  const { w0, c0 } = NET;
  const W = tf.variable(tf.tensor2d(w0)), C = tf.variable(tf.tensor2d(c0));
  const X = tf.tensor2d(NET.x);
  const { value, grads } = tf.variableGrads(() => op(tf.matMul(X, W) as tf.Tensor2D, C), [W, C]);
  const h = 1e-5;
  const central = (at: number[][], i: number, j: number, f: (m: number[][]) => number) => {
    const plus = at.map((r) => [...r]), minus = at.map((r) => [...r]);
    plus[i]![j]! += h;
    minus[i]![j]! -= h;
    return (f(plus) - f(minus)) / (2 * h);
  };
  const gw = grads[W.name]!.arraySync() as number[][];
  const gc = grads[C.name]!.arraySync() as number[][];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 2; j++) {
      const fd = central(w0, i, j, (w) => loss(zOf(w), c0));
      assert.ok(Math.abs(fd - gw[i]![j]!) < 1e-3, `W[${i}][${j}]: fd ${fd} vs tape ${gw[i]![j]}`);
    }
  }
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 2; j++) {
      const fd = central(c0, i, j, (c) => loss(zOf(w0), c));
      assert.ok(Math.abs(fd - gc[i]![j]!) < 1e-3, `c[${i}][${j}]: fd ${fd} vs tape ${gc[i]![j]}`);
    }
  }
  const v = value.dataSync()[0]!;
  tf.dispose([W, C, X, value, ...Object.values(grads)]);
  return v;
}

Deno.test("otKMeansLossTf: gradients through a network match finite differences of the loss", () => {
  // The taped gradients against central differences of the float64 CPU loss.
  checkThroughNetwork(
    (z, c) => otKMeansLossTf(z, c, OPTS),
    (z, c) => otKMeansLoss(z, c, OPTS).loss,
  );
});

Deno.test("prepareOtKMeansLoss (values read first, as on webgpu) gives the one-pass result", () => {
  const z0 = points(9, 2, 5), c0 = points(3, 2, 6);
  const z = tf.tensor2d(z0), c = tf.tensor2d(c0);
  const prepared = prepareOtKMeansLoss(rect(z.arraySync()), rect(c.arraySync()), OPTS);
  const two = tf.grads((a, b) => prepared.op(a as tf.Tensor2D, b as tf.Tensor2D))([z, c]);
  const one = tf.grads((a, b) => otKMeansLossTf(a as tf.Tensor2D, b as tf.Tensor2D, OPTS))([
    z,
    c,
  ]);
  assert.deepEqual(two.map((g) => g.dataSync()), one.map((g) => g.dataSync()));
  // The core's warm-start potential comes back with it (the next batch's initialG).
  assert.equal(prepared.sinkhorn.g.length, 3);
  tf.dispose([z, c, ...two, ...one]);
});

Deno.test("prepareOtKMeansLoss: a non-finite row or mismatched widths is a one-line error", () => {
  const c = rect([[0, 0], [1, 1]]);
  const bad = (values: number[], cols = 2): RectMatrix => ({
    rows: values.length / cols,
    cols,
    data: Float64Array.from(values),
  });
  assert.throws(
    () => prepareOtKMeansLoss(bad([0, 0, NaN, 1, 2, 2]), c, OPTS),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message === "embeddings row 1 holds NaN (did training diverge?)",
  );
  assert.throws(
    () => prepareOtKMeansLoss(bad([0, 0, 1, 1, 2, Infinity]), c, OPTS),
    /^RangeError: embeddings row 2 holds Infinity \(did training diverge\?\)$/,
  );
  assert.throws(
    () => prepareOtKMeansLoss(bad([0, 0, 1, 1]), bad([0, -Infinity, 1, 1]), OPTS),
    /centroids row 0 holds -Infinity/,
  );
  assert.throws(
    () => prepareOtKMeansLoss(bad([0, 0, 1], 3), c, OPTS),
    /Embeddings are 1 × 3 but centroids 2 × 2/,
  );
  // From tensors: 0 / 0 = NaN in every entry.
  const z = tf.div(tf.zeros([3, 2]), 0) as tf.Tensor2D, one = tf.zeros([1, 2]) as tf.Tensor2D;
  assert.throws(() => otKMeansLossTf(z, one, OPTS), /embeddings row 0 holds NaN/);
  tf.dispose([z, one]);
});

Deno.test("pointCentroidLossOp refuses tensors of another shape than it was prepared for", () => {
  const g = { rows: 2, cols: 2, data: new Float64Array(4) };
  const op = pointCentroidLossOp(1, g, { rows: 1, cols: 2, data: new Float64Array(2) });
  const z = tf.zeros([3, 2]) as tf.Tensor2D, c = tf.zeros([1, 2]) as tf.Tensor2D;
  assert.throws(() => op(z, c), /Invalid z shape \[3,2\]: the loss was prepared for 2 × 2/);
  tf.dispose([z, c]);
});

Deno.test("softKMeansLossTf: value and gradients are the core's softKMeansLoss (float32)", () => {
  const sizes = [0.1, 0.2, 0.3, 0.4];
  const z = tf.variable(tf.tensor2d(points(12, 3, 7))),
    c = tf.variable(tf.tensor2d(points(4, 3, 8)));
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(
    () => softKMeansLossTf(z, c, { epsilon: 0.1, sizes }),
    [z, c],
  );
  const same = softKMeansLoss(rect(z.arraySync()), rect(c.arraySync()), { epsilon: 0.1, sizes });
  assert.equal(value.dataSync()[0], Math.fround(same.loss));
  assert.deepEqual(grads[z.name]!.dataSync(), Float32Array.from(same.gradPoints.data));
  assert.deepEqual(grads[c.name]!.dataSync(), Float32Array.from(same.gradCentroids.data));
  tf.dispose([value, ...Object.values(grads)]);
  assert.equal(tf.memory().numTensors, before, "the loss left tensors behind");
  tf.dispose([z, c]);
});

Deno.test("softKMeansLossTf: gradients through a network match finite differences of the closed form", () => {
  // SKM_ε = −ε (1/n) Σ_i log Σ_j r_j exp(−‖z_i − c_j‖²/ε), written out here independently of
  // the core: its value, and its central differences against the taped gradients.
  const eps = 0.3, r = [0.25, 0.75];
  const closedForm = (z: number[][], c: number[][]) =>
    -eps / z.length *
    z.reduce((s, zi) =>
      s + Math.log(c.reduce((t, cj, j) =>
        t + r[j]! * Math.exp(-((zi[0]! - cj[0]!) ** 2 + (zi[1]! - cj[1]!) ** 2) / eps), 0)), 0);
  const value = checkThroughNetwork(
    (z, c) => softKMeansLossTf(z, c, { epsilon: eps, sizes: r }),
    closedForm,
  );
  assert.ok(Math.abs(value - closedForm(zOf(NET.w0), NET.c0)) < 1e-5);
});

Deno.test("soft k-means and OT k-means ops: equal on balanced soft plans, apart on unbalanced ones", () => {
  // OT_ε(a, r, C) ≥ SKM_ε with equality iff the soft plan's column sums are r: two mirrored
  // pairs of points about two mirrored centroids give column sums ½, ½; moving one point over
  // to the other side unbalances them, and the size constraint then costs something.
  const c = rect([[-1, 0], [1, 0]]);
  const opts = { epsilon: 0.5 };
  const balanced = rect([[-1.2, 0.3], [-0.8, -0.3], [0.8, 0.3], [1.2, -0.3]]);
  const soft = prepareSoftKMeansLoss(balanced, c, opts).loss;
  const ot = prepareOtKMeansLoss(balanced, c, { ...opts, tol: 1e-13, maxIters: 100000 }).loss;
  assert.ok(Math.abs(ot - soft) < 1e-9, `balanced: OT ${ot} vs soft ${soft}`);
  const unbalanced = rect([[-1.2, 0.3], [-0.8, -0.3], [-0.9, 0.1], [1.2, -0.3]]);
  const soft2 = prepareSoftKMeansLoss(unbalanced, c, opts).loss;
  const ot2 = prepareOtKMeansLoss(unbalanced, c, { ...opts, tol: 1e-13, maxIters: 100000 }).loss;
  assert.ok(ot2 - soft2 > 0.1, `unbalanced: OT ${ot2} vs soft ${soft2}`);
});

Deno.test("prepareSoftKMeansLoss: the same one-line errors as the OT op", () => {
  const c = rect([[0, 0], [1, 1]]);
  const z = (values: number[]): RectMatrix => ({
    rows: values.length / 2,
    cols: 2,
    data: Float64Array.from(values),
  });
  assert.throws(
    () => prepareSoftKMeansLoss(z([0, 0, NaN, 1, 2, 2]), c, { epsilon: 0.1 }),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message === "embeddings row 1 holds NaN (did training diverge?)",
  );
  assert.throws(
    () => prepareSoftKMeansLoss(z([0, 0]), z([0, Infinity, 1, 1]), { epsilon: 0.1 }),
    /centroids row 0 holds Infinity/,
  );
  assert.throws(
    () => prepareSoftKMeansLoss({ rows: 1, cols: 3, data: new Float64Array(3) }, c, { epsilon: 1 }),
    /Embeddings are 1 × 3 but centroids 2 × 2/,
  );
  const nan = tf.div(tf.zeros([3, 2]), 0) as tf.Tensor2D, one = tf.zeros([1, 2]) as tf.Tensor2D;
  assert.throws(() => softKMeansLossTf(nan, one, { epsilon: 0.1 }), /embeddings row 0 holds NaN/);
  tf.dispose([nan, one]);
});
