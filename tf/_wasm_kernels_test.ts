import assert from "node:assert/strict";
import { tf } from "./deps/tfjs.ts";
import { selectBackend } from "./backend.ts";
import { loadNativeBlas } from "./native_blas.ts";
import { clearPatchCache, installWasmKernels, type WasmGemm } from "./_wasm_kernels.ts";

const blas = loadNativeBlas();
const ENGINES: WasmGemm[] = blas.ok ? ["openblas", "xnnpack"] : ["xnnpack"];
if (!blas.ok) console.warn(`wasm kernels: the openblas engine is not tested here: ${blas.why}`);

type Backend = "cpu" | WasmGemm;

/** Switches to the cpu backend, or to wasm with the given engine's kernels. */
async function use(backend: Backend): Promise<void> {
  if (backend === "cpu") {
    await tf.setBackend("cpu");
    return;
  }
  await selectBackend("wasm", () => {}, { wasmGemm: backend });
}

/** Values of every tensor `f()` returns, computed on one backend (inputs rebuilt there). */
async function on(backend: Backend, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await use(backend);
  const ys = tf.tidy(f);
  const list = Array.isArray(ys) ? ys : [ys];
  const out = await Promise.all(list.map(async (y) => (await y.data()) as Float32Array));
  tf.dispose(list);
  return out;
}

/** A seeded uniform generator in [−0.5, 0.5). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** A tensor factory with fixed random values (the same on every backend). */
function rand(shape: number[], r: () => number): () => tf.Tensor {
  const v = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, r);
  return () => tf.tensor(v, shape);
}

function assertClose(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  }
  // float32 sums of ≤ 300 products of magnitude ≤ 0.25 in another order: rounding ≲ 1e-6.
  assert.ok(worst < 1e-5, `${what}: worst relative difference ${worst}`);
}

async function agree(f: () => tf.Tensor | tf.Tensor[], what: string): Promise<void> {
  const want = await on("cpu", f);
  for (const engine of ENGINES) {
    const got = await on(engine, f);
    got.forEach((g, i) => assertClose(g, want[i]!, `${what} [${engine}, output ${i}]`));
  }
}

interface ConvCase {
  x: number[];
  filter: number[];
  strides: [number, number];
  pad: "same" | "valid";
  dilations: [number, number];
}

/** Random convolutions over every attribute the models use (and dilation for the forward). */
function convCases(seed: number, count: number, dilated: boolean): ConvCase[] {
  const r = lcg(seed);
  const int = (lo: number, hi: number) => lo + Math.floor((r() + 0.5) * (hi - lo + 1));
  return Array.from({ length: count }, (_, i) => {
    const f = [1, 3, 5][i % 3]!, d = dilated && i % 4 === 3 ? 2 : 1;
    // tfjs: strides or dilations must be 1.
    const strides: [number, number] = d === 1 ? [int(1, 2), int(1, 2)] : [1, 1];
    const h = int((f - 1) * d + 1, 11), w = int((f - 1) * d + 1, 11);
    // Input channels up to 12 so that both sides of MIN_BLAS_TAPS (32) are covered.
    return {
      x: [int(1, 3), h, w, int(1, 12)],
      filter: [f, f, 0, int(1, 7)],
      strides,
      pad: (i % 2 === 0 ? "same" : "valid") as ConvCase["pad"],
      dilations: [d, d] as [number, number],
    };
  }).map((c) => ({ ...c, filter: [c.filter[0]!, c.filter[1]!, c.x[3]!, c.filter[3]!] }));
}

const describe = (c: ConvCase) =>
  `x ${c.x}, filter ${c.filter}, strides ${c.strides}, ${c.pad}, dilations ${c.dilations}`;

Deno.test("wasm kernels agree with the cpu backend", async (t) => {
  const r = lcg(3);
  await t.step("Conv2D on random shapes, strides, paddings and dilations", async () => {
    for (const c of convCases(1, 16, true)) {
      const x = rand(c.x, r), w = rand(c.filter, r);
      await agree(
        () =>
          tf.conv2d(x() as tf.Tensor4D, w() as tf.Tensor4D, c.strides, c.pad, "NHWC", c.dilations),
        `conv2d ${describe(c)}`,
      );
    }
  });

  await t.step("FusedConv2D with bias and linear, relu and elu (the fallback)", async () => {
    for (const [i, c] of convCases(2, 9, false).entries()) {
      const activation = (["linear", "relu", "elu"] as const)[i % 3]!;
      const x = rand(c.x, r), w = rand(c.filter, r), b = rand([c.filter[3]!], r);
      await agree(
        () =>
          tf.fused.conv2d({
            x: x() as tf.Tensor4D,
            filter: w() as tf.Tensor4D,
            strides: c.strides,
            pad: c.pad,
            bias: b(),
            activation,
          }),
        `fused conv2d ${activation} ${describe(c)}`,
      );
    }
  });

  await t.step("Conv2DBackpropFilter and Conv2DBackpropInput (both gradients)", async () => {
    for (const c of convCases(4, 16, false)) {
      const x = rand(c.x, r), w = rand(c.filter, r);
      const probe = tf.tidy(() =>
        tf.conv2d(x() as tf.Tensor4D, w() as tf.Tensor4D, c.strides, c.pad)
      );
      const weights = rand(probe.shape, r); // a random cotangent dy
      probe.dispose();
      await agree(() => {
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad), weights()))
        );
        return g([x(), w()]);
      }, `conv2d gradients ${describe(c)}`);
    }
  });

  await t.step("AvgPoolGrad, tiling and overlapping windows, SAME and VALID", async () => {
    const cases: [number[], number, number, "same" | "valid"][] = [
      [[2, 8, 8, 3], 2, 2, "valid"],
      [[1, 7, 9, 2], 2, 2, "valid"],
      [[2, 7, 7, 4], 3, 2, "same"],
      [[1, 6, 5, 1], 3, 1, "same"],
    ];
    for (const [shape, size, stride, pad] of cases) {
      const x = rand(shape, r);
      const probe = tf.tidy(() => tf.avgPool(x() as tf.Tensor4D, size, stride, pad));
      const weights = rand(probe.shape, r);
      probe.dispose();
      await agree(
        () =>
          tf.grad((a: tf.Tensor) =>
            tf.sum(tf.mul(tf.avgPool(a as tf.Tensor4D, size, stride, pad), weights()))
          )(x()),
        `avgPool gradient ${shape} ${size}/${stride} ${pad}`,
      );
    }
  });

  await t.step("Sum over leading axes (with and without keepDims) and other axes", async () => {
    const x = rand([3, 4, 5, 6], r);
    for (
      const [axis, keep] of [[0, false], [[0, 1], true], [[1, 0, 2], false], [2, false]] as const
    ) {
      await agree(() => tf.sum(x(), axis as number | number[], keep), `sum ${axis} ${keep}`);
    }
  });

  await t.step("matMul with every transpose flag, batched and broadcast, fused", async () => {
    const a = rand([7, 64], r), b = rand([64, 5], r), at = rand([64, 7], r), bt = rand([5, 64], r);
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
      await agree(() => tf.matMul(ta ? at() : a(), tb ? bt() : b(), ta, tb), `matMul ${ta} ${tb}`);
    }
    const x3 = rand([3, 64, 7], r), y3 = rand([3, 5, 64], r), y1 = rand([1, 5, 64], r);
    await agree(() => tf.matMul(x3(), y3(), true, true), "batched matMul");
    await agree(() => tf.matMul(x3(), y1(), true, true), "broadcast matMul");
    const bias = rand([5], r);
    for (const activation of ["linear", "relu", "elu"] as const) {
      await agree(
        () =>
          tf.fused.matMul({
            a: at(),
            b: bt(),
            transposeA: true,
            transposeB: true,
            bias: bias(),
            activation,
          }),
        `fused matMul ${activation}`,
      );
    }
  });

  await tf.setBackend("cpu");
});

Deno.test("wasm kernels free every temporary and keep shared data alive", async (t) => {
  for (const engine of ENGINES) {
    await use(engine);
    const backend = () => tf.engine().backend;
    await t.step(`${engine}: no data buffer left behind by a convolution training step`, () => {
      const x = tf.randomUniform([4, 9, 9, 6]) as tf.Tensor4D;
      const w = tf.variable(tf.randomUniform([3, 3, 6, 8]) as tf.Tensor4D);
      clearPatchCache();
      const before = backend().numDataIds();
      for (let i = 0; i < 3; i++) {
        const { value, grads } = tf.variableGrads(() =>
          tf.sum(
            tf.avgPool(
              tf.relu(tf.conv2d(x, w as unknown as tf.Tensor4D, 2, "same")),
              2,
              2,
              "valid",
            ),
          )
        );
        tf.dispose([value, grads[w.name]!]);
      }
      // The filter gradient consumed the patch matrix the forward pass kept.
      assert.equal(clearPatchCache(), 0, "patch cache entries left after the backward pass");
      assert.equal(backend().numDataIds(), before);
      tf.dispose([x, w]);
    });
    await t.step(`${engine}: Identity shares data and reference-counts it`, async () => {
      const x = tf.tensor([1, 2, 3]);
      const before = backend().numDataIds();
      const y = tf.clone(x);
      assert.equal(backend().numDataIds(), before, "Identity copied the data");
      x.dispose();
      assert.deepEqual(Array.from(await y.data()), [1, 2, 3]); // still alive after x is gone
      y.dispose();
      assert.equal(backend().numDataIds(), before - 1);
    });
  }
  await tf.setBackend("cpu");
});

Deno.test("installWasmKernels: engines, registration and errors", async (t) => {
  await t.step("every replaced kernel is ours after installation", () => {
    const before = new Map(
      ["Conv2DBackpropFilter", "Conv2DBackpropInput", "AvgPoolGrad", "Sum", "Identity"].map((
        n,
      ) => [n, tf.getKernel(n, "wasm")?.kernelFunc]),
    );
    const info = installWasmKernels("xnnpack");
    assert.equal(info.gemm, "xnnpack");
    for (const [name, f] of before) {
      assert.ok(tf.getKernel(name, "wasm") !== undefined, `${name} is not registered`);
      if (f !== undefined) {
        assert.notEqual(tf.getKernel(name, "wasm")!.kernelFunc, f, `${name} was not re-registered`);
      }
    }
  });
  await t.step("openblas when requested and unavailable is an error naming the fix", () => {
    if (blas.ok) {
      assert.equal(installWasmKernels("openblas").gemm, "openblas");
      assert.match(installWasmKernels("auto").detail, /OpenBLAS .* through FFI/);
    } else {
      assert.throws(() => installWasmKernels("openblas"), /openblas requested but unavailable/);
    }
  });
});
