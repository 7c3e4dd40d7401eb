/**
 * Internal (re-exported by `exact_neighbours.ts`): the matrix product behind the screen of
 * {@link exactNeighbours}: its contract ({@link GemmAbT}: a conventional sum of d products per
 * entry, which the screen's rounding bound relies on), the precision it runs in
 * ({@link NeighbourGemm}), the pure-TypeScript kernel used when no native BLAS is injected
 * ({@link multiplyAbT}, {@link jsGemm}) and the check of an injected one ({@link checkGemm}).
 *
 * @module
 */
import { show } from "../core/errors.ts";

/**
 * A matrix product C ← A·Bᵀ, row-major and densely packed: A is m × d, B is n × d, C is m × n,
 * so C[i·n + j] = Σ_t A[i·d + t]·B[j·d + t]. The arrays may be views (`subarray`) of larger
 * buffers; C is overwritten (never read). Each entry must be a conventional sum of the d
 * products in the array type's precision (any order, fused multiply–add allowed: what BLAS
 * `gemm` does; not a Strassen-type algorithm), which is what makes the screen of
 * {@link exactNeighbours} rigorous.
 *
 * @category Graphs of points
 */
export type GemmAbT<T extends Float32Array | Float64Array> = (
  m: number,
  n: number,
  d: number,
  a: T,
  b: T,
  c: T,
) => void;

/**
 * A matrix product for {@link exactNeighbours}, with the precision of its operands: float64
 * (e.g. BLAS `dgemm`) or float32 (e.g. `sgemm`; the points are rounded to float32 for it, and
 * the screen's error bound widens accordingly: the neighbours are still exact).
 *
 * @category Graphs of points
 */
export type NeighbourGemm =
  | {
    /** Operands and result are Float64Array. */
    readonly precision: "float64";
    /** The product. */
    readonly multiply: GemmAbT<Float64Array>;
  }
  | {
    /** Operands and result are Float32Array. */
    readonly precision: "float32";
    /** The product. */
    readonly multiply: GemmAbT<Float32Array>;
  };

/**
 * C ← A·Bᵀ in float64, pure TypeScript (the default product of {@link exactNeighbours}):
 * 2 × 4 register blocks, B's rows in the outer loop so that four of them stay in L1 while A's
 * block streams from L2. See {@link GemmAbT} for the layout.
 *
 * @param m Rows of A and C.
 * @param n Rows of B, columns of C.
 * @param d Columns of A and B.
 * @param a m × d, row-major.
 * @param b n × d, row-major.
 * @param c m × n, row-major (overwritten).
 *
 * @example
 * ```ts
 * import { multiplyAbT } from "./exact_neighbours.ts";
 * const c = new Float64Array(2);
 * multiplyAbT(1, 2, 2, Float64Array.of(1, 2), Float64Array.of(3, 4, 5, 6), c);
 * if (c.join() !== "11,17") throw new Error();
 * ```
 */
export function multiplyAbT(
  m: number,
  n: number,
  d: number,
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const b0 = j * d, b1 = b0 + d, b2 = b1 + d, b3 = b2 + d;
    let i = 0;
    for (; i + 2 <= m; i += 2) {
      const a0 = i * d, a1 = a0 + d;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let t = 0; t < d; t++) {
        const x0 = a[a0 + t], x1 = a[a1 + t];
        const y0 = b[b0 + t], y1 = b[b1 + t], y2 = b[b2 + t], y3 = b[b3 + t];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      const c0 = i * n + j, c1 = c0 + n;
      c[c0] = s00;
      c[c0 + 1] = s01;
      c[c0 + 2] = s02;
      c[c0 + 3] = s03;
      c[c1] = s10;
      c[c1 + 1] = s11;
      c[c1 + 2] = s12;
      c[c1 + 3] = s13;
    }
    // The last row when m is odd: one column at a time (the same sum per entry).
    for (; i < m; i++) {
      const a0 = i * d;
      for (let q = 0; q < 4; q++) {
        const bq = b0 + q * d;
        let s = 0;
        for (let t = 0; t < d; t++) s += a[a0 + t] * b[bq + t];
        c[i * n + j + q] = s;
      }
    }
  }
  for (; j < n; j++) {
    const b0 = j * d;
    for (let i = 0; i < m; i++) {
      const a0 = i * d;
      let s = 0;
      for (let t = 0; t < d; t++) s += a[a0 + t] * b[b0 + t];
      c[i * n + j] = s;
    }
  }
}

/**
 * The pure-TypeScript product ({@link multiplyAbT}): the default of {@link exactNeighbours}.
 *
 * @category Graphs of points
 */
export const jsGemm: NeighbourGemm = Object.freeze({
  precision: "float64",
  multiply: multiplyAbT,
});

/**
 * Checks that `gemm` is a {@link NeighbourGemm} (its shape; the product itself is trusted).
 *
 * @param gemm The value to check.
 * @returns It, typed.
 * @throws {TypeError} Naming `gemm`, if it is not `{ precision, multiply }`.
 */
export function checkGemm(gemm: unknown): NeighbourGemm {
  const g = gemm as NeighbourGemm;
  if (
    typeof gemm !== "object" || gemm === null || typeof g.multiply !== "function" ||
    (g.precision !== "float64" && g.precision !== "float32")
  ) {
    throw new TypeError(
      `Expected gemm to be { precision: "float64" | "float32", multiply(m, n, d, a, b, c) }, got ${
        show(gemm)
      }`,
    );
  }
  return g;
}
