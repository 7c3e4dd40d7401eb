import assert from "node:assert/strict";
import { main } from "./semi.ts";
import type { CellResult } from "./semi.ts";

Deno.test("exp:semi smoke run: one cell, both methods trained, probed and written", async () => {
  const out = await Deno.makeTempDir();
  try {
    const r = (await main([
      "--backend",
      "cpu",
      "--model",
      "mlp",
      "--embedding-dim",
      "8",
      "--train-limit",
      "3000",
      "--n-labelled",
      "70",
      "--withheld",
      "3",
      "--batch-size",
      "32",
      "--samples",
      "4",
      "--steps",
      "3",
      "--eval-every",
      "3",
      "--checkpoint-every",
      "3",
      "--eval-batches",
      "1",
      "--test-batches",
      "1",
      "--quiet",
      "--out",
      out,
    ])) as CellResult;
    assert.equal(r.nLabelled, 70);
    assert.deepEqual(r.withheldClasses, [0, 1, 2]);
    // 70 labels over the 7 kept classes.
    assert.equal(r.labelledPerClass, 10);
    for (const method of ["ours", "ce"] as const) {
      const m = r[method];
      assert.equal(m.summary.stepsDone, 3, method);
      assert.equal(m.clusteringError, 1 - m.summary.test.precision, method);
      assert.ok(m.probeTestAccuracy >= 0 && m.probeTestAccuracy <= 1, method);
      const emb = JSON.parse(await Deno.readTextFile(`${out}/${method}/embeddings.json`));
      assert.equal(emb.dim, 8, method);
      assert.equal(emb.holdout.labels.length, 1000, method); // 100 per class
    }
    const written = JSON.parse(await Deno.readTextFile(`${out}/cell.json`));
    assert.deepEqual(written, JSON.parse(JSON.stringify(r)));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
