/**
 * The WebAssembly backend (`--backend wasm`) made fit for training convolutional networks:
 * kernels we register on tfjs-backend-wasm 4.22 for every matrix product and convolution a
 * training step runs, each with two interchangeable engines for the arithmetic.
 *
 * - `openblas`: the product runs in native OpenBLAS through Deno FFI (`native_blas.ts`) on
 *   Float32Array views of the wasm heap (no copies), with every core. Used when the library
 *   loads and the process has `--allow-ffi`.
 * - `xnnpack`: the product runs in the wasm module's own XNNPACK matmul (one thread, SIMD). The
 *   fallback wherever FFI is not available (a browser, a machine without apt).
 *
 * ## What tfjs-backend-wasm lacks, and what we register
 * | kernel | tfjs-backend-wasm 4.22 | ours |
 * |---|---|---|
 * | `BatchMatMul`, `_FusedMatMul` | fast only without transpose flags (≈ 10× slower with them: 256 × 784 by 784 × 500 in 8 ms plain, 100 ms transposed) | openblas: native GEMM with the flags; xnnpack: explicit transpose, then the fast plain path |
 * | `Conv2D`, `FusedConv2D` | XNNPACK | openblas, from 32 filter taps × input channels on: im2col + GEMM (+ bias and relu in place); else XNNPACK's |
 * | `Conv2DBackpropFilter` | missing: no convolution could train | im2col, then ∂W = Pᵀ·dy |
 * | `Conv2DBackpropInput` | slow (178 ms for the paper LeNet's second layer at batch 64, ≈ 5× its forward) | dP = dy·Wᵀ, then col2im |
 * | `AvgPoolGrad` | ≈ 12 ms per 2 × 2 pooling layer of the paper LeNet at batch 64 | one scatter pass in JS |
 * | `Sum` over leading axes (every bias gradient) | transposes the whole input first | openblas: 1ᵀ·X; xnnpack: one pass in JS, float64 accumulators |
 * | `Identity` | copies the data; tfjs clones every tensor it saves for the backward pass | shares the data (reference-counted, as the cpu backend and wasm's own `Reshape` do) |
 *
 * The identities are in `_im2col.ts`. Pooling (`AvgPoolGrad`, `MaxPoolGrad`), batch norm and the
 * element-wise gradients already exist in tfjs-backend-wasm. Results agree with the cpu backend
 * to float32 rounding (`_wasm_kernels_test.ts`, random shapes over strides, paddings, filter sizes and
 * activations, both engines); only the summation order differs.
 *
 * Every temporary (patch matrices, transposes) is allocated on the wasm heap and freed before
 * the kernel returns, except the patch matrix a forward convolution builds under a gradient
 * tape: it is kept (bounded, {@link PATCH_CACHE_BYTES}) for the filter gradient of the same
 * input, which consumes it. The tests count the backend's data buffers around a training step.
 *
 * @module
 */
import { tf } from "./deps/tfjs.ts";
import { col2im, type ConvGeometry, im2col, isPointwise, patchCols, patchRows } from "./_im2col.ts";
import { loadNativeBlas, type NativeBlas } from "./native_blas.ts";

/**
 * The arithmetic engine of the wasm kernels.
 *
 * @category Backends
 */
export type WasmGemm = "openblas" | "xnnpack";
/**
 * What `installWasmKernels` accepts: an engine, or `auto` (openblas when it loads).
 *
 * @category Backends
 */
export type WasmGemmChoice = WasmGemm | "auto";

/** What {@link installWasmKernels} set up. */
export interface WasmKernelsInfo {
  /** The engine in use. */
  readonly gemm: WasmGemm;
  /** One line for logs: engine, library, threads, and why openblas is not used if it is not. */
  readonly detail: string;
}

/** The parts of tfjs-backend-wasm's `BackendWasm` these kernels use. */
interface WasmBackend {
  readonly wasm: { readonly HEAPU8: Uint8Array };
  readonly dataIdMap: { get(dataId: unknown): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
  disposeData(dataId: unknown): void;
  incRef(dataId: unknown): void;
}

type KernelArgs = {
  inputs: Record<string, tf.TensorInfo | undefined>;
  backend: unknown;
  attrs?: Record<string, unknown>;
};
type KernelFunc = (args: KernelArgs) => tf.TensorInfo;

const REPLACED = [
  "BatchMatMul",
  "_FusedMatMul",
  "Conv2D",
  "FusedConv2D",
  "Conv2DBackpropFilter",
  "Conv2DBackpropInput",
  "AvgPoolGrad",
  "Sum",
  "Identity",
] as const;

/** tfjs-backend-wasm's own kernels, saved before the first replacement. */
let originals: Map<string, tf.KernelConfig | undefined> | null = null;
let installed: WasmKernelsInfo | null = null;

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A Float32Array view of a tensor's data on the wasm heap (re-derive after any allocation). */
function heap(backend: WasmBackend, t: tf.TensorInfo): Float32Array {
  const offset = backend.dataIdMap.get(t.dataId).memoryOffset;
  return new Float32Array(backend.wasm.HEAPU8.buffer, offset, size(t.shape));
}

/** The same data under another shape (no copy; the data id is shared, not re-counted). */
const relabel = (t: tf.TensorInfo, shape: number[]): tf.TensorInfo => ({ ...t, shape });

/**
 * A matrix product C = op(A)·op(B) on the wasm heap: `a` and `b` are read as densely packed
 * row-major matrices (their shapes are ignored), the result is a new [m, n] tensor.
 */
type Gemm = (
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
) => tf.TensorInfo;

function openblasGemm(blas: NativeBlas): Gemm {
  return (backend, a, b, transA, transB, m, n, k) => {
    const out = backend.makeOutput([m, n], "float32");
    const av = heap(backend, a), bv = heap(backend, b), cv = heap(backend, out);
    blas.sgemm(transA, transB, m, n, k, av, bv, cv);
    return out;
  };
}

/** XNNPACK's plain matmul, with transposed operands materialised first (see the table). */
function xnnpackGemm(matMul: KernelFunc): Gemm {
  return (backend, a, b, transA, transB, m, n, k) => {
    const out = matMul({
      inputs: {
        a: relabel(a, transA ? [1, k, m] : [1, m, k]),
        b: relabel(b, transB ? [1, n, k] : [1, k, n]),
      },
      backend,
      attrs: { transposeA: transA, transposeB: transB },
    });
    return relabel(out, [m, n]);
  };
}

/** Adds a per-column bias and applies relu in place (the fused kernels' epilogue). */
function biasActivation(
  y: Float32Array,
  cols: number,
  bias: Float32Array | null,
  relu: boolean,
): void {
  for (let i = 0; i < y.length; i += cols) {
    for (let j = 0; j < cols; j++) {
      let v = y[i + j]!;
      if (bias !== null) v += bias[j]!;
      y[i + j] = relu && v < 0 ? 0 : v;
    }
  }
}

/** The geometry tfjs computes for a convolution, checked to be NHWC. */
function geometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: Record<string, unknown>,
): ConvGeometry {
  const format = tf.backend_util.convertConv2DDataFormat(
    (attrs.dataFormat as "NHWC" | "NCHW" | undefined) ?? "NHWC",
  );
  if (format !== "channelsLast") {
    throw new Error(`wasm convolution kernels support NHWC only, got dataFormat ${format}`);
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number,
    (attrs.dilations as [number, number] | number | undefined) ?? 1,
    attrs.pad as "same" | "valid",
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
    false,
    format,
  );
}

/** The patch matrix of x as a heap tensor (x itself for a pointwise convolution). */
function patches(backend: WasmBackend, x: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  if (isPointwise(g)) return x;
  const col = backend.makeOutput([patchRows(g), patchCols(g)], "float32");
  im2col(heap(backend, x), g, heap(backend, col));
  return col;
}

/**
 * Patch matrices a forward convolution built under a gradient tape, kept for the filter
 * gradient of the same input (∂W = Pᵀ·dy needs the same P): saves one im2col per layer and
 * step. Keyed by the input's data id (a fresh object per tensor, so a match is the same data)
 * and the geometry; each entry is used once, oldest entries are freed past
 * {@link PATCH_CACHE_BYTES}.
 */
interface CachedPatches {
  readonly x: unknown;
  readonly key: string;
  readonly col: tf.TensorInfo;
  readonly backend: WasmBackend;
}
const patchCache: CachedPatches[] = [];
/**
 * Fewest filter taps × input channels for which a forward convolution runs as im2col +
 * OpenBLAS rather than XNNPACK's direct convolution (measured at batch 64, one BLAS thread:
 * 3 × 3 × 1 → 32 at 28 × 28, 2.2 ms XNNPACK vs 3.3 ms; 3 × 3 × 32 → 64 at 14 × 14, 15.0 ms vs
 * 10.5 ms).
 */
export const MIN_BLAS_TAPS = 32;

/** Memory the patch cache may hold (bytes). */
export const PATCH_CACHE_BYTES = 128 * 2 ** 20;

const geometryKey = (g: ConvGeometry) =>
  [
    g.batchSize,
    g.inHeight,
    g.inWidth,
    g.inChannels,
    g.outHeight,
    g.outWidth,
    g.filterHeight,
    g.filterWidth,
    g.strideHeight,
    g.strideWidth,
    g.dilationHeight,
    g.dilationWidth,
    g.padInfo.top,
    g.padInfo.left,
  ].join(",");

function rememberPatches(
  backend: WasmBackend,
  x: tf.TensorInfo,
  g: ConvGeometry,
  col: tf.TensorInfo,
) {
  const bytes = (c: CachedPatches) => 4 * size(c.col.shape);
  const entry = { x: x.dataId, key: geometryKey(g), col, backend };
  if (bytes(entry) > PATCH_CACHE_BYTES) return false;
  patchCache.push(entry);
  let total = patchCache.reduce((a, c) => a + bytes(c), 0);
  while (total > PATCH_CACHE_BYTES) {
    const old = patchCache.shift()!;
    total -= bytes(old);
    old.backend.disposeData(old.col.dataId);
  }
  return true;
}

function takePatches(x: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo | null {
  const key = geometryKey(g);
  const i = patchCache.findIndex((c) => c.x === x.dataId && c.key === key);
  if (i < 0) return null;
  return patchCache.splice(i, 1)[0]!.col;
}

/**
 * Frees the patch matrices kept for filter gradients that never came (e.g. a forward pass
 * under a tape whose gradient was not taken). Training loops need not call it: entries are
 * consumed by the backward pass, and the cache is bounded.
 *
 * @returns How many entries were freed.
 */
export function clearPatchCache(): number {
  const n = patchCache.length;
  for (const c of patchCache.splice(0)) c.backend.disposeData(c.col.dataId);
  return n;
}

/** Whether kernels run inside a recorded forward pass (tfjs engine internals). */
function underTape(): boolean {
  const state = (tf.engine() as unknown as { state: { gradientDepth: number } }).state;
  return state.gradientDepth > 0;
}

/**
 * A matmul kernel whose transposed operands are materialised first (the backend's own
 * `Transpose`), then run without transpose flags: tfjs-backend-wasm's flagged paths are slow,
 * and its `_FusedMatMul` with both flags and an `elu` activation is wrong (off by 45 % against
 * the cpu backend, found by `_wasm_kernels_test.ts`).
 */
function explicitTranspose(kernel: KernelFunc, transpose: KernelFunc): KernelFunc {
  return (args) => {
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return kernel(args);
    const backend = args.backend as WasmBackend;
    const inputs = { ...args.inputs };
    const temporaries: tf.TensorInfo[] = [];
    for (const [key, flag] of [["a", attrs.transposeA], ["b", attrs.transposeB]] as const) {
      if (!flag) continue;
      const x = inputs[key]!;
      const rank = x.shape.length;
      const t = transpose({
        inputs: { x },
        backend,
        attrs: { perm: [...Array(rank - 2).keys(), rank - 1, rank - 2] },
      });
      temporaries.push(t);
      inputs[key] = t;
    }
    const out = kernel({
      ...args,
      inputs,
      attrs: { ...args.attrs, transposeA: false, transposeB: false },
    });
    for (const t of temporaries) backend.disposeData(t.dataId);
    return out;
  };
}

/**
 * The replacement kernels, by tfjs kernel name. One factory of about 250 lines rather than one
 * function per kernel: the kernels share its closure (the engine, tfjs's original kernels they
 * fall back to, the buffer of ones that bias gradients reuse), and each is a named inner function
 * of 30–90 lines (`batchMatMul`, `conv`, `sumLeading`, …).
 */
function kernels(
  gemm: Gemm,
  blas: NativeBlas | null,
  original: (name: string) => KernelFunc,
  transpose: KernelFunc,
) {
  const engine: WasmGemm = blas === null ? "xnnpack" : "openblas";
  let ones = new Float32Array(0);
  const fusedMatMulOriginal = explicitTranspose(original("_FusedMatMul"), transpose);
  const batchMatMulOriginal = explicitTranspose(original("BatchMatMul"), transpose);
  const fusedConvOriginal = original("FusedConv2D");
  const convOriginal = original("Conv2D");

  /** Batched product over matching (or broadcast size-1) leading dimensions. */
  const batchMatMul = (args: KernelArgs, fused: boolean): tf.TensorInfo | null => {
    const backend = args.backend as WasmBackend;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
    const ra = a.shape.length, rb = b.shape.length;
    const m = attrs.transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
    const k = attrs.transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
    const n = attrs.transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
    const kb = attrs.transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
    if (k !== kb) {
      throw new Error(
        `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} ` +
          `and ${b.shape} and transposeA=${attrs.transposeA} and transposeB=` +
          `${attrs.transposeB} must match.`,
      );
    }
    const outer = tf.broadcast_util.assertAndGetBroadcastShape(
      a.shape.slice(0, -2),
      b.shape.slice(0, -2),
    );
    const batch = size(outer), batchA = size(a.shape.slice(0, -2));
    const batchB = size(b.shape.slice(0, -2));
    // Broadcasting other than "equal, or one side has a single matrix" is left to tfjs.
    if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return null;
    let bias: tf.TensorInfo | null = null, relu = false;
    if (fused) {
      const { activation } = args.attrs as { activation?: string };
      if (args.inputs.preluActivationWeights != null) return null;
      if (activation !== undefined && activation !== "linear" && activation !== "relu") {
        return null;
      }
      relu = activation === "relu";
      bias = args.inputs.bias ?? null;
      if (bias !== null && size(bias.shape) !== n) return null; // only per-column bias
    }
    const outShape = [...outer, m, n];
    let out: tf.TensorInfo;
    if (batch === 1) {
      out = relabel(gemm(backend, a, b, attrs.transposeA, attrs.transposeB, m, n, k), outShape);
    } else {
      out = backend.makeOutput(outShape, "float32");
      for (let i = 0; i < batch; i++) {
        // Slices of the heap as stand-alone matrices: copy through temporaries (rare path:
        // the networks here only batch in the loss, on small matrices).
        const part = (t: tf.TensorInfo, count: number, rows: number, cols: number) => {
          const p = backend.makeOutput([rows, cols], "float32");
          const j = count === 1 ? 0 : i;
          heap(backend, p).set(heap(backend, t).subarray(j * rows * cols, (j + 1) * rows * cols));
          return p;
        };
        const pa = part(a, batchA, attrs.transposeA ? k : m, attrs.transposeA ? m : k);
        const pb = part(b, batchB, attrs.transposeB ? n : k, attrs.transposeB ? k : n);
        const c = gemm(backend, pa, pb, attrs.transposeA, attrs.transposeB, m, n, k);
        heap(backend, out).set(heap(backend, c), i * m * n);
        for (const t of [pa, pb, c]) backend.disposeData(t.dataId);
      }
    }
    if (bias !== null || relu) {
      biasActivation(heap(backend, out), n, bias === null ? null : heap(backend, bias), relu);
    }
    return out;
  };

  /** Whether a forward convolution goes through im2col + OpenBLAS (see `Conv2D` below). */
  const useBlasConv = (args: KernelArgs) => {
    if (engine !== "openblas") return false;
    const filter = args.inputs.filter!.shape;
    return filter[0]! * filter[1]! * filter[2]! >= MIN_BLAS_TAPS;
  };

  const conv = (args: KernelArgs, fused: boolean): tf.TensorInfo | null => {
    const backend = args.backend as WasmBackend;
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs!;
    const g = geometry(x.shape, filter.shape, attrs);
    let bias: tf.TensorInfo | null = null, relu = false;
    if (fused) {
      const activation = attrs.activation as string | undefined;
      if (args.inputs.preluActivationWeights != null) return null;
      if (activation !== undefined && activation !== "linear" && activation !== "relu") {
        return null;
      }
      relu = activation === "relu";
      bias = args.inputs.bias ?? null;
      if (bias !== null && size(bias.shape) !== g.outChannels) return null;
    }
    const col = patches(backend, x, g);
    const y = gemm(backend, col, filter, false, false, patchRows(g), g.outChannels, patchCols(g));
    if (col !== x && !(underTape() && rememberPatches(backend, x, g, col))) {
      backend.disposeData(col.dataId);
    }
    if (bias !== null || relu) {
      biasActivation(
        heap(backend, y),
        g.outChannels,
        bias === null ? null : heap(backend, bias),
        relu,
      );
    }
    return relabel(y, [g.batchSize, g.outHeight, g.outWidth, g.outChannels]);
  };

  /**
   * tfjs's AvgPoolGrad: every input position in a window receives dy / (fh·fw) (the full
   * window size, padding included, as tfjs's cpu kernel does), written as a scatter.
   */
  const avgPoolGrad: KernelFunc = (args) => {
    const backend = args.backend as WasmBackend;
    const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    const a = args.attrs as {
      filterSize: number | [number, number];
      strides: number | [number, number];
      pad: "same" | "valid" | number;
      dimRoundingMode?: "floor" | "round" | "ceil";
    };
    const p = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      a.filterSize,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const dx = backend.makeOutput(input.shape.slice(), "float32");
    const dxv = heap(backend, dx), dyv = heap(backend, dy);
    const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = p;
    const { filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW } = p;
    const scale = 1 / (FH * FW);
    // Windows that tile the input exactly (e.g. 2 × 2, stride 2, VALID): every input position
    // receives one value, so write instead of accumulate.
    const tiles = FH === SH && FW === SW && p.padInfo.top === 0 && p.padInfo.left === 0 &&
      OH * SH === H && OW * SW === W;
    if (!tiles) dxv.fill(0);
    let r = 0;
    for (let b = 0; b < p.batchSize; b++) {
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++, r += C) {
          for (let fy = 0; fy < FH; fy++) {
            const iy = oy * SH - p.padInfo.top + fy;
            if (iy < 0 || iy >= H) continue;
            for (let fx = 0; fx < FW; fx++) {
              const ix = ox * SW - p.padInfo.left + fx;
              if (ix < 0 || ix >= W) continue;
              let s = ((b * H + iy) * W + ix) * C;
              if (tiles) { for (let c = 0; c < C; c++) dxv[s++] = dyv[r + c]! * scale; }
              else for (let c = 0; c < C; c++) dxv[s++] += dyv[r + c]! * scale;
            }
          }
        }
      }
    }
    return dx;
  };

  /** Sum over the leading axes of a float32 tensor (null for any other reduction). */
  const sumLeading = (args: KernelArgs): tf.TensorInfo | null => {
    const backend = args.backend as WasmBackend;
    const x = args.inputs.x!;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    if (x.dtype !== "float32") return null;
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    if (axes.length === 0 || axes.length >= rank || axes.some((v, i) => v !== i)) return null;
    const rows = size(x.shape.slice(0, axes.length)), cols = size(x.shape.slice(axes.length));
    const kept = x.shape.slice(axes.length);
    const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, "float32");
    const xv = heap(backend, x);
    if (blas !== null) {
      // Column sums as the product 1ᵀ·X (memory-bound; OpenBLAS streams it).
      if (ones.length < rows) ones = new Float32Array(rows).fill(1);
      blas.sgemm(false, false, 1, cols, rows, ones, xv, heap(backend, out));
      return out;
    }
    const acc = new Float64Array(cols);
    for (let i = 0; i < rows; i++) {
      const base = i * cols;
      for (let j = 0; j < cols; j++) acc[j] += xv[base + j]!;
    }
    heap(backend, out).set(acc);
    return out;
  };

  const replaced: Record<(typeof REPLACED)[number], KernelFunc> = {
    AvgPoolGrad: avgPoolGrad,
    Identity: (args) => {
      const x = args.inputs.x!;
      if (x.dtype === "string") return original("Identity")(args);
      (args.backend as WasmBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
    Sum: (args) => sumLeading(args) ?? original("Sum")(args),
    BatchMatMul: (args) => batchMatMul(args, false) ?? batchMatMulOriginal(args),
    _FusedMatMul: (args) => batchMatMul(args, true) ?? fusedMatMulOriginal(args),
    // XNNPACK's direct convolution beats im2col + one-thread GEMM, and im2col + OpenBLAS on
    // few input taps (the first layer on grey images: 9 taps); OpenBLAS wins from there on.
    Conv2D: (args) => (useBlasConv(args) ? conv(args, false) : null) ?? convOriginal(args),
    FusedConv2D: (args) => (useBlasConv(args) ? conv(args, true) : null) ?? fusedConvOriginal(args),
    Conv2DBackpropFilter: (args) => {
      const backend = args.backend as WasmBackend;
      const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const filterShape = args.attrs!.filterShape as number[];
      const g = geometry(x.shape, filterShape, { ...args.attrs, dilations: 1 });
      const col = takePatches(x, g) ?? patches(backend, x, g);
      const dw = gemm(backend, col, dy, true, false, patchCols(g), g.outChannels, patchRows(g));
      if (col !== x) backend.disposeData(col.dataId);
      return relabel(dw, filterShape);
    },
    Conv2DBackpropInput: (args) => {
      const backend = args.backend as WasmBackend;
      const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      const inputShape = args.attrs!.inputShape as number[];
      const g = geometry(inputShape, filter.shape, { ...args.attrs, dilations: 1 });
      const dcol = gemm(
        backend,
        dy,
        filter,
        false,
        true,
        patchRows(g),
        patchCols(g),
        g.outChannels,
      );
      if (isPointwise(g)) return relabel(dcol, inputShape);
      const dx = backend.makeOutput(inputShape, "float32");
      col2im(heap(backend, dcol), g, heap(backend, dx));
      backend.disposeData(dcol.dataId);
      return dx;
    },
  };
  return replaced;
}

/**
 * Registers the kernels of the module doc on the wasm backend (replacing earlier ones, so it
 * can be called again to switch engines). Call it after tfjs-backend-wasm is imported; the
 * backend need not be active.
 *
 * @param choice `auto` (openblas when it loads, else xnnpack), or one engine; `openblas`
 *   throws when the library or the FFI permission is missing.
 * @returns The engine in use and a one-line description.
 * @throws {Error} If `openblas` is requested and unavailable, or tfjs-backend-wasm lacks a
 *   kernel these build on (`Transpose`, `BatchMatMul`).
 */
export function installWasmKernels(choice: WasmGemmChoice = "auto"): WasmKernelsInfo {
  if (originals === null) {
    originals = new Map(REPLACED.map((name) => [name, tf.getKernel(name, "wasm")]));
  }
  const saved = originals;
  const original = (name: string): KernelFunc => {
    const config = saved.get(name) ?? tf.getKernel(name, "wasm");
    if (config === undefined) {
      return () => {
        throw new Error(`Kernel '${name}' is not registered for backend 'wasm'`);
      };
    }
    return config.kernelFunc as unknown as KernelFunc;
  };
  const transpose = tf.getKernel("Transpose", "wasm");
  if (transpose === undefined || saved.get("BatchMatMul") === undefined) {
    throw new Error("tfjs-backend-wasm has no Transpose or BatchMatMul kernel");
  }
  const probe = choice === "xnnpack" ? null : loadNativeBlas();
  if (choice === "openblas" && !probe!.ok) {
    throw new Error(`wasm kernels: openblas requested but unavailable: ${probe!.why}`);
  }
  let engine: WasmGemm, gemm: Gemm, detail: string;
  if (probe?.ok) {
    engine = "openblas";
    gemm = openblasGemm(probe.blas);
    detail = `GEMM in ${probe.blas.detail} through FFI`;
  } else {
    engine = "xnnpack";
    gemm = xnnpackGemm(
      explicitTranspose(original("BatchMatMul"), transpose.kernelFunc as unknown as KernelFunc),
    );
    detail = `GEMM in XNNPACK (one thread)${probe === null ? "" : `; ${probe.why}`}`;
  }
  const funcs = kernels(
    gemm,
    probe?.ok ? probe.blas : null,
    original,
    transpose.kernelFunc as unknown as KernelFunc,
  );
  for (const name of REPLACED) {
    if (tf.getKernel(name, "wasm") !== undefined) tf.unregisterKernel(name, "wasm");
    tf.registerKernel({
      kernelName: name,
      backendName: "wasm",
      setupFunc: saved.get(name)?.setupFunc,
      kernelFunc: funcs[name] as unknown as tf.KernelFunc,
    });
  }
  installed = { gemm: engine, detail };
  return installed;
}

/**
 * The engine {@link installWasmKernels} last installed, or null before the first call.
 *
 * @returns What is installed.
 */
export function installedWasmKernels(): WasmKernelsInfo | null {
  return installed;
}
