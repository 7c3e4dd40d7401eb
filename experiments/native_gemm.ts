/**
 * OpenBLAS as the matrix product of the exact kNN search (`lib/graph/exact_neighbours.ts`): the
 * `gemm` option of `exactNeighbours`, `knnGraph`, `clusterPoints` and `evaluateDataset`, through
 * the Deno FFI binding of `tf/native_blas.ts` (Debian `libopenblas0-pthread`). Outside `lib/`
 * on purpose: `mod.ts` stays importable by URL with no permissions; this module needs
 * `--allow-ffi` (and reads `SPANCLUST_NATIVE_BLAS`, `=0` disables it, when env access is granted).
 *
 * Either precision gives the same neighbours (the search screens with the product and decides
 * with direct float64 distances; the float32 product only widens the screen's rigorous error
 * bound). float64 (`dgemm`) is the default, the plainer contract; neither was consistently
 * faster on the exp:mnist embeddings (10 000 × 256-d, 15-NN, side by side on the loaded 2-core
 * machine): 1.39 vs 2.44 s for `sgemm` with two threads, 1.75 vs 1.63 s with one.
 *
 * One BLAS thread by default: the search alternates small products (B × B × d) with a scan on
 * the JavaScript thread, and OpenBLAS's waiting threads then compete with that scan for the
 * cores. Measured on the shared 2-core machine, 70 000 × 32-d mixture, k = 15, dgemm: 4.8 s
 * for the whole search on one thread, 11.9–12.3 s on two (the products alone 1.2 vs
 * 6.6–7.8 s).
 *
 * @module
 */
import type { NeighbourGemm } from "../lib/graph/exact_neighbours.ts";
import { loadNativeBlas } from "../tf/native_blas.ts";

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
 * @param threads BLAS threads for each product (default 1; the library's own setting, shared
 *   with the wasm backend, is restored after each product).
 * @returns The product and a description, or why it is unavailable.
 * @throws {RangeError} If `precision` is neither, or `threads` is not an integer ≥ 1.
 */
export function nativeNeighbourGemm(
  precision: "float64" | "float32" = "float64",
  threads = 1,
): NativeGemmProbe {
  if (precision !== "float64" && precision !== "float32") {
    throw new RangeError(
      `Invalid precision = ${JSON.stringify(precision)}: "float64" or "float32" is needed`,
    );
  }
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`Invalid threads = ${threads}: an integer ≥ 1 is needed`);
  }
  const probe = loadNativeBlas();
  if (!probe.ok) return probe;
  const blas = probe.blas;
  // The library's thread count is global (the wasm backend sets its own): set it for each
  // product and restore it after.
  const withThreads = (f: () => void) => {
    const before = blas.threads();
    if (before === threads) return f();
    blas.setThreads(threads);
    try {
      f();
    } finally {
      blas.setThreads(before);
    }
  };
  const gemm: NeighbourGemm = precision === "float64"
    ? {
      precision,
      multiply: (m, n, d, a, b, c) => withThreads(() => blas.dgemm(false, true, m, n, d, a, b, c)),
    }
    : {
      precision,
      multiply: (m, n, d, a, b, c) => withThreads(() => blas.sgemm(false, true, m, n, d, a, b, c)),
    };
  return {
    ok: true,
    gemm,
    detail: `${blas.detail.replace(/, \d+ thread\(s\)$/, "")}, ${
      precision === "float64" ? "dgemm" : "sgemm"
    } on ${threads} thread${threads === 1 ? "" : "s"}`,
  };
}
