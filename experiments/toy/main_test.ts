import assert from "node:assert/strict";
import { assertWellFormedSvg } from "../svg_assert.ts";
import { main, parseToyArgs, TOY_METHODS } from "./main.ts";
import { TOY_DATASET_IDS } from "./datasets.ts";

Deno.test("exp:toy smoke run (n = 150, seed 0)", async (t) => {
  const out = await Deno.makeTempDir();
  const n = 150;
  try {
    const run = (await main(["--seed", "0", "--n", String(n), "--out", `${out}/toy`]))!;

    await t.step(
      "grid.svg is well-formed with one point per dataset × method × point",
      async () => {
        const svg = await Deno.readTextFile(`${out}/toy/grid.svg`);
        assertWellFormedSvg(svg);
        const points = svg.match(/aria-roledescription="point"/g)?.length;
        assert.equal(points, TOY_DATASET_IDS.length * TOY_METHODS.length * n);
        const titles = [...svg.matchAll(/aria-label="Title text '([^']*)'"/g)].map((m) => m[1]);
        // Row headers (datasets), column headers (methods), then the figure title.
        assert.deepEqual(titles.slice(0, -1), [
          ...run.datasets.map((d) => d.title),
          ...TOY_METHODS,
        ]);
      },
    );

    const csv = (await Deno.readTextFile(`${out}/toy/ari.csv`)).trimEnd().split("\n");
    const json = JSON.parse(await Deno.readTextFile(`${out}/toy/ari.json`));
    await t.step("ari.csv has one row per cell; ari.json agrees with it", () => {
      assert.equal(csv[0], "dataset,method,ari,clusters");
      assert.equal(csv.length, 1 + TOY_DATASET_IDS.length * TOY_METHODS.length);
      for (const line of csv.slice(1)) {
        const [dataset, method, ari, clusters] = line.split(",");
        assert.ok((TOY_DATASET_IDS as readonly string[]).includes(dataset));
        assert.ok((TOY_METHODS as readonly string[]).includes(method));
        assert.ok(Number(clusters) >= 1);
        if (dataset === "no_structure") {
          assert.equal(ari, "");
          assert.equal(json.ari[dataset][method], null);
        } else {
          assert.ok(Number(ari) >= -1 && Number(ari) <= 1, `${dataset}/${method} ARI ${ari}`);
          assert.equal(json.ari[dataset][method], Number(ari));
        }
      }
      assert.equal(json.seed, 0);
      assert.equal(json.n, n);
    });

    await t.step(
      "each panel with ground truth prints its ARI; summary.json is written",
      async () => {
        const svg = await Deno.readTextFile(`${out}/toy/grid.svg`);
        const captions = [...svg.matchAll(/>ARI (-?\d\.\d\d)</g)].map((m) => Number(m[1]));
        const scored = run.cells.filter((c) => c.ari !== null);
        assert.equal(captions.length, scored.length);
        for (const c of scored) {
          assert.ok(captions.some((v) => Math.abs(v - c.ari!) <= 0.005 + 1e-9), c.method);
        }
        const summary = JSON.parse(await Deno.readTextFile(`${out}/toy/summary.json`));
        assert.equal(summary.command, "exp:toy");
        assert.deepEqual(summary.ari, json.ari);
      },
    );

    await t.step("ari.md is a table with a row per dataset, — for no structure", async () => {
      const md = (await Deno.readTextFile(`${out}/toy/ari.md`)).trimEnd().split("\n");
      assert.equal(md.length, 2 + TOY_DATASET_IDS.length);
      assert.equal(md[0], `| dataset | ${TOY_METHODS.join(" | ")} |`);
      assert.equal(md.at(-1), "| no structure | — | — | — | — |");
    });

    await t.step("the spanning forest recovers moons and circles, where k-means cannot", () => {
      const ari = (dataset: string, method: string) =>
        run.cells.find((c) => c.dataset === dataset && c.method === method)!.ari!;
      for (const dataset of ["moons", "circles"]) {
        assert.ok(ari(dataset, "spanning forest") > 0.9, `${dataset}: forest`);
        assert.ok(ari(dataset, "k-means") < 0.6, `${dataset}: k-means`);
      }
      // Full covariances fit the anisotropic blobs (the GMM column of the figure).
      assert.ok(ari("aniso", "GMM") > 0.9);
    });

    await t.step("no temporary files are left behind", () => {
      const names = [...Deno.readDirSync(`${out}/toy`)].map((e) => e.name).sort();
      assert.deepEqual(names, [
        "ari.csv",
        "ari.json",
        "ari.md",
        "grid.svg",
        "run.json",
        "summary.json",
      ]);
    });
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("parseToyArgs decodes flags and rejects bad ones", () => {
  assert.deepEqual(parseToyArgs([]), { seed: 0, n: 500, out: "results/toy" });
  assert.deepEqual(parseToyArgs(["--seed=7", "--n", "64", "--out", "x"]), {
    seed: 7,
    n: 64,
    out: "x",
  });
  assert.throws(() => parseToyArgs(["--n", "ten"]), /Invalid --n "ten": expected an integer/);
  assert.throws(() => parseToyArgs(["--n", "2"]), /Invalid --n "2": expected an integer in \[3,/);
  assert.throws(() => parseToyArgs(["--bogus", "1"]), /Unknown flag --bogus for exp:toy/);
});

Deno.test("main --help prints the usage and runs nothing", async () => {
  const log = console.log;
  const printed: unknown[] = [];
  console.log = (...xs: unknown[]) => printed.push(...xs);
  try {
    assert.equal(await main(["--help"]), null);
  } finally {
    console.log = log;
  }
  assert.match(String(printed[0]), /--seed <int>/);
});
