/**
 * The dense rectangular matrix used by optimal transport and k-means: `rows × cols`,
 * row-major, `Float64Array`. (Square similarity matrices use {@link Matrix} from
 * `matrix.ts`; transport plans, cost matrices and point clouds are rectangular.)
 *
 * @module
 */
import { assertAllFinite, show } from "./errors.ts";

/**
 * A dense, row-major, rectangular matrix. Entry (i, j) is `data[i * cols + j]`.
 *
 * @category Core
 */
export interface RectMatrix {
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
  /** The `rows * cols` entries, row-major. */
  readonly data: Float64Array;
}

/**
 * Points given either as an array of coordinate rows or as an `n × d` {@link RectMatrix}.
 *
 * @category Core
 */
export type PointsLike = RectMatrix | readonly (readonly number[])[];

/**
 * Builds a {@link RectMatrix} from an array of equal-length rows of finite numbers, copying them.
 *
 * @param rows A non-empty array of non-empty rows, all of the same length.
 * @param name Argument name used in error messages (default `"rows"`).
 * @returns The matrix.
 * @throws {TypeError} If `rows` is not an array of arrays.
 * @throws {RangeError} If it is empty, ragged or holds a non-finite value.
 *
 * @example Building and reading back
 * ```ts
 * import { rectMatrix, rectToRows } from "./rect_matrix.ts";
 * import assert from "node:assert/strict";
 * const m = rectMatrix([[1, 2, 3], [4, 5, 6]]);
 * assert.equal(m.rows, 2);
 * assert.equal(m.cols, 3);
 * assert.deepEqual(rectToRows(m), [[1, 2, 3], [4, 5, 6]]);
 * ```
 *
 * @category Core
 */
export function rectMatrix(rows: readonly (readonly number[])[], name = "rows"): RectMatrix {
  if (!Array.isArray(rows)) {
    throw new TypeError(`Expected ${name} to be an array of arrays, got ${show(rows)}`);
  }
  const r = rows.length;
  if (r === 0) throw new RangeError(`Invalid ${name}: at least one row is needed (got 0)`);
  const first = rows[0];
  if (!Array.isArray(first)) {
    throw new TypeError(`Expected ${name}[0] to be an array, got ${show(first)}`);
  }
  const c = first.length;
  if (c === 0) throw new RangeError(`Invalid ${name}[0]: rows must not be empty`);
  const data = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    const row = rows[i];
    if (!Array.isArray(row)) {
      throw new TypeError(`Expected ${name}[${i}] to be an array, got ${show(row)}`);
    }
    if (row.length !== c) {
      throw new RangeError(
        `Invalid ${name}[${i}]: it has length ${row.length} but ${name}[0] has length ${c}`,
      );
    }
    for (let j = 0; j < c; j++) {
      const v = row[j];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new RangeError(`Invalid ${name}[${i}][${j}] = ${show(v)}: entries must be finite`);
      }
      data[i * c + j] = v;
    }
  }
  return { rows: r, cols: c, data };
}

/**
 * Wraps a flat row-major buffer as a {@link RectMatrix} after checking its shape (no copy).
 *
 * @param rows Number of rows (positive integer).
 * @param cols Number of columns (positive integer).
 * @param data The `rows * cols` entries.
 * @returns The matrix view.
 * @throws {RangeError} If a dimension is not a positive integer or `data.length` disagrees.
 *
 * @example
 * ```ts
 * import { rectFromData } from "./rect_matrix.ts";
 * import assert from "node:assert/strict";
 * const m = rectFromData(2, 1, new Float64Array([3, 4]));
 * assert.equal(m.data[1], 4);
 * ```
 *
 * @category Core
 */
export function rectFromData(rows: number, cols: number, data: Float64Array): RectMatrix {
  if (!Number.isInteger(rows) || rows < 1) {
    throw new RangeError(`Invalid rows = ${show(rows)}: rows must be a positive integer`);
  }
  if (!Number.isInteger(cols) || cols < 1) {
    throw new RangeError(`Invalid cols = ${show(cols)}: cols must be a positive integer`);
  }
  if (!(data instanceof Float64Array)) {
    throw new TypeError(`Expected data to be a Float64Array, got ${show(data)}`);
  }
  if (data.length !== rows * cols) {
    throw new RangeError(
      `Invalid data: it has length ${data.length} but rows × cols = ${rows} × ${cols} = ${
        rows * cols
      }`,
    );
  }
  return { rows, cols, data };
}

/**
 * Copies a {@link RectMatrix} into an array of rows.
 *
 * @param m The matrix.
 * @returns `m.rows` arrays of `m.cols` numbers.
 *
 * @example
 * ```ts
 * import { rectFromData, rectToRows } from "./rect_matrix.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(rectToRows(rectFromData(1, 2, new Float64Array([1, 2]))), [[1, 2]]);
 * ```
 *
 * @category Core
 */
export function rectToRows(m: RectMatrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) {
    out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  }
  return out;
}

/**
 * Normalises points given as rows or as a {@link RectMatrix} into a checked `n × d`
 * {@link RectMatrix} (rows are copied; a `RectMatrix` is checked and returned as is).
 *
 * @param points The points.
 * @param name Argument name used in error messages (default `"points"`).
 * @returns The `n × d` matrix of coordinates.
 * @throws {TypeError} If `points` is neither an array of rows nor a matrix.
 * @throws {RangeError} If it is empty, ragged, mis-shaped or holds a non-finite value.
 *
 * @example
 * ```ts
 * import { toRectMatrix } from "./rect_matrix.ts";
 * import assert from "node:assert/strict";
 * const p = toRectMatrix([[0, 0], [1, 2]]);
 * assert.deepEqual([p.rows, p.cols], [2, 2]);
 * ```
 */
export function toRectMatrix(points: PointsLike, name = "points"): RectMatrix {
  if (Array.isArray(points)) return rectMatrix(points, name);
  if (
    typeof points === "object" && points !== null && "data" in points &&
    "rows" in points && "cols" in points
  ) {
    const m = points as RectMatrix;
    if (!(m.data instanceof Float64Array)) {
      throw new TypeError(`Expected ${name}.data to be a Float64Array, got ${show(m.data)}`);
    }
    if (!Number.isInteger(m.rows) || m.rows < 1 || !Number.isInteger(m.cols) || m.cols < 1) {
      throw new RangeError(
        `Invalid ${name}: shape ${show(m.rows)} × ${show(m.cols)} must be positive integers`,
      );
    }
    if (m.data.length !== m.rows * m.cols) {
      throw new RangeError(
        `Invalid ${name}.data: length ${m.data.length} but rows × cols = ${m.rows * m.cols}`,
      );
    }
    assertAllFinite(name, m.data, (i) => `[${Math.floor(i / m.cols)}][${i % m.cols}]`);
    return m;
  }
  throw new TypeError(
    `Expected ${name} to be an array of rows or a RectMatrix, got ${show(points)}`,
  );
}
