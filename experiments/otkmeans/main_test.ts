import assert from "node:assert/strict";
import { E } from "../../lib/deps/fp.ts";
import { otKMeansLoss } from "../../lib/ot/ot_kmeans.ts";
import { AlreadyFinished, parseFlags } from "../cli/flags.ts";
import { RunSetupError } from "../run_dir.ts";
import { tf } from "../../tf/deps/tfjs.ts";
import { readJsonl } from "../io.ts";
import { assertWellFormedSvg } from "../svg_assert.ts";
import {
  buildOtKMeansNet,
  epsilonAt,
  otkmeansCommand,
  type OtKMeansConfig,
  type OtKMeansRecord,
  runOtKMeans,
  selfLabelLoss,
  trainValSplit,
} from "./main.ts";
import { rectMatrix } from "../../lib/core/rect_matrix.ts";
import { pinned, sha256, without } from "../train/testdata/pinned.ts";

function configOf(args: string[]): OtKMeansConfig {
  const r = parseFlags(otkmeansCommand, args);
  assert.ok(E.isRight(r) && r.right._tag === "Config");
  return r.right.config as OtKMeansConfig;
}

function smokeConfig(out: string, extra: string[] = []): OtKMeansConfig {
  return configOf(["--preset", "smoke", "--out", out, "--quiet", ...extra]);
}

/** The summary of a finished run: its objective, and every figure finite and in [0, 1]. */
async function assertSummary(out: string, objective: string): Promise<void> {
  const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
  assert.equal(summary.objective, objective);
  for (const rec of [summary.validation, summary.test]) {
    for (const key of ["accNearest", "nmiNearest", "accTransport", "largestClusterShare"]) {
      const v = rec[key];
      assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `${rec.split} ${key}: ${v}`);
    }
    assert.ok(rec.ariNearest >= -1 && rec.ariNearest <= 1);
  }
}

Deno.test("exp:otkmeans: self-label loss: gradients match finite differences, collapse costs log k", () => {
  const z = [[0.5, -0.2], [0.1, 0.7], [-0.4, 0.3], [1, 1]];
  const c = [[0.2, 0.1], [-0.5, 0.4], [0.9, 0.8]];
  const plan = otKMeansLoss(z, c, { epsilon: 0.2, tol: 1e-12, maxIters: 100000 }).sinkhorn.plan;
  const tau = 0.7;
  const at = selfLabelLoss(rectMatrix(z), rectMatrix(c), plan, tau);
  const h = 1e-6;
  const check = (which: "z" | "c", pts: number[][], grad: Float64Array) => {
    for (let i = 0; i < pts.length; i++) {
      for (let t = 0; t < 2; t++) {
        const plus = pts.map((r) => [...r]), minus = pts.map((r) => [...r]);
        plus[i]![t]! += h;
        minus[i]![t]! -= h;
        const f = (p: number[][]) =>
          selfLabelLoss(
            rectMatrix(which === "z" ? p : z),
            rectMatrix(which === "c" ? p : c),
            plan,
            tau,
          )
            .loss;
        const fd = (f(plus) - f(minus)) / (2 * h);
        const g = grad[i * 2 + t]!;
        assert.ok(
          Math.abs(fd - g) < 1e-6 * (1 + Math.abs(g)),
          `${which}[${i}][${t}]: ${fd} vs ${g}`,
        );
      }
    }
  };
  check("z", z, at.gradPoints.data);
  check("c", c, at.gradCentroids.data);
  // Every point on every centroid: p is uniform whatever the plan, L = log k, zero gradient.
  const same = [[0.3, 0.3], [0.3, 0.3], [0.3, 0.3], [0.3, 0.3]];
  const collapsed = selfLabelLoss(rectMatrix(same), rectMatrix(same.slice(0, 3)), plan, tau);
  assert.ok(Math.abs(collapsed.loss - Math.log(3)) < 1e-12);
  assert.throws(() => selfLabelLoss(rectMatrix(z), rectMatrix(c), plan, 0), /temperature/);
});

Deno.test("exp:otkmeans: ε schedule: constant, or geometric from the initialisation to --epsilon", () => {
  const cfg = { epsilon: 0.01, epsilonStart: 1, warmupSteps: 10, steps: 21 };
  assert.equal(epsilonAt({ ...cfg, epsilonStart: 0 }, 15), 0.01);
  assert.equal(epsilonAt(cfg, 0), 1);
  assert.equal(epsilonAt(cfg, 10), 1);
  assert.ok(Math.abs(epsilonAt(cfg, 15) - 0.1) < 1e-12);
  assert.ok(Math.abs(epsilonAt(cfg, 20) - 0.01) < 1e-12);
});

Deno.test("exp:otkmeans: validation images are held out of training, by seed, disjoint", () => {
  const cfg = { trainSize: 0, valSize: 100, seed: 3 };
  const { trainIdx, valIdx } = trainValSplit(1000, cfg);
  assert.equal(valIdx.length, 100);
  assert.equal(trainIdx.length, 900);
  const all = new Set([...trainIdx, ...valIdx]);
  assert.equal(all.size, 1000, "every image in exactly one split");
  assert.deepEqual(trainValSplit(1000, cfg), { trainIdx, valIdx });
  assert.notDeepEqual(trainValSplit(1000, { ...cfg, seed: 4 }).valIdx, valIdx);
  const sub = trainValSplit(1000, { ...cfg, trainSize: 50 });
  assert.equal(sub.trainIdx.length, 50);
  assert.ok(sub.trainIdx.every((i) => !valIdx.includes(i)));
  // No validation: every image trains, in order (the former behaviour).
  assert.deepEqual(
    trainValSplit(10, { ...cfg, valSize: 0 }).trainIdx,
    Int32Array.from({ length: 10 }, (_, i) => i),
  );
  assert.throws(() => trainValSplit(10, { ...cfg, valSize: 10 }), /--val-size 10/);
});

Deno.test("exp:otkmeans smoke runs: one run directory read by every step", async (t) => {
  await tf.setBackend("cpu");

  const out = await Deno.makeTempDir({ prefix: "otkmeans_smoke_" });
  try {
    const lines: string[] = [];
    const run = await runOtKMeans(smokeConfig(out), (l) => lines.push(l));

    await t.step("writes well-formed outputs", async () => {
      for (
        const f of ["config.json", "metrics.csv", "metrics.jsonl", "summary.json", "train.csv"]
      ) {
        assert.ok((await Deno.stat(`${out}/${f}`)).size > 0, f);
      }
      for (const f of ["metrics.svg", "loss.svg"]) {
        assert.ok(assertWellFormedSvg(await Deno.readTextFile(`${out}/${f}`)).includes("path"), f);
      }
      const records = (await readJsonl(`${out}/metrics.jsonl`)) as OtKMeansRecord[];
      // Validation at steps 3 and 6 (64 held-out training images), then ONE test evaluation
      // (all 128 test images) of the checkpoint with the best validation ACC.
      const val = records.filter((r) => r.split === "val");
      const test = records.filter((r) => r.split === "test");
      assert.deepEqual(val.map((r) => [r.step, r.images, r.centroids]), [
        [3, 64, "trained"],
        [6, 64, "trained"],
      ]);
      const bestStep = val[1]!.accNearest > val[0]!.accNearest ? 6 : 3;
      assert.deepEqual(test.map((r) => [r.step, r.images]), [[bestStep, 128]]);
      for (const r of records) {
        for (const v of [r.accNearest, r.accTransport, r.nmiNearest]) assert.ok(v >= 0 && v <= 1);
        assert.ok(r.ariNearest >= -1 && r.ariNearest <= 1);
      }
      const csv = (await Deno.readTextFile(`${out}/metrics.csv`)).trim().split("\n");
      assert.equal(csv.length, 4);
      const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
      assert.equal(summary.steps, 6);
      assert.equal(summary.selectedStep, bestStep);
      assert.deepEqual(summary.validation, val.find((r) => r.step === bestStep));
      assert.deepEqual(summary.test, run.final);
      assert.equal(run.final.split, "test");
      assert.ok(lines.some((l) => l.includes("centroids initialised")));
    });

    await t.step(
      "soft-kmeans trains on its own loss: below OT's on the same unbalanced batch",
      async () => {
        // Same seed, same warm-up, same centroid initialisation: at the first clustering step
        // (step 3) both objectives see the same embeddings and centroids. OT_ε(a, r, C) ≥ SKM_ε,
        // equal only when the soft plan's column sums are r (lib/ot/soft_kmeans.ts): the batch of
        // an untrained network is not balanced, so the soft loss lies strictly below.
        const soft = `${out}/soft`;
        const r = await runOtKMeans(smokeConfig(soft, ["--objective", "soft-kmeans"]), () => {});
        await assertSummary(soft, "soft-kmeans");
        await assertSummary(out, "ot");
        assert.equal(r.final.split, "test");
        const ot = (await readJsonl(`${out}/train.jsonl`)) as Record<string, number>[];
        const sk = (await readJsonl(`${soft}/train.jsonl`)) as Record<string, number>[];
        // The warm-up steps are the same reconstruction steps in both runs.
        assert.deepEqual(
          sk.slice(0, 2).map((x) => x["totalLoss"]),
          ot.slice(0, 2).map((x) => x["totalLoss"]),
        );
        const [o3, s3] = [ot.find((x) => x["step"] === 3)!, sk.find((x) => x["step"] === 3)!];
        assert.ok(!("otLoss" in s3) && Number.isFinite(s3["softKMeansLoss"]));
        assert.ok(
          o3["otLoss"]! - s3["softKMeansLoss"]! > 1e-3,
          `OT ${o3["otLoss"]} vs soft k-means ${s3["softKMeansLoss"]}`,
        );
        const svg = await Deno.readTextFile(`${soft}/loss.svg`);
        assert.ok(assertWellFormedSvg(svg).includes("path"));
        assert.ok(svg.includes("Training soft k-means loss"));
      },
    );

    await t.step("ae-kmeans: reconstruction only, then k-means on the embeddings", async () => {
      const ae = `${out}/ae`;
      const lines: string[] = [];
      const r = await runOtKMeans(
        smokeConfig(ae, ["--objective", "ae-kmeans"]),
        (l) => lines.push(l),
      );
      await assertSummary(ae, "ae-kmeans");
      // The centroids are never initialised in the model: every evaluation fits them.
      assert.ok(!lines.some((l) => l.includes("centroids initialised")));
      assert.deepEqual(r.records.map((x) => x.centroids), ["fitted", "fitted", "fitted"]);
      // No clustering term: the training loss is the reconstruction alone.
      const train = (await readJsonl(`${ae}/train.jsonl`)) as Record<string, number>[];
      assert.equal(train.length, 6);
      assert.ok(train.every((x) => Number.isNaN(x["otLoss"] ?? NaN) && x["totalLoss"]! > 0));
      assert.deepEqual(
        parseFlags(otkmeansCommand, ["--objective", "ae-kmeans", "--recon-weight", "0"]),
        E.left(
          "--objective ae-kmeans trains the autoencoder alone: --recon-weight 0 leaves nothing " +
            "to train",
        ),
      );
    });

    await t.step("the finished run's directory is never reused or silently resumed", async () => {
      // Without --resume: refused (it used to replace metrics and summary, keep the checkpoint).
      await assert.rejects(
        () => runOtKMeans(smokeConfig(out, ["--steps", "3"]), () => {}),
        (e: unknown) =>
          e instanceof RunSetupError && /already holds a run.*--resume/.test(e.message),
      );
      // --resume under other settings: refused with a short diff.
      await assert.rejects(
        () => runOtKMeans(smokeConfig(out, ["--resume", "--learning-rate", "0.5"]), () => {}),
        (e: unknown) =>
          e instanceof RunSetupError && /learning-rate: 0\.001 → 0\.5\)/.test(e.message) &&
          e.message.length < 200,
      );
      await assert.rejects(
        () => runOtKMeans(smokeConfig(out, ["--resume", "--steps", "9"]), () => {}),
        /settings differ from the saved run \(steps: 6 → 9\)/,
      );
      // --resume of the finished run: says so, writes nothing.
      const before = await Deno.readTextFile(`${out}/summary.json`);
      await assert.rejects(
        () => runOtKMeans(smokeConfig(out, ["--resume"]), () => {}),
        (e: unknown) =>
          e instanceof AlreadyFinished && /already finished at step 6/.test(e.message),
      );
      assert.equal(await Deno.readTextFile(`${out}/summary.json`), before);
      // --resume of a directory that does not exist is an error, not a fresh run.
      await assert.rejects(
        () => runOtKMeans(smokeConfig(`${out}/nope`, ["--resume"]), () => {}),
        /Cannot --resume .*nope: the directory does not exist/,
      );
    });
    await t.step("--resume continues a killed run from its last checkpoint", async () => {
      const ckpts = [...Deno.readDirSync(`${out}/checkpoints`)].map((e) => e.name).sort();
      assert.deepEqual(ckpts, ["step-0000000003", "step-0000000006"]);
      // What a kill after step 3's checkpoint leaves: no step-6 checkpoint, run not finished.
      await Deno.remove(`${out}/checkpoints/step-0000000006`, { recursive: true });
      const rec = JSON.parse(await Deno.readTextFile(`${out}/run.json`));
      await Deno.writeTextFile(`${out}/run.json`, JSON.stringify({ ...rec, finished: null }));
      const lines: string[] = [];
      const more = await runOtKMeans(smokeConfig(out, ["--resume"]), (l) => lines.push(l));
      assert.ok(lines.some((l) => /continuing .* from step 3 \(.*step-0000000003\)/.test(l)));
      assert.deepEqual(more.records.filter((r) => r.split === "val").map((r) => r.step), [3, 6]);
      assert.equal(more.records.filter((r) => r.split === "test").length, 1);
      assert.deepEqual(more.final, run.final, "wasm/cpu are deterministic: the same report");
    });
    await t.step(
      "without validation, intermediate evaluations on all test images: the last step is reported, once",
      async () => {
        const r = await runOtKMeans(
          smokeConfig(`${out}/noval`, ["--val-size", "0", "--eval-size", "128"]),
          () => {},
        );
        // Evaluated at steps 3 and 6 on all 128 test images; the step-6 record is the report,
        // not evaluated a second time (it once was: the first full-size record was taken).
        assert.deepEqual(r.records.map((x) => [x.step, x.split, x.images]), [
          [3, "test", 128],
          [6, "test", 128],
        ]);
        assert.equal(r.final.step, 6);
      },
    );
    await t.step(
      "during the warm-up, evaluations score centroids fitted to the current embeddings",
      async () => {
        const warm = `${out}/warm`;
        const cfg = smokeConfig(warm, ["--warmup-steps", "5", "--steps", "4", "--eval-every", "2"]);
        const r = await runOtKMeans(cfg, () => {});
        assert.deepEqual(
          r.records.filter((x) => x.split === "val").map((x) => [x.step, x.centroids]),
          [[2, "fitted"], [4, "fitted"]],
        );
        // Fitted by OT k-means with uniform sizes on 64 images: no cluster can hold most points.
        assert.ok(r.final.largestClusterShare < 0.5, String(r.final.largestClusterShare));
      },
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("exp:otkmeans smoke: the figures and weights recorded before the shared training loop", async () => {
  await tf.setBackend("cpu");
  const out = await Deno.makeTempDir();
  try {
    await runOtKMeans(smokeConfig(out), () => {});
    const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
    const recorded = JSON.parse(await Deno.readTextFile(pinned("otkmeans_smoke_summary.json")));
    const volatile = ["seconds", "trainSeconds", "secondsPerStep", "backend"];
    // The objective entered the summary after the recording; the run is the OT one.
    assert.equal(summary.objective, "ot");
    assert.deepEqual(without(summary, [...volatile, "objective"]), recorded);
    const weights = JSON.parse(await Deno.readTextFile(pinned("final_weights_sha256.json")));
    assert.equal(await sha256(`${out}/checkpoints/step-0000000006/weights.bin`), weights.otkmeans);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("exp:otkmeans --preset dec-mlp: DEC's autoencoder, trained a few steps", async () => {
  await tf.setBackend("cpu");
  const cfg = configOf(["--preset", "dec-mlp"]);
  const net = buildOtKMeansNet(cfg);
  // Encoder 784–500–500–2000–10 and the mirrored decoder 10–2000–500–500–784, counted by hand
  // (weights + biases), plus the k × d centroids; the normalisation has no weights.
  const encoder = 784 * 500 + 500 + 500 * 500 + 500 + 500 * 2000 + 2000 + 2000 * 10 + 10;
  const decoder = 10 * 2000 + 2000 + 2000 * 500 + 500 + 500 * 500 + 500 + 500 * 784 + 784;
  assert.deepEqual([encoder, decoder], [1665010, 1665784]);
  assert.equal(net.model.countParams(), encoder + decoder + 10 * 10);
  const decoderWidths = net.model.layers.filter((l) => l.name.startsWith("decoder"))
    .map((l) => l.outputShape);
  assert.deepEqual(decoderWidths, [[null, 2000], [null, 500], [null, 500], [null, 784]]);
  net.model.dispose();
  const out = await Deno.makeTempDir({ prefix: "otkmeans_dec_" });
  try {
    // The preset's network at smoke sizes: cpu, 4 steps of batch 32 on 256 images.
    const small = [
      ["--backend", "cpu", "--steps", "4", "--batch-size", "32", "--warmup-steps", "2"],
      ["--init-sample", "64", "--init-restarts", "1", "--train-size", "256", "--val-size", "128"],
      ["--eval-every", "2", "--eval-size", "64", "--test-size", "128", "--checkpoint-every", "4"],
    ].flat();
    await runOtKMeans(
      configOf(["--preset", "dec-mlp", "--out", out, "--quiet", ...small]),
      () => {},
    );
    await assertSummary(out, "ot");
    const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
    assert.equal(summary.preset, "dec-mlp");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
