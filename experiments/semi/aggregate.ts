/**
 * Aggregation and plotting of the semi-supervised grid (paper §4.2, Figure 4): the per-cell
 * results written by `experiments/semi/grid.ts` (one file per (n_ℓ, k_w, seed)) are reduced
 * to mean ± standard deviation over seeds per (k_w, n_ℓ, method), written as CSV / JSON rows,
 * and drawn as the paper's Figure 4: clustering error (1 − batch precision) and linear-probe
 * accuracy against n_ℓ on a log axis, ours vs the cross-entropy baseline, one column of
 * panels per k_w.
 *
 * Everything here is pure (no files, no training), so it is tested on synthetic cells.
 *
 * @module
 */
import { t } from "../../lib/deps/fp.ts";
import type { PlotSpec } from "../plot.ts";

/** The compared methods: ours (perturbed spanning-forest loss) and the CE baseline. */
export const GRID_METHODS = ["ours", "ce"] as const;
/** One compared method. */
export type GridMethod = typeof GRID_METHODS[number];

/** Legend names of the methods. */
export const METHOD_TITLES: Readonly<Record<GridMethod, string>> = {
  ours: "ours (spanning-forest FY loss)",
  ce: "cross-entropy baseline",
};

/** One cell of the grid: labelled-set size, number of withheld classes, seed. */
export interface GridCell {
  /** n_ℓ: labelled training images. */
  readonly nLabelled: number;
  /** k_w: classes whose labels are all withheld. */
  readonly withheld: number;
  /** Run seed. */
  readonly seed: number;
}

const MethodRecordCodec = t.intersection([
  t.type({
    /** Batch-wise clustering precision on test batches (1 − clustering error). */
    batchPrecision: t.number,
    /** 1 − batchPrecision (the paper's plotted clustering error). */
    clusteringError: t.number,
    /** Linear-probe test accuracy. */
    probeAccuracy: t.number,
    probeIterations: t.number,
    probeGradNorm: t.number,
    probeConverged: t.boolean,
    probeSeconds: t.number,
  }),
  t.partial({ ari: t.number, nmi: t.number, acc: t.number }),
]);

/** The io-ts codec of a cell result file (`cells/<nl>-<kw>-<seed>.json`). */
export const CellRecordCodec: t.Type<CellRecord, unknown, unknown> = t.intersection([
  t.type({
    version: t.literal(1),
    nLabelled: t.number,
    withheld: t.number,
    seed: t.number,
    seconds: t.number,
    methods: t.type({ ours: MethodRecordCodec, ce: MethodRecordCodec }),
  }),
  t.partial({ details: t.unknown }),
]) as unknown as t.Type<CellRecord, unknown, unknown>;

/** The scores of one method in one cell. */
export interface MethodRecord {
  /** Batch-wise clustering precision on test batches of 64. */
  readonly batchPrecision: number;
  /** 1 − batchPrecision. */
  readonly clusteringError: number;
  /** Test accuracy of the linear probe fitted on the hold-out embeddings. */
  readonly probeAccuracy: number;
  /** L-BFGS iterations of the probe fit. */
  readonly probeIterations: number;
  /** ‖∇f‖∞/n at the probe's solution. */
  readonly probeGradNorm: number;
  /** Whether the probe reached its tolerance. */
  readonly probeConverged: boolean;
  /** Wall time of the probe fit. */
  readonly probeSeconds: number;
  /** Mean ARI of the test batch clusterings, when the cell reports it. */
  readonly ari?: number;
  /** Mean NMI of the test batch clusterings, when reported. */
  readonly nmi?: number;
  /** Mean Hungarian accuracy of the test batch clusterings, when reported. */
  readonly acc?: number;
}

/** A finished cell as written to `cells/<nl>-<kw>-<seed>.json`. */
export interface CellRecord extends GridCell {
  /** File format version. */
  readonly version: 1;
  /** Wall time of the cell (training both methods, embedding, probes). */
  readonly seconds: number;
  /** Scores per method. */
  readonly methods: Readonly<Record<GridMethod, MethodRecord>>;
  /** Free-form details from the cell runner (steps, best step, run directories…). */
  readonly details?: unknown;
}

/** One aggregated row: a (k_w, n_ℓ, method) over its seeds. */
export interface AggregateRow {
  /** k_w. */
  readonly withheld: number;
  /** n_ℓ. */
  readonly nLabelled: number;
  /** The method. */
  readonly method: GridMethod;
  /** Seeds aggregated (sorted). */
  readonly seeds: readonly number[];
  /** Mean clustering error over seeds. */
  readonly clusteringErrorMean: number;
  /** Sample standard deviation (n − 1) over seeds; null for a single seed. */
  readonly clusteringErrorStd: number | null;
  /** Mean probe accuracy over seeds. */
  readonly probeAccuracyMean: number;
  /** Sample standard deviation over seeds; null for a single seed. */
  readonly probeAccuracyStd: number | null;
}

/**
 * The result file name of a cell.
 *
 * @param cell The cell.
 * @returns `<nl>-<kw>-<seed>.json`.
 *
 * @example
 * ```ts
 * import { cellFileName } from "./aggregate.ts";
 * import assert from "node:assert/strict";
 * assert.equal(cellFileName({ nLabelled: 100, withheld: 3, seed: 0 }), "100-3-0.json");
 * ```
 */
export function cellFileName(cell: GridCell): string {
  return `${cell.nLabelled}-${cell.withheld}-${cell.seed}.json`;
}

function meanStd(values: readonly number[]): { mean: number; std: number | null } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length < 2) return { mean, std: null };
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (values.length - 1)) };
}

/**
 * Mean ± sample standard deviation over seeds of each (k_w, n_ℓ, method).
 *
 * @param records Finished cells (any order).
 * @returns Rows sorted by k_w, then n_ℓ, then method (ours first).
 * @throws {RangeError} If two records are the same cell, or a score is not finite.
 *
 * @example Two seeds of one cell
 * ```ts
 * import { aggregateCells, type CellRecord } from "./aggregate.ts";
 * import assert from "node:assert/strict";
 * const m = (p: number, a: number) => ({ batchPrecision: p, clusteringError: 1 - p,
 *   probeAccuracy: a, probeIterations: 10, probeGradNorm: 1e-7, probeConverged: true,
 *   probeSeconds: 0.1 });
 * const cell = (seed: number, p: number): CellRecord => ({ version: 1, nLabelled: 100,
 *   withheld: 0, seed, seconds: 1, methods: { ours: m(p, 0.9), ce: m(0.5, 0.8) } });
 * const rows = aggregateCells([cell(0, 0.9), cell(1, 0.8)]);
 * assert.equal(rows.length, 2);
 * assert.ok(Math.abs(rows[0].clusteringErrorMean - 0.15) < 1e-12);
 * assert.ok(Math.abs(rows[0].clusteringErrorStd! - Math.SQRT1_2 * 0.1) < 1e-12);
 * ```
 */
export function aggregateCells(records: readonly CellRecord[]): AggregateRow[] {
  const seen = new Set<string>();
  const groups = new Map<string, { cell: Omit<GridCell, "seed">; cells: CellRecord[] }>();
  for (const r of records) {
    const id = cellFileName(r);
    if (seen.has(id)) {
      throw new RangeError(`Invalid records: cell ${id} appears more than once`);
    }
    seen.add(id);
    const key = `${r.withheld}/${r.nLabelled}`;
    const g = groups.get(key) ??
      { cell: { withheld: r.withheld, nLabelled: r.nLabelled }, cells: [] };
    g.cells.push(r);
    groups.set(key, g);
  }
  const rows: AggregateRow[] = [];
  for (const { cell, cells } of groups.values()) {
    const seeds = cells.map((c) => c.seed).sort((a, b) => a - b);
    for (const method of GRID_METHODS) {
      const pick = (f: (m: MethodRecord) => number, what: string) =>
        cells.map((c) => {
          const v = f(c.methods[method]);
          if (!Number.isFinite(v)) {
            throw new RangeError(
              `Invalid ${what} = ${v} of ${method} in cell ${cellFileName(c)}: must be finite`,
            );
          }
          return v;
        });
      const err = meanStd(pick((m) => m.clusteringError, "clusteringError"));
      const acc = meanStd(pick((m) => m.probeAccuracy, "probeAccuracy"));
      rows.push({
        withheld: cell.withheld,
        nLabelled: cell.nLabelled,
        method,
        seeds,
        clusteringErrorMean: err.mean,
        clusteringErrorStd: err.std,
        probeAccuracyMean: acc.mean,
        probeAccuracyStd: acc.std,
      });
    }
  }
  const order = (m: GridMethod) => GRID_METHODS.indexOf(m);
  return rows.sort((a, b) =>
    a.withheld - b.withheld || a.nLabelled - b.nLabelled || order(a.method) - order(b.method)
  );
}

/** The columns of `grid.csv`, in order. */
export const GRID_CSV_COLUMNS = [
  "withheld",
  "n_labelled",
  "method",
  "seeds",
  "clustering_error_mean",
  "clustering_error_std",
  "probe_accuracy_mean",
  "probe_accuracy_std",
] as const;

/**
 * `grid.csv` records of aggregated rows (seeds joined by `;`, a missing std left empty).
 *
 * @param rows Aggregated rows.
 * @returns Records keyed by {@link GRID_CSV_COLUMNS}.
 *
 * @example
 * ```ts
 * import { gridCsvRecords } from "./aggregate.ts";
 * import assert from "node:assert/strict";
 * const [r] = gridCsvRecords([{ withheld: 3, nLabelled: 100, method: "ours", seeds: [0, 1],
 *   clusteringErrorMean: 0.1, clusteringErrorStd: 0.01, probeAccuracyMean: 0.9,
 *   probeAccuracyStd: null }]);
 * assert.equal(r.seeds, "0;1");
 * assert.equal(r.probe_accuracy_std, null);
 * ```
 */
export function gridCsvRecords(
  rows: readonly AggregateRow[],
): Record<typeof GRID_CSV_COLUMNS[number], string | number | null>[] {
  return rows.map((r) => ({
    withheld: r.withheld,
    n_labelled: r.nLabelled,
    method: r.method,
    seeds: r.seeds.join(";"),
    clustering_error_mean: r.clusteringErrorMean,
    clustering_error_std: r.clusteringErrorStd,
    probe_accuracy_mean: r.probeAccuracyMean,
    probe_accuracy_std: r.probeAccuracyStd,
  }));
}

/** The two plotted metrics (panels of Figure 4), in order. */
export const FIGURE_METRICS = ["clustering error", "linear-probe error"] as const;

/**
 * The paper's Figure 4 as a vega-lite spec: one panel per metric (clustering error on the test
 * batches, linear-probe test error = 1 − probe accuracy), x = n_ℓ on a log axis, one line per
 * k_w (colour) and method (ours solid, cross-entropy dashed) through the means over seeds, with
 * ± one standard deviation error bars (none for a single seed).
 *
 * @param rows Aggregated rows.
 * @param options Panel size.
 * @returns The vega-lite spec (render with `renderSvg` / `savePlot` of experiments/plot.ts).
 * @throws {RangeError} If `rows` is empty (nothing finished yet).
 *
 * @example
 * ```ts
 * import { figure4Spec } from "./aggregate.ts";
 * import { renderSvg } from "../plot.ts";
 * import assert from "node:assert/strict";
 * const svg = await renderSvg(figure4Spec([{ withheld: 0, nLabelled: 100, method: "ours",
 *   seeds: [0], clusteringErrorMean: 0.1, clusteringErrorStd: null, probeAccuracyMean: 0.9,
 *   probeAccuracyStd: null }]));
 * assert.ok(svg.includes("k_w = 0"));
 * ```
 */
export function figure4Spec(
  rows: readonly AggregateRow[],
  options: { readonly width?: number; readonly height?: number } = {},
): PlotSpec {
  if (rows.length === 0) {
    throw new RangeError("Invalid rows: Figure 4 needs at least one finished cell, got none");
  }
  const values = rows.flatMap((r) =>
    FIGURE_METRICS.map((metric) => {
      const [mean, std] = metric === "clustering error"
        ? [r.clusteringErrorMean, r.clusteringErrorStd]
        : [1 - r.probeAccuracyMean, r.probeAccuracyStd];
      return {
        metric,
        withheld: `k_w = ${r.withheld}`,
        nLabelled: r.nLabelled,
        method: METHOD_TITLES[r.method],
        mean,
        lo: mean - (std ?? 0),
        hi: mean + (std ?? 0),
        seeds: r.seeds.length,
      };
    })
  );
  const x = {
    field: "nLabelled",
    type: "quantitative" as const,
    title: "labelled images n_ℓ",
    scale: { type: "log" as const },
    axis: {
      values: [...new Set(rows.map((r) => r.nLabelled))].sort((a, b) => a - b),
      format: "~s", // 100, 250, 500, 1k, 2k, 5k: short enough that none is dropped
      labelOverlap: false,
    },
  };
  const kws = [...new Set(rows.map((r) => r.withheld))].sort((a, b) => a - b);
  // Legends below the panels, labels uncut (vega truncates at 160 px: "ours (spanning-for…").
  const legend = { orient: "bottom" as const, labelLimit: 0, direction: "vertical" as const };
  const color = {
    field: "withheld",
    type: "nominal" as const,
    title: "withheld classes",
    sort: kws.map((k) => `k_w = ${k}`),
    legend,
  };
  const methods = GRID_METHODS.map((m) => METHOD_TITLES[m]);
  const dash = {
    field: "method",
    type: "nominal" as const,
    title: "method",
    scale: { domain: methods, range: [[1, 0], [6, 4]] },
    // A line sample in the legend (the default symbol is the point, which hides the dash).
    legend: {
      ...legend,
      symbolType: "stroke",
      symbolStrokeWidth: 2,
      symbolSize: 400,
      encode: { symbols: { update: { stroke: { value: "#444" } } } },
    },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Semi-supervised MNIST (Figure 4)",
      subtitle: `${
        Math.max(...rows.map((r) => r.seeds.length))
      } seed(s) per point; bars: ± one std over seeds`,
    },
    data: { values },
    facet: {
      column: {
        field: "metric",
        type: "nominal",
        sort: [...FIGURE_METRICS],
        header: { title: null, labelFontSize: 13 },
      },
    },
    spec: {
      width: options.width ?? 260,
      height: options.height ?? 200,
      layer: [
        {
          mark: { type: "rule" },
          encoding: {
            x,
            y: { field: "lo", type: "quantitative", title: "test error", scale: { zero: false } },
            y2: { field: "hi" },
            color,
          },
        },
        {
          mark: { type: "line", point: true },
          encoding: {
            x,
            y: { field: "mean", type: "quantitative", title: "test error", scale: { zero: false } },
            color,
            strokeDash: dash,
            detail: { field: "method" },
            tooltip: [
              { field: "method" },
              { field: "withheld" },
              { field: "nLabelled", title: "n_ℓ" },
              { field: "mean", format: ".4f" },
              { field: "seeds" },
            ],
          },
        },
      ],
    },
    resolve: { scale: { y: "independent" } },
  } as PlotSpec;
}
