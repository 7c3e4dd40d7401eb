/**
 * The figures of short runs, pinned: a tiny `exp:mnist` run and the `exp:otkmeans` smoke preset
 * on the cpu backend (deterministic) must give, to the last bit, the metrics, summaries and final
 * weights recorded in testdata/ by the training loops as they were before this loop took them
 * over. Timings are left out; everything else (every evaluation record, the test figures, the
 * SHA-256 of the last checkpoint's weights) is compared exactly.
 */
import assert from "node:assert/strict";
import { E } from "../../lib/deps/fp.ts";
import { readJsonl } from "../io.ts";
import { parseFlags } from "../cli/flags.ts";
import { main as mnistMain } from "../mnist/main.ts";
import { otkmeansCommand, type OtKMeansConfig, runOtKMeans } from "../otkmeans/main.ts";

const testdata = (name: string) => new URL(`./testdata/${name}`, import.meta.url).pathname;

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A copy of `value` without the named keys, at any depth. */
function without(value: unknown, keys: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => without(v, keys));
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).filter(([k]) => !keys.includes(k)).map(([k, v]) => [k, without(v, keys)]),
  );
}

const TIMINGS = [
  "timing",
  "seconds",
  "embedSeconds",
  "knnProduct",
  "trainSeconds",
  "secondsPerStep",
];
const weights = JSON.parse(await Deno.readTextFile(testdata("final_weights_sha256.json")));

Deno.test("a tiny exp:mnist run gives the recorded figures and weights, bit for bit", async () => {
  const out = await Deno.makeTempDir();
  try {
    // prettier-ignore
    const run = await mnistMain([
      "--backend",
      "cpu",
      "--model",
      "mlp",
      "--embedding-dim",
      "8",
      "--train-limit",
      "640",
      "--batch-size",
      "32",
      "--samples",
      "8",
      "--steps",
      "6",
      "--eval-every",
      "3",
      "--checkpoint-every",
      "3",
      "--eval-batches",
      "2",
      "--test-batches",
      "2",
      "--quiet",
      "--seed",
      "7",
      "--dataset-images",
      "300",
      "--lr-schedule",
      "cosine",
      "--out",
      out,
    ]);
    run.model.dispose();
    assert.deepEqual(
      await readJsonl(`${out}/metrics.jsonl`),
      await readJsonl(testdata("mnist_tiny_metrics.jsonl")),
    );
    const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
    const recorded = JSON.parse(await Deno.readTextFile(testdata("mnist_tiny_summary.json")));
    assert.deepEqual(
      without(summary, [...TIMINGS, "embeddingsFile"]),
      without(recorded, ["embeddingsFile"]),
    );
    assert.equal(await sha256(`${out}/checkpoints/step-0000000006/weights.bin`), weights.mnist);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("the exp:otkmeans smoke preset gives the recorded figures and weights, bit for bit", async () => {
  const out = await Deno.makeTempDir();
  try {
    const r = parseFlags(otkmeansCommand, ["--preset", "smoke", "--out", out, "--quiet"]);
    assert.ok(E.isRight(r) && r.right._tag === "Config");
    await runOtKMeans(r.right.config as OtKMeansConfig, () => {});
    const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
    const recorded = JSON.parse(await Deno.readTextFile(testdata("otkmeans_smoke_summary.json")));
    assert.deepEqual(without(summary, [...TIMINGS, "backend"]), recorded);
    assert.equal(await sha256(`${out}/checkpoints/step-0000000006/weights.bin`), weights.otkmeans);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
