/**
 * The WebAssembly backend (`--backend wasm`): XNNPACK with SIMD, single-threaded here (Deno
 * reports no multi-thread support to tfjs). It is the fastest backend on our CPU-only machines
 * for the dense networks (MLPs, autoencoders) — and it cannot train convolutions
 * (`Conv2DBackpropFilter` is not implemented for wasm in tfjs 4.22).
 *
 * ## The transposed-matmul fix
 * tfjs-backend-wasm 4.22 computes `matMul(a, b)` with XNNPACK's fast kernel, but a matmul with
 * `transposeA` or `transposeB` takes a generic path that is ≈ 10× slower (measured: 256 × 784
 * by 784 × 500 → 8 ms plain, 100 ms with either transpose flag, 10 ms as an explicit transpose
 * followed by a plain matmul). Every dense layer's backward pass uses both flags (dW = xᵀ·dy,
 * dx = dy·Wᵀ), so training spends ~90 % of its time there. {@link patchWasmMatMul}
 * re-registers the wasm `BatchMatMul` and `_FusedMatMul` kernels so that a transposed operand
 * is first transposed explicitly (the backend's own `Transpose` kernel) and the plain fast path
 * is used. Same arithmetic, different summation order: results agree to float32 rounding
 * (tested against the cpu backend in `wasm_test.ts`). Train step of a 784-500-500-2000-10
 * autoencoder at batch 256: 1.80 s → 0.29 s (cpu backend: 5.3 s).
 *
 * @module
 */
import { tf } from "../deps/tf.ts";

/** Kernels whose transposed operands are materialised before the fast matmul. */
const MATMUL_KERNELS = ["BatchMatMul", "_FusedMatMul"] as const;
let patched = false;

/**
 * Re-registers the wasm matmul kernels so that transposed operands take the fast XNNPACK path
 * (module doc). Idempotent; call it after the wasm backend is registered (it is on import).
 */
export function patchWasmMatMul(): void {
  if (patched) return;
  const transpose = tf.getKernel("Transpose", "wasm");
  if (transpose === undefined) throw new Error("tfjs-backend-wasm has no Transpose kernel");
  for (const name of MATMUL_KERNELS) {
    const original = tf.getKernel(name, "wasm");
    if (original === undefined) throw new Error(`tfjs-backend-wasm has no ${name} kernel`);
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({
      ...original,
      kernelFunc: (args) => {
        const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
        if (!attrs.transposeA && !attrs.transposeB) return original.kernelFunc(args);
        const backend = args.backend as unknown as { disposeData(id: unknown): void };
        const inputs = { ...args.inputs } as Record<string, tf.TensorInfo>;
        const temporaries: tf.TensorInfo[] = [];
        for (const [key, flag] of [["a", attrs.transposeA], ["b", attrs.transposeB]] as const) {
          if (!flag) continue;
          const x = inputs[key]!;
          const rank = x.shape.length;
          const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
          const t = transpose.kernelFunc({
            inputs: { x },
            backend: args.backend,
            attrs: { perm },
          }) as tf.TensorInfo;
          temporaries.push(t);
          inputs[key] = t;
        }
        const out = original.kernelFunc({
          ...args,
          inputs,
          attrs: { ...args.attrs, transposeA: false, transposeB: false },
        });
        for (const t of temporaries) backend.disposeData(t.dataId);
        return out;
      },
    });
  }
  patched = true;
}
