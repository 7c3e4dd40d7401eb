import assert from "node:assert/strict";
import { E } from "../../lib/deps/fp.ts";
import { otKMeansLoss } from "../../lib/ot_kmeans.ts";
import { parseFlags } from "../cli.ts";
import { tf } from "../deps/tf.ts";
import { readJsonl } from "../io.ts";
import { assertWellFormedSvg } from "../svg_assert.ts";
import {
  epsilonAt,
  otkmeansCommand,
  type OtKMeansConfig,
  type OtKMeansRecord,
  runOtKMeans,
} from "./main.ts";

function smokeConfig(out: string, extra: string[] = []): OtKMeansConfig {
  const r = parseFlags(otkmeansCommand, ["--preset", "smoke", "--out", out, "--quiet", ...extra]);
  assert.ok(E.isRight(r) && r.right._tag === "Config");
  return r.right.config as OtKMeansConfig;
}

Deno.test("exp:otkmeans", async (t) => {
  await tf.setBackend("cpu");

  await t.step(
    "surrogate ⟨G_z, z⟩ + ⟨G_c, c⟩ has the OT loss's gradient (finite differences)",
    () => {
      // z = X W with a 3 × 2 map W; the tfjs gradient of the surrogate w.r.t. W must match
      // central differences of the float64 CPU loss (h = 1e-5, float32 tape ⇒ tolerance 1e-3).
      const x = [[1, 0, 0.5], [0, 1, -0.5], [1, 1, 0], [-1, 0.5, 1], [0.3, -1, 0.2], [2, 0, -1]];
      const w0 = [[0.5, -0.2], [0.1, 0.7], [-0.4, 0.3]];
      const c = [[0.2, 0.1], [-0.5, 0.4]];
      const opts = { epsilon: 0.1, tol: 1e-12, maxIters: 100000 };
      const zOf = (w: number[][]) =>
        x.map((r) => [0, 1].map((j) => r.reduce((s, v, t) => s + v * w[t]![j]!, 0)));
      const loss = (w: number[][]) => otKMeansLoss(zOf(w), c, opts).loss;
      const at = otKMeansLoss(zOf(w0), c, opts);
      const W = tf.variable(tf.tensor2d(w0));
      const X = tf.tensor2d(x);
      const gz = tf.tensor2d(Float32Array.from(at.gradPoints.data), [6, 2]);
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(gz, tf.matMul(X, W))) as tf.Scalar, [
        W,
      ]);
      const g = grads[W.name]!.arraySync() as number[][];
      const h = 1e-5;
      for (let t = 0; t < 3; t++) {
        for (let j = 0; j < 2; j++) {
          const plus = w0.map((r) => [...r]), minus = w0.map((r) => [...r]);
          plus[t]![j]! += h;
          minus[t]![j]! -= h;
          const fd = (loss(plus) - loss(minus)) / (2 * h);
          assert.ok(Math.abs(fd - g[t]![j]!) < 1e-3, `W[${t}][${j}]: fd ${fd} vs tape ${g[t]![j]}`);
        }
      }
      tf.dispose([W, X, gz, ...Object.values(grads)]);
    },
  );

  await t.step("ε schedule: constant, or geometric from the initialisation to --epsilon", () => {
    const cfg = { epsilon: 0.01, epsilonStart: 1, warmupSteps: 10, steps: 21 };
    assert.equal(epsilonAt({ ...cfg, epsilonStart: 0 }, 15), 0.01);
    assert.equal(epsilonAt(cfg, 0), 1);
    assert.equal(epsilonAt(cfg, 10), 1);
    assert.ok(Math.abs(epsilonAt(cfg, 15) - 0.1) < 1e-12);
    assert.ok(Math.abs(epsilonAt(cfg, 20) - 0.01) < 1e-12);
  });

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
      assert.deepEqual(records.map((r) => r.step), [3, 6]);
      assert.equal(records.at(-1)!.images, 128);
      for (const r of records) {
        for (const v of [r.accNearest, r.accTransport, r.nmiNearest]) assert.ok(v >= 0 && v <= 1);
        assert.ok(r.ariNearest >= -1 && r.ariNearest <= 1);
      }
      const csv = (await Deno.readTextFile(`${out}/metrics.csv`)).trim().split("\n");
      assert.equal(csv.length, 3);
      const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
      assert.equal(summary.steps, 6);
      assert.deepEqual(summary.test, run.final);
      assert.ok(lines.some((l) => l.includes("centroids initialised")));
    });

    await t.step("checkpoints and --resume continue to the new step count", async () => {
      const ckpts = [...Deno.readDirSync(`${out}/checkpoints`)].map((e) => e.name).sort();
      assert.deepEqual(ckpts, ["step-0000000003", "step-0000000006"]);
      const more = await runOtKMeans(smokeConfig(out, ["--resume", "--steps", "9"]), () => {});
      assert.deepEqual(more.records.map((r) => r.step), [3, 6, 9]);
    });
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
