/**
 * The classic 2-D toy datasets of scikit-learn's "comparing clustering algorithms" example
 * (the datasets of Figure 3, left, of Stewart et al., 2023), as seeded generators.
 *
 * Same construction as sklearn's `make_moons`, `make_circles` and `make_blobs`; the random
 * draws come from lib/core/random.ts (xoroshiro128+), so the points differ from numpy's but have
 * the same distribution. The blob centres are sklearn's example's own (numpy
 * `RandomState(170).uniform(-10, 10, (3, 2))`), so the figure has the same layout.
 *
 * @module
 */
import { standardNormal, streamFor, uniformOpen01 } from "../../lib/core/random.ts";
import type { RandomStream } from "../../lib/core/random.ts";
import { assertIntegerInRange } from "../../lib/core/errors.ts";

/** A 2-D point. */
export type Point = readonly [number, number];

/** Points with their generating class (ground truth), or `null` where there is none. */
export interface LabelledPoints {
  /** The points. */
  readonly points: Point[];
  /** Class of each point, `0..k−1`, or `null` (no structure). */
  readonly labels: Int32Array | null;
}

/** One dataset of the comparison grid. */
export interface ToyDataset extends LabelledPoints {
  /** Short identifier, used in file names and tables. */
  readonly id: ToyDatasetId;
  /** Human-readable title for figures. */
  readonly title: string;
  /** Number of clusters the methods are asked for (sklearn's example's `n_clusters`). */
  readonly k: number;
}

/** The datasets of the grid, in sklearn's row order. */
export const TOY_DATASET_IDS = ["circles", "moons", "varied", "aniso", "no_structure"] as const;
/** Identifier of a toy dataset. */
export type ToyDatasetId = typeof TOY_DATASET_IDS[number];

/**
 * sklearn's example's blob centres for `random_state = 170` (used by the varied and
 * anisotropic datasets): numpy `RandomState(170).uniform(-10, 10, (3, 2))`.
 */
export const SKLEARN_BLOB_CENTRES: readonly Point[] = [
  [-8.947091648044037, -5.462764348304834],
  [-4.5893898890314855, 0.08876178234712206],
  [1.938754323521918, 0.5051361256709956],
];

/** sklearn's anisotropic map: points are row vectors, x ↦ x · T. */
export const SKLEARN_ANISO_TRANSFORM: readonly Point[] = [[0.6, -0.6], [-0.4, 0.8]];

function assertSize(n: number, min = 1): void {
  assertIntegerInRange("n", n, min, 1_000_000, "(number of points)");
}

function assertNonNegative(name: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new RangeError(`Invalid ${name} = ${v}: ${name} must be a finite number ≥ 0`);
  }
}

/** numpy's `linspace(start, stop, count, endpoint)`. */
function linspace(start: number, stop: number, count: number, endpoint = true): number[] {
  const steps = endpoint ? count - 1 : count;
  return Array.from(
    { length: count },
    (_, i) => steps === 0 ? start : start + (stop - start) * i / steps,
  );
}

function jitter(points: Point[], noise: number, rng: RandomStream): Point[] {
  if (noise === 0) return points;
  return points.map(([x, y]) => [x + noise * standardNormal(rng), y + noise * standardNormal(rng)]);
}

/**
 * Two interleaving half circles (sklearn's `make_moons`): ⌊n/2⌋ evenly spaced points on the
 * upper unit half circle (class 0) and the rest on a lower one shifted to (1, 0.5) (class 1),
 * plus iid N(0, noise²) on each coordinate.
 *
 * @param n Number of points (≥ 2).
 * @param noise Standard deviation of the Gaussian noise (≥ 0).
 * @param seed 32-bit seed.
 * @returns The points and their moon (0 or 1).
 * @throws {RangeError} If `n` or `noise` is out of range.
 *
 * @example
 * ```ts
 * import { makeMoons } from "./datasets.ts";
 * import assert from "node:assert/strict";
 * const { points, labels } = makeMoons(10, 0, 1);
 * assert.deepEqual(points[0], [1, 0]);
 * assert.equal(labels?.filter((c) => c === 1).length, 5);
 * ```
 */
export function makeMoons(n: number, noise: number, seed: number): LabelledPoints {
  assertSize(n, 2);
  assertNonNegative("noise", noise);
  const nOuter = Math.floor(n / 2), nInner = n - nOuter;
  const outer = linspace(0, Math.PI, nOuter).map((t): Point => [Math.cos(t), Math.sin(t)]);
  const inner = linspace(0, Math.PI, nInner).map((t): Point => [
    1 - Math.cos(t),
    1 - Math.sin(t) - 0.5,
  ]);
  const labels = Int32Array.from({ length: n }, (_, i) => (i < nOuter ? 0 : 1));
  return { points: jitter([...outer, ...inner], noise, streamFor(seed)), labels };
}

/**
 * Two concentric circles (sklearn's `make_circles`): ⌊n/2⌋ evenly spaced points on the unit
 * circle (class 0) and the rest on the circle of radius `factor` (class 1), plus iid
 * N(0, noise²) on each coordinate.
 *
 * @param n Number of points (≥ 2).
 * @param factor Radius of the inner circle, in (0, 1).
 * @param noise Standard deviation of the Gaussian noise (≥ 0).
 * @param seed 32-bit seed.
 * @returns The points and their circle (0 outer, 1 inner).
 * @throws {RangeError} If an argument is out of range.
 *
 * @example
 * ```ts
 * import { makeCircles } from "./datasets.ts";
 * import assert from "node:assert/strict";
 * const { points } = makeCircles(8, 0.5, 0, 1);
 * assert.ok(Math.abs(Math.hypot(...points[7]) - 0.5) < 1e-12);
 * ```
 */
export function makeCircles(
  n: number,
  factor: number,
  noise: number,
  seed: number,
): LabelledPoints {
  assertSize(n, 2);
  if (!(factor > 0 && factor < 1)) {
    throw new RangeError(`Invalid factor = ${factor}: factor must be in (0, 1)`);
  }
  assertNonNegative("noise", noise);
  const nOuter = Math.floor(n / 2), nInner = n - nOuter;
  const circle = (count: number, r: number) =>
    linspace(0, 2 * Math.PI, count, false).map((t): Point => [r * Math.cos(t), r * Math.sin(t)]);
  const labels = Int32Array.from({ length: n }, (_, i) => (i < nOuter ? 0 : 1));
  return {
    points: jitter([...circle(nOuter, 1), ...circle(nInner, factor)], noise, streamFor(seed)),
    labels,
  };
}

/**
 * Isotropic Gaussian blobs (sklearn's `make_blobs` with given centres): the n points are
 * split as evenly as possible over the centres (the first `n mod c` get one more), and blob
 * c is N(centres[c], stds[c]² I).
 *
 * @param n Number of points (≥ number of centres).
 * @param centres Blob centres.
 * @param stds Standard deviation of each blob (same length as `centres`, each ≥ 0).
 * @param seed 32-bit seed.
 * @returns The points and their blob.
 * @throws {RangeError} If the sizes disagree or a value is out of range.
 *
 * @example
 * ```ts
 * import { makeBlobs } from "./datasets.ts";
 * import assert from "node:assert/strict";
 * const { points, labels } = makeBlobs(5, [[0, 0], [10, 10]], [0, 0], 1);
 * assert.deepEqual([...labels!], [0, 0, 0, 1, 1]);
 * assert.deepEqual(points[4], [10, 10]);
 * ```
 */
export function makeBlobs(
  n: number,
  centres: readonly Point[],
  stds: readonly number[],
  seed: number,
): LabelledPoints {
  if (centres.length === 0 || stds.length !== centres.length) {
    throw new RangeError(
      `Invalid centres/stds: need as many stds (${stds.length}) as centres (${centres.length}), at least one`,
    );
  }
  assertSize(n, centres.length);
  stds.forEach((s, i) => assertNonNegative(`stds[${i}]`, s));
  const rng = streamFor(seed);
  const c = centres.length;
  const points: Point[] = [];
  const labels = new Int32Array(n);
  let i = 0;
  for (let b = 0; b < c; b++) {
    const size = Math.floor(n / c) + (b < n % c ? 1 : 0);
    for (let j = 0; j < size; j++, i++) {
      points.push([
        centres[b][0] + stds[b] * standardNormal(rng),
        centres[b][1] + stds[b] * standardNormal(rng),
      ]);
      labels[i] = b;
    }
  }
  return { points, labels };
}

/**
 * Applies the linear map x ↦ x · T (points as row vectors) to every point, as sklearn's
 * example does to make anisotropic blobs.
 *
 * @param points The points.
 * @param transform The 2 × 2 matrix T.
 * @returns The mapped points (new array).
 *
 * @example
 * ```ts
 * import { linearMap } from "./datasets.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(linearMap([[1, 2]], [[0.6, -0.6], [-0.4, 0.8]]), [[1 * 0.6 - 2 * 0.4, -0.6 + 1.6]]);
 * ```
 */
export function linearMap(points: readonly Point[], transform: readonly Point[]): Point[] {
  const [[a, b], [c, d]] = transform;
  return points.map(([x, y]) => [x * a + y * c, x * b + y * d]);
}

/**
 * Points iid uniform on the unit square: no cluster structure.
 *
 * @param n Number of points (≥ 1).
 * @param seed 32-bit seed.
 * @returns The points, with `labels: null`.
 * @throws {RangeError} If `n` is out of range.
 *
 * @example
 * ```ts
 * import { makeUniform } from "./datasets.ts";
 * import assert from "node:assert/strict";
 * const { points, labels } = makeUniform(100, 1);
 * assert.equal(labels, null);
 * assert.ok(points.every(([x, y]) => x > 0 && x < 1 && y > 0 && y < 1));
 * ```
 */
export function makeUniform(n: number, seed: number): LabelledPoints {
  assertSize(n);
  const rng = streamFor(seed);
  const points = Array.from({ length: n }, (): Point => [uniformOpen01(rng), uniformOpen01(rng)]);
  return { points, labels: null };
}

/**
 * Standardises each coordinate to mean 0 and (population) variance 1, as sklearn's
 * `StandardScaler`, which the example applies to every dataset before clustering.
 * A constant coordinate is only centred.
 *
 * @param points The points (not modified).
 * @returns The standardised points (new array).
 *
 * @example
 * ```ts
 * import { standardScale } from "./datasets.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(standardScale([[0, 5], [2, 5]]), [[-1, 0], [1, 0]]);
 * ```
 */
export function standardScale(points: readonly Point[]): Point[] {
  const n = points.length;
  const mean = [0, 1].map((d) => points.reduce((s, p) => s + p[d], 0) / n);
  const std = [0, 1].map((d) =>
    Math.sqrt(points.reduce((s, p) => s + (p[d] - mean[d]) ** 2, 0) / n)
  );
  const scale = std.map((s) => (s > 0 ? s : 1));
  return points.map(([x, y]) => [(x - mean[0]) / scale[0], (y - mean[1]) / scale[1]]);
}

/**
 * The five datasets of the comparison grid with sklearn's example's parameters, each
 * standardised ({@link standardScale}): noisy circles (factor 0.5, noise 0.05), noisy moons
 * (noise 0.05), blobs of varied variance (stds 1, 2.5, 0.5), anisotropic blobs (std 1, mapped
 * by {@link SKLEARN_ANISO_TRANSFORM}) and uniform noise ("no structure", asked for 3 clusters).
 *
 * @param n Points per dataset (≥ 3; sklearn's example uses 500).
 * @param seed 32-bit seed; each dataset draws from its own derived stream.
 * @returns The datasets, in {@link TOY_DATASET_IDS} order.
 * @throws {RangeError} If `n` or `seed` is out of range.
 *
 * @example
 * ```ts
 * import { toyDatasets } from "./datasets.ts";
 * import assert from "node:assert/strict";
 * const sets = toyDatasets(60, 0);
 * assert.deepEqual(sets.map((d) => d.k), [2, 2, 3, 3, 3]);
 * ```
 */
export function toyDatasets(n: number, seed: number): ToyDataset[] {
  assertSize(n, 3);
  // Derive one seed per dataset so adding a dataset never changes the others' points.
  const sub = (i: number) => streamFor(seed, i).unsafeNext();
  const scaled = (d: LabelledPoints): LabelledPoints => ({
    points: standardScale(d.points),
    labels: d.labels,
  });
  const aniso = makeBlobs(n, SKLEARN_BLOB_CENTRES, [1, 1, 1], sub(3));
  return [
    { id: "circles", title: "noisy circles", k: 2, ...scaled(makeCircles(n, 0.5, 0.05, sub(0))) },
    { id: "moons", title: "noisy moons", k: 2, ...scaled(makeMoons(n, 0.05, sub(1))) },
    {
      id: "varied",
      title: "varied variances",
      k: 3,
      ...scaled(makeBlobs(n, SKLEARN_BLOB_CENTRES, [1, 2.5, 0.5], sub(2))),
    },
    {
      id: "aniso",
      title: "anisotropic",
      k: 3,
      ...scaled({
        points: linearMap(aniso.points, SKLEARN_ANISO_TRANSFORM),
        labels: aniso.labels,
      }),
    },
    { id: "no_structure", title: "no structure", k: 3, ...scaled(makeUniform(n, sub(4))) },
  ];
}
