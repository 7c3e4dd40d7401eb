import assert from "node:assert/strict";
import { tf } from "../tf/deps/tfjs.ts";
import {
  buildModel,
  decMlp,
  mlp,
  MODEL_CHOICES,
  paperLeNet,
  smallCnn,
  smallResNet,
} from "./models.ts";

await tf.setBackend("cpu");

Deno.test("embedding networks", async (t) => {
  await t.step("paper LeNet: 887 680 parameters (SAME padding), 256-d output", () => {
    const m = paperLeNet();
    assert.equal(m.countParams(), 887680);
    assert.deepEqual(m.outputs[0]!.shape, [null, 256]);
    m.dispose();
  });

  await t.step("DEC's MLP encoder: 784–500–500–2000–10, ReLU, linear embedding", () => {
    const m = decMlp({ seed: 1 });
    const dense = m.layers.filter((l) => l.getClassName() === "Dense");
    assert.deepEqual(dense.map((l) => l.outputShape), [
      [null, 500],
      [null, 500],
      [null, 2000],
      [null, 10],
    ]);
    assert.deepEqual(
      dense.map((l) => (l.getConfig() as { activation: string }).activation),
      ["relu", "relu", "relu", "linear"],
    );
    // Weights and biases of each layer, counted by hand.
    const byHand = 784 * 500 + 500 + 500 * 500 + 500 + 500 * 2000 + 2000 + 2000 * 10 + 10;
    assert.equal(byHand, 1665010);
    assert.equal(m.countParams(), byHand);
    m.dispose();
  });

  await t.step("same seed ⇒ same initial weights; other seed ⇒ different", () => {
    const w = (s: number) => smallCnn({ seed: s }).getWeights()[0]!.dataSync().slice(0, 5);
    assert.deepEqual(w(3), w(3));
    assert.notDeepEqual(w(3), w(4));
  });

  await t.step("every model maps a batch to embeddings", () => {
    for (const name of MODEL_CHOICES) {
      const shape = name === "resnet" ? [32, 32, 3] as const : [28, 28, 1] as const;
      const m = buildModel(name, { inputShape: shape, embeddingDim: 8, seed: 0 });
      const y = tf.tidy(() => m.predict(tf.zeros([2, ...shape])) as tf.Tensor);
      assert.deepEqual(y.shape, [2, 8], name);
      y.dispose();
      m.dispose();
    }
  });

  await t.step("resnet: stride-1 stem keeps 32×32 in stage 1; widths are parameters", () => {
    const m = smallResNet({ widths: [4, 8], blocksPerStage: 1, embeddingDim: 5 });
    const stem = m.layers.find((l) => l.getClassName() === "Conv2D")!;
    assert.deepEqual(stem.outputShape, [null, 32, 32, 4]);
    assert.equal(m.layers.filter((l) => l.getClassName() === "Add").length, 2);
    m.dispose();
    assert.deepEqual(mlp({ hidden: [7], embeddingDim: 2 }).outputs[0]!.shape, [null, 2]);
  });
});
