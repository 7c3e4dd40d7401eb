/**
 * Definition 4 of Stewart et al., 2023: the partial connectivity M_Ω, whose entries on the known
 * pairs Ω are 1 (must-link: same cluster) or 0 (cannot-link: different clusters). This module
 * holds its type ({@link Constraints}), builders (from partial labels, from a matrix), the check
 * of a value and {@link satisfies}, the test a clustering must pass.
 *
 * Definition 5, the constrained forest A*_k(Σ; M_Ω) — the heaviest k-spanning forest whose
 * connectivity agrees with M_Ω on Ω — is built on it in the rest of this folder:
 * `constrained_forest.ts` (the dense solvers; it re-exports this module, so users import
 * constraints from there), `_constraint_groups.ts` (the must-link groups and the feasibility of
 * k, where every dense solver starts), `_label_forest.ts` with `_cluster_trees.ts`,
 * `_point_moves.ts` and `_merge_split_moves.ts` (the O(n²) solver for label-derived M_Ω), and
 * `constrained_forest_on_graph.ts` (Definition 5 on a sparse graph, M_Ω from partial labels).
 * This module is their bottom: they import it, it imports none of them.
 *
 * @module
 */
import { show } from "../core/errors.ts";

/**
 * Known pair: the two points must be in the same cluster (M_Ω entry 1).
 *
 * @category Constrained forests
 */
export const MUST_LINK: 1 = 1 as const;
/**
 * Known pair: the two points must be in different clusters (M_Ω entry 0).
 *
 * @category Constrained forests
 */
export const CANNOT_LINK: 0 = 0 as const;
/**
 * Pair outside Ω: no information.
 *
 * @category Constrained forests
 */
export const UNKNOWN: -1 = -1 as const;

/**
 * Partial connectivity M_Ω (Definition 4): an n × n row-major matrix with entries
 * {@link MUST_LINK} (1), {@link CANNOT_LINK} (0) or {@link UNKNOWN} (−1); symmetric, diagonal 1.
 *
 * @category Constrained forests
 */
export interface Constraints {
  /** Number of points. */
  readonly n: number;
  /** The n × n entries in {1, 0, −1}. */
  readonly data: Int8Array;
}

/**
 * M_Ω from a partially labelled batch: labelled pairs are must-link if their labels agree and
 * cannot-link otherwise; pairs with an unlabelled point are unknown; the diagonal is known (1).
 *
 * @param labels One entry per point: an integer class label, or `null` when unlabelled.
 * @returns The constraints.
 * @throws {TypeError} If `labels` is not an array or holds something other than an integer or null.
 * @throws {RangeError} If `labels` is empty.
 *
 * @example Two labelled classes and one unlabelled point
 * ```ts
 * import { constraintsFromLabels } from "./constraint_types.ts";
 * import assert from "node:assert/strict";
 * const c = constraintsFromLabels([7, 7, 3, null]);
 * assert.deepEqual([...c.data.subarray(0, 4)], [1, 1, 0, -1]);
 * ```
 *
 * @category Constrained forests
 */
export function constraintsFromLabels(labels: readonly (number | null)[]): Constraints {
  if (!Array.isArray(labels)) {
    throw new TypeError(`Expected labels to be an array of integers or null, got ${show(labels)}`);
  }
  const n = labels.length;
  if (n === 0) throw new RangeError("Invalid labels: at least one point is needed (n = 0)");
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (l !== null && !Number.isInteger(l)) {
      throw new TypeError(`Invalid labels[${i}] = ${show(l)}: expected an integer or null`);
    }
  }
  // Unlabelled rows and columns stay UNKNOWN; labelled pairs compare their labels.
  const data = new Int8Array(n * n).fill(UNKNOWN);
  const labelled: number[] = [];
  for (let i = 0; i < n; i++) if (labels[i] !== null) labelled.push(i);
  for (const i of labelled) {
    const a = labels[i], row = i * n;
    for (const j of labelled) data[row + j] = labels[j] === a ? MUST_LINK : CANNOT_LINK;
  }
  for (let i = 0; i < n; i++) data[i * n + i] = MUST_LINK;
  return { n, data };
}

/**
 * M_Ω from a matrix of 1 (must-link), 0 (cannot-link) and `null` (unknown). The diagonal may be
 * 1 or null (a point is always with itself).
 *
 * @param rows Square, symmetric matrix of 0 / 1 / null.
 * @returns The constraints.
 * @throws {TypeError} If `rows` is not an array of arrays.
 * @throws {RangeError} If it is empty, ragged, asymmetric, holds another value, or has a 0 on
 * the diagonal.
 *
 * @example
 * ```ts
 * import { constraintsFromMatrix } from "./constraint_types.ts";
 * const c = constraintsFromMatrix([[1, 0, null], [0, 1, 1], [null, 1, 1]]);
 * if (c.data[2] !== -1) throw new Error();
 * ```
 *
 * @category Constrained forests
 */
export function constraintsFromMatrix(
  rows: readonly (readonly (0 | 1 | null)[])[],
): Constraints {
  if (!Array.isArray(rows)) {
    throw new TypeError(`Expected rows to be an array of arrays, got ${show(rows)}`);
  }
  const n = rows.length;
  if (n === 0) throw new RangeError("Invalid rows: at least one point is needed (n = 0)");
  const data = new Int8Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    if (!Array.isArray(row)) throw new TypeError(`Expected rows[${i}] to be an array`);
    if (row.length !== n) {
      throw new RangeError(`Invalid rows[${i}]: length ${row.length}, expected ${n} (square)`);
    }
    for (let j = 0; j < n; j++) {
      const v = row[j];
      if (v !== 0 && v !== 1 && v !== null) {
        throw new RangeError(`Invalid rows[${i}][${j}] = ${show(v)}: expected 0, 1 or null`);
      }
      data[i * n + j] = v === null ? (i === j ? MUST_LINK : UNKNOWN) : v;
    }
  }
  assertConstraints("rows", { n, data }, n);
  return { n, data };
}

/**
 * Checks a {@link Constraints} value: size `n`, entries in {1, 0, −1}, symmetric, diagonal 1.
 *
 * @param name Argument name used in messages.
 * @param c The value to check.
 * @param n Expected number of points.
 * @throws {TypeError} If `c` is not a Constraints object.
 * @throws {RangeError} If the size or any entry is wrong.
 *
 * @example
 * ```ts
 * import { assertConstraints, constraintsFromLabels } from "./constraint_types.ts";
 * assertConstraints("constraints", constraintsFromLabels([0, null]), 2);
 * ```
 */
export function assertConstraints(name: string, c: unknown, n: number): asserts c is Constraints {
  if (typeof c !== "object" || c === null || !((c as Constraints).data instanceof Int8Array)) {
    throw new TypeError(`Expected ${name} to be Constraints {n, data: Int8Array}, got ${show(c)}`);
  }
  const { n: cn, data } = c as Constraints;
  if (cn !== n || data.length !== n * n) {
    throw new RangeError(
      `Invalid ${name}: it is for ${
        show(cn)
      } points (data length ${data.length}) but the problem has n = ${n}`,
    );
  }
  if (constraintsLookValid(data, n)) return;
  // Something is wrong: find the first offending entry in row-major order for the message.
  for (let i = 0; i < n; i++) {
    if (data[i * n + i] !== MUST_LINK) {
      throw new RangeError(
        `Invalid ${name}[${i}][${i}] = ${data[i * n + i]}: the diagonal must be 1`,
      );
    }
    for (let j = 0; j < n; j++) {
      const v = data[i * n + j];
      if (v !== 1 && v !== 0 && v !== -1) {
        throw new RangeError(`Invalid ${name}[${i}][${j}] = ${v}: expected 1, 0 or -1`);
      }
      if (v !== data[j * n + i]) {
        throw new RangeError(
          `Invalid ${name}: not symmetric at (${i}, ${j}): ${v} vs ${data[j * n + i]}`,
        );
      }
    }
  }
}

/**
 * Fast validity check of M_Ω entries (diagonal 1, entries in {1, 0, −1}, symmetric): one pass for
 * the values and a symmetry check in 64 × 64 tiles, so the transposed reads stay in cache
 * (a plain column-order check is one cache miss per entry for large n).
 */
function constraintsLookValid(data: Int8Array, n: number): boolean {
  for (let t = 0; t < data.length; t++) {
    const v = data[t];
    if (v !== 1 && v !== 0 && v !== -1) return false;
  }
  for (let i = 0; i < n; i++) if (data[i * n + i] !== MUST_LINK) return false;
  const TILE = 64;
  for (let bi = 0; bi < n; bi += TILE) {
    for (let bj = bi; bj < n; bj += TILE) {
      const iEnd = Math.min(n, bi + TILE), jEnd = Math.min(n, bj + TILE);
      for (let i = bi; i < iEnd; i++) {
        for (let j = Math.max(bj, i + 1); j < jEnd; j++) {
          if (data[i * n + j] !== data[j * n + i]) return false;
        }
      }
    }
  }
  return true;
}

/**
 * Whether a clustering (labels per point) agrees with every known pair of M_Ω.
 *
 * @param c The constraints.
 * @param labels Cluster id per point.
 * @returns True iff must-link pairs share a label and cannot-link pairs do not.
 * @throws {RangeError} If `labels.length !== c.n`.
 *
 * @example
 * ```ts
 * import { constraintsFromLabels, satisfies } from "./constraint_types.ts";
 * const c = constraintsFromLabels([1, 1, 2]);
 * if (!satisfies(c, [0, 0, 1]) || satisfies(c, [0, 1, 1])) throw new Error();
 * ```
 *
 * @category Constrained forests
 */
export function satisfies(c: Constraints, labels: ArrayLike<number>): boolean {
  const n = c.n;
  if (labels.length !== n) {
    throw new RangeError(`Invalid labels: length ${labels.length}, expected n = ${n}`);
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = c.data[i * n + j];
      if (v === MUST_LINK && labels[i] !== labels[j]) return false;
      if (v === CANNOT_LINK && labels[i] === labels[j]) return false;
    }
  }
  return true;
}
