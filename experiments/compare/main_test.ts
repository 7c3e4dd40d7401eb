import assert from "node:assert/strict";
import { assertWellFormedSvg } from "../svg_assert.ts";
import {
  COMPARE_METHODS,
  type CompareConfig,
  loadCompareDatasets,
  main,
  partialLabelsOf,
  runCompare,
  writeCompareResults,
} from "./main.ts";

Deno.test("compare", async (t) => {
  await t.step("partialLabelsOf labels a stratified fraction, at least one per class", () => {
    const labels = Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    const p = partialLabelsOf(labels, 0.2, 3);
    assert.equal(p.filter((c) => c === 0).length, 2);
    assert.equal(p.filter((c) => c === 1).length, 1);
    p.forEach((c, i) => assert.ok(c === null || c === labels[i]));
    assert.ok(partialLabelsOf(labels, 0, 3).every((c) => c === null));
  });

  const out = await Deno.makeTempDir({ prefix: "compare_smoke_" });
  try {
    const cfg: CompareConfig = { seed: 0, out, toyN: 60, mnistN: 60, labelled: 0.2, epsilon: 0.05 };
    const datasets = await loadCompareDatasets(cfg);
    const cells = runCompare(cfg, datasets);

    await t.step("one cell per dataset and method, scores in range", () => {
      assert.equal(cells.length, datasets.length * COMPARE_METHODS.length);
      assert.ok(datasets.some((d) => d.id === "mnist-pixels"));
      for (const c of cells) {
        assert.ok(c.ari >= -1 && c.ari <= 1 && c.acc >= 0 && c.acc <= 1 && c.nmi >= 0, c.method);
      }
      // With every point of a class labelled together, must-links are enforced; on moons the
      // labelled forest is exact on this easy geometry: a check that labels reach the solver.
      const moons = cells.find((c) => c.dataset === "moons" && c.method === "forest + labels")!;
      assert.ok(moons.acc > 0.9, `forest + labels on moons: ${moons.acc}`);
    });

    await t.step("writes table (csv/json/md) and a well-formed figure", async () => {
      const paths = await writeCompareResults(cfg, cells);
      for (const p of paths) assert.ok((await Deno.stat(p)).size > 0, p);
      const md = await Deno.readTextFile(`${out}/table.md`);
      assert.match(md, /\| dataset \| forest \| forest \+ labels \| k-means \| OT k-means \|/);
      assert.ok(assertWellFormedSvg(await Deno.readTextFile(`${out}/ari.svg`)).includes("path"));
      const json = JSON.parse(await Deno.readTextFile(`${out}/table.json`));
      assert.equal(json.length, cells.length);
    });
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("compare main: writes summary.json; refuses a directory of other settings", async () => {
  const out = await Deno.makeTempDir({ prefix: "compare_main_" });
  const log = console.log;
  console.log = () => {};
  try {
    const argv = ["--toy-n", "30", "--mnist-n", "20", "--out", out];
    const { cells, paths } = await main(argv);
    assert.ok(paths.includes(`${out}/summary.json`));
    const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
    assert.equal(summary.command, "compare");
    for (const c of cells) assert.equal(summary.results[c.dataset][c.method].ari, c.ari);
    // Same settings: the same result again; other settings would mix two runs.
    await main(argv);
    await assert.rejects(
      () => main(["--toy-n", "40", "--mnist-n", "20", "--out", out]),
      /already holds a run with other settings \(toy-n: 30 → 40\)/,
    );
  } finally {
    console.log = log;
    await Deno.remove(out, { recursive: true });
  }
});
