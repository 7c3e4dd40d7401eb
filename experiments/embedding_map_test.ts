import assert from "node:assert/strict";
import { embeddingMapSpec } from "./embedding_map.ts";
import { lineChartSpec, renderSvg } from "./plot.ts";
import { assertWellFormedSvg } from "./svg_assert.ts";

// Three well-separated 5-d groups of 12 points (classes 0, 1, 2).
const rows: number[][] = [], labels: number[] = [];
for (let c = 0; c < 3; c++) {
  for (let i = 0; i < 12; i++) {
    rows.push(Array.from({ length: 5 }, (_, d) => (d === c ? 50 : 0) + ((i * 7 + d * 3) % 5) / 5));
    labels.push(c);
  }
}

Deno.test("embeddingMapSpec: UMAP axes, class legend, withheld classes as a second legend", async () => {
  const svg = await renderSvg(embeddingMapSpec(rows, labels, { title: "map", withheld: [2] }));
  assertWellFormedSvg(svg);
  for (const text of ["UMAP 1", "UMAP 2", "class", "labels", "withheld class", "labelled class"]) {
    assert.ok(svg.includes(`>${text}<`), `the map shows "${text}"`);
  }
  const plain = await renderSvg(embeddingMapSpec(rows, labels, { title: "map" }));
  assert.ok(!plain.includes(">withheld class<"), "no withheld legend without withheld classes");
});

Deno.test("embeddingMapSpec: the layout keeps the groups apart", () => {
  const spec = embeddingMapSpec(rows, labels, { title: "map", seed: 3 }) as unknown as {
    data: { values: { x: number; y: number; class: string }[] };
  };
  const pts = spec.data.values;
  // Every point's nearest other point in the layout has its class (groups are 50 apart in 5-d).
  pts.forEach((p, i) => {
    let best = -1, bestD = Infinity;
    pts.forEach((q, j) => {
      const d = (p.x - q.x) ** 2 + (p.y - q.y) ** 2;
      if (j !== i && d < bestD) bestD = d, best = j;
    });
    assert.equal(pts[best]!.class, p.class, `point ${i}`);
  });
});

Deno.test("embeddingMapSpec rejects too few points and mismatched labels", () => {
  assert.throws(
    () => embeddingMapSpec(rows.slice(0, 10), labels.slice(0, 10), { title: "" }),
    /at least 16/,
  );
  assert.throws(() => embeddingMapSpec(rows, labels.slice(1), { title: "" }), /35 labels for 36/);
});

Deno.test("lineChartSpec markX draws a labelled rule", async () => {
  const points = [{ x: 0, y: 1, series: "a" }, { x: 10, y: 0.5, series: "a" }];
  const svg = await renderSvg(lineChartSpec(points, { markX: { x: 5, label: "best (step 5)" } }));
  assertWellFormedSvg(svg);
  assert.ok(svg.includes(">best (step 5)<"));
  assert.ok(!(await renderSvg(lineChartSpec(points))).includes("best (step"));
});
