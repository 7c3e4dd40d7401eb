import assert from "node:assert/strict";
import {
  balancedHoldout,
  batchAt,
  batchesPerEpoch,
  batchPlan,
  fixedBatches,
  gatherImages,
  mixSeed,
  partialLabels,
  range,
  semiBatchAt,
  semiSupervisedSplit,
  shuffled,
  testValidationSplit,
  withheldClasses,
} from "./splits.ts";

/** 6000 labels, 600 per class, in a scrambled but fixed order. */
const labels = Uint8Array.from({ length: 6000 }, (_, i) => (i * 7 + (i >> 4)) % 10);

const counts = (idx: ArrayLike<number>) => {
  const c = new Array(10).fill(0);
  for (const i of Array.from(idx)) c[labels[i]!]++;
  return c;
};

Deno.test("seeded shuffling", async (t) => {
  await t.step("is a permutation, same seed ⇒ same order, other seed ⇒ other order", () => {
    const a = shuffled(range(0, 1000), 1), b = shuffled(range(0, 1000), 1);
    assert.deepEqual(a, b);
    assert.deepEqual(Int32Array.from(a).sort(), range(0, 1000));
    assert.notDeepEqual(shuffled(range(0, 1000), 2), a);
  });
  await t.step("mixSeed separates its parts", () => {
    assert.notEqual(mixSeed(1, 2), mixSeed(2, 1));
    assert.notEqual(mixSeed(0, 0), mixSeed(0, 1));
    assert.equal(mixSeed(5, 6), mixSeed(5, 6));
  });
});

Deno.test("paper protocol splits", async (t) => {
  await t.step("balanced hold-out: 100 per class, disjoint, covers everything", () => {
    const { holdout, train } = balancedHoldout(labels, 100, 0);
    assert.deepEqual(counts(holdout), new Array(10).fill(100));
    assert.equal(holdout.length + train.length, labels.length);
    assert.deepEqual(Int32Array.from([...holdout, ...train]).sort(), range(0, 6000));
    assert.deepEqual(balancedHoldout(labels, 100, 0).holdout, holdout);
    assert.notDeepEqual(balancedHoldout(labels, 100, 1).holdout, holdout);
    assert.throws(() => balancedHoldout(labels, 601, 0), /class \d has only 600/);
  });

  await t.step("test split: first half test, second half validation; 78 batches of 64", () => {
    const { test, validation } = testValidationSplit(10000);
    assert.deepEqual([test[0], test.at(-1), validation[0], validation.at(-1)], [
      0,
      4999,
      5000,
      9999,
    ]);
    const batches = fixedBatches(validation, 64);
    assert.equal(batches.length, 78);
    assert.deepEqual([...batches[1]!.subarray(0, 2)], [5064, 5065]);
  });

  await t.step("training batches: drop the irregular batch, reshuffle each epoch", () => {
    const plan = batchPlan(range(100, 300), 64, 7);
    assert.equal(batchesPerEpoch(plan), 3);
    const epoch0 = [0, 1, 2].map((s) => batchAt(plan, s));
    const seen = new Set(epoch0.flatMap((b) => [...b]));
    assert.equal(seen.size, 192); // no repeats inside an epoch
    for (const i of seen) assert.ok(i >= 100 && i < 300);
    assert.notDeepEqual(batchAt(plan, 3), epoch0[0]);
    // Pure in (plan, step): a fresh plan, asked out of order, agrees.
    const again = batchPlan(range(100, 300), 64, 7);
    assert.deepEqual(batchAt(again, 4), batchAt(plan, 4));
    assert.deepEqual(batchAt(again, 1), epoch0[1]);
    assert.notDeepEqual(batchAt(batchPlan(range(100, 300), 64, 8), 0), epoch0[0]);
    assert.throws(() => batchPlan(range(0, 10), 64, 0), /Invalid batch size 64 for 10 indices/);
  });
});

Deno.test("semi-supervised protocol", async (t) => {
  await t.step("withheld classes: first k_w for MNIST, last k_w for CIFAR-10", () => {
    assert.deepEqual(withheldClasses("mnist", 3), [0, 1, 2]);
    assert.deepEqual(withheldClasses("cifar10", 3), [7, 8, 9]);
    assert.deepEqual(withheldClasses("fashion", 0), []);
    assert.throws(() => withheldClasses("mnist", 10), /Invalid k_w = 10/);
  });

  const { train } = balancedHoldout(labels, 100, 0);
  const split = semiSupervisedSplit(labels, train, 250, [0, 1, 2], 3);

  await t.step("labelled set: n_l // (10 − k_w) per kept class, none withheld", () => {
    assert.equal(split.perClass, 35); // 250 // 7
    assert.deepEqual(counts(split.labelled), [0, 0, 0, 35, 35, 35, 35, 35, 35, 35]);
    assert.equal(split.labelled.length + split.unlabelled.length, train.length);
    const l = new Set(split.labelled);
    assert.ok(split.unlabelled.every((i) => !l.has(i)));
    assert.deepEqual(semiSupervisedSplit(labels, train, 250, [0, 1, 2], 3), split);
    assert.throws(() => semiSupervisedSplit(labels, train, 5, [0, 1, 2], 3), /Invalid n_l = 5/);
  });

  await t.step("batches: 32 labelled then 32 unlabelled, reproducible", () => {
    const b = semiBatchAt(split, 5, 11);
    assert.equal(b.indices.length, 64);
    const l = new Set(split.labelled), u = new Set(split.unlabelled);
    assert.ok(b.indices.subarray(0, 32).every((i) => l.has(i)));
    assert.ok(b.indices.subarray(32).every((i) => u.has(i)));
    assert.deepEqual(semiBatchAt(split, 5, 11), b);
    assert.notDeepEqual(semiBatchAt(split, 6, 11).indices, b.indices);
    const p = partialLabels(labels, b);
    assert.equal(p.filter((v) => v === null).length, 32);
    assert.deepEqual(p.slice(0, 32), Array.from(b.indices.subarray(0, 32), (i) => labels[i]));
  });
});

Deno.test("gatherImages copies the selected rows", () => {
  const images = Uint8Array.from({ length: 12 }, (_, i) => i);
  assert.deepEqual([...gatherImages(images, 3, [3, 0])], [9, 10, 11, 0, 1, 2]);
});
