import assert from "node:assert/strict";
import { assertWellFormedSvg } from "../svg_assert.ts";
import { readJsonl } from "../io.ts";
import { CheckpointError, latestCheckpoint } from "../checkpoint.ts";
import { main } from "./main.ts";
import { AlreadyFinished } from "../errors.ts";
import { batchClusters, type EvalRecord, learningRateAt, type RunSummary } from "./engine.ts";
import { pca } from "../pca.ts";
import { EMBEDDINGS_FILES, readEmbeddings } from "../embeddings_file.ts";
import { evaluateDataset } from "../dataset_eval.ts";
import { pinned, sha256, without } from "../train/testdata/pinned.ts";
import { tinyMnistFlags } from "../train/testdata/tiny_mnist.ts";
import { embedImages, loadDataset } from "./image_dataset.ts";

/**
 * A tiny cpu run: 640 training images, batches of 32, 2 evaluation batches, 8 samples, and the
 * data-set-level evaluation on the first 300 test images.
 */
const tiny = (out: string, steps: number, extra: string[] = []) => [
  ...tinyMnistFlags(out, steps, 3),
  "--seed",
  "7",
  "--dataset-images",
  "300",
  ...extra,
];

const withoutCounters = (r: EvalRecord) => ({ ...r, numTensors: 0 });
/** The data-set-level figures without their timings (which move from run to run). */
const figures = (d: RunSummary["datasetLevel"]) =>
  d === undefined
    ? undefined
    : { ...d, seconds: null, embedSeconds: null, trainEmbedSeconds: null, knnProduct: null };

// One test with steps, about 150 lines: every step reads the same 6-step run.
Deno.test("exp:mnist smoke run (6 steps, cpu, tiny subset)", async (t) => {
  const out = await Deno.makeTempDir();
  try {
    const run = await main(tiny(out, 6));
    const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`)) as RunSummary;
    await t.step("summary.json holds finite test metrics in range and timings", () => {
      assert.equal(summary.stepsDone, 6);
      assert.equal(summary.backend, "cpu");
      assert.equal(summary.test.batches, 2);
      for (const v of [summary.test.precision, summary.test.acc, summary.test.nmi]) {
        assert.ok(v >= 0 && v <= 1, `metric ${v} out of [0, 1]`);
      }
      assert.ok(summary.test.ari >= -1 && summary.test.ari <= 1);
      assert.ok(summary.timing.stepSeconds > 0 && summary.timing.clusterLossSeconds! > 0);
      assert.ok([3, 6].includes(summary.bestStep));
      assert.deepEqual(run.summary, summary);
    });
    await t.step("summary.json holds the data-set-level figures, in range", () => {
      const d = summary.datasetLevel!;
      assert.ok(d !== undefined, "no datasetLevel in summary.json");
      assert.deepEqual([d.images, d.dim, d.k, d.neighbours, d.search], [300, 8, 10, 15, "exact"]);
      assert.equal(d.mutualReachability.minSamples, 10);
      for (const s of [d.singleLinkage, d.mutualReachability]) {
        for (const v of [s.acc, s.nmi]) assert.ok(v >= 0 && v <= 1, `metric ${v} out of [0, 1]`);
        assert.ok(s.ari >= -1 && s.ari <= 1);
        // k = 10 clusters of 300 points: the largest holds at least a tenth, at most all but 9.
        assert.ok(s.largest >= 30 && s.largest <= 291, `largest ${s.largest}`);
      }
      // The minimum-size cut: default ⌈300 / 40⌉ = 8; up to k clusters, each of ≥ 8 points.
      const ms = d.singleLinkageMinSize;
      assert.equal(ms.minSize, 8);
      assert.ok(ms.clusters >= 1 && ms.clusters <= 10, `${ms.clusters} clusters`);
      for (const v of [ms.acc, ms.nmi]) assert.ok(v >= 0 && v <= 1, `metric ${v} out of [0, 1]`);
      assert.ok(ms.largest >= 30 && ms.largest <= 300 - 8 * (ms.clusters - 1));
      const tr = d.transductive;
      assert.deepEqual([tr.labelledFraction, tr.seed], [0.01, 15]);
      // ≈ 3 by the 1 % draw, then one for every class missed: every digit is among 300 images.
      assert.ok(tr.labelled >= 10 && tr.labelled <= 20, `${tr.labelled} labels`);
      assert.ok(tr.accuracy >= 0 && tr.accuracy <= 1);
      assert.ok(d.seconds.total >= d.seconds.graph && d.seconds.graph >= 0);
      assert.ok(d.embedSeconds >= 0);
      // OpenBLAS's product when it loads, the TypeScript one otherwise (figures identical).
      assert.match(d.knnProduct ?? "", /gemm|pure TypeScript/);
      assert.equal(d.embeddingsFile, EMBEDDINGS_FILES.embeddings);
    });
    await t.step("the saved embeddings are n × d float32 and reproduce the figures", async () => {
      const saved = await readEmbeddings(out);
      assert.equal(saved.header.rows, 300);
      assert.equal(saved.header.cols, 8);
      assert.equal(saved.header.step, summary.bestStep);
      assert.equal(saved.data.length, 300 * 8);
      // The .npy header is 128 bytes here, then exactly n × d float32 values.
      const bytes = await Deno.readFile(`${out}/${EMBEDDINGS_FILES.embeddings}`);
      assert.equal(bytes.length, 128 + 300 * 8 * 4);
      // Test-split images 0 … 299 in order, embedded by the returned (best-weights) network.
      const ds = await loadDataset("mnist");
      assert.deepEqual(saved.labels, ds.test.labels.slice(0, 300));
      const again = await embedImages(
        run.backbone,
        ds,
        "test",
        Int32Array.from({ length: 300 }, (_, i) => i),
      );
      assert.deepEqual(again.data, saved.data);
      // What the summary says is what these points give.
      const r = evaluateDataset(Float64Array.from(saved.data), 300, 8, saved.labels, 10);
      assert.deepEqual(
        figures({
          ...r,
          embedSeconds: 0,
          trainEmbedSeconds: 0,
          embeddingsFile: EMBEDDINGS_FILES.embeddings,
        }),
        figures(summary.datasetLevel),
      );
    });
    await t.step(
      "the training images it drew from are saved too, embedded by the same network",
      async () => {
        const saved = await readEmbeddings(out, "train");
        // --train-limit 640: the first 640 training images, in order.
        assert.deepEqual([saved.header.split, saved.header.rows, saved.header.cols], [
          "train",
          640,
          8,
        ]);
        assert.equal(saved.header.step, summary.bestStep);
        const ds = await loadDataset("mnist");
        assert.deepEqual(saved.labels, ds.train.labels.slice(0, 640));
        const indices = Int32Array.from({ length: 640 }, (_, i) => i);
        assert.deepEqual(saved.data, (await embedImages(run.backbone, ds, "train", indices)).data);
        // A test header under the training split's name is refused, not read as training data.
        const other = await Deno.makeTempDir();
        try {
          await Deno.copyFile(
            `${out}/${EMBEDDINGS_FILES.header}`,
            `${other}/train_embeddings.json`,
          );
          await assert.rejects(
            () => readEmbeddings(other, "train"),
            /holds the test split, not train/,
          );
        } finally {
          await Deno.remove(other, { recursive: true });
        }
      },
    );
    await t.step("metrics.jsonl and metrics.csv have one record per evaluation", async () => {
      const records = (await readJsonl(`${out}/metrics.jsonl`)) as EvalRecord[];
      assert.deepEqual(records.map((r) => r.step), [3, 6]);
      const csv = (await Deno.readTextFile(`${out}/metrics.csv`)).trimEnd().split("\n");
      assert.equal(csv.length, 3);
      assert.ok(csv[0]!.startsWith("step,trainLoss,valPrecision"));
      // No tensor leak between evaluations.
      assert.equal(records[0]!.numTensors, records[1]!.numTensors);
    });
    await t.step("config.json records the engine settings and the flags", async () => {
      const config = JSON.parse(await Deno.readTextFile(`${out}/config.json`));
      assert.equal(config.engine.objective, "cluster");
      assert.equal(config.engine.samples, 8);
      assert.equal(config.flags.trainLimit, 640);
    });
    await t.step("plots are well-formed SVGs", async () => {
      for (
        const name of [
          "training_loss",
          "validation_metrics",
          "embedding_pca",
          "connectivity_predicted",
          "connectivity_true",
        ]
      ) {
        assertWellFormedSvg(await Deno.readTextFile(`${out}/${name}.svg`));
      }
      const heat = await Deno.readTextFile(`${out}/connectivity_true.svg`);
      assert.equal(heat.match(/aria-roledescription="rect mark"/g)?.length, 32 * 32);
      // Sorted by true class, binary legend, named axes.
      assert.ok(heat.includes(">same cluster<") && heat.includes(">different clusters<"));
      assert.ok(heat.includes(">test image (sorted by true class)<"));
      const pcaSvg = await Deno.readTextFile(`${out}/embedding_pca.svg`);
      assert.ok(pcaSvg.includes(">principal component 1<"));
    });
    await t.step("a resume with no step left keeps the timings (no NaN / null)", async () => {
      // What exp:semi meets when its first method finished before an interruption.
      const rec = JSON.parse(await Deno.readTextFile(`${out}/run.json`));
      await Deno.writeTextFile(`${out}/run.json`, JSON.stringify({ ...rec, finished: null }));
      const again = await main(tiny(out, 6, ["--resume"]));
      assert.deepEqual(again.summary.timing, summary.timing);
      assert.ok(Number.isFinite(again.summary.timing.stepSeconds));
    });
    await t.step("a second run into the same directory without --resume is refused", async () => {
      await assert.rejects(() => main(tiny(out, 6)), /already holds a run .*pass --resume/);
    });
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("exp:mnist kill -9 after the first checkpoint, then --resume, equals an uninterrupted run", async () => {
  // With the cosine schedule: the learning rate is a function of the step, so it must resume too.
  const cosine = ["--lr-schedule", "cosine"];
  const killed = await Deno.makeTempDir(), reference = await Deno.makeTempDir();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./main.ts", import.meta.url).pathname,
        ...tiny(killed, 12, cosine),
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Kill as soon as the first checkpoint is in place (step 3 of 12).
    const deadline = Date.now() + 60_000;
    while ((await latestCheckpoint(`${killed}/checkpoints`)) === null) {
      assert.ok(Date.now() < deadline, "the child wrote no checkpoint within 60 s");
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGKILL");
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL");
    const killedAt = await latestCheckpoint(`${killed}/checkpoints`);
    assert.ok(!killedAt!.endsWith("step-0000000012"), "the child finished before the kill");

    const resumed = await main(tiny(killed, 12, [...cosine, "--resume"]));
    const straight = await main(tiny(reference, 12, cosine));

    // Bit-identical final weights and Adam state (cpu backend is deterministic).
    const final = "checkpoints/step-0000000012/weights.bin";
    assert.deepEqual(
      await Deno.readFile(`${killed}/${final}`),
      await Deno.readFile(`${reference}/${final}`),
    );
    const a = (await readJsonl(`${killed}/metrics.jsonl`)) as EvalRecord[];
    const b = (await readJsonl(`${reference}/metrics.jsonl`)) as EvalRecord[];
    assert.deepEqual(a.map((r) => r.step), [3, 6, 9, 12]);
    assert.deepEqual(a.map(withoutCounters), b.map(withoutCounters));
    assert.deepEqual(resumed.summary.test, straight.summary.test);
    assert.deepEqual(figures(resumed.summary.datasetLevel), figures(straight.summary.datasetLevel));
    assert.deepEqual(
      await Deno.readFile(`${killed}/${EMBEDDINGS_FILES.embeddings}`),
      await Deno.readFile(`${reference}/${EMBEDDINGS_FILES.embeddings}`),
    );
    assert.equal(resumed.summary.bestStep, straight.summary.bestStep);

    // --resume of a finished run says so (it used to print NaN s/step and write null timings).
    await assert.rejects(
      () => main(tiny(reference, 12, [...cosine, "--resume"])),
      (e: unknown) => e instanceof AlreadyFinished && /already finished at step 12/.test(e.message),
    );
    // A corrupt checkpoint is a clear error, not a crash inside tfjs (un-finish the run first).
    const rec = JSON.parse(await Deno.readTextFile(`${reference}/run.json`));
    await Deno.writeTextFile(`${reference}/run.json`, JSON.stringify({ ...rec, finished: null }));
    const latest = (await latestCheckpoint(`${reference}/checkpoints`))!;
    const bytes = await Deno.readFile(`${latest}/weights.bin`);
    await Deno.writeFile(`${latest}/weights.bin`, bytes.subarray(0, bytes.length - 8));
    await assert.rejects(
      () => main(tiny(reference, 12, [...cosine, "--resume"])),
      (e: unknown) => e instanceof CheckpointError && /truncated/.test(e.message),
    );
  } finally {
    await Deno.remove(killed, { recursive: true });
    await Deno.remove(reference, { recursive: true });
  }
});

Deno.test("exp:mnist --loss-graph knn: batches of 128 on the kNN graph train, the loss falls", async () => {
  const out = await Deno.makeTempDir();
  try {
    const run = await main(tiny(out, 12, [
      "--loss-graph",
      "knn",
      "--graph-neighbours",
      "10",
      "--batch-size",
      "128",
      "--eval-batch-size",
      "32",
      "--learning-rate",
      "1e-3",
      "--eval-every",
      "6",
      "--train-limit",
      "1536",
      "--no-dataset-eval",
    ]));
    const config = JSON.parse(await Deno.readTextFile(`${out}/config.json`));
    assert.deepEqual([config.engine.lossGraph, config.engine.graphNeighbours], ["knn", 10]);
    const records = (await readJsonl(`${out}/metrics.jsonl`)) as EvalRecord[];
    assert.deepEqual(records.map((r) => r.step), [6, 12]);
    for (const r of records) assert.ok(Number.isFinite(r.trainLoss) && r.trainLoss > 0);
    assert.ok(
      records[1]!.trainLoss < records[0]!.trainLoss,
      `mean loss of steps 7–12 ${records[1]!.trainLoss} ≥ steps 1–6 ${records[0]!.trainLoss}`,
    );
    const s = run.summary;
    assert.equal(s.stepsDone, 12);
    assert.equal(s.test.batches, 2);
    assert.ok(s.test.precision >= 0 && s.test.precision <= 1);
    assert.ok(s.timing.clusterLossSeconds! > 0);
    assert.equal(s.timeBudget, undefined);
    // The first test batch is of --eval-batch-size images, not --batch-size.
    const heat = await Deno.readTextFile(`${out}/connectivity_true.svg`);
    assert.equal(heat.match(/aria-roledescription="rect mark"/g)?.length, 32 * 32);
    run.model.dispose();
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("exp:mnist --max-minutes: training stops at the budget, evaluates that step, tests the best", async () => {
  const out = await Deno.makeTempDir();
  try {
    // 0.03 s of step time: the budget runs out at the first step or soon after.
    const run = await main(tiny(out, 50, ["--max-minutes", "0.0005", "--no-dataset-eval"]));
    const s = run.summary;
    assert.ok(s.timeBudget !== undefined && s.timeBudget.reached, JSON.stringify(s.timeBudget));
    assert.equal(s.timeBudget.seconds, 0.03);
    assert.ok(s.timeBudget.trainSeconds >= 0.03);
    assert.ok(s.stepsDone >= 1 && s.stepsDone < 50, `${s.stepsDone} steps`);
    assert.equal(s.stoppedEarly, false);
    const records = (await readJsonl(`${out}/metrics.jsonl`)) as EvalRecord[];
    assert.equal(records.at(-1)!.step, s.stepsDone, "the last step is evaluated");
    assert.ok(s.bestStep >= 1 && s.test.precision >= 0);
    assert.notEqual(await latestCheckpoint(`${out}/checkpoints`), null);
    run.model.dispose();
    // A resume with the same budget has nothing left to train: same summary.
    const rec = JSON.parse(await Deno.readTextFile(`${out}/run.json`));
    await Deno.writeTextFile(`${out}/run.json`, JSON.stringify({ ...rec, finished: null }));
    const again = await main(
      tiny(out, 50, ["--max-minutes", "0.0005", "--no-dataset-eval", "--resume"]),
    );
    assert.equal(again.summary.stepsDone, s.stepsDone);
    assert.deepEqual(again.summary.test, s.test);
    again.model.dispose();
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("learningRateAt: constant, and cosine from lr at step 0 down to 0 at the end", () => {
  const steps = 40;
  const cos = Array.from({ length: steps + 1 }, (_, s) => learningRateAt(2e-3, "cosine", s, steps));
  assert.equal(cos[0], 2e-3);
  assert.ok(Math.abs(cos[steps]!) < 1e-18);
  assert.ok(Math.abs(cos[steps / 2]! - 1e-3) < 1e-15);
  for (let s = 1; s <= steps; s++) assert.ok(cos[s]! < cos[s - 1]!, `not decreasing at ${s}`);
  assert.equal(learningRateAt(2e-3, "constant", 17, steps), 2e-3);
});

Deno.test("batchClusters lowers k only when the constraints cannot make k clusters", () => {
  assert.equal(batchClusters(3, [0, 1, 2, 0]), 3);
  assert.equal(batchClusters(3, [0, 1, 1, 0]), 2);
  assert.equal(batchClusters(3, [0, 0, null, null]), 3);
  assert.equal(batchClusters(3, [0, 0, null]), 2);
});

Deno.test("pca recovers the direction of largest variance", () => {
  const points = Array.from({ length: 50 }, (_, i) => [i, 0.5 * i + Math.sin(i), 0.01 * i]);
  const { directions, variances, projected } = pca(points, 2);
  assert.ok(variances[0]! > variances[1]!);
  const dot = directions[0]!.reduce((s, v, j) => s + v * directions[1]![j]!, 0);
  assert.ok(Math.abs(dot) < 1e-6, `directions not orthogonal: ${dot}`);
  assert.equal(projected.length, 50);
  // The first axis is close to (1, 0.5, 0.01)/‖·‖ up to sign.
  const u = [1, 0.5, 0.01], norm = Math.hypot(...u);
  const cos = directions[0]!.reduce((s, v, j) => s + v * u[j]! / norm, 0);
  assert.ok(Math.abs(cos) > 0.99, `cos = ${cos}`);
  assert.throws(() => pca([[0, 1], [1]]), RangeError);
});

Deno.test("exp:mnist presets quick and paper (the paper LeNet on wasm): smoke runs", async (t) => {
  for (const preset of ["quick", "paper"] as const) {
    await t.step(preset, async () => {
      const out = await Deno.makeTempDir();
      try {
        const run = await main([
          "--preset",
          preset,
          // The paper preset's auto would probe WebGPU, which loads the Vulkan driver into the
          // test process (see tf/testdata/webgpu_probe.ts): name the backend auto
          // picks on a CPU machine.
          "--backend",
          "wasm",
          "--steps",
          "3",
          "--train-limit",
          "256",
          "--samples",
          "4",
          "--eval-every",
          "3",
          "--eval-batches",
          "1",
          "--test-batches",
          "1",
          "--quiet",
          "--out",
          out,
          // quick: the data-set-level evaluation on 200 images; paper: none.
          ...(preset === "quick" ? ["--dataset-images", "200"] : ["--no-dataset-eval"]),
        ]);
        const config = JSON.parse(await Deno.readTextFile(`${out}/config.json`));
        assert.equal(config.engine.model, "paper-lenet");
        assert.equal(run.summary.backend, "wasm");
        assert.equal(run.summary.stepsDone, 3);
        assert.ok(run.summary.test.precision >= 0 && run.summary.test.precision <= 1);
        assertWellFormedSvg(await Deno.readTextFile(`${out}/embedding_umap.svg`));
        if (preset === "quick") {
          assert.equal(run.summary.datasetLevel?.images, 200);
          assert.equal(run.summary.datasetLevel?.dim, (await readEmbeddings(out)).header.cols);
        } else {
          assert.equal(run.summary.datasetLevel, undefined);
          await assert.rejects(
            () => Deno.stat(`${out}/${EMBEDDINGS_FILES.header}`),
            Deno.errors.NotFound,
          );
        }
        run.model.dispose(); // the backbone is its first layer
      } finally {
        await Deno.remove(out, { recursive: true });
      }
    });
  }
});

Deno.test("a tiny run gives the figures and weights recorded before the shared training loop", async () => {
  const out = await Deno.makeTempDir();
  try {
    const run = await main(tiny(out, 6, ["--lr-schedule", "cosine"]));
    run.model.dispose();
    // Tensor counts depend on what earlier tests in this process left alive: not figures.
    assert.deepEqual(
      without(await readJsonl(`${out}/metrics.jsonl`), ["numTensors"]),
      without(await readJsonl(pinned("mnist_tiny_metrics.jsonl")), ["numTensors"]),
    );
    const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
    const recorded = JSON.parse(await Deno.readTextFile(pinned("mnist_tiny_summary.json")));
    const volatile = [
      "timing",
      "seconds",
      "embedSeconds",
      "trainEmbedSeconds",
      "knnProduct",
      "embeddingsFile",
      "numTensors",
    ];
    assert.deepEqual(without(summary, volatile), without(recorded, volatile));
    const weights = JSON.parse(await Deno.readTextFile(pinned("final_weights_sha256.json")));
    assert.equal(await sha256(`${out}/checkpoints/step-0000000006/weights.bin`), weights.mnist);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("exp:mnist --augment flip-shift reaches the training batches, and is recorded", async () => {
  const [plainOut, augOut] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  try {
    const flags = ["--no-dataset-eval", "--test-batches", "1"];
    const plain = await main(tiny(plainOut, 2, flags));
    const aug = await main(tiny(augOut, 2, [...flags, "--augment", "flip-shift"]));
    const weights = async (r: typeof plain) =>
      await Promise.all(r.model.getWeights().map((w) => w.data()));
    const [a, b] = [await weights(plain), await weights(aug)];
    // Same seed, same batches of indices: only the augmented pixels can move the weights.
    assert.ok(a.some((w, i) => w.some((v, j) => v !== b[i]![j])), "augmentation changed nothing");
    const config = JSON.parse(await Deno.readTextFile(`${augOut}/config.json`));
    assert.equal(config.flags.augment, "flip-shift");
    for (const r of [plain, aug]) r.model.dispose();
  } finally {
    for (const d of [plainOut, augOut]) await Deno.remove(d, { recursive: true });
  }
});
