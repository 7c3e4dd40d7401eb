/**
 * Inputs shared by the benchmarks and `scripts/bench_compare.ts`: continuous random points (so
 * that no two distances tie and every solver must return the same partitions), Σ = −‖xᵢ − xⱼ‖²
 * built once outside the timed code, and a memory-floor pass over n² entries.
 *
 * @module
 */
import { fromData, type Matrix } from "../lib/core/matrix.ts";
import { standardNormal, streamFor } from "../lib/core/random.ts";

/** n points in `dim` dimensions, iid N(0, 1) coordinates, flat row-major (n × dim). */
export function randomPoints(n: number, dim: number, seed: number): Float64Array {
  const rng = streamFor(seed), x = new Float64Array(n * dim);
  for (let t = 0; t < x.length; t++) x[t] = standardNormal(rng);
  return x;
}

/** Σ = −‖xᵢ − xⱼ‖² from flat points (n × dim), exactly symmetric, zero diagonal. */
export function negSquaredDistanceMatrix(x: Float64Array, dim: number): Matrix {
  const n = x.length / dim, data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let d = 0; d < dim; d++) {
        const diff = x[i * dim + d] - x[j * dim + d];
        s += diff * diff;
      }
      data[i * n + j] = data[j * n + i] = -s;
    }
  }
  return fromData(n, data);
}

/**
 * The memory floor: one plain pass that reads every one of the n² entries (a sum, so the JIT
 * cannot drop it). No O(n²) algorithm on a dense Σ can beat it by more than a small constant.
 */
export function memoryFloorPass(data: Float64Array): number {
  let s = 0;
  for (let t = 0; t < data.length; t++) s += data[t];
  return s;
}

/**
 * A fresh copy of {@link memoryFloorPass} for one matrix size. V8 keeps type feedback per
 * function: one shared pass, first optimised on a small (on-heap) typed array, runs several times
 * slower on the large ones afterwards, which would flatter every ratio to the floor.
 */
export function memoryFloorPassFor(n: number): (data: Float64Array) => number {
  // The size in the source text keeps V8's compilation cache from sharing one function.
  return new Function(
    "data",
    `/* n = ${n} */ let s = 0; for (let t = 0; t < data.length; t++) s += data[t]; return s;`,
  ) as (data: Float64Array) => number;
}

/** Label-derived constraints input: the first `labelled` points get class i mod `classes`. */
export function partialLabels(n: number, labelled: number, classes: number): (number | null)[] {
  return Array.from({ length: n }, (_, i) => (i < labelled ? i % classes : null));
}
