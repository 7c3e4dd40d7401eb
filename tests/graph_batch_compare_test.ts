/**
 * `deno task compare:batch` (scripts/graph_batch_compare.ts): the two runs differ only in batch
 * size and loss, and a tiny comparison runs end to end and reports both.
 */
import assert from "node:assert/strict";
import { E } from "../lib/deps/fp.ts";
import { parseFlags } from "../experiments/cli/flags.ts";
import {
  compareBatchCommand,
  comparedRuns,
  main,
  stepsPerImages,
} from "../scripts/graph_batch_compare.ts";

/** The value after `--name` in an argument list. */
const arg = (args: readonly string[], name: string) => args[args.indexOf(`--${name}`) + 1];

function configOf(argv: string[]) {
  const r = parseFlags(compareBatchCommand, argv);
  if (E.isLeft(r) || r.right._tag !== "Config") throw new Error(JSON.stringify(r));
  return r.right.config;
}

Deno.test("compare:batch: the runs differ only in batch size, loss and evaluation interval", () => {
  const [dense, knn] = comparedRuns(configOf(["--minutes", "15", "--seed", "3"]));
  assert.deepEqual([dense.name, knn.name], ["dense-64", "knn-1024"]);
  for (const r of [dense, knn]) {
    assert.equal(arg(r.args, "max-minutes"), "15");
    assert.equal(arg(r.args, "seed"), "3");
    assert.equal(arg(r.args, "eval-batch-size"), "64");
    assert.equal(arg(r.args, "lr-schedule"), "constant");
    assert.equal(arg(r.args, "preset"), "quick");
    assert.ok(!r.args.includes("--backend"), "the preset's backend unless given");
    assert.equal(arg(r.args, "out"), `results/compare-batch-15min-seed3/${r.name}`);
  }
  assert.equal(arg(dense.args, "batch-size"), "64");
  assert.equal(arg(knn.args, "batch-size"), "1024");
  assert.ok(!dense.args.includes("--loss-graph"));
  assert.deepEqual([arg(knn.args, "loss-graph"), arg(knn.args, "graph-neighbours")], ["knn", "15"]);
  // Evaluated after the same number of training images: 32 000 = 500 × 64 ≈ 31 × 1024.
  assert.deepEqual([arg(dense.args, "eval-every"), arg(knn.args, "eval-every")], ["500", "31"]);
  assert.equal(stepsPerImages(10, 1024), 1);
  // Everything but what differs by design is the same, in the same order.
  const strip = (a: readonly string[]) =>
    a.filter((_, i) =>
      !["batch-size", "eval-every", "checkpoint-every", "out", "loss-graph", "graph-neighbours"]
        .some((f) => a[i] === `--${f}` || a[i - 1] === `--${f}`)
    );
  assert.deepEqual(strip(dense.args), strip(knn.args));
});

Deno.test("compare:batch: bad flags are refused before any work", () => {
  const error = (argv: string[]) => {
    const r = parseFlags(compareBatchCommand, argv);
    return E.isLeft(r) ? r.left : "";
  };
  assert.match(error(["--minutes", "0"]), /Invalid --minutes "0"/);
  assert.match(
    error(["--graph-neighbours", "1024"]),
    /--graph-neighbours 1024 must be below --large-batch 1024/,
  );
  assert.match(error(["--large-batch", "64"]), /--large-batch 64 is not above --small-batch 64/);
  assert.match(
    error(["--train-limit", "512"]),
    /--train-limit 512 is smaller than --large-batch 1024/,
  );
});

Deno.test("compare:batch: a tiny comparison trains both runs and tabulates them", async () => {
  const out = await Deno.makeTempDir();
  try {
    const rows = await main([
      ...["--minutes", "0.005", "--backend", "cpu", "--model", "mlp", "--train-limit", "1024"],
      ...["--small-batch", "32", "--large-batch", "128", "--graph-neighbours", "8"],
      ...["--eval-images", "256", "--eval-batches", "1", "--test-batches", "1", "--samples", "4"],
      ...["--quiet", "--out", out],
    ]);
    assert.deepEqual(rows.map((r) => [r.run, r.loss, r.batchSize]), [
      ["dense-32", "dense", 32],
      ["knn-128", "kNN graph", 128],
    ]);
    for (const r of rows) {
      assert.ok(r.budgetReached && r.trainSeconds >= 0.3, `${r.run}: ${r.trainSeconds} s`);
      assert.ok(r.steps >= 1 && r.imagesSeen === r.steps * r.batchSize);
      assert.ok(r.testPrecision >= 0 && r.testPrecision <= 1);
    }
    const saved = JSON.parse(await Deno.readTextFile(`${out}/comparison.json`));
    assert.deepEqual(saved.rows, rows);
    // The graph run evaluated on batches of 32, not of its training batch of 128.
    const config = JSON.parse(await Deno.readTextFile(`${out}/knn-128/config.json`));
    assert.deepEqual([config.flags.evalBatchSize, config.engine.lossGraph], [32, "knn"]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
