import assert from "node:assert/strict";
import { E } from "../../lib/deps/fp.ts";
import { parseFlags } from "../cli/flags.ts";
import {
  clusteringError,
  denoiseCommand,
  denoiseConfig,
  type DenoiseRecord,
  runDenoise,
} from "./main.ts";

const mean = (a: readonly number[]) => a.reduce((s, v) => s + v, 0) / a.length;

Deno.test("exp:denoise smoke run", async (t) => {
  const out = await Deno.makeTempDir({ prefix: "denoise_smoke_" });
  try {
    // Seed 1 starts with a non-zero validation error (seed 0's random θ happens to separate
    // the blobs already), so the run has something to learn. Few samples keep it fast.
    const config = denoiseConfig({
      backend: "cpu",
      seed: 1,
      batches: 30,
      samples: 20,
      quiet: true,
      out,
    });
    const lines: string[] = [];
    const { runs, summary } = await runDenoise(config, (l) => lines.push(l));

    await t.step("writes every output file", async () => {
      for (const f of ["config.json", "curve.csv", "curve.json", "summary.json"]) {
        assert.ok((await Deno.stat(`${out}/${f}`)).size > 0, f);
      }
      for (const f of ["curve.svg", "loss.svg", "points.svg"]) {
        assert.ok((await Deno.readTextFile(`${out}/${f}`)).includes("</svg>"), f);
      }
      const curve = JSON.parse(await Deno.readTextFile(`${out}/curve.json`)) as DenoiseRecord[];
      assert.equal(curve.length, 31);
      assert.deepEqual(curve.map((r) => r.batch), [...Array(31).keys()]);
      const csv = (await Deno.readTextFile(`${out}/curve.csv`)).trim().split("\n");
      assert.equal(csv[0], "seed,batch,loss,valError,signalNorm,noiseNorm,stepMs");
      assert.equal(csv.length, 32);
      const written = JSON.parse(await Deno.readTextFile(`${out}/config.json`));
      assert.equal(written.batches, 30);
      assert.ok(lines.some((l) => l.includes("[backend] using cpu")));
    });

    await t.step("training lowers the loss and the validation error", () => {
      const records = runs[0].records;
      assert.ok(records[0].valError > 0, "vacuous: the initial map already clusters correctly");
      const losses = records.flatMap((r) => r.loss === null ? [] : [r.loss]);
      assert.ok(mean(losses.slice(-5)) < mean(losses.slice(0, 5)));
      assert.ok(records[records.length - 1].valError < records[0].valError);
      assert.equal(summary.runs[0].finalValError, records[records.length - 1].valError);
    });
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("clusteringError is 0 for the map that keeps only the signal", () => {
  // Two tight groups in the signal columns, a large third (noise) column that would merge them.
  const x = [[0, 0, 0], [0.1, 0, 9], [5, 5, 0], [5.1, 5, 9]];
  const target = [0, 0, 1, 1];
  assert.equal(clusteringError(x, [[1, 0], [0, 1], [0, 0]], target, 2), 0);
  assert.ok(clusteringError(x, [[1, 0], [0, 1], [1, 0]], target, 2) > 0);
});

Deno.test("exp:denoise flags: defaults are the paper's, errors name the flag", () => {
  const r = parseFlags(denoiseCommand, []);
  assert.ok(E.isRight(r) && r.right._tag === "Config");
  const c = denoiseConfig(r.right.config);
  assert.deepEqual(
    [c.batchSize, c.learningRate, c.epsilon, c.samples, c.k, c.noiseColumns, c.std],
    [32, 0.01, 0.1, 1000, 4, 2, 0.2],
  );
  const bad = parseFlags(denoiseCommand, ["--samples", "many"]);
  assert.ok(E.isLeft(bad) && bad.left.includes("--samples"));
  const help = parseFlags(denoiseCommand, ["--help"]);
  assert.ok(E.isRight(help) && help.right._tag === "Help");
  assert.ok(help.right.text.includes("--learning-rate"));
});
