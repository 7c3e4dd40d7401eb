/**
 * The dense square matrix every solver works on: `n × n`, row-major, `Float64Array`.
 *
 * @module
 */
import { assertAllFinite, show } from "./errors.ts";

/**
 * A dense, square, row-major matrix. Entry (i, j) is `data[i * n + j]`.
 *
 * @category Core
 */
export interface Matrix {
  /** Number of rows (= number of columns). */
  readonly n: number;
  /** The `n * n` entries, row-major. */
  readonly data: Float64Array;
}

/** Absolute tolerance used by {@link assertSimilarity} for symmetry, relative to max |Σ_ij|. */
export const SYMMETRY_TOLERANCE = 1e-9;

/**
 * Builds a {@link Matrix} from rows, copying them.
 *
 * @param rows A non-empty square array of finite numbers.
 * @returns The matrix.
 * @throws {TypeError} If `rows` is not an array of arrays of numbers.
 * @throws {RangeError} If it is empty, ragged, non-square or holds a non-finite value.
 *
 * @example Building and reading back
 * ```ts
 * import { matrix, toRows } from "./matrix.ts";
 * import assert from "node:assert/strict";
 * const m = matrix([[0, 1], [1, 0]]);
 * assert.equal(m.n, 2);
 * assert.deepEqual(toRows(m), [[0, 1], [1, 0]]);
 * ```
 *
 * @category Core
 */
export function matrix(rows: readonly (readonly number[])[]): Matrix {
  if (!Array.isArray(rows)) {
    throw new TypeError(`Expected rows to be an array of arrays, got ${show(rows)}`);
  }
  const n = rows.length;
  if (n === 0) throw new RangeError("Invalid rows: a matrix needs at least one row (n = 0)");
  const data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    if (!Array.isArray(row)) {
      throw new TypeError(`Expected rows[${i}] to be an array, got ${show(row)}`);
    }
    if (row.length !== n) {
      throw new RangeError(
        `Invalid rows[${i}]: it has length ${row.length} but the matrix needs ${n} columns (square)`,
      );
    }
    for (let j = 0; j < n; j++) {
      const v = row[j];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new RangeError(
          `Invalid rows[${i}][${j}] = ${show(v)}: entries must be finite numbers`,
        );
      }
      data[i * n + j] = v;
    }
  }
  return { n, data };
}

/**
 * Wraps a flat row-major buffer as a {@link Matrix} after checking its shape (no copy).
 *
 * @param n Number of rows.
 * @param data The `n * n` entries.
 * @returns The matrix view.
 * @throws {RangeError} If `n` is not a positive integer or `data.length !== n * n`.
 *
 * @example
 * ```ts
 * import { fromData } from "./matrix.ts";
 * const m = fromData(2, new Float64Array([0, 1, 1, 0]));
 * if (m.data[1] !== 1) throw new Error();
 * ```
 *
 * @category Core
 */
export function fromData(n: number, data: Float64Array): Matrix {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`Invalid n = ${show(n)}: n must be a positive integer`);
  }
  if (!(data instanceof Float64Array)) {
    throw new TypeError(`Expected data to be a Float64Array, got ${show(data)}`);
  }
  if (data.length !== n * n) {
    throw new RangeError(`Invalid data: length ${data.length} is not n * n = ${n * n}`);
  }
  return { n, data };
}

/**
 * The `n × n` zero matrix.
 *
 * @param n Size.
 * @returns A fresh zero matrix.
 *
 * @category Core
 */
export function zeros(n: number): Matrix {
  return fromData(n, new Float64Array(n * n));
}

/**
 * Returns the rows of a matrix as plain arrays.
 *
 * @param m The matrix.
 * @returns `number[][]` copy of `m`.
 *
 * @category Core
 */
export function toRows(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.n; i++) out.push(Array.from(m.data.subarray(i * m.n, (i + 1) * m.n)));
  return out;
}

/**
 * Frobenius inner product ⟨A, B⟩ = Σ_ij A_ij B_ij.
 *
 * @param a First matrix.
 * @param b Second matrix of the same size.
 * @returns The inner product.
 * @throws {RangeError} If the sizes differ.
 */
export function frobenius(a: Matrix, b: Matrix): number {
  if (a.n !== b.n) throw new RangeError(`Invalid b: size ${b.n} differs from a's size ${a.n}`);
  let s = 0;
  const x = a.data, y = b.data;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

/**
 * Checks that `m` is a {@link Matrix}: a positive integer n and n × n Float64Array entries (any
 * values).
 *
 * @param name Argument name used in messages (e.g. "sigma").
 * @param m The value to check.
 * @throws {TypeError} If `m` is not an object with a Float64Array `data`.
 * @throws {RangeError} If n is not a positive integer or `data` has not n × n entries.
 *
 * @example
 * ```ts
 * import { assertMatrixShape } from "./matrix.ts";
 * assertMatrixShape("m", { n: 1, data: new Float64Array([NaN]) });
 * ```
 */
export function assertMatrixShape(name: string, m: unknown): asserts m is Matrix {
  if (typeof m !== "object" || m === null) {
    throw new TypeError(`Expected ${name} to be a Matrix {n, data}, got ${show(m)}`);
  }
  const { n, data } = m as Partial<Matrix>;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
    throw new RangeError(`Invalid ${name}.n = ${show(n)}: n must be a positive integer`);
  }
  if (!(data instanceof Float64Array)) {
    throw new TypeError(`Expected ${name}.data to be a Float64Array, got ${show(data)}`);
  }
  if (data.length !== n * n) {
    throw new RangeError(
      `Invalid ${name}: data has length ${data.length} but n * n = ${n * n} (not square)`,
    );
  }
}

/**
 * Checks that `m` is a valid similarity matrix: a {@link Matrix} of the right shape, finite,
 * symmetric up to {@link SYMMETRY_TOLERANCE} × max |Σ_ij|. Every solver calls this once at
 * its boundary.
 *
 * @param name Argument name used in messages (e.g. "sigma").
 * @param m The value to check.
 * @throws {TypeError} If `m` is not a Matrix.
 * @throws {RangeError} If it is empty, mis-sized, non-finite or asymmetric.
 */
export function assertSimilarity(name: string, m: unknown): asserts m is Matrix {
  if (Array.isArray(m)) {
    // The usual first try: passing the points (or a nested array) where Σ is expected.
    throw new TypeError(
      `Expected ${name} to be a similarity Matrix {n, data}, got an array of ${m.length} rows: ` +
        `build Σ from points with negSquaredDistances(points) (or gaussianSimilarity, ` +
        `cosineSimilarity), or from a square array of similarities with matrix(rows)`,
    );
  }
  assertMatrixShape(name, m);
  const { n, data } = m;
  // One cache-friendly pass finds the largest asymmetry |Σ_ij − Σ_ji| (NaN when a difference is
  // NaN). Every non-finite entry shows there: its difference is NaN or ±∞ (the diagonal's x − x
  // is NaN for x = ±∞). The scale max |Σ_ij| matters only when that asymmetry could exceed the
  // tolerance, which is at least SYMMETRY_TOLERANCE: an exactly (or nearly) symmetric Σ is
  // accepted without it. Only when a check fails does an exact row-major scan name the first
  // offending entry.
  const maxAsymmetry = largestAsymmetry(data, n);
  if (maxAsymmetry <= SYMMETRY_TOLERANCE) return;
  if (!(maxAsymmetry < Infinity)) {
    assertAllFinite(name, data, (k) => `[${Math.floor(k / n)}][${k % n}]`);
  }
  const tol = SYMMETRY_TOLERANCE * Math.max(1, largestMagnitude(data));
  if (maxAsymmetry > tol) {
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const a = data[i * n + j], b = data[j * n + i];
        if (Math.abs(a - b) > tol) {
          throw new RangeError(
            `Invalid ${name}: not symmetric at (${i}, ${j}): ${a} vs ${b} (tolerance ${tol})`,
          );
        }
      }
    }
  }
}

/**
 * Side of the square tiles of {@link largestAsymmetry}. Small tiles keep the column half of a
 * tile pair (16 rows, two cache lines each) in cache while its four-row blocks pass, which matters
 * most when n is a power of two (the rows of a column walk then share one cache set) and when Σ
 * is read from memory rather than from the shared cache. Measured on the loaded 2-core machine
 * (median ms, tiles of 64 → 16): 1.4–2.6 → 1.2–1.7 at n = 1024 with Σ cached, 2.8 → 1.5 with Σ
 * read from memory; 16 was the best or within 1.7× of the best of 16…512 at every n up to 10 000
 * (128 loses 2× at n = 6000 and 10 000, 256 and 512 at 8192).
 */
const SYMMETRY_TILE = 16;

/**
 * Internal (not re-exported by `mod.ts`; exported for its tests). max_{i≤j} |data[i][j] −
 * data[j][i]|, or NaN as soon as one difference is NaN, in one pass that
 * compares tile (I, J) with tile (J, I) so that both reads stay in cache (a plain column walk
 * misses on every read for large n). Lean on purpose, since this pass guards a solve that costs
 * about as much: four rows at a time (their four column reads share a cache line), and one
 * well-predicted test per pair — `|d| ≤ max` holds for every pair of an exactly symmetric Σ and
 * fails for NaN — with the bookkeeping off the hot path. No loop-carried arithmetic, so the
 * pass is not bound by the latency of additions. Against the previous scan (64-wide tiles, which
 * also kept the scale and a NaN-propagating sum), interleaved on the loaded 2-core machine, median
 * ms: 0.131 → 0.070 at n = 256, 3.1 → 1.6 at 1024, 67 → 40 at 4096.
 */
export function largestAsymmetry(data: Float64Array, n: number, tile = SYMMETRY_TILE): number {
  let m = 0;
  for (let bi = 0; bi < n; bi += tile) {
    const iEnd = Math.min(n, bi + tile);
    for (let bj = bi; bj < n; bj += tile) {
      const jEnd = Math.min(n, bj + tile);
      let i = bi;
      if (bj > bi) {
        for (; i + 3 < iEnd; i += 4) {
          const r0 = i * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
          for (let j = bj, c = bj * n + i; j < jEnd; j++, c += n) {
            const d0 = data[r0 + j] - data[c], d1 = data[r1 + j] - data[c + 1];
            const d2 = data[r2 + j] - data[c + 2], d3 = data[r3 + j] - data[c + 3];
            if (
              !(Math.abs(d0) <= m && Math.abs(d1) <= m && Math.abs(d2) <= m &&
                Math.abs(d3) <= m)
            ) {
              const e = Math.max(Math.abs(d0), Math.abs(d1), Math.abs(d2), Math.abs(d3));
              if (e !== e) return NaN;
              m = Math.max(m, e);
            }
          }
        }
      }
      // The diagonal tile (j ≥ i, the diagonal included: x − x is NaN for x = ±∞) and the rows
      // left over by the unrolled loop.
      for (; i < iEnd; i++) {
        const row = i * n;
        const j0 = bj > bi ? bj : i;
        for (let j = j0, c = j0 * n + i; j < jEnd; j++, c += n) {
          const d = Math.abs(data[row + j] - data[c]);
          if (!(d <= m)) {
            if (d !== d) return NaN;
            m = d;
          }
        }
      }
    }
  }
  return m;
}

/** max |data[k]| (0 for an all-zero matrix); NaN entries are skipped. */
function largestMagnitude(data: Float64Array): number {
  let scale = 0;
  for (let k = 0; k < data.length; k++) {
    const a = Math.abs(data[k]);
    if (a > scale) scale = a;
  }
  return scale;
}
