import assert from "node:assert/strict";
import { heatmapSpec, lineChartSpec, renderSvg, savePlot, scatterSpec } from "./plot.ts";
import { assertWellFormedSvg } from "./svg_assert.ts";

const countMarks = (svg: string, role: string): number =>
  svg.match(new RegExp(`role="graphics-symbol" aria-roledescription="${role}"`, "g"))?.length ?? 0;

Deno.test("assertWellFormedSvg rejects broken documents", () => {
  assert.throws(() => assertWellFormedSvg("<svg><g></svg>"));
  assert.throws(() => assertWellFormedSvg("<svg><g a=1></g></svg>"));
  assert.throws(() => assertWellFormedSvg("<div></div>"));
  assert.deepEqual(assertWellFormedSvg('<svg a="1"><g><path d="M0"/></g></svg>'), [
    "svg",
    "g",
    "path",
  ]);
});

Deno.test("lineChartSpec", async (t) => {
  await t.step("renders one line per series with a legend", async () => {
    const points = [0, 1, 2, 3].flatMap((x) => [
      { x, y: Math.exp(-x), series: "train" },
      { x, y: Math.exp(-x / 2), series: "validation" },
    ]);
    const svg = await renderSvg(lineChartSpec(points, { xTitle: "batch", yTitle: "error" }));
    assertWellFormedSvg(svg);
    assert.equal(countMarks(svg, "line mark"), 2);
    assert.ok(svg.includes("validation") && svg.includes(">batch<"));
  });
  await t.step("a log y axis is a log scale", async () => {
    const svg = await renderSvg(
      lineChartSpec([{ x: 0, y: 1, series: "a" }, { x: 1, y: 100, series: "a" }], { logY: true }),
    );
    assert.match(svg, /Y-axis titled 'y' for a log scale/);
  });
  await t.step("rejects non-finite points", () => {
    assert.throws(() => lineChartSpec([{ x: 0, y: NaN, series: "a" }]), /points\[0\]/);
  });
});

Deno.test("scatterSpec", async (t) => {
  await t.step("one point mark per point, coloured by label", async () => {
    const points = [
      { x: 0, y: 0, label: 0 },
      { x: 1, y: 0, label: 0 },
      { x: 5, y: 5, label: 1 },
    ];
    const svg = await renderSvg(scatterSpec(points));
    assertWellFormedSvg(svg);
    assert.equal(countMarks(svg, "point"), 3);
    const fills = [...svg.matchAll(/aria-roledescription="point"[^>]*fill="([^"]+)"/g)].map((m) =>
      m[1]
    );
    assert.equal(fills[0], fills[1]);
    assert.notEqual(fills[0], fills[2]);
  });
  await t.step(
    "a row × column grid has one panel per cell, headers in the given order",
    async () => {
      const rows = ["moons", "circles"];
      const columns = ["k-means", "forest", "GMM"]; // not alphabetical: the order is the given one
      const points = rows.flatMap((row) =>
        columns.flatMap((column) =>
          [0, 1, 2, 3].map((i) => ({ x: i, y: i * i, label: i % 2, row, column }))
        )
      );
      const svg = await renderSvg(scatterSpec(points, { rowOrder: rows, columnOrder: columns }));
      assertWellFormedSvg(svg);
      assert.equal(countMarks(svg, "point"), rows.length * columns.length * 4);
      // One symbol-mark container per panel.
      assert.equal(svg.match(/aria-roledescription="symbol mark container"/g)?.length, 6);
      // Header titles: row headers first, then column headers, each in the requested order.
      const titles = [...svg.matchAll(/aria-label="Title text '([^']*)'"/g)].map((m) => m[1]);
      assert.deepEqual(titles, [...rows, ...columns]);
    },
  );
  await t.step("rejects a partial facet", () => {
    assert.throws(
      () => scatterSpec([{ x: 0, y: 0, label: 0, row: "a" }, { x: 0, y: 0, label: 0 }]),
      /1 of 2 have a row/,
    );
  });
});

Deno.test("heatmapSpec", async (t) => {
  await t.step("one rect per entry; equal values get equal colours", async () => {
    const m = { n: 3, data: new Float64Array([1, 1, 0, 1, 1, 0, 0, 0, 1]) };
    const svg = await renderSvg(heatmapSpec(m, { domain: [0, 1] }));
    assertWellFormedSvg(svg);
    const fills = [
      ...svg.matchAll(/aria-label="j: (\d); i: (\d); v: ([\d.]+)"[^>]*fill="([^"]+)"/g),
    ]
      .map((r) => ({ j: +r[1], i: +r[2], v: +r[3], fill: r[4] }));
    assert.equal(fills.length, 9);
    for (const f of fills) assert.equal(f.v, m.data[f.i * 3 + f.j]);
    assert.equal(new Set(fills.filter((f) => f.v === 1).map((f) => f.fill)).size, 1);
    assert.equal(new Set(fills.map((f) => f.fill)).size, 2);
  });
  await t.step("accepts rectangular rows and rejects ragged or non-finite ones", async () => {
    const svg = await renderSvg(heatmapSpec([[0, 0.5, 1], [1, 0.5, 0]]));
    assert.equal(countMarks(svg, "rect mark"), 6);
    assert.throws(() => heatmapSpec([[0, 1], [1]]), /row 1/);
    assert.throws(() => heatmapSpec([[0, Infinity]]), /\(0, 1\)/);
    assert.throws(() => heatmapSpec([]), /empty/);
  });
});

Deno.test("savePlot", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    await t.step("writes <dir>/<name>.svg and leaves no temporary file", async () => {
      const path = await savePlot(
        `${dir}/results/demo`,
        "curve",
        lineChartSpec([{ x: 0, y: 0, series: "a" }, { x: 1, y: 1, series: "a" }]),
      );
      assert.equal(path, `${dir}/results/demo/curve.svg`);
      assertWellFormedSvg(await Deno.readTextFile(path));
      const names = [...Deno.readDirSync(`${dir}/results/demo`)].map((e) => e.name);
      assert.deepEqual(names, ["curve.svg"]);
    });
    await t.step("rejects names that are paths", async () => {
      await assert.rejects(
        () => savePlot(dir, "../escape", heatmapSpec([[1]])),
        /Invalid name = "\.\.\/escape"/,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("figures: one-point curves are visible, binary heatmaps have a legend and axes", async () => {
  // A run with one evaluation has one point per curve: it used to render an empty chart.
  const one = await renderSvg(lineChartSpec([{ x: 3, y: 0.5, series: "val ARI" }]));
  assert.equal(one.match(/aria-roledescription="point"/g)?.length, 1);
  // Longer curves keep plain lines.
  const two = await renderSvg(lineChartSpec([
    { x: 0, y: 1, series: "a" },
    { x: 1, y: 0.5, series: "a" },
  ]));
  assert.equal(two.match(/aria-roledescription="point"/g), null);

  const m = [[1, 1, 0], [1, 1, 0], [0, 0, 1]];
  const heat = await renderSvg(heatmapSpec(m, {
    binary: ["different clusters", "same cluster"],
    xTitle: "image (sorted by class)",
    yTitle: "image (sorted by class)",
  }));
  assert.ok(heat.includes(">same cluster<") && heat.includes(">different clusters<"));
  assert.equal(heat.match(/>image \(sorted by class\)</g)?.length, 2);
  assert.throws(() => heatmapSpec([[0.5]], { binary: ["no", "yes"] }), /binary heatmap needs 0\/1/);

  const scatter = await renderSvg(
    scatterSpec([{ x: 0, y: 1, label: 3 }, { x: 1, y: 0, label: 4 }], {
      axes: true,
      legend: true,
      legendTitle: "class",
      xTitle: "principal component 1",
      yTitle: "principal component 2",
    }),
  );
  for (const t of ["principal component 1", "principal component 2", "class"]) {
    assert.ok(scatter.includes(`>${t}<`), t);
  }
});
