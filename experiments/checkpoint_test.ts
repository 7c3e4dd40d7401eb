import assert from "node:assert/strict";
import { tf } from "../tf/deps/tfjs.ts";
import {
  CheckpointError,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
  trainableVariables,
} from "./checkpoint.ts";
import { mlp } from "./models.ts";

await tf.setBackend("cpu");

const tiny = (seed: number) => mlp({ inputShape: [4, 4, 1], hidden: [8], embeddingDim: 3, seed });
const x = tf.tensor4d(Array.from({ length: 5 * 16 }, (_, i) => Math.sin(i)), [5, 4, 4, 1]);

/** Runs `n` deterministic Adam steps on a fixed batch. */
function train(model: tf.LayersModel, opt: tf.Optimizer, n: number): void {
  for (let i = 0; i < n; i++) {
    tf.dispose(
      opt.minimize(
        () => tf.mean(tf.square(tf.sub(model.apply(x) as tf.Tensor, 1))),
        true,
        trainableVariables(model),
      )!,
    );
  }
}

const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
async function optimizerStateOf(o: tf.Optimizer) {
  const named = await o.getWeights();
  const out = named.map((n) => Array.from(n.tensor.dataSync()));
  named[0]!.tensor.dispose();
  const a = o as unknown as { accBeta1: tf.Tensor; accBeta2: tf.Tensor };
  return [...out, Array.from(a.accBeta1.dataSync()), Array.from(a.accBeta2.dataSync())];
}

Deno.test("checkpoints", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const model = tiny(1);
    const opt = tf.train.adam(0.01);
    train(model, opt, 3);
    const path = await saveCheckpoint(dir, model, opt, {
      step: 3,
      rngState: [1, 2, 3, 4],
      extra: { best: 0.5 },
    });

    await t.step("round trip restores weights, optimizer state, step, PRNG, extra", async () => {
      const m2 = tiny(2), o2 = tf.train.adam(0.01);
      assert.notDeepEqual(weightsOf(m2), weightsOf(model));
      const before = tf.memory().numTensors;
      const s = await loadCheckpoint(path, m2, o2);
      assert.deepEqual(weightsOf(m2), weightsOf(model));
      assert.deepEqual(await optimizerStateOf(o2), await optimizerStateOf(opt));
      assert.deepEqual([s.step, s.rngState, s.extra], [3, [1, 2, 3, 4], { best: 0.5 }]);
      // New tensors = the optimizer's 2 moments per trainable tensor, nothing leaked.
      assert.equal(tf.memory().numTensors - before, 2 * m2.trainableWeights.length);
    });

    await t.step("training continues identically after a load", async () => {
      const m2 = tiny(3), o2 = tf.train.adam(0.01);
      await loadCheckpoint(path, m2, o2);
      train(model, opt, 4);
      train(m2, o2, 4);
      assert.deepEqual(weightsOf(m2), weightsOf(model));
    });

    await t.step("keeps the newest `keep` checkpoints; re-saving a step replaces it", async () => {
      await saveCheckpoint(dir, model, opt, { step: 7, rngState: null, extra: {} });
      await saveCheckpoint(dir, model, opt, { step: 7, rngState: null, extra: { again: 1 } });
      await saveCheckpoint(dir, model, opt, { step: 10, rngState: null, extra: {} });
      assert.deepEqual((await listCheckpoints(dir)).map((c) => c.step), [7, 10]);
      assert.match((await latestCheckpoint(dir))!, /step-0000000010$/);
      const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      assert.deepEqual(names, ["step-0000000007", "step-0000000010"]); // no temp dirs left
      const s = await loadCheckpoint(`${dir}/step-0000000007`, tiny(4), tf.train.adam(0.01));
      assert.deepEqual(s.extra, { again: 1 });
      assert.equal(await latestCheckpoint(`${dir}/nothing`), null);
    });

    const ck = `${dir}/step-0000000010`;
    const bin = await Deno.readFile(`${ck}/weights.bin`);
    const manifest = await Deno.readTextFile(`${ck}/manifest.json`);
    const expectError = async (
      re: RegExp,
      model = tiny(5),
      opt: tf.Optimizer = tf.train.adam(0.01),
    ) => {
      const w = weightsOf(model);
      await assert.rejects(loadCheckpoint(ck, model, opt), (e: Error) => {
        assert.ok(e instanceof CheckpointError, String(e));
        assert.match(e.message, re);
        return true;
      });
      assert.deepEqual(weightsOf(model), w, "model untouched on error");
    };

    await t.step("corrupt checkpoints are clear errors naming the file", async () => {
      await Deno.writeFile(`${ck}/weights.bin`, bin.subarray(0, 100));
      await expectError(/weights\.bin: 100 bytes, manifest says \d+ \(truncated\)/);
      const flipped = bin.slice();
      flipped[7]! ^= 1;
      await Deno.writeFile(`${ck}/weights.bin`, flipped);
      await expectError(/weights\.bin: checksum/);
      await Deno.writeFile(`${ck}/weights.bin`, bin);
      await Deno.writeTextFile(`${ck}/manifest.json`, manifest.slice(0, 50));
      await expectError(/cannot read .*manifest\.json/);
      await Deno.writeTextFile(
        `${ck}/manifest.json`,
        manifest.replace('"version": 1', '"version": 9'),
      );
      await expectError(/Corrupt checkpoint manifest .*manifest\.json: .*version/);
      const m = JSON.parse(manifest);
      m.model.weights[0].shape = [3, 3];
      await Deno.writeTextFile(`${ck}/manifest.json`, JSON.stringify(m));
      await expectError(/tensor .* shape \[3, 3\] has byte range/);
      await Deno.writeTextFile(`${ck}/manifest.json`, manifest);
      await Deno.remove(`${ck}/weights.bin`);
      await expectError(/Corrupt checkpoint .*step-0000000010/);
      await Deno.writeFile(`${ck}/weights.bin`, bin);
    });

    await t.step("a checkpoint of another architecture or optimizer is rejected", async () => {
      const other = mlp({ inputShape: [4, 4, 1], hidden: [9], embeddingDim: 3, seed: 1 });
      await expectError(/does not fit the model: weight 0 .* \[16, 9\], .* \[16, 8\]/, other);
      await expectError(
        /holds Adam optimizer state, but the run uses SGD/,
        tiny(5),
        tf.train.sgd(0.1),
      );
      await loadCheckpoint(ck, tiny(6), tf.train.adam(0.01)); // intact again
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
