/**
 * Data of the synthetic denoising experiment (Stewart et al., 2023, §4 and appendix, Figure 3
 * right): a 2-d signal of isotropic Gaussian blobs, its spanning-forest clustering as the
 * target, and uninformative uniform noise columns appended to the features.
 *
 * All randomness comes from `lib/core/random.ts` streams, so a seed gives the same data on every
 * machine and backend.
 *
 * @module
 */
import { negSquaredDistances } from "../../lib/core/similarity.ts";
import { maxSpanningForest } from "../../lib/forest/spanning_forest.ts";
import {
  type RandomStream,
  standardNormal,
  streamFor,
  uniformOpen01,
} from "../../lib/core/random.ts";

/**
 * The blob means of the paper's run: numpy `RandomState(0).uniform(−10, 10, (4, 2))`, i.e.
 * scikit-learn `make_blobs(centers=4, random_state=0)`'s centres.
 */
export const PAPER_MEANS: readonly (readonly [number, number])[] = [
  [0.976, 4.304],
  [2.055, 0.898],
  [-1.527, 2.918],
  [-1.248, 7.835],
];

/** How one data set is generated. */
export interface DenoiseDataOptions {
  /** Blob means in R² (one blob per mean). */
  readonly means: readonly (readonly number[])[];
  /** Points per blob (paper: 15). */
  readonly pointsPerCluster: number;
  /** Standard deviation of each isotropic blob (paper: 0.2). */
  readonly std: number;
  /** Number of iid U[0, 1] noise columns appended (paper: 2). */
  readonly noiseColumns: number;
  /** Number of clusters k of the target M*_k(Σ_signal) (paper: 4). */
  readonly k: number;
}

/** One generated data set. */
export interface DenoiseData {
  /** The signal X_signal, n × 2. */
  readonly signal: number[][];
  /** X = [X_signal | noise], n × (2 + noiseColumns). */
  readonly features: number[][];
  /** The blob each point was drawn from. */
  readonly blob: Int32Array;
  /**
   * Cluster labels of the target M_signal = M*_k(Σ_signal), Σ_signal = −‖x_i − x_j‖² on the
   * signal (Definition 2: the maximum k-spanning forest, i.e. single linkage cut at k).
   */
  readonly target: Int32Array;
}

/**
 * Draws a data set: `pointsPerCluster` points per mean from N(mean, std² I₂), then
 * `noiseColumns` iid U[0, 1] columns; the target is the k-spanning-forest clustering of the
 * signal alone.
 *
 * @param opts Means, points per blob, std, noise columns, k.
 * @param seed 32-bit seed (distinct seeds for the training and validation sets).
 * @returns The data set.
 * @throws {RangeError} If a mean is not in R², a count is not a positive integer (noise
 * columns may be 0), std is negative, or k is not in [1, n].
 *
 * @example Shapes, and the target recovers the well-separated blobs
 * ```ts
 * import { denoiseData, PAPER_MEANS } from "./data.ts";
 * import assert from "node:assert/strict";
 * const d = denoiseData(
 *   { means: PAPER_MEANS, pointsPerCluster: 15, std: 0.2, noiseColumns: 2, k: 4 }, 0);
 * assert.equal(d.features.length, 60);
 * assert.equal(d.features[0].length, 4);
 * assert.equal(new Set(d.target).size, 4);
 * ```
 */
export function denoiseData(opts: DenoiseDataOptions, seed: number): DenoiseData {
  const { means, pointsPerCluster, std, noiseColumns, k } = opts;
  means.forEach((m, i) => {
    if (m.length !== 2 || !m.every(Number.isFinite)) {
      throw new RangeError(`Invalid means[${i}] = [${m}]: a mean must be a finite point of R²`);
    }
  });
  if (!Number.isInteger(pointsPerCluster) || pointsPerCluster < 1) {
    throw new RangeError(
      `Invalid pointsPerCluster = ${pointsPerCluster}: it must be a positive integer`,
    );
  }
  if (!Number.isInteger(noiseColumns) || noiseColumns < 0) {
    throw new RangeError(
      `Invalid noiseColumns = ${noiseColumns}: it must be a non-negative integer`,
    );
  }
  if (!(std >= 0) || !Number.isFinite(std)) {
    throw new RangeError(`Invalid std = ${std}: it must be a finite number ≥ 0`);
  }
  const rng: RandomStream = streamFor(seed);
  const signal: number[][] = [], features: number[][] = [];
  const blob = new Int32Array(means.length * pointsPerCluster);
  means.forEach((m, c) => {
    for (let p = 0; p < pointsPerCluster; p++) {
      blob[signal.length] = c;
      signal.push([m[0] + std * standardNormal(rng), m[1] + std * standardNormal(rng)]);
    }
  });
  for (const s of signal) {
    features.push([...s, ...Array.from({ length: noiseColumns }, () => uniformOpen01(rng))]);
  }
  const target = maxSpanningForest(negSquaredDistances(signal), k).labels;
  return { signal, features, blob, target };
}

/**
 * Random blob means, uniform on [−10, 10]² (the paper's generator, with our RNG).
 *
 * @param count Number of means.
 * @param seed 32-bit seed.
 * @returns The means.
 *
 * @example
 * ```ts
 * import { randomMeans } from "./data.ts";
 * import assert from "node:assert/strict";
 * const m = randomMeans(4, 1);
 * assert.equal(m.length, 4);
 * assert.ok(m.flat().every((v) => v >= -10 && v <= 10));
 * ```
 */
export function randomMeans(count: number, seed: number): [number, number][] {
  const rng = streamFor(seed);
  return Array.from({ length: count }, () => [
    -10 + 20 * uniformOpen01(rng),
    -10 + 20 * uniformOpen01(rng),
  ]);
}
