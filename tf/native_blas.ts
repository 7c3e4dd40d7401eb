/**
 * Native GEMM through Deno FFI: OpenBLAS's `cblas_sgemm` (and `cblas_dgemm`, for the exact
 * kNN search of `experiments/native_gemm.ts`), installed from
 * Debian by `scripts/setup.sh` (`libopenblas0-pthread`). It is optional: the wasm backend's
 * kernels (`wasm_kernels.ts`) use it when it loads and fall back to XNNPACK inside the wasm
 * module otherwise (a browser, a machine without apt, a run without `--allow-ffi`).
 *
 * Why: tfjs-backend-wasm runs one thread in Deno and wasm SIMD is 128-bit without fused
 * multiply-add, so its matmul is several times slower than an AVX2/FMA BLAS using every core
 * (measured here: 1024³ in 17 ms with OpenBLAS on 2 threads; numpy's sgemm ≈ 3.5× tfjs-wasm).
 * Operands are passed as Float32Array views of the wasm heap: FFI hands the pointer to the
 * library, nothing is copied.
 *
 * @module
 */

/** What {@link loadNativeBlas} found: the library and its GEMM, or why there is none. */
export type NativeBlasProbe =
  | { readonly ok: true; readonly blas: NativeBlas }
  | { readonly ok: false; readonly why: string };

/** A loaded native BLAS. */
export interface NativeBlas {
  /** Library and configuration, e.g. `OpenBLAS 0.3.21 … Haswell MAX_THREADS=64, 2 threads`. */
  readonly detail: string;
  /**
   * Row-major C ← alpha·op(A)·op(B) + beta·C with op(A) M × K, op(B) K × N, C M × N, all
   * densely packed (leading dimensions K or M for A, N or K for B, N for C).
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    beta?: number,
  ): void;
  /**
   * Double precision: row-major C ← alpha·op(A)·op(B) + beta·C, the layout of {@link sgemm}
   * (OpenBLAS's `cblas_dgemm`).
   */
  dgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float64Array,
    b: Float64Array,
    c: Float64Array,
    beta?: number,
  ): void;
  /** Sets the number of BLAS threads (OpenBLAS's `openblas_set_num_threads`). */
  setThreads(threads: number): void;
  /** The number of BLAS threads in use. */
  threads(): number;
}

/** Library names tried in order (Debian's OpenBLAS alternatives first). */
export const NATIVE_BLAS_LIBRARIES = [
  "libopenblas.so.0",
  "libopenblas.so",
  "libopenblas.dylib",
] as const;

/** The parameters of `cblas_?gemm` with scalars (alpha, beta) of type `scalar`. */
function gemmSymbol<S extends "f32" | "f64">(scalar: S) {
  return {
    parameters: [
      "i32", // order
      "i32", // transA
      "i32", // transB
      "i32", // M
      "i32", // N
      "i32", // K
      scalar, // alpha
      "buffer", // A
      "i32", // lda
      "buffer", // B
      "i32", // ldb
      scalar, // beta
      "buffer", // C
      "i32", // ldc
    ],
    result: "void",
  } as const;
}

const SYMBOLS = {
  cblas_sgemm: gemmSymbol("f32"),
  cblas_dgemm: gemmSymbol("f64"),
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  openblas_get_num_threads: { parameters: [], result: "i32" },
  openblas_get_config: { parameters: [], result: "pointer" },
} as const;

const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

/** A GEMM operand (the interface fixes its precision: Float32Array for sgemm, …). */
type Operand = Float32Array | Float64Array;

/**
 * {@link NativeBlas.sgemm} / {@link NativeBlas.dgemm} from the C function: row-major
 * C ← op(A)·op(B) + beta·C with the leading dimensions of dense row-major operands.
 */
function rowMajorGemm(
  f: (
    ...args: [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      Operand,
      number,
      Operand,
      number,
      number,
      Operand,
      number,
    ]
  ) => void,
) {
  return (
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Operand,
    b: Operand,
    c: Operand,
    beta = 0,
  ): void =>
    f(
      ROW_MAJOR,
      transA ? TRANS : NO_TRANS,
      transB ? TRANS : NO_TRANS,
      m,
      n,
      k,
      1,
      a,
      transA ? m : k,
      b,
      transB ? k : n,
      beta,
      c,
      n,
    );
}

let cached: NativeBlasProbe | null = null;

/**
 * Loads OpenBLAS once (later calls return the same answer). Never throws: a missing library,
 * a missing `--allow-ffi` permission or a runtime without FFI is a reason in the result.
 *
 * @returns The library, or why it is unavailable (one sentence naming the fix).
 */
export function loadNativeBlas(): NativeBlasProbe {
  if (cached !== null) return cached;
  cached = probe();
  return cached;
}

function probe(): NativeBlasProbe {
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  if (deno?.dlopen === undefined) {
    return { ok: false, why: "this runtime has no FFI (Deno.dlopen)" };
  }
  let disabled = false;
  try {
    disabled = deno.env.get("SPANCLUST_NATIVE_BLAS") === "0";
  } catch {
    // No env permission for it: the variable cannot have been meant for this run.
  }
  if (disabled) return { ok: false, why: "disabled by SPANCLUST_NATIVE_BLAS=0" };
  if (deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return { ok: false, why: "no FFI permission (run with --allow-ffi to use OpenBLAS)" };
  }
  const errors: string[] = [];
  for (const name of NATIVE_BLAS_LIBRARIES) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = deno.dlopen(name, SYMBOLS);
    } catch (e) {
      errors.push(`${name}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
      continue;
    }
    const s = lib.symbols;
    const config = s.openblas_get_config();
    const version = config === null ? name : new Deno.UnsafePointerView(config).getCString();
    const blas: NativeBlas = {
      get detail() {
        return `${version}, ${s.openblas_get_num_threads()} thread(s)`;
      },
      sgemm: rowMajorGemm(s.cblas_sgemm),
      dgemm: rowMajorGemm(s.cblas_dgemm),
      setThreads(threads) {
        if (!Number.isInteger(threads) || threads < 1) {
          throw new RangeError(`Invalid threads = ${threads}: expected an integer ≥ 1`);
        }
        s.openblas_set_num_threads(threads);
      },
      threads: () => s.openblas_get_num_threads(),
    };
    return { ok: true, blas };
  }
  return {
    ok: false,
    why: `OpenBLAS not found (${errors.join("; ")}); install it with ` +
      "`apt-get install -y libopenblas0-pthread` (scripts/setup.sh does)",
  };
}
