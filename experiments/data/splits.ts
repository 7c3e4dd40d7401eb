/**
 * The paper's data protocol (reference code, see shared notes): balanced hold-out for the
 * linear probe, test/validation halves of the official test split, seeded shuffling into
 * batches of 64 (last irregular batch dropped), and the semi-supervised labelled set with
 * withheld classes and half-labelled batches.
 *
 * Randomness is a pure function of (seed, what, epoch): the batch of training step s is
 * {@link batchAt}(plan, s), so a resumed run needs only the step to continue with the same
 * data order — no sampler state to checkpoint. Same seed ⇒ same order.
 *
 * @module
 */
import { prand } from "../../lib/deps/rand.ts";

/**
 * Mixes 32-bit integers into one 32-bit seed (murmur3-style finaliser per part), so derived
 * streams (per epoch, per purpose) are decorrelated but reproducible.
 *
 * @param parts Integers (seed, purpose tag, epoch, …).
 * @returns A 32-bit signed integer seed.
 */
export function mixSeed(...parts: readonly number[]): number {
  let h = 0x9e3779b9 | 0;
  for (const p of parts) {
    let k = Math.imul(p | 0, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64 | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/**
 * A seeded Fisher–Yates shuffle (xoroshiro128+, unbiased integer draws).
 *
 * @param items Values to shuffle (not mutated).
 * @param seed 32-bit seed.
 * @returns A new shuffled copy.
 */
export function shuffled(items: ArrayLike<number>, seed: number): Int32Array {
  const out = Int32Array.from(items);
  const rng = prand.xoroshiro128plus(seed | 0);
  for (let i = out.length - 1; i > 0; i--) {
    const j = prand.unsafeUniformIntDistribution(0, i, rng);
    const tmp = out[i]!;
    out[i] = out[j]!;
    out[j] = tmp;
  }
  return out;
}

/** `[start, start + 1, …, end − 1]`. */
export function range(start: number, end: number): Int32Array {
  return Int32Array.from({ length: Math.max(0, end - start) }, (_, i) => start + i);
}

// Purpose tags for mixSeed, so the streams of one run seed never coincide.
const TAG_HOLDOUT = 1, TAG_EPOCH = 2, TAG_LABELLED = 3, TAG_SEMI_L = 4, TAG_SEMI_U = 5;

/**
 * Balanced hold-out: `perClass` random images of each class (paper: 100 per class = 1000
 * images for the linear probe); the rest is training data.
 *
 * @param labels Labels of the official train split.
 * @param perClass Images per class to hold out.
 * @param seed Run seed.
 * @param numClasses Classes (10).
 * @returns Sorted index arrays `holdout` and `train` (disjoint, together all indices).
 * @throws {RangeError} If some class has fewer than `perClass` images.
 */
export function balancedHoldout(
  labels: ArrayLike<number>,
  perClass: number,
  seed: number,
  numClasses = 10,
): { holdout: Int32Array; train: Int32Array } {
  const order = shuffled(range(0, labels.length), mixSeed(seed, TAG_HOLDOUT));
  const taken = new Array<number>(numClasses).fill(0);
  const isHoldout = new Uint8Array(labels.length);
  for (const i of order) {
    const c = labels[i]!;
    if (taken[c]! < perClass) {
      taken[c]!++;
      isHoldout[i] = 1;
    }
  }
  const short = taken.findIndex((n) => n < perClass);
  if (short >= 0) {
    throw new RangeError(
      `Cannot hold out ${perClass} images per class: class ${short} has only ${taken[short]}`,
    );
  }
  const holdout = range(0, labels.length).filter((i) => isHoldout[i] === 1);
  const train = range(0, labels.length).filter((i) => isHoldout[i] === 0);
  return { holdout, train };
}

/**
 * The reference code's split of the official test set: first half = test, second half =
 * validation (5000 / 5000 for MNIST, Fashion-MNIST and CIFAR-10).
 *
 * @param nTest Size of the official test split.
 * @returns Index arrays `test` and `validation`.
 */
export function testValidationSplit(nTest: number): { test: Int32Array; validation: Int32Array } {
  const half = Math.floor(nTest / 2);
  return { test: range(0, half), validation: range(half, nTest) };
}

/**
 * Consecutive evaluation batches in the given order, the last irregular batch dropped
 * (5000 images → 78 batches of 64, as in the reference code).
 *
 * @param indices Image indices.
 * @param batchSize Batch size (64).
 * @returns `floor(len / batchSize)` batches.
 */
export function fixedBatches(indices: Int32Array, batchSize: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (let b = 0; b + batchSize <= indices.length; b += batchSize) {
    out.push(indices.subarray(b, b + batchSize));
  }
  return out;
}

/** A reproducible stream of training batches over a fixed index set. */
export interface BatchPlan {
  readonly indices: Int32Array;
  readonly batchSize: number;
  readonly seed: number;
}

/**
 * Builds a batch plan, checking it yields at least one full batch per epoch.
 *
 * @param indices Indices to draw from (not copied; do not mutate afterwards).
 * @param batchSize Batch size.
 * @param seed Seed of the stream.
 * @returns The plan.
 * @throws {RangeError} If fewer indices than one batch, or batch size < 1.
 */
export function batchPlan(indices: Int32Array, batchSize: number, seed: number): BatchPlan {
  if (!Number.isInteger(batchSize) || batchSize < 1 || indices.length < batchSize) {
    throw new RangeError(
      `Invalid batch size ${batchSize} for ${indices.length} indices: need an integer in ` +
        `[1, ${indices.length}]`,
    );
  }
  return { indices, batchSize, seed };
}

/** Full batches per epoch (last irregular batch dropped). */
export function batchesPerEpoch(plan: BatchPlan): number {
  return Math.floor(plan.indices.length / plan.batchSize);
}

const permutationCache = new WeakMap<BatchPlan, { epoch: number; order: Int32Array }>();

/**
 * The batch of training step `step` (0-based): epoch e = ⌊step / batchesPerEpoch⌋ is a fresh
 * permutation of the indices seeded by (seed, e); the step picks its slice. A pure function
 * of (plan, step) — the last epoch's permutation is memoised per plan.
 *
 * @param plan The plan.
 * @param step Non-negative integer step.
 * @returns `batchSize` indices (a fresh array).
 */
export function batchAt(plan: BatchPlan, step: number): Int32Array {
  const per = batchesPerEpoch(plan);
  const epoch = Math.floor(step / per), within = step % per;
  let cached = permutationCache.get(plan);
  if (cached === undefined || cached.epoch !== epoch) {
    cached = { epoch, order: shuffled(plan.indices, mixSeed(plan.seed, TAG_EPOCH, epoch)) };
    permutationCache.set(plan, cached);
  }
  return cached.order.slice(within * plan.batchSize, (within + 1) * plan.batchSize);
}

/** Data sets whose withheld-class convention is known. */
export type DatasetName = "mnist" | "fashion" | "cifar10";

/**
 * Classes whose labels are withheld: the first k_w for MNIST (k_w = 3 ⇒ 0, 1, 2) — likewise
 * Fashion-MNIST — and the last k_w for CIFAR-10 (reference code).
 *
 * @param dataset Data set.
 * @param kw Number of withheld classes, 0 ≤ k_w < numClasses.
 * @param numClasses Classes (10).
 * @returns Withheld class ids, ascending.
 * @throws {RangeError} If k_w is out of range.
 */
export function withheldClasses(dataset: DatasetName, kw: number, numClasses = 10): number[] {
  if (!Number.isInteger(kw) || kw < 0 || kw >= numClasses) {
    throw new RangeError(`Invalid k_w = ${kw}: must be an integer in [0, ${numClasses - 1}]`);
  }
  return dataset === "cifar10"
    ? Array.from(range(numClasses - kw, numClasses))
    : Array.from(range(0, kw));
}

/** The labelled / unlabelled partition of the training pool for semi-supervised runs. */
export interface SemiSupervisedSplit {
  /** Labelled indices: `perClass` of each kept class, sorted. */
  readonly labelled: Int32Array;
  /** Every other pool index (withheld classes included), sorted. */
  readonly unlabelled: Int32Array;
  readonly perClass: number;
  readonly withheld: readonly number[];
}

/**
 * Picks the labelled set: n_ℓ // (10 − k_w) random images of each kept class from `pool`
 * (the train split minus the hold-out); everything else in the pool is unlabelled.
 *
 * @param labels Labels of the whole train split.
 * @param pool Candidate indices (not mutated).
 * @param nLabelled n_ℓ.
 * @param withheld Withheld classes (see {@link withheldClasses}).
 * @param seed Run seed.
 * @param numClasses Classes (10).
 * @returns The split.
 * @throws {RangeError} If n_ℓ gives fewer than one image per kept class or a class runs out.
 */
export function semiSupervisedSplit(
  labels: ArrayLike<number>,
  pool: Int32Array,
  nLabelled: number,
  withheld: readonly number[],
  seed: number,
  numClasses = 10,
): SemiSupervisedSplit {
  const kept = numClasses - withheld.length;
  const perClass = Math.floor(nLabelled / kept);
  if (!Number.isInteger(nLabelled) || perClass < 1) {
    throw new RangeError(
      `Invalid n_l = ${nLabelled}: need at least one labelled image per kept class ` +
        `(${kept} kept classes)`,
    );
  }
  const isWithheld = new Uint8Array(numClasses);
  for (const c of withheld) isWithheld[c] = 1;
  const taken = new Array<number>(numClasses).fill(0);
  const isLabelled = new Set<number>();
  for (const i of shuffled(pool, mixSeed(seed, TAG_LABELLED))) {
    const c = labels[i]!;
    if (isWithheld[c] === 0 && taken[c]! < perClass) {
      taken[c]!++;
      isLabelled.add(i);
    }
  }
  const short = taken.findIndex((n, c) => isWithheld[c] === 0 && n < perClass);
  if (short >= 0) {
    throw new RangeError(
      `Cannot label ${perClass} images of class ${short}: the pool has only ${taken[short]}`,
    );
  }
  const sorted = Int32Array.from(pool).sort();
  return {
    labelled: sorted.filter((i) => isLabelled.has(i)),
    unlabelled: sorted.filter((i) => !isLabelled.has(i)),
    perClass,
    withheld: [...withheld],
  };
}

/** One semi-supervised training batch: labelled indices first, then unlabelled ones. */
export interface SemiBatch {
  readonly indices: Int32Array;
  /** How many leading entries of `indices` are labelled. */
  readonly labelledCount: number;
}

/**
 * The semi-supervised batch of step `step`: `half` labelled images then `half` unlabelled
 * ones (paper: 32 + 32), each half drawn from its own seeded epoch stream.
 *
 * @param split Labelled / unlabelled partition.
 * @param step Training step.
 * @param seed Run seed.
 * @param half Images per half (32).
 * @returns The batch.
 * @throws {RangeError} If either part has fewer than `half` images.
 */
export function semiBatchAt(
  split: SemiSupervisedSplit,
  step: number,
  seed: number,
  half = 32,
): SemiBatch {
  const l = semiPlans(split, seed, half);
  const indices = new Int32Array(2 * half);
  indices.set(batchAt(l.labelled, step), 0);
  indices.set(batchAt(l.unlabelled, step), half);
  return { indices, labelledCount: half };
}

const semiPlanCache = new WeakMap<
  SemiSupervisedSplit,
  { key: string; labelled: BatchPlan; unlabelled: BatchPlan }
>();
function semiPlans(split: SemiSupervisedSplit, seed: number, half: number) {
  const key = `${seed}/${half}`;
  const hit = semiPlanCache.get(split);
  if (hit !== undefined && hit.key === key) return hit;
  const plans = {
    key,
    labelled: batchPlan(split.labelled, half, mixSeed(seed, TAG_SEMI_L)),
    unlabelled: batchPlan(split.unlabelled, half, mixSeed(seed, TAG_SEMI_U)),
  };
  semiPlanCache.set(split, plans);
  return plans;
}

/**
 * Partial labels of a batch for the constrained target: the label for the first
 * `labelledCount` entries, null (unknown) for the rest. Pass to `constraintsFromLabels`.
 *
 * @param labels Labels of the whole split.
 * @param batch Batch.
 * @returns One entry per batch position.
 */
export function partialLabels(labels: ArrayLike<number>, batch: SemiBatch): (number | null)[] {
  return Array.from(batch.indices, (i, j) => j < batch.labelledCount ? labels[i]! : null);
}

/**
 * Gathers the images of `indices` into one contiguous array (N × pixelsPerImage).
 *
 * @param images All images, flattened.
 * @param pixelsPerImage Values per image (784 for MNIST).
 * @param indices Which images.
 * @returns A new array.
 */
export function gatherImages(
  images: Uint8Array,
  pixelsPerImage: number,
  indices: ArrayLike<number>,
): Uint8Array {
  const out = new Uint8Array(indices.length * pixelsPerImage);
  for (let j = 0; j < indices.length; j++) {
    const i = indices[j]!;
    out.set(images.subarray(i * pixelsPerImage, (i + 1) * pixelsPerImage), j * pixelsPerImage);
  }
  return out;
}
