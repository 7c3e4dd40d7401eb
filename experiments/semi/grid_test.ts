import assert from "node:assert/strict";
import { assertWellFormedSvg } from "../svg_assert.ts";
import type { GridCell } from "./aggregate.ts";
import {
  cellConfig,
  type CellOutcome,
  cellOutcomeFromSemiResult,
  type CellRunner,
  gridCells,
  gridConfigFromSemiConfig,
  gridOptionsOf,
  main,
  readEmbeddingsFile,
  runGrid,
  scoreMethod,
  semiGridCommand,
} from "./grid.ts";
import { Interrupted, parseFlags } from "../cli/flags.ts";
import { semiCommand } from "./flags.ts";
import type { SemiConfig } from "./cell.ts";
import { E } from "../../lib/deps/fp.ts";

// Synthetic embeddings: class c sits at `separation` along axis c of R^10, plus uniform noise
// from a Park–Miller stream; larger separation ⇒ a more accurate probe.
function embeddings(n: number, separation: number, seed: number) {
  let s = seed;
  const u = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const d = 10;
  const data = new Float32Array(n * d);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      data[i * d + j] = (labels[i] === j ? separation : 0) + u() - 0.5;
    }
  }
  return { features: { rows: n, cols: d, data }, labels };
}

function fakeOutcome(cell: GridCell): CellOutcome {
  const method = (precision: number, separation: number) => ({
    batchPrecision: precision,
    ari: precision - 0.1,
    holdout: embeddings(100, separation, 1 + cell.seed),
    test: embeddings(100, separation, 1000 + cell.seed),
  });
  const p = 0.8 + 0.1 * Math.log10(cell.nLabelled) / 4 - 0.01 * cell.withheld + 0.001 * cell.seed;
  return {
    methods: { ours: method(p, 2), ce: method(p - 0.1, 0.5) },
    details: { fake: true },
  };
}

/** A fake runner recording the calls it got. */
function countingRunner(failOn?: (cell: GridCell) => boolean) {
  const calls: { cell: GridCell; runDir: string; resume: boolean }[] = [];
  const run: CellRunner = (cell, context) => {
    calls.push({ cell, runDir: context.runDir, resume: context.resume });
    if (failOn?.(cell)) return Promise.reject(new Error(`simulated failure of ${cell.nLabelled}`));
    return Promise.resolve(fakeOutcome(cell));
  };
  return { calls, run };
}

const quiet = () => {};

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("semi grid runner", async (t) => {
  const out = await Deno.makeTempDir();
  try {
    const options = { out, nLabelled: [100, 1000], withheld: [0, 3], seeds: [0, 1], log: quiet };

    await t.step("a first run trains every cell once and writes its file", async () => {
      const fake = countingRunner();
      const report = await runGrid(options, fake.run);
      assert.equal(fake.calls.length, 8);
      assert.equal(report.ran.length, 8);
      assert.equal(report.skipped.length, 0);
      assert.equal(report.failed.length, 0);
      // Seeds outermost: one full figure's worth of cells before the second seed.
      assert.deepEqual(fake.calls.slice(0, 4).map((c) => c.cell.seed), [0, 0, 0, 0]);
      assert.equal(fake.calls[0]!.runDir, `${out}/runs/100-0-0`);
      assert.ok(fake.calls.every((c) => c.resume));
      const cell = JSON.parse(await Deno.readTextFile(`${out}/cells/1000-3-1.json`));
      assert.equal(cell.nLabelled, 1000);
      assert.equal(cell.withheld, 3);
      assert.equal(cell.seed, 1);
      assert.deepEqual(cell.details, { fake: true });
      // The probe separates the well-separated "ours" embeddings better than the CE ones.
      assert.ok(cell.methods.ours.probeAccuracy > cell.methods.ce.probeAccuracy);
      assert.ok(cell.methods.ours.probeConverged);
      assert.ok(
        Math.abs(cell.methods.ours.clusteringError + cell.methods.ours.batchPrecision - 1) < 1e-12,
      );
      assert.equal(cell.methods.ours.ari, cell.methods.ours.batchPrecision - 0.1);
    });

    await t.step("grid.csv, grid.json and figure4.svg describe the finished cells", async () => {
      const csv = (await Deno.readTextFile(`${out}/grid.csv`)).trimEnd().split("\n");
      assert.equal(
        csv[0],
        "withheld,n_labelled,method,seeds,clustering_error_mean,clustering_error_std," +
          "probe_accuracy_mean,probe_accuracy_std",
      );
      assert.equal(csv.length, 1 + 2 * 2 * 2);
      assert.match(csv[1]!, /^0,100,ours,0;1,/);
      const json = JSON.parse(await Deno.readTextFile(`${out}/grid.json`));
      assert.equal(json.finished.length, 8);
      assert.deepEqual(json.missing, []);
      assertWellFormedSvg(await Deno.readTextFile(`${out}/figure4.svg`));
    });

    await t.step("a rerun skips every finished cell", async () => {
      const fake = countingRunner();
      const report = await runGrid(options, fake.run);
      assert.equal(fake.calls.length, 0);
      assert.equal(report.skipped.length, 8);
      assert.equal(report.aggregate.length, 8);
    });

    await t.step("a larger grid trains only the new cells", async () => {
      const fake = countingRunner();
      await runGrid({ ...options, seeds: [0, 1, 2] }, fake.run);
      assert.deepEqual(fake.calls.map((c) => c.cell.seed), [2, 2, 2, 2]);
    });
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("semi grid: failed and killed cells", async (t) => {
  const out = await Deno.makeTempDir();
  try {
    const options = { out, nLabelled: [100, 250], withheld: [6], seeds: [0], log: quiet };

    await t.step("a cell that throws leaves no file, is reported, the others finish", async () => {
      const fake = countingRunner((c) => c.nLabelled === 100);
      const report = await runGrid(options, fake.run);
      assert.equal(fake.calls.length, 2);
      assert.equal(report.failed.length, 1);
      assert.equal(report.failed[0]!.nLabelled, 100);
      assert.match(report.failed[0]!.error, /simulated failure of 100/);
      assert.equal(await exists(`${out}/cells/100-6-0.json`), false);
      assert.equal(await exists(`${out}/cells/250-6-0.json`), true);
      const json = JSON.parse(await Deno.readTextFile(`${out}/grid.json`));
      assert.deepEqual(json.missing, [{ nLabelled: 100, withheld: 6, seed: 0 }]);
      assert.equal(json.failed.length, 1);
      // No temporary files are left behind by the atomic writes.
      const names = [...Deno.readDirSync(`${out}/cells`)].map((e) => e.name);
      assert.deepEqual(names, ["250-6-0.json"]);
    });

    await t.step("a bad outcome (missing method) is a failure too, with no file", async () => {
      const report = await runGrid(
        { ...options, nLabelled: [100] },
        () =>
          Promise.resolve(
            {
              methods: { ours: fakeOutcome({ nLabelled: 100, withheld: 6, seed: 0 }).methods.ours },
            } as never,
          ),
      );
      assert.match(report.failed[0]!.error, /no result for method "ce"/);
      assert.equal(await exists(`${out}/cells/100-6-0.json`), false);
    });

    await t.step("a killed cell is retried in the same run directory with resume", async () => {
      // The first attempt "dies" after writing a checkpoint into its run directory; the
      // retry must see that directory again (so the engine can continue from it).
      let attempt = 0;
      const seen: boolean[] = [];
      const runner: CellRunner = async (cell, context) => {
        attempt++;
        seen.push(await exists(`${context.runDir}/checkpoint`));
        if (attempt === 1) {
          await Deno.mkdir(context.runDir, { recursive: true });
          await Deno.writeTextFile(`${context.runDir}/checkpoint`, "step 500");
          throw new Error("killed");
        }
        return fakeOutcome(cell);
      };
      const one = { ...options, nLabelled: [100] };
      assert.equal((await runGrid(one, runner)).failed.length, 1);
      const second = await runGrid(one, runner);
      assert.equal(second.failed.length, 0);
      assert.deepEqual(seen, [false, true]);
      assert.equal(await exists(`${out}/cells/100-6-0.json`), true);
    });

    await t.step("a corrupt cell file is a clear error naming it", async () => {
      await Deno.writeTextFile(`${out}/cells/250-6-0.json`, '{"version": 1, "nLabelled": 250');
      await assert.rejects(
        () => runGrid(options, countingRunner().run),
        /Corrupt cell result .*250-6-0\.json.*delete it to rerun/,
      );
      await Deno.writeTextFile(`${out}/cells/250-6-0.json`, '{"version": 1}');
      await assert.rejects(
        () => runGrid(options, countingRunner().run),
        /Invalid cell result .*250-6-0\.json/,
      );
    });
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("semi grid: gridCells validates and deduplicates", () => {
  assert.equal(gridCells([100, 100, 250], [0], [0]).length, 2);
  assert.throws(() => gridCells([], [0], [0]), /Invalid nLabelled: expected at least one/);
  assert.throws(() => gridCells([100], [10], [0]), /withheld\[0\] = 10/);
  assert.throws(() => gridCells([0], [0], [0]), /nLabelled\[0\] = 0/);
});

Deno.test("semi grid: flags: subsets, defaults, unknown flags", () => {
  const r = parseFlags(semiGridCommand, ["--nl", "100,500", "--kw", "0,3", "--seeds", "0,1"]);
  assert.ok(E.isRight(r) && r.right._tag === "Config");
  const c = r.right.config;
  assert.deepEqual([c.nl, c.kw, c.seeds, c.out], [
    [100, 500],
    [0, 3],
    [0, 1],
    "results/semi-grid",
  ]);
  assert.equal(c.probeC, 1);
  const bad = parseFlags(semiGridCommand, ["--n-labelled", "100"]);
  assert.ok(E.isLeft(bad) && /Unknown flag --n-labelled/.test(bad.left));
});

Deno.test("semi grid: main runs the chosen subset with a fake runner; --aggregate-only", async () => {
  const out = await Deno.makeTempDir();
  try {
    const fake = countingRunner();
    const argv = ["--nl", "100,500", "--kw", "0", "--seeds", "3", "--out", out];
    const report = await main(argv, fake.run);
    assert.equal(fake.calls.length, 2);
    assert.deepEqual(fake.calls.map((c) => c.cell), [
      { nLabelled: 100, withheld: 0, seed: 3 },
      { nLabelled: 500, withheld: 0, seed: 3 },
    ]);
    assert.equal(report!.aggregate.length, 4);
    await Deno.remove(`${out}/figure4.svg`);
    const again = await main([...argv, "--aggregate-only"], () => {
      throw new Error("must not train");
    });
    assert.equal(again!.aggregate.length, 4);
    assert.ok(await exists(`${out}/figure4.svg`));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("semi grid: cellConfig hands runSemiCell the cell, its run directory and resume", () => {
  const r = parseFlags(semiGridCommand, ["--steps", "7", "--preset", "quick"]);
  assert.ok(E.isRight(r) && r.right._tag === "Config");
  const c = cellConfig(r.right.config, { nLabelled: 250, withheld: 3, seed: 2 }, {
    runDir: "x/runs/250-3-2",
    resume: true,
  });
  assert.equal(c.nLabelled, 250);
  assert.equal(c.withheld, 3);
  assert.equal(c.seed, 2);
  assert.equal(c.out, "x/runs/250-3-2");
  assert.equal(c.resume, true);
  assert.equal(c.grid, false);
  assert.equal(c.steps, 7);
  assert.equal("probeC" in c, false);
});

Deno.test("semi grid: exp:semi --grid stands for the same grid configuration", () => {
  const r = parseFlags(semiCommand, [
    "--grid",
    "--grid-n-labelled",
    "100,250",
    "--grid-withheld",
    "3",
    "--grid-seeds",
    "2",
    "--seed",
    "5",
    "--steps",
    "9",
  ]);
  assert.ok(E.isRight(r) && r.right._tag === "Config");
  const c = gridConfigFromSemiConfig(r.right.config as SemiConfig);
  assert.deepEqual([c.nl, c.kw, c.seeds, c.out], [[100, 250], [3], [5, 6], "results/semi-grid"]);
  assert.equal(c.steps, 9);
  assert.equal(c.probeC, semiGridCommand.flags.probeC.default);
  assert.equal("nLabelled" in c || "grid" in c, false);
  // Every key is a flag of exp:semi:grid, so the grid runner sees a well-formed config.
  for (const key of Object.keys(c)) assert.ok(key in semiGridCommand.flags, key);
  const options = gridOptionsOf(c);
  assert.deepEqual([options.nLabelled, options.withheld, options.seeds], [[100, 250], [3], [
    5,
    6,
  ]]);
  assert.equal(options.probe!.maxIters, semiGridCommand.flags.probeMaxIters.default);
});

Deno.test("semi grid: a runSemiCell result maps to an outcome via its embeddings files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const write = async (name: string, separation: number) => {
      const h = embeddings(100, separation, 5), te = embeddings(100, separation, 6);
      const file = `${dir}/${name}.json`;
      await Deno.writeTextFile(
        file,
        JSON.stringify({
          dim: 10,
          holdout: { indices: [], labels: [...h.labels], data: [...h.features.data] },
          test: { indices: [], labels: [...te.labels], data: [...te.features.data] },
        }),
      );
      return file;
    };
    const summary = (precision: number) => ({
      objective: "cluster",
      backend: "cpu",
      stepsDone: 10,
      stoppedEarly: false,
      bestStep: 10,
      bestValError: 0.1,
      test: { precision, ari: 0.5, nmi: 0.6, acc: 0.7, batches: 2 },
      timing: {
        stepSeconds: 0.1,
        clusterLossSeconds: null,
        stepsPerSecond: 10,
        timedSteps: 10,
        totalSeconds: 1,
      },
      numTensors: { afterFirstEval: null, atEnd: 0 },
    });
    const method = async (name: string, precision: number, separation: number) => ({
      summary: summary(precision) as never,
      clusteringError: 1 - precision,
      probeTestAccuracy: 0.9,
      probeConverged: true,
      embeddingsFile: await write(name, separation),
    });
    const outcome = await cellOutcomeFromSemiResult({
      dataset: "mnist",
      nLabelled: 100,
      withheld: 3,
      withheldClasses: [0, 1, 2],
      seed: 0,
      labelledPerClass: 14,
      ours: await method("ours", 0.95, 2),
      ce: await method("ce", 0.8, 0.5),
    });
    assert.equal(outcome.methods.ours.batchPrecision, 0.95);
    assert.equal(outcome.methods.ce.nmi, 0.6);
    const scored = scoreMethod(outcome.methods.ours);
    assert.equal(scored.probeAccuracy, 1);
    await Deno.writeTextFile(`${dir}/ours.json`, '{"dim": 10}');
    await assert.rejects(
      () => readEmbeddingsFile(`${dir}/ours.json`),
      /Invalid embeddings .*ours\.json/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("semi grid: one results directory per grid; Ctrl-C in a cell stops the grid", async () => {
  const out = await Deno.makeTempDir();
  try {
    const argv = ["--nl", "100,500", "--kw", "0", "--seeds", "3", "--out", out];
    // A cell interrupted by Ctrl-C stops the grid (it is not a "failed cell" to skip).
    const calls: GridCell[] = [];
    await assert.rejects(
      () =>
        main(argv, (cell) => {
          calls.push(cell);
          return Promise.reject(new Interrupted(4, "SIGINT"));
        }),
      (e: unknown) =>
        e instanceof Interrupted && e.step === 4 && /run the same command again/.test(e.hint),
    );
    assert.equal(calls.length, 1);
    // The same grid continues; a larger grid with the same training settings too.
    const fake = countingRunner();
    await main(argv, fake.run);
    await main(["--nl", "100,500,1000", "--kw", "0", "--seeds", "3", "--out", out], fake.run);
    assert.deepEqual(fake.calls.map((c) => c.cell.nLabelled), [100, 500, 1000]);
    // Other training settings in the same directory would mix two grids: refused with the diff.
    await assert.rejects(
      () => main([...argv, "--steps", "5"], fake.run),
      /settings differ from the saved run \(steps: 10000 → 5\)/,
    );
    // A directory holding another command's run is refused.
    const other = await Deno.makeTempDir();
    await Deno.writeTextFile(
      `${other}/run.json`,
      JSON.stringify({
        format: "spanclust-run",
        command: "exp:mnist",
        settings: {},
        finished: null,
      }),
    );
    await assert.rejects(
      () => main(["--out", other], fake.run),
      /already holds a run of exp:mnist; choose another --out/,
    );
    await Deno.remove(other, { recursive: true });
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
