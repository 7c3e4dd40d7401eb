import assert from "node:assert/strict";
import { tf } from "../tf/deps/tfjs.ts";
import { loadDataset } from "./mnist/engine.ts";
import { selectBackend } from "../tf/backend.ts";
import { clusterLossGrads } from "../tf/cluster_loss.ts";
import { paperLeNet } from "./models.ts";
import { loadNativeBlas } from "../tf/native_blas.ts";
import { clearPatchCache, type WasmGemm } from "../tf/_wasm_kernels.ts";

// The paper's network on the path exp:mnist --preset paper takes on a CPU machine: wasm with
// our convolution kernels, one forward pass per step, the perturbed partial FY loss on a fully
// labelled batch of 64 MNIST images. Fitting one fixed batch with a fixed perturbation seed is a
// deterministic optimisation of a fixed function: if any gradient kernel were wrong (a sign, a
// transposition, a missing term), Adam would not reduce it this way.
const ds = await loadDataset("mnist");
const indices = Int32Array.from({ length: 64 }, (_, i) => i);
const labels = Array.from(indices, (i) => ds.train.labels[i]!);
const engines: WasmGemm[] = loadNativeBlas().ok ? ["openblas", "xnnpack"] : ["xnnpack"];

for (const engine of engines) {
  Deno.test(`paper LeNet trains on wasm (${engine}): 12 steps lower the clustering loss`, async () => {
    await selectBackend("wasm", () => {}, { wasmGemm: engine });
    const model = paperLeNet({ seed: 1 });
    const x = tf.tensor4d(ds.inputs("train", indices), [64, 28, 28, 1]);
    const opt = tf.train.adam(1e-3);
    const step = clusterLossGrads({ k: 10, epsilon: 0.1, samples: 20, noise: "gaussian" });
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const tensorsBefore = tf.memory().numTensors;
    const losses: number[] = [];
    for (let s = 0; s < 12; s++) {
      const r = await step(
        () => model.apply(x, { training: true }) as tf.Tensor2D,
        labels,
        0,
        vars,
      );
      assert.equal(r.passes, 1);
      losses.push(r.loss);
      opt.applyGradients(Object.entries(r.grads).map(([name, tensor]) => ({ name, tensor })));
      tf.dispose(Object.values(r.grads));
    }
    const first = losses.slice(0, 3).reduce((a, b) => a + b) / 3;
    const last = losses.slice(-3).reduce((a, b) => a + b) / 3;
    assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
    assert.ok(last < 0.5 * first, `loss ${first.toFixed(3)} → ${last.toFixed(3)}: ${losses}`);
    // Only Adam's moments (2 per variable, created on the first step) stay behind.
    assert.equal(tf.memory().numTensors, tensorsBefore + 2 * vars.length);
    assert.equal(clearPatchCache(), 0);
    tf.dispose(x);
    opt.dispose();
    model.dispose();
    await tf.setBackend("cpu");
  });
}
