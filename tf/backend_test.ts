import assert from "node:assert/strict";
import { tf } from "./deps/tfjs.ts";
import { selectBackend } from "./backend.ts";

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

  // WebGPU and `auto` (which probes WebGPU) in a process of their own: see the fixture's doc.
  const probe = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./testdata/webgpu_probe.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(probe.stderr);
  assert.equal(probe.code, 0, stderr);
  const r = JSON.parse(new TextDecoder().decode(probe.stdout).trim().split("\n").at(-1)!) as {
    adapter: string | null;
    webgpu: { matmul: number[]; lastLine: string } | null;
    autoConv: { name: string; lines: string[] };
    autoDense: { name: string; lines: string[] };
  };
  const adapter = r.adapter;
  await t.step({
    name: "webgpu runs a matmul when an adapter exists",
    ignore: adapter === null,
    fn: () => {
      assert.deepEqual(r.webgpu!.matmul, [3, 7]);
      assert.ok(r.webgpu!.lastLine.includes(adapter!));
    },
  });
  if (adapter === null) {
    console.warn(
      "No WebGPU adapter: webgpu test skipped (apt-get install -y mesa-vulkan-drivers libvulkan1)",
    );
  }

  const software = adapter !== null && /software rasteriser/.test(adapter);
  await t.step("auto: a convolutional network goes to webgpu only on a hardware adapter", () => {
    const { name, lines } = r.autoConv;
    assert.equal(name, adapter === null || software ? "wasm" : "webgpu");
    assert.ok(lines.some((l) => /tensorflow backend unavailable/.test(l)));
    if (software) assert.ok(lines.some((l) => /webgpu skipped: .*computes on the CPU/.test(l)));
    assert.match(lines.at(-1)!, /^\[backend\] using /);
  });

  await t.step("auto: a dense network goes to wasm whatever the adapter", () => {
    const { name, lines } = r.autoDense;
    assert.equal(name, "wasm");
    if (adapter !== null) assert.ok(lines.some((l) => /webgpu skipped/.test(l)));
  });

  await t.step("cpu says it is the slow one", async () => {
    lines.length = 0;
    await selectBackend("cpu", log);
    assert.ok(lines.some((l) => /requested the cpu backend: plain JavaScript/.test(l)));
    assert.ok(!lines.some((l) => /WARNING/.test(l))); // only a fallback in auto mode warns
  });
});
