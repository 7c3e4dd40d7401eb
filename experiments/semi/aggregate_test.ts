import assert from "node:assert/strict";
import { renderSvg } from "../plot.ts";
import { assertWellFormedSvg } from "../svg_assert.ts";
import {
  aggregateCells,
  type CellRecord,
  CellRecordCodec,
  figure4Spec,
  gridCsvRecords,
  type MethodRecord,
} from "./aggregate.ts";
import { toCsv } from "../io.ts";
import { E } from "../../lib/deps/fp.ts";

const method = (error: number, accuracy: number): MethodRecord => ({
  batchPrecision: 1 - error,
  clusteringError: error,
  probeAccuracy: accuracy,
  probeIterations: 12,
  probeGradNorm: 1e-7,
  probeConverged: true,
  probeSeconds: 0.01,
});
const cell = (
  nLabelled: number,
  withheld: number,
  seed: number,
  ours: [number, number],
  ce: [number, number],
): CellRecord => ({
  version: 1,
  nLabelled,
  withheld,
  seed,
  seconds: 1,
  methods: { ours: method(...ours), ce: method(...ce) },
});

// A synthetic grid: 3 n_ℓ × 2 k_w × 3 seeds (k_w = 6 has one seed at n_ℓ = 5000).
const records: CellRecord[] = [];
for (const kw of [0, 3]) {
  for (const nl of [100, 1000, 5000]) {
    for (const seed of [0, 1, 2]) {
      const e = 0.3 / Math.log10(nl) + 0.01 * seed + 0.02 * kw;
      records.push(cell(nl, kw, seed, [e, 1 - e], [e + 0.1, 0.9 - e]));
    }
  }
}
records.push(cell(5000, 6, 0, [0.05, 0.95], [0.2, 0.8]));

Deno.test("semi aggregate", async (t) => {
  const rows = aggregateCells([...records].reverse());

  await t.step("one row per (k_w, n_ℓ, method), sorted", () => {
    assert.equal(rows.length, (2 * 3 + 1) * 2);
    assert.deepEqual(
      rows.slice(0, 4).map((r) => [r.withheld, r.nLabelled, r.method]),
      [[0, 100, "ours"], [0, 100, "ce"], [0, 1000, "ours"], [0, 1000, "ce"]],
    );
    assert.deepEqual(rows.at(-1)!.seeds, [0]);
  });

  await t.step("mean and sample standard deviation over seeds", () => {
    const r = rows.find((r) => r.withheld === 3 && r.nLabelled === 1000 && r.method === "ce")!;
    // Errors 0.1 + 0.1 + 0.06 + {0, 0.01, 0.02}: mean 0.27, sample std 0.01.
    assert.ok(Math.abs(r.clusteringErrorMean - 0.27) < 1e-12);
    assert.ok(Math.abs(r.clusteringErrorStd! - 0.01) < 1e-12);
    assert.ok(Math.abs(r.probeAccuracyMean - (0.9 - 0.17)) < 1e-12);
    assert.ok(Math.abs(r.probeAccuracyStd! - 0.01) < 1e-12);
    assert.deepEqual(r.seeds, [0, 1, 2]);
  });

  await t.step("a single seed has no standard deviation", () => {
    const last = rows.at(-1)!;
    assert.equal(last.clusteringErrorStd, null);
    assert.equal(last.probeAccuracyStd, null);
  });

  await t.step("duplicates and non-finite scores are errors", () => {
    assert.throws(() => aggregateCells([records[0]!, records[0]!]), /100-0-0\.json appears more/);
    const bad = cell(100, 0, 9, [NaN, 0.5], [0.1, 0.5]);
    assert.throws(() => aggregateCells([bad]), /clusteringError = NaN of ours in cell 100-0-9/);
  });

  await t.step("CSV records: seeds joined, missing std empty", () => {
    const csv = toCsv(gridCsvRecords(rows)).trimEnd().split("\n");
    assert.equal(csv.length, 1 + rows.length);
    assert.match(csv.at(-1)!, /^6,5000,ce,0,0\.2,,0\.8,$/);
  });

  await t.step("the cell-file codec accepts a record and rejects a partial one", () => {
    assert.ok(E.isRight(CellRecordCodec.decode(JSON.parse(JSON.stringify(records[0])))));
    assert.ok(E.isLeft(CellRecordCodec.decode({ ...records[0], methods: {} })));
  });

  await t.step("Figure 4: 2 metric panels, one line per k_w × method, log n_ℓ", async () => {
    const svg = await renderSvg(figure4Spec(rows));
    assertWellFormedSvg(svg);
    for (const kw of ["k_w = 0", "k_w = 3", "k_w = 6"]) assert.ok(svg.includes(`>${kw}<`), kw);
    assert.ok(svg.includes(">clustering error<") && svg.includes(">linear-probe error<"));
    // One line mark per panel × k_w × method.
    const lines = svg.match(/aria-roledescription="line mark"/g)?.length;
    assert.equal(lines, 2 * 3 * 2);
    // Ours solid, the baseline dashed: exactly the baseline's 6 lines carry a dash array.
    const dashed = svg.match(/aria-roledescription="line mark"[^>]*stroke-dasharray="6,4"/g);
    assert.equal(dashed?.length, 2 * 3, "one dashed line per panel × k_w");
    // Error bars: one rule per (metric, row).
    const rules = svg.match(/aria-roledescription="rule mark"/g)?.length;
    assert.equal(rules, 2 * rows.length);
    assert.ok(svg.includes("labelled images n_ℓ"));
    // The legend shows the methods' full names (vega cut them at 160 px: "ours (spanning-for…").
    assert.ok(svg.includes(">ours (spanning-forest FY loss)<"), "full legend label");
    assert.ok(svg.includes(">cross-entropy baseline<"), "full legend label");
    assert.doesNotMatch(svg, /…/);
    assert.throws(() => figure4Spec([]), /needs at least one finished cell/);
  });
});
