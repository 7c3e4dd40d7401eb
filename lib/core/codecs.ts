/**
 * io-ts codecs that decode untrusted JSON (config files, data headers, HTTP bodies) into the
 * library's trusted types, once, at the edge. Each `.decode(u)` returns an `Either`: `Right`
 * with the value, or `Left` with errors that `PathReporter.report` renders as sentence-case
 * messages naming the offending position. `.encode` turns a value back into plain JSON.
 *
 * @module
 */
import { E, t } from "../deps/fp.ts";
import { show } from "./errors.ts";
import { type Matrix, matrix, toRows } from "./matrix.ts";

/**
 * One step of the path to a decoding error (structurally io-ts's `ContextEntry`).
 *
 * @category Core
 */
export interface DecodeContextEntry {
  /** Key of this step (`""` at the root). */
  readonly key: string;
  /** The decoder at this step. */
  readonly type: Decoder<unknown>;
  /** The value seen at this step, if recorded. */
  readonly actual?: unknown;
}

/**
 * Why a value failed to decode (structurally io-ts's `ValidationError`).
 *
 * @category Core
 */
export interface DecodeError {
  /** The offending value. */
  readonly value: unknown;
  /** Path from the root to the offending value. */
  readonly context: readonly DecodeContextEntry[];
  /** Sentence-case message naming the argument and position. */
  readonly message?: string;
}

/**
 * The outcome of a decode: structurally fp-ts's `Either<DecodeError[], A>` (io-ts's
 * `Validation<A>`), so `E.isLeft`, `E.fold` and `PathReporter.report` accept it as is.
 *
 * @category Core
 */
export type DecodeResult<A> =
  | { readonly _tag: "Left"; readonly left: DecodeError[] }
  | { readonly _tag: "Right"; readonly right: A };

/**
 * The decoding half of a codec (structurally io-ts's `Decoder<unknown, A>`).
 *
 * @category Core
 */
export interface Decoder<A> {
  /** Codec name, shown by `PathReporter` when a message is missing. */
  readonly name: string;
  /** Decodes within a context (how io-ts combinators compose decoders). */
  readonly validate: (input: unknown, context: readonly DecodeContextEntry[]) => DecodeResult<A>;
  /** Decodes an untrusted value. */
  readonly decode: (input: unknown) => DecodeResult<A>;
}

/**
 * A codec between a trusted type `A` and its JSON form `O`. Every codec here is an io-ts
 * `Type<A, O, unknown>`; this interface restates that shape without naming io-ts types, so the
 * public API documents itself (io-ts's types are not part of this package's docs). To feed one
 * to an io-ts combinator, cast it: `MatrixCodec as unknown as t.Type<Matrix, number[][]>`.
 *
 * @category Core
 */
export interface Codec<A, O> extends Decoder<A> {
  /** Type guard for already-decoded values. */
  readonly is: (u: unknown) => u is A;
  /** Converts a decoded value back to plain JSON. */
  readonly encode: (a: A) => O;
}

/** Rows of a square JSON matrix, validated for shape only (entries checked by the caller). */
function squareRows(
  what: string,
  u: unknown,
  c: t.Context,
): E.Either<t.Errors, readonly (readonly unknown[])[]> {
  if (!Array.isArray(u)) {
    return t.failure(u, c, `Expected ${what} to be an array of rows, got ${show(u)}`);
  }
  if (u.length === 0) {
    return t.failure(u, c, `Invalid ${what}: it has no rows (n = 0), at least one is needed`);
  }
  for (let i = 0; i < u.length; i++) {
    const row = u[i];
    if (!Array.isArray(row)) {
      return t.failure(row, c, `Expected ${what}[${i}] to be an array, got ${show(row)}`);
    }
    if (row.length !== u.length) {
      return t.failure(
        row,
        c,
        `Invalid ${what}[${i}]: it has length ${row.length} but the matrix needs ${u.length} columns (square)`,
      );
    }
  }
  return t.success(u);
}

/**
 * Decodes a JSON `number[][]` into a {@link Matrix}: non-empty, square, every entry a finite
 * number (symmetry is not required; solvers check it with `assertSimilarity`). Encodes back to
 * `number[][]`.
 *
 * @example Decoding untrusted JSON
 * ```ts
 * import { MatrixCodec } from "./codecs.ts";
 * import { PathReporter } from "../deps/fp.ts";
 * import assert from "node:assert/strict";
 * const ok = MatrixCodec.decode(JSON.parse("[[0, 1], [1, 0]]"));
 * assert.ok(ok._tag === "Right" && ok.right.n === 2);
 * const bad = MatrixCodec.decode([[0, 1], [1]]);
 * assert.match(PathReporter.report(bad)[0], /matrix\[1\]: it has length 1/);
 * ```
 *
 * @category Core
 */
export const MatrixCodec: Codec<Matrix, number[][]> = new t.Type<
  Matrix,
  number[][],
  unknown
>(
  "Matrix",
  (u): u is Matrix =>
    typeof u === "object" && u !== null && (u as Matrix).data instanceof Float64Array &&
    Number.isInteger((u as Matrix).n) && (u as Matrix).n >= 1 &&
    (u as Matrix).data.length === (u as Matrix).n ** 2,
  (u, c) => {
    const rows = squareRows("matrix", u, c);
    if (E.isLeft(rows)) return rows;
    const n = rows.right.length;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = rows.right[i][j];
        if (typeof v !== "number" || !Number.isFinite(v)) {
          return t.failure(
            v,
            c,
            `Invalid matrix[${i}][${j}] = ${show(v)}: entries must be finite numbers`,
          );
        }
      }
    }
    return t.success(matrix(rows.right as readonly (readonly number[])[]));
  },
  (m) => toRows(m),
);

/**
 * Decodes a JSON matrix of `0` (cannot-link), `1` (must-link) and `null` (unknown) into the
 * `{ n, data: Int8Array }` constraints value of the paper's Definition 4 (M_Ω), with `-1` for
 * unknown. The matrix must be square and symmetric (a pair is one constraint); each diagonal
 * entry must be `1` or `null` and is stored as `1` (a point is always linked to itself).
 * Encodes back to the `0 | 1 | null` matrix (diagonal `1`).
 *
 * @example Two must-linked points and an unknown third
 * ```ts
 * import { ConstraintsCodec } from "./codecs.ts";
 * import { PathReporter } from "../deps/fp.ts";
 * import assert from "node:assert/strict";
 * const r = ConstraintsCodec.decode([[null, 1, null], [1, 1, null], [null, null, 1]]);
 * assert.ok(r._tag === "Right");
 * assert.deepEqual(Array.from(r.right.data), [1, 1, -1, 1, 1, -1, -1, -1, 1]);
 * const bad = ConstraintsCodec.decode([[0, 1], [1, 1]]);
 * assert.match(PathReporter.report(bad)[0], /constraints\[0\]\[0\] = 0: a diagonal entry/);
 * ```
 *
 * @category Core
 */
export const ConstraintsCodec: Codec<
  { readonly n: number; readonly data: Int8Array },
  (0 | 1 | null)[][]
> = new t.Type<{ readonly n: number; readonly data: Int8Array }, (0 | 1 | null)[][], unknown>(
  "Constraints",
  (u): u is { readonly n: number; readonly data: Int8Array } =>
    typeof u === "object" && u !== null && (u as { data: unknown }).data instanceof Int8Array &&
    Number.isInteger((u as { n: unknown }).n) && (u as { n: number }).n >= 1 &&
    (u as { data: Int8Array }).data.length === (u as { n: number }).n ** 2,
  (u, c) => {
    const rows = squareRows("constraints", u, c);
    if (E.isLeft(rows)) return rows;
    const n = rows.right.length;
    const data = new Int8Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = rows.right[i][j];
        if (v !== 0 && v !== 1 && v !== null) {
          return t.failure(
            v,
            c,
            `Invalid constraints[${i}][${j}] = ${
              show(v)
            }: entries must be 0 (cannot-link), 1 (must-link) or null (unknown)`,
          );
        }
        if (i === j && v === 0) {
          return t.failure(
            v,
            c,
            `Invalid constraints[${i}][${i}] = 0: a diagonal entry must be 1 or null (a point is always linked to itself)`,
          );
        }
        if (j < i && v !== rows.right[j][i]) {
          return t.failure(
            v,
            c,
            `Invalid constraints[${i}][${j}] = ${
              show(v)
            }: it differs from constraints[${j}][${i}] = ${
              show(rows.right[j][i])
            } (the matrix must be symmetric)`,
          );
        }
        data[i * n + j] = i === j ? 1 : v === null ? -1 : v;
      }
    }
    return t.success({ n, data });
  },
  ({ n, data }) => {
    const out: (0 | 1 | null)[][] = [];
    for (let i = 0; i < n; i++) {
      const row: (0 | 1 | null)[] = [];
      for (let j = 0; j < n; j++) {
        const v = data[i * n + j];
        row.push(v === 1 ? 1 : v === 0 ? 0 : null);
      }
      out.push(row);
    }
    return out;
  },
);

/**
 * Decodes a JSON array of integer class labels, `null` marking an unlabelled point (the input
 * of `constraintsFromLabels` for partially labelled batches). Non-empty; any safe integer is
 * a label. Encoding is the identity (a copy).
 *
 * @example Partially labelled batch
 * ```ts
 * import { LabelsCodec } from "./codecs.ts";
 * import { PathReporter } from "../deps/fp.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(LabelsCodec.decode([3, null, 3]), { _tag: "Right", right: [3, null, 3] });
 * assert.match(PathReporter.report(LabelsCodec.decode([0, 1.5]))[0], /labels\[1\] = 1.5/);
 * ```
 *
 * @category Core
 */
export const LabelsCodec: Codec<(number | null)[], (number | null)[]> = new t.Type<
  (number | null)[],
  (number | null)[],
  unknown
>(
  "Labels",
  (u): u is (number | null)[] =>
    Array.isArray(u) && u.length > 0 &&
    u.every((v) => v === null || (typeof v === "number" && Number.isSafeInteger(v))),
  (u, c) => {
    if (!Array.isArray(u)) {
      return t.failure(u, c, `Expected labels to be an array of integers or null, got ${show(u)}`);
    }
    if (u.length === 0) {
      return t.failure(u, c, "Invalid labels: it is empty, at least one point is needed");
    }
    for (let i = 0; i < u.length; i++) {
      const v = u[i];
      if (v !== null && (typeof v !== "number" || !Number.isSafeInteger(v))) {
        return t.failure(
          v,
          c,
          `Invalid labels[${i}] = ${show(v)}: a label must be an integer, or null if unknown`,
        );
      }
    }
    return t.success(u.slice());
  },
  (labels) => labels.slice(),
);
