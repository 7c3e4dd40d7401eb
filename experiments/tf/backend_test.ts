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

  await t.step("cpu always works and says where it is fast and where slow", async () => {
    const info = await selectBackend("cpu", log);
    assert.equal(info.name, "cpu");
    assert.equal(tf.getBackend(), "cpu");
    assert.ok(lines.some((l) => /cpu requested: plain JavaScript; wasm .* MLPs, webgpu/.test(l)));
    // Only a fallback in auto mode is a warning.
    assert.ok(!lines.some((l) => /WARNING/.test(l)));
  });

  await t.step("wasm trains a dense layer and says it cannot train convolutions", async () => {
    lines.length = 0;
    const info = await selectBackend("wasm", log);
    assert.equal(info.name, "wasm");
    assert.equal(tf.getBackend(), "wasm");
    assert.match(info.detail, /XNNPACK.*cannot train convolutions/);
    assert.ok(lines.some((l) => /wasm requested: fastest here for MLPs/.test(l)));
    const w = tf.variable(tf.tensor2d([[0.5], [-0.5]]));
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.matMul(x, w)) as tf.Scalar, [w]);
    // d/dW Σ xW = xᵀ·1 = column sums of x.
    assert.deepEqual(Array.from(await grads[w.name]!.data()), [4, 6]);
    tf.dispose([w, x, grads[w.name]!]);
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

  await t.step("auto picks the best available and says why others were skipped", async () => {
    lines.length = 0;
    const info = await selectBackend("auto", log);
    assert.equal(info.name, adapter === null ? "wasm" : "webgpu");
    assert.ok(lines.some((l) => /tensorflow backend unavailable/.test(l)));
    assert.match(lines.at(-1)!, /^\[backend\] using /);
    await tf.setBackend("cpu");
  });
});
