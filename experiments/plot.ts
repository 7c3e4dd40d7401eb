/**
 * Headless figures for the experiments: vega-lite specs compiled to vega and rendered to SVG
 * strings without a browser (`renderer: "none"`), written atomically to `results/<exp>/`.
 *
 * Spec builders cover the plots the project needs: curves ({@link lineChartSpec}), scatter
 * plots coloured by a label with optional row/column facets ({@link scatterSpec}) and matrix
 * heatmaps such as connectivity matrices ({@link heatmapSpec}).
 *
 * @module
 */
import { vega, vl } from "./deps/plot.ts";
import { writeTextAtomic } from "./io.ts";

/** A vega-lite specification (the library's own top-level type). */
export type PlotSpec = vl.TopLevelSpec;

/**
 * Compiles a vega-lite spec and renders it to an SVG string, headless.
 *
 * @param spec The vega-lite specification.
 * @returns The SVG document as a string.
 * @throws {Error} If vega-lite cannot compile the spec or vega cannot render it.
 *
 * @example Rendering a bar
 * ```ts
 * import { renderSvg } from "./plot.ts";
 * import assert from "node:assert/strict";
 * const svg = await renderSvg({ data: { values: [{ a: 1 }] }, mark: "bar",
 *   encoding: { y: { field: "a", type: "quantitative" } } });
 * assert.ok(svg.startsWith("<svg"));
 * ```
 */
export async function renderSvg(spec: PlotSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Renders a spec and writes it atomically (experiments/io.ts: temp file, fsync, rename) to
 * `<dir>/<name>.svg` (by convention `dir = results/<exp>`).
 *
 * @param dir Output directory, e.g. `"results/toy"`; created if missing.
 * @param name File name without extension; letters, digits, `_`, `-`, `.` only.
 * @param spec The vega-lite specification.
 * @returns The path written.
 * @throws {RangeError} If `name` is empty or holds other characters (e.g. a path separator).
 *
 * @example Saving a plot
 * ```ts
 * import { lineChartSpec, savePlot } from "./plot.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const path = await savePlot(dir, "curve", lineChartSpec([{ x: 0, y: 1, series: "a" }]));
 * assert.ok((await Deno.readTextFile(path)).includes("</svg>"));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function savePlot(dir: string, name: string, spec: PlotSpec): Promise<string> {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw new RangeError(
      `Invalid name = ${JSON.stringify(name)}: a plot name may hold only letters, digits, _ - .`,
    );
  }
  const path = `${dir.replace(/\/+$/, "")}/${name}.svg`;
  await writeTextAtomic(path, await renderSvg(spec));
  return path;
}

/** Common options of the spec builders. */
export interface PlotOptions {
  /** Figure title. */
  readonly title?: string;
  /** Width of one panel in pixels. */
  readonly width?: number;
  /** Height of one panel in pixels. */
  readonly height?: number;
}

/** One point of a curve in {@link lineChartSpec}. */
export interface CurvePoint {
  /** Abscissa. */
  readonly x: number;
  /** Ordinate. */
  readonly y: number;
  /** Which curve the point belongs to (one line and one legend entry per series). */
  readonly series: string;
}

/**
 * A line chart of one or more curves, one colour per series.
 *
 * @param points The curve points (any order; each series is drawn sorted by `x`).
 * @param options Title, panel size, axis titles and an optional log-scale y axis.
 * @returns The vega-lite spec.
 * @throws {RangeError} If a point has a non-finite coordinate.
 *
 * @example Two curves
 * ```ts
 * import { lineChartSpec, renderSvg } from "./plot.ts";
 * import assert from "node:assert/strict";
 * const svg = await renderSvg(lineChartSpec([
 *   { x: 0, y: 1, series: "train" }, { x: 1, y: 0.5, series: "train" },
 *   { x: 0, y: 1.2, series: "val" }, { x: 1, y: 0.7, series: "val" },
 * ], { xTitle: "step", yTitle: "loss" }));
 * assert.ok(svg.includes("mark-line"));
 * ```
 */
export function lineChartSpec(
  points: readonly CurvePoint[],
  options: PlotOptions & {
    readonly xTitle?: string;
    readonly yTitle?: string;
    readonly logY?: boolean;
    /** A vertical rule at x with a text label (e.g. the early-stopping point). */
    readonly markX?: { readonly x: number; readonly label: string };
  } = {},
): PlotSpec {
  points.forEach((p, i) => {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) {
      throw new RangeError(
        `Invalid points[${i}] = (${p.x}, ${p.y}): curve coordinates must be finite`,
      );
    }
  });
  const line = {
    data: { values: points.map((p) => ({ x: p.x, y: p.y, series: p.series })) },
    // A series of one point draws no line: mark the points then (else the chart looks empty).
    mark: { type: "line" as const, point: singlePointSeries(points) },
    encoding: {
      x: { field: "x", type: "quantitative" as const, title: options.xTitle ?? "x" },
      y: {
        field: "y",
        type: "quantitative" as const,
        title: options.yTitle ?? "y",
        scale: options.logY ? { type: "log" as const } : { zero: false },
      },
      color: { field: "series", type: "nominal" as const, title: null, legend: { labelLimit: 0 } },
    },
  };
  const head = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...(options.title === undefined ? {} : { title: options.title }),
    width: options.width ?? 400,
    height: options.height ?? 250,
  };
  if (options.markX === undefined) return { ...head, ...line } as PlotSpec;
  const mark = { x: options.markX.x, label: options.markX.label };
  return {
    ...head,
    layer: [
      line,
      {
        data: { values: [mark] },
        mark: { type: "rule", strokeDash: [4, 3], color: "black" },
        encoding: { x: { field: "x", type: "quantitative" } },
      },
      {
        data: { values: [mark] },
        mark: { type: "text", align: "left", dx: 4, dy: -4, baseline: "bottom", color: "black" },
        encoding: {
          x: { field: "x", type: "quantitative" },
          y: { value: 0 },
          text: { field: "label" },
        },
      },
    ],
  } as PlotSpec;
}

function singlePointSeries(points: readonly CurvePoint[]): boolean {
  const count = new Map<string, number>();
  for (const p of points) count.set(p.series, (count.get(p.series) ?? 0) + 1);
  return [...count.values()].some((c) => c < 2);
}

/** One point of a {@link scatterSpec}. */
export interface ScatterPoint {
  /** Horizontal coordinate. */
  readonly x: number;
  /** Vertical coordinate. */
  readonly y: number;
  /** Colour class (e.g. predicted cluster); compared as a string. */
  readonly label: string | number;
  /** Facet row (e.g. dataset); all points need it when one does. */
  readonly row?: string;
  /** Facet column (e.g. method); all points need it when one does. */
  readonly column?: string;
  /** Text drawn at the panel's top-left corner (e.g. "ARI 0.95"); give it to one point per panel. */
  readonly caption?: string;
}

/**
 * A scatter plot coloured by label, optionally faceted into a grid (`row` × `column`, e.g.
 * dataset × method). Facets get independent axes, drawn without ticks, as in the usual
 * clustering comparison grids.
 *
 * @param points The points.
 * @param options Title, panel size, the order of rows and columns, whether to show axes and
 * the legend, and the mark size.
 * @returns The vega-lite spec.
 * @throws {RangeError} If a point has a non-finite coordinate, or only some points have a
 * `row` (or `column`).
 *
 * @example A 1 × 2 grid
 * ```ts
 * import { renderSvg, scatterSpec } from "./plot.ts";
 * import assert from "node:assert/strict";
 * const svg = await renderSvg(scatterSpec([
 *   { x: 0, y: 0, label: 0, column: "a" }, { x: 1, y: 1, label: 1, column: "b" },
 * ]));
 * assert.equal(svg.match(/<path[^>]*aria-roledescription="point"/g)?.length, 2);
 * ```
 */
export function scatterSpec(
  points: readonly ScatterPoint[],
  options: PlotOptions & {
    readonly rowOrder?: readonly string[];
    readonly columnOrder?: readonly string[];
    readonly axes?: boolean;
    readonly legend?: boolean;
    readonly pointSize?: number;
    readonly xTitle?: string;
    readonly yTitle?: string;
    readonly legendTitle?: string;
  } = {},
): PlotSpec {
  points.forEach((p, i) => {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) {
      throw new RangeError(`Invalid points[${i}] = (${p.x}, ${p.y}): coordinates must be finite`);
    }
  });
  const facetField = (key: "row" | "column"): boolean => {
    const count = points.filter((p) => p[key] !== undefined).length;
    if (count !== 0 && count !== points.length) {
      throw new RangeError(
        `Invalid points: ${count} of ${points.length} have a ${key}; give all or none a ${key}`,
      );
    }
    return count > 0;
  };
  const hasRow = facetField("row");
  const hasColumn = facetField("column");
  const axis = (title: string | undefined) => (options.axes ? { title: title ?? null } : null);
  const inner = {
    width: options.width ?? 160,
    height: options.height ?? 160,
    mark: { type: "point" as const, filled: true, size: options.pointSize ?? 12, opacity: 0.9 },
    encoding: {
      x: {
        field: "x",
        type: "quantitative" as const,
        axis: axis(options.xTitle),
        scale: { zero: false },
      },
      y: {
        field: "y",
        type: "quantitative" as const,
        axis: axis(options.yTitle),
        scale: { zero: false },
      },
      color: {
        field: "label",
        type: "nominal" as const,
        scale: { scheme: "category10" },
        legend: options.legend ? { title: options.legendTitle ?? "cluster", labelLimit: 0 } : null,
      },
    },
  };
  const values = points.map((p) => ({
    x: p.x,
    y: p.y,
    label: String(p.label),
    ...(hasRow ? { row: p.row } : {}),
    ...(hasColumn ? { column: p.column } : {}),
    ...(p.caption === undefined ? {} : { caption: p.caption }),
  }));
  const head = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...(options.title === undefined ? {} : { title: options.title }),
    data: { values },
  };
  const captioned = points.some((p) => p.caption !== undefined);
  const panel = captioned
    ? {
      width: inner.width,
      height: inner.height,
      layer: [
        { mark: inner.mark, encoding: inner.encoding },
        {
          transform: [{ filter: "isValid(datum.caption)" }],
          mark: {
            type: "text" as const,
            x: 4,
            y: 4,
            align: "left" as const,
            baseline: "top" as const,
            fontSize: 11,
            fontWeight: "bold" as const,
          },
          encoding: { text: { field: "caption", type: "nominal" as const } },
        },
      ],
    }
    : inner;
  if (!hasRow && !hasColumn) return { ...head, ...panel };
  const header = (order?: readonly string[]) => ({
    ...(order ? { sort: [...order] } : {}),
    header: { title: null, labelFontSize: 13 },
  });
  return {
    ...head,
    facet: {
      ...(hasRow ? { row: { field: "row", type: "nominal", ...header(options.rowOrder) } } : {}),
      ...(hasColumn
        ? { column: { field: "column", type: "nominal", ...header(options.columnOrder) } }
        : {}),
    },
    spec: panel,
    resolve: { scale: { x: "independent", y: "independent" } },
  } as PlotSpec;
}

/** An axis of row/column indices: a title, no per-index labels or ticks (too many). */
function ordinalAxis(title: string | undefined) {
  return title === undefined ? null : { title, labels: false, ticks: false };
}

/**
 * A heatmap of a square or rectangular matrix (e.g. a connectivity matrix M, or a
 * perturbed estimate of it with entries in [0, 1]): one rect per entry, row 0 at the top.
 *
 * @param rows The matrix as rows (all of the same length), or a square `{ n, data }`
 * row-major matrix.
 * @param options Title, panel size, colour scheme and the colour-scale domain (defaults to
 * the data range).
 * @returns The vega-lite spec.
 * @throws {RangeError} If the matrix is empty, ragged, or holds a non-finite value.
 *
 * @example A 2 × 2 connectivity matrix
 * ```ts
 * import { heatmapSpec, renderSvg } from "./plot.ts";
 * import assert from "node:assert/strict";
 * const svg = await renderSvg(heatmapSpec([[1, 0], [0, 1]], { domain: [0, 1] }));
 * assert.equal(svg.match(/aria-roledescription="rect mark"/g)?.length, 4);
 * ```
 */
export function heatmapSpec(
  rows: readonly (readonly number[])[] | { readonly n: number; readonly data: ArrayLike<number> },
  options: PlotOptions & {
    readonly scheme?: string;
    readonly domain?: readonly [number, number];
    /** A 0/1 matrix: a two-entry legend with these names for 0 and 1 instead of a gradient. */
    readonly binary?: readonly [string, string];
    /** Axis titles (no axes when absent). */
    readonly xTitle?: string;
    readonly yTitle?: string;
  } = {},
): PlotSpec {
  const table: (readonly number[])[] = "n" in rows && !Array.isArray(rows)
    ? Array.from(
      { length: rows.n },
      (_, i) => Array.from(rows.data).slice(i * rows.n, (i + 1) * rows.n),
    )
    : [...(rows as readonly (readonly number[])[])];
  if (table.length === 0 || table[0].length === 0) {
    throw new RangeError("Invalid matrix: a heatmap needs at least one entry (got an empty one)");
  }
  const width = table[0].length;
  const values: { i: number; j: number; v: number; c?: string }[] = [];
  table.forEach((row, i) => {
    if (row.length !== width) {
      throw new RangeError(
        `Invalid matrix row ${i}: it has length ${row.length} but row 0 has ${width}`,
      );
    }
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) {
        throw new RangeError(`Invalid matrix entry (${i}, ${j}) = ${v}: entries must be finite`);
      }
      if (options.binary && v !== 0 && v !== 1) {
        throw new RangeError(
          `Invalid matrix entry (${i}, ${j}) = ${v}: a binary heatmap needs 0/1`,
        );
      }
      values.push({ i, j, v, ...(options.binary ? { c: options.binary[v] } : {}) });
    });
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...(options.title === undefined ? {} : { title: options.title }),
    width: options.width ?? 300,
    height: options.height ?? 300 * table.length / width,
    data: { values },
    mark: { type: "rect" },
    encoding: {
      x: { field: "j", type: "ordinal", axis: ordinalAxis(options.xTitle) },
      y: { field: "i", type: "ordinal", axis: ordinalAxis(options.yTitle) },
      color: options.binary
        ? {
          field: "c",
          type: "nominal",
          title: null,
          scale: { domain: [...options.binary], range: ["#f0f0f0", "#252525"] },
          legend: { labelLimit: 0 },
        }
        : {
          field: "v",
          type: "quantitative",
          title: null,
          scale: {
            // The option is a free string (any vega scheme name); vega reports unknown names.
            scheme: (options.scheme ?? "greys") as "greys",
            ...(options.domain ? { domain: [...options.domain] } : {}),
          },
        },
    },
  };
}
