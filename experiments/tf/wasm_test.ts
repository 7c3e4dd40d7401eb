import assert from "node:assert/strict";
import { tf } from "../deps/tf.ts";
import { selectBackend } from "./backend.ts";

/** Switches to a backend (wasm through `selectBackend`, which applies the matmul patch). */
async function use(backend: "cpu" | "wasm"): Promise<void> {
  if (backend === "wasm") await selectBackend("wasm", () => {});
  else await tf.setBackend("cpu");
}

/** Values of `f()` on a backend (inputs built from the same arrays on each). */
async function on(backend: "cpu" | "wasm", f: () => tf.Tensor): Promise<Float32Array> {
  await use(backend);
  const y = tf.tidy(f);
  const out = (await y.data()) as Float32Array;
  y.dispose();
  return out;
}

function rand(shape: number[], seed: number): () => tf.Tensor {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  });
  return () => tf.tensor(v, shape);
}

function assertClose(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  }
  // float32 sums of ≤ 64 products of magnitude ≤ 0.25: rounding ≪ 1e-5.
  assert.ok(worst < 1e-5, `${what}: worst relative difference ${worst}`);
}

Deno.test("wasm backend: the patched matmul agrees with the cpu backend", async (t) => {
  const a = rand([7, 64], 1), b = rand([64, 5], 2), at = rand([64, 7], 3), bt = rand([5, 64], 4);
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
    await t.step(`2-D, transposeA ${ta}, transposeB ${tb}`, async () => {
      const f = () => tf.matMul(ta ? at() : a(), tb ? bt() : b(), ta, tb);
      assertClose(await on("wasm", f), await on("cpu", f), "matMul");
    });
  }
  await t.step("batched 3-D with both transposes", async () => {
    const x = rand([3, 64, 7], 5), y = rand([3, 5, 64], 6);
    const f = () => tf.matMul(x(), y(), true, true);
    assertClose(await on("wasm", f), await on("cpu", f), "batched matMul");
  });
  await t.step("fused matmul with bias and relu, transposed operands", async () => {
    const bias = rand([5], 7);
    const f = () =>
      tf.fused.matMul({ a: at(), b: bt(), transposeA: true, transposeB: true, bias: bias() });
    const g = () =>
      tf.fused.matMul({
        a: at(),
        b: bt(),
        transposeA: true,
        transposeB: true,
        bias: bias(),
        activation: "relu",
      });
    assertClose(await on("wasm", f), await on("cpu", f), "fused");
    assertClose(await on("wasm", g), await on("cpu", g), "fused relu");
  });
  await t.step("gradients of a dense layer (both transposed products) agree", async () => {
    const x = rand([16, 64], 8), w = rand([64, 5], 9);
    const grads = () => {
      const { grads } = tf.variableGrads(
        () => tf.sum(tf.square(tf.relu(tf.matMul(x(), wv)))) as tf.Scalar,
        [wv],
      );
      return grads[wv.name]!;
    };
    let wv!: tf.Variable;
    const run = async (backend: "cpu" | "wasm") => {
      await use(backend);
      wv = tf.variable(w());
      const g = grads();
      const out = (await g.data()) as Float32Array;
      tf.dispose([g, wv]);
      return out;
    };
    assertClose(await run("wasm"), await run("cpu"), "dW");
  });
  await t.step("the explicit transposes are freed (no data leak per call)", async () => {
    await selectBackend("wasm", () => {});
    const x = at(), y = bt();
    const before = tf.engine().backend.numDataIds();
    for (let i = 0; i < 5; i++) tf.matMul(x, y, true, true).dispose();
    assert.equal(tf.engine().backend.numDataIds(), before);
    tf.dispose([x, y]);
    await tf.setBackend("cpu");
  });
});
