import assert from "node:assert/strict";
import { fitClusters, type FittedClusters } from "../lib/graph/fitted_clusters.ts";
import { assignPoints } from "../lib/graph/assign_points.ts";
import { loadFittedClusters, MODEL_FILE, saveFittedClusters } from "./fitted_model_io.ts";
import { DataFormatError } from "./data/idx.ts";

/** Reproducible uniform numbers (LCG). */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function points(n: number, d: number, seed: number): number[][] {
  const u = uniform(seed);
  return Array.from({ length: n }, (_, i) => Array.from({ length: d }, () => 10 * (i % 3) + u()));
}

/** Bit-identical: same fields, typed arrays equal entry by entry (Object.is: −0 ≠ 0). */
function assertBitIdentical(got: FittedClusters, want: FittedClusters): void {
  assert.deepStrictEqual(got, want);
  for (const key of ["points", "core", "mean", "sd", "graph"] as const) {
    const a = key === "points" ? got.points.data : key === "graph" ? got.graph?.weight : got[key];
    const b = key === "points"
      ? want.points.data
      : key === "graph"
      ? want.graph?.weight
      : want[key];
    if (a === undefined || b === undefined) continue;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    assert.deepStrictEqual(x, y, key);
  }
}

Deno.test("saveFittedClusters / loadFittedClusters: bit-identical round trips", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spanclust_model_" });
  try {
    const pts = points(300, 3, 1), fresh = points(40, 3, 2);
    const models: [string, FittedClusters][] = [
      ["dense k", fitClusters(pts, { k: 3 })],
      ["k = 1 (λ = −∞)", fitClusters(pts, { k: 1 })],
      ["duplicates (λ = −0)", fitClusters([[0], [0], [5], [5]], { k: 3 })],
      ["threshold", fitClusters(pts, { threshold: -0.3, columns: ["a", "b", "c"] })],
      [
        "knn, reachability, standardised, cosine",
        fitClusters(points(2200, 4, 3), {
          k: 3,
          method: "knn",
          minSamples: 4,
          standardise: true,
          metric: "cosine",
        }),
      ],
      [
        "min-size, delaunay",
        fitClusters(points(500, 2, 4), { k: 2, minSize: 20, method: "delaunay" }),
      ],
    ];
    assert.ok(Object.is(models[2][1].lambda, -0));
    for (const [what, model] of models) {
      const path = `${dir}/${what.replaceAll(/\W+/g, "_")}`;
      await saveFittedClusters(path, model);
      const back = await loadFittedClusters(path);
      assertBitIdentical(back, model);
      const q = fresh.map((p) =>
        p.slice(0, model.d).concat(Array(model.d).fill(1)).slice(0, model.d)
      );
      assert.deepStrictEqual(assignPoints(back, q), assignPoints(model, q), what);
    }
    const entries = [];
    for await (const e of Deno.readDir(dir)) entries.push(e.name);
    assert.ok(entries.every((e) => !e.startsWith(".")), `no temporary directory left: ${entries}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("saveFittedClusters refuses an existing directory unless overwrite", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spanclust_model_" });
  try {
    const a = fitClusters(points(30, 2, 5), { k: 2 }), b = fitClusters(points(40, 2, 6), { k: 3 });
    await saveFittedClusters(`${dir}/m`, a);
    await assert.rejects(() => saveFittedClusters(`${dir}/m`, b), /exists: .* --overwrite/);
    assertBitIdentical(await loadFittedClusters(`${dir}/m`), a);
    await saveFittedClusters(`${dir}/m`, b, { overwrite: true });
    assertBitIdentical(await loadFittedClusters(`${dir}/m`), b);
    const left = [];
    for await (const e of Deno.readDir(dir)) left.push(e.name);
    assert.deepEqual(left, ["m"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadFittedClusters: missing, truncated, altered or other-version models are one-line errors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spanclust_model_" });
  const oneLine = async (what: string, re: RegExp) => {
    const e = await loadFittedClusters(`${dir}/m`).then(() => null, (e: Error) => e);
    assert.ok(e instanceof DataFormatError, `${what}: ${e}`);
    assert.match(e.message, re, what);
    assert.ok(!e.message.includes("\n"), what);
  };
  const fresh = async () => {
    await Deno.remove(`${dir}/m`, { recursive: true }).catch(() => {});
    await saveFittedClusters(`${dir}/m`, fitClusters(points(50, 2, 7), { k: 2, minSamples: 3 }));
  };
  try {
    await oneLine("no directory", /m: no such model directory/);
    await fresh();
    await Deno.remove(`${dir}/m/core.npy`);
    await oneLine("missing array", /core\.npy is missing .*incomplete/);
    await fresh();
    const labels = await Deno.readFile(`${dir}/m/labels.npy`);
    await Deno.writeFile(`${dir}/m/labels.npy`, labels.subarray(0, labels.length - 4));
    await oneLine("truncated", /labels\.npy has \d+ bytes, model\.json says \d+: truncated/);
    await fresh();
    const pts = await Deno.readFile(`${dir}/m/points.npy`);
    pts[pts.length - 1] ^= 1;
    await Deno.writeFile(`${dir}/m/points.npy`, pts);
    await oneLine("altered", /points\.npy does not match its SHA-256/);
    await fresh();
    const header = JSON.parse(await Deno.readTextFile(`${dir}/m/${MODEL_FILE}`));
    await Deno.writeTextFile(`${dir}/m/${MODEL_FILE}`, JSON.stringify({ ...header, version: 2 }));
    await oneLine("version", /Invalid model version = 2: this code reads version 1/);
    await Deno.writeTextFile(`${dir}/m/${MODEL_FILE}`, JSON.stringify({ ...header, lambda: 3 }));
    await oneLine("field", /Invalid model lambda = 3/);
    await Deno.writeTextFile(`${dir}/m/${MODEL_FILE}`, "{ not json");
    await oneLine("json", /model\.json is not JSON/);
    await Deno.remove(`${dir}/m/${MODEL_FILE}`);
    await oneLine("no header", /holds no model\.json: not a fitted model directory/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
