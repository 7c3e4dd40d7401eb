/**
 * OpenBLAS as the matrix product of the exact kNN search (`lib/exact_neighbours.ts`): the
 * `gemm` option of `exactNeighbours`, `knnGraph`, `clusterPoints` and `evaluateDataset`, through
 * the Deno FFI binding of `tf/native_blas.ts` (Debian `libopenblas0-pthread`). Outside `lib/`
 * on purpose: `mod.ts` stays importable by URL with no permissions; this module needs
 * `--allow-ffi` (and reads `SPANCLUST_NATIVE_BLAS`, `=0` disables it, when env access is granted).
 *
 * Either precision gives the same neighbours (the search screens with the product and decides
 * with direct float64 distances; the float32 product only widens the screen's rigorous error
 * bound): float64 (`dgemm`) is the default, float32 (`sgemm`) halves the product's cost and memory
 * traffic.
 *
 * @module
 */
import type { NeighbourGemm } from "../lib/exact_neighbours.ts";
import { loadNativeBlas } from "./tf/native_blas.ts";

/** What {@link nativeNeighbourGemm} found: the product, or why there is none. */
export type NativeGemmProbe =
  | {
    readonly ok: true;
    /** The product, for `exactNeighbours(points, k, { gemm })` and the like. */
    readonly gemm: NeighbourGemm;
    /** Library, threads and precision, for logs. */
    readonly detail: string;
  }
  | { readonly ok: false; readonly why: string };

/**
 * OpenBLAS's `dgemm` (float64) or `sgemm` (float32) as a {@link NeighbourGemm} (C ← A·Bᵀ,
 * row-major). Never throws: a missing library, permission or FFI is a reason in the result.
 *
 * @param precision "float64" (default, `dgemm`) or "float32" (`sgemm`).
 * @returns The product and a description, or why it is unavailable.
 * @throws {RangeError} If `precision` is neither.
 */
export function nativeNeighbourGemm(
  precision: "float64" | "float32" = "float64",
): NativeGemmProbe {
  if (precision !== "float64" && precision !== "float32") {
    throw new RangeError(
      `Invalid precision = ${JSON.stringify(precision)}: "float64" or "float32" is needed`,
    );
  }
  const probe = loadNativeBlas();
  if (!probe.ok) return probe;
  const blas = probe.blas;
  const gemm: NeighbourGemm = precision === "float64"
    ? {
      precision,
      multiply: (m, n, d, a, b, c) => blas.dgemm(false, true, m, n, d, a, b, c),
    }
    : {
      precision,
      multiply: (m, n, d, a, b, c) => blas.sgemm(false, true, m, n, d, a, b, c),
    };
  return {
    ok: true,
    gemm,
    detail: `${blas.detail}, ${precision === "float64" ? "dgemm" : "sgemm"}`,
  };
}
