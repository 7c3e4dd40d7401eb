/**
 * `deno task cluster` at any size, `--save-model`, and `--model DIR --input new.csv`, run as a
 * user runs them (a subprocess with the task's permissions): outputs, and one-line errors with
 * exit status 1 (bad model directory or CSV) or 2 (flags).
 */
import assert from "node:assert/strict";
import { assertOneLineError, ROOT, scratch, task } from "./_task.ts";

const cluster = (args: readonly string[]) => task("cluster", args);

/** Reproducible uniform numbers (LCG). */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const readCsv = async (path: string) => {
  const [head, ...lines] = (await Deno.readTextFile(`${ROOT}/${path}`)).trim().split("\n");
  return { header: head.split(","), rows: lines.map((l) => l.split(",")) };
};

Deno.test("deno task cluster: more than 20 000 points, then save a model and assign new rows", async () => {
  const dir = scratch();
  try {
    await Deno.mkdir(`${ROOT}/${dir}`, { recursive: true });
    // 30 000 points in three groups on the plane (the dense path refused more than 20 000).
    const u = uniform(1), centres = [[0, 0], [50, 0], [0, 50]];
    const lines = ["x,y"];
    for (let i = 0; i < 30_000; i++) {
      const [cx, cy] = centres[i % 3];
      lines.push(`${cx + 10 * u()},${cy + 10 * u()}`);
    }
    await Deno.writeTextFile(`${ROOT}/${dir}/big.csv`, lines.join("\n") + "\n");
    const big = await cluster(
      ["--input", `${dir}/big.csv`, "--k", "3", "--out", `${dir}/big.labels.csv`]
        .concat(["--save-model", `${dir}/model`]),
    );
    assert.equal(big.code, 0, big.stderr);
    assert.match(big.stdout, /clustered 30000 points \(x, y, delaunay\) into 3 clusters/);
    const { rows } = await readCsv(`${dir}/big.labels.csv`);
    assert.equal(rows.length, 30_000);
    assert.deepEqual(rows.slice(0, 3).map((r) => r[2]), ["0", "1", "2"]);
    assert.ok(rows.every((r, i) => r[2] === String(i % 3)));

    // New rows: an id column copied through, features by name in another order.
    await Deno.writeTextFile(
      `${ROOT}/${dir}/new.csv`,
      "id,y,x\na,5,5\nb,55,5\nc,3,54\n",
    );
    const assigned = await cluster(
      ["--model", `${dir}/model`, "--input", `${dir}/new.csv`, "--out", `${dir}/new.out.csv`],
    );
    assert.equal(assigned.code, 0, assigned.stderr);
    assert.match(
      assigned.stdout,
      /assigned 3 points to the 3 clusters of .*model \(0 outliers; probabilities from 100 samples at ε = /,
    );
    const out = await readCsv(`${dir}/new.out.csv`);
    assert.deepEqual(out.header, ["id", "y", "x", "cluster", "p_0", "p_1", "p_2", "p_outlier"]);
    assert.deepEqual(out.rows.map((r) => r[3]), ["0", "2", "1"]);
    // Points deep inside their groups: all the probability on the assigned cluster.
    assert.deepEqual(out.rows.map((r) => r.slice(4).map(Number)), [
      [1, 0, 0, 0],
      [0, 0, 1, 0],
      [0, 1, 0, 0],
    ]);

    // Nothing is replaced without --overwrite.
    assertOneLineError(
      await cluster([
        "--model",
        `${dir}/model`,
        "--input",
        `${dir}/new.csv`,
        "--out",
        `${dir}/new.out.csv`,
      ]),
      1,
      /new\.out\.csv exists: choose another output, or pass --overwrite/,
    );
    assertOneLineError(
      await cluster(
        [
          "--input",
          `${dir}/new.csv`,
          "--columns",
          "x,y",
          "--k",
          "1",
          "--save-model",
          `${dir}/model`,
        ]
          .concat(["--out", `${dir}/other.csv`]),
      ),
      1,
      /model exists: choose another output, or pass --overwrite/,
    );
    // A CSV without the model's columns.
    await Deno.writeTextFile(`${ROOT}/${dir}/other.csv`, "a,b\n1,2\n");
    assertOneLineError(
      await cluster([
        "--model",
        `${dir}/model`,
        "--input",
        `${dir}/other.csv`,
        "--out",
        `${dir}/o.csv`,
      ]),
      1,
      /other\.csv lacks the columns "x", "y" of the model in .*model \(its columns: a, b; the model's: x, y\)/,
    );
    // Missing, truncated and other-version model directories.
    const run = () =>
      cluster(["--model", `${dir}/model`, "--input", `${dir}/new.csv`, "--out", `${dir}/n2.csv`]);
    assertOneLineError(
      await cluster(["--model", `${dir}/none`, "--input", `${dir}/new.csv`]),
      1,
      /none: no such model directory/,
    );
    const labels = await Deno.readFile(`${ROOT}/${dir}/model/labels.npy`);
    await Deno.writeFile(`${ROOT}/${dir}/model/labels.npy`, labels.subarray(0, 1000));
    assertOneLineError(
      await run(),
      1,
      /labels\.npy has 1000 bytes, model\.json says \d+: truncated/,
    );
    await Deno.writeFile(`${ROOT}/${dir}/model/labels.npy`, labels);
    const header = JSON.parse(await Deno.readTextFile(`${ROOT}/${dir}/model/model.json`));
    await Deno.writeTextFile(
      `${ROOT}/${dir}/model/model.json`,
      JSON.stringify({ ...header, version: 7 }),
    );
    assertOneLineError(await run(), 1, /Invalid model version = 7: this code reads version 1/);
    await Deno.remove(`${ROOT}/${dir}/model/model.json`);
    assertOneLineError(await run(), 1, /holds no model\.json: not a fitted model directory/);
    // Flags a saved model fixes, and a minimum size without k: usage errors.
    assertOneLineError(
      await cluster(["--model", `${dir}/model`, "--input", `${dir}/new.csv`, "--k", "2"]),
      2,
      /--k cannot be combined with --model/,
    );
    assertOneLineError(
      await cluster(["--input", `${dir}/new.csv`, "--min-size", "3"]),
      2,
      /--min-size 3 needs --k/,
    );
  } finally {
    await Deno.remove(`${ROOT}/${dir}`, { recursive: true }).catch(() => {});
  }
});
