import assert from "node:assert/strict";
import { E } from "../../lib/deps/fp.ts";
import { parseFlags } from "../cli/flags.ts";
import { semiCommand } from "./flags.ts";
import { runSemiCell } from "./cell.ts";
import { main } from "./main.ts";
import type { CellResult, SemiConfig } from "./cell.ts";
import { tinyRunFlags } from "../train/testdata/tiny_mnist.ts";

/** A tiny cpu cell: 3000 training images, 70 labels, 3 steps of batches of 32, 4 samples. */
const tinySemi = (out: string) => [
  ...tinyRunFlags({
    out,
    trainLimit: 3000,
    samples: 4,
    steps: 3,
    checkpointEvery: 3,
    evalBatches: 1,
  }),
  "--n-labelled",
  "70",
];

Deno.test("exp:semi smoke run: one cell, both methods trained, probed and written", async () => {
  const out = await Deno.makeTempDir();
  try {
    const r = (await main([...tinySemi(out), "--withheld", "3"])) as CellResult;
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

Deno.test("a grid cell (resume on a fresh directory) prints no '[resume] no checkpoint' noise", async () => {
  const out = await Deno.makeTempDir();
  const lines: string[] = [];
  const error = console.error;
  console.error = (...xs: unknown[]) => lines.push(xs.join(" "));
  try {
    const r = parseFlags(semiCommand, tinySemi(`${out}/cell`));
    assert.ok(E.isRight(r) && r.right._tag === "Config");
    // What the grid runner does for every fresh cell: resume: true in a new run directory.
    await runSemiCell({ ...r.right.config, resume: true } as unknown as SemiConfig, "cpu");
  } finally {
    console.error = error;
    await Deno.remove(out, { recursive: true });
  }
  assert.deepEqual(lines.filter((l) => /resume|no checkpoint/i.test(l)), []);
});

Deno.test("exp:semi: --n-labelled beyond the training pool is a one-line error before training", async () => {
  const out = await Deno.makeTempDir();
  try {
    const args = tinySemi(`${out}/run`).map((a) => (a === "70" ? "100000" : a));
    await assert.rejects(
      () => main(args),
      (e: unknown) => e instanceof Error && /100000/.test(e.message) && !e.message.includes("\n"),
    );
    // Nothing was trained.
    const entries = [...Deno.readDirSync(`${out}/run`)].map((e) => e.name);
    assert.deepEqual(entries, ["run.json"]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
