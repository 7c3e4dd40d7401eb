import assert from "node:assert/strict";
import { tf } from "../deps/tf.ts";
import { selectBackend, webgpuAdapterInfo } from "./backend.ts";

Deno.test("backend selection", async (t) => {
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);

  await t.step("tensorflow, when requested but not installed, is a clear error", async () => {
    // tfjs-node is never a dependency of spanclust; if a user installed it, skip.
    const r = await selectBackend("tensorflow", log).catch((e: Error) => e);
    if (r instanceof Error) {
      assert.match(
        r.message,
        /Requested --backend tensorflow is unavailable: .*tfjs-node-gpu is not installed/,
      );
    } else {
      console.warn("tfjs-node is installed here; the absent-package message is not tested");
    }
  });

  await t.step("cpu always works", async () => {
    const info = await selectBackend("cpu", log);
    assert.equal(info.name, "cpu");
    assert.equal(tf.getBackend(), "cpu");
  });

  await t.step("wasm trains a dense layer and says which GEMM engine it uses", async () => {
    lines.length = 0;
    const info = await selectBackend("wasm", log);
    assert.equal(info.name, "wasm");
    assert.equal(tf.getBackend(), "wasm");
    assert.match(info.detail, /GEMM in (OpenBLAS .* through FFI|XNNPACK \(one thread\))/);
    assert.match(lines.at(-1)!, /^\[backend\] using wasm/);
    const w = tf.variable(tf.tensor2d([[0.5], [-0.5]]));
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.matMul(x, w)) as tf.Scalar, [w]);
    // d/dW Σ xW = xᵀ·1 = column sums of x.
    assert.deepEqual(Array.from(await grads[w.name]!.data()), [4, 6]);
    tf.dispose([w, x, grads[w.name]!]);
    await tf.setBackend("cpu");
  });

  await t.step("wasm with the xnnpack engine says products run in one wasm thread", async () => {
    lines.length = 0;
    const info = await selectBackend("wasm", log, { wasmGemm: "xnnpack" });
    assert.match(info.detail, /GEMM in XNNPACK \(one thread\)/);
    assert.ok(lines.some((l) => /wasm without OpenBLAS/.test(l)));
    await selectBackend("wasm", () => {}); // back to the default engine for later tests
    await tf.setBackend("cpu");
  });

  const adapter = await webgpuAdapterInfo();
  await t.step({
    name: "webgpu runs a matmul when an adapter exists",
    ignore: adapter === null,
    fn: async () => {
      const info = await selectBackend("webgpu", log);
      assert.equal(info.name, "webgpu");
      assert.ok(lines.at(-1)!.includes(adapter!));
      const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[1], [1]]));
      assert.deepEqual(Array.from(await y.data()), [3, 7]);
    },
  });
  if (adapter === null) {
    console.warn(
      "No WebGPU adapter: webgpu test skipped (apt-get install -y mesa-vulkan-drivers libvulkan1)",
    );
  }

  const software = adapter !== null && /software rasteriser/.test(adapter);
  await t.step(
    "auto: a convolutional network goes to webgpu only on a hardware adapter",
    async () => {
      lines.length = 0;
      const info = await selectBackend("auto", log, { convolutional: true });
      assert.equal(info.name, adapter === null || software ? "wasm" : "webgpu");
      assert.ok(lines.some((l) => /tensorflow backend unavailable/.test(l)));
      if (software) assert.ok(lines.some((l) => /webgpu skipped: .*computes on the CPU/.test(l)));
      assert.match(lines.at(-1)!, /^\[backend\] using /);
      await tf.setBackend("cpu");
    },
  );

  await t.step("auto: a dense network goes to wasm whatever the adapter", async () => {
    lines.length = 0;
    const info = await selectBackend("auto", log, { convolutional: false });
    assert.equal(info.name, "wasm");
    if (adapter !== null) assert.ok(lines.some((l) => /webgpu skipped/.test(l)));
    await tf.setBackend("cpu");
  });

  await t.step("cpu says it is the slow one", async () => {
    lines.length = 0;
    await selectBackend("cpu", log);
    assert.ok(lines.some((l) => /requested the cpu backend: plain JavaScript/.test(l)));
    assert.ok(!lines.some((l) => /WARNING/.test(l))); // only a fallback in auto mode warns
  });
});
