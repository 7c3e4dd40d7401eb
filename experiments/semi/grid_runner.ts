/**
 * The runner of the semi-supervised grid (`exp:semi:grid`, module doc of grid.ts): cells
 * n_ℓ × k_w × seeds, each trained by a {@link CellRunner}, probed, and written atomically as
 * `<out>/cells/<nl>-<kw>-<seed>.json`; cells with a file are skipped, so a rerun continues the
 * grid; after every cell the aggregate (grid.csv, grid.json, figure4.svg) is rewritten. The
 * training is behind the runner interface, so this module is tested with fakes.
 *
 * @module
 */
import { E, PathReporter } from "../../lib/deps/fp.ts";

import { Interrupted } from "../interrupt.ts";

import { writeCsvAtomic, writeJsonAtomic } from "../io.ts";
import { savePlot } from "../plot.ts";
import {
  type Features,
  fitLogisticProbe,
  type LogisticProbeOptions,
  probeAccuracy,
} from "../probe/logistic.ts";
import {
  aggregateCells,
  type AggregateRow,
  cellFileName,
  type CellRecord,
  CellRecordCodec,
  figure4Spec,
  GRID_CSV_COLUMNS,
  GRID_METHODS,
  type GridCell,
  gridCsvRecords,
  type GridMethod,
  type MethodRecord,
} from "./aggregate.ts";

/** Embeddings of a labelled image set (e.g. the 1000 hold-out images) by a frozen backbone. */
export interface LabelledEmbeddings {
  /** n × d embeddings. */
  readonly features: Features;
  /** Class of each image. */
  readonly labels: ArrayLike<number>;
}

/** What a trained method of one cell hands to the grid. */
export interface MethodOutcome {
  /** Batch-wise clustering precision on the test batches (paper's metric). */
  readonly batchPrecision: number;
  /** Mean ARI of the test batch clusterings (optional, copied into the cell file). */
  readonly ari?: number;
  /** Mean NMI of the test batch clusterings (optional). */
  readonly nmi?: number;
  /** Mean Hungarian accuracy of the test batch clusterings (optional). */
  readonly acc?: number;
  /** Hold-out embeddings: the probe's training set. */
  readonly holdout: LabelledEmbeddings;
  /** Test embeddings: the probe's test set. */
  readonly test: LabelledEmbeddings;
}

/** What a cell runner returns: both methods' outcomes and free-form details. */
export interface CellOutcome {
  /** Per method. */
  readonly methods: Readonly<Record<GridMethod, MethodOutcome>>;
  /** JSON-serialisable details (steps, best step, timings…) stored in the cell file. */
  readonly details?: unknown;
}

/** Where a cell trains. */
export interface CellContext {
  /** The cell's run directory (checkpoints, per-run results): `<out>/runs/<nl>-<kw>-<seed>`. */
  readonly runDir: string;
  /**
   * Always true: continue from a checkpoint in `runDir` if a killed earlier attempt left one
   * (the engine starts from step 0 when there is none).
   */
  readonly resume: true;
}

/** Trains one cell (both methods) and embeds the hold-out and test sets. */
export type CellRunner = (cell: GridCell, context: CellContext) => Promise<CellOutcome>;

/** Options of {@link runGrid}. */
export interface GridOptions {
  /** Results directory (`results/semi-grid`). */
  readonly out: string;
  /** n_ℓ values. */
  readonly nLabelled: readonly number[];
  /** k_w values. */
  readonly withheld: readonly number[];
  /** Seeds. */
  readonly seeds: readonly number[];
  /** Probe options (C, tol, maxIters). */
  readonly probe?: LogisticProbeOptions;
  /** Progress lines (default: console.error). */
  readonly log?: (line: string) => void;
}

/** A cell that threw. */
export interface FailedCell extends GridCell {
  /** The error message. */
  readonly error: string;
}

/** What {@link runGrid} did. */
export interface GridReport {
  /** Cells trained in this call. */
  readonly ran: readonly GridCell[];
  /** Cells skipped because their result file existed. */
  readonly skipped: readonly GridCell[];
  /** Cells that threw in this call (no result file written). */
  readonly failed: readonly FailedCell[];
  /** The aggregate over every finished cell of the requested grid. */
  readonly aggregate: readonly AggregateRow[];
}

/**
 * The cells of a grid in run order: seeds outermost, so that a first complete figure (one
 * seed) exists as early as possible; then k_w, then n_ℓ.
 *
 * @param nLabelled n_ℓ values.
 * @param withheld k_w values.
 * @param seeds Seeds.
 * @returns The cells (duplicates in the inputs removed).
 * @throws {RangeError} If a list is empty or holds a value that is not a non-negative
 * integer (n_ℓ must be ≥ 1, k_w ≤ 9).
 *
 * @example
 * ```ts
 * import { gridCells } from "./grid_runner.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(gridCells([100, 250], [0], [0, 1]).map((c) => c.seed), [0, 0, 1, 1]);
 * ```
 */
export function gridCells(
  nLabelled: readonly number[],
  withheld: readonly number[],
  seeds: readonly number[],
): GridCell[] {
  const check = (name: string, values: readonly number[], lo: number, hi: number) => {
    if (values.length === 0) throw new RangeError(`Invalid ${name}: expected at least one value`);
    values.forEach((v, i) => {
      if (!Number.isInteger(v) || v < lo || v > hi) {
        throw new RangeError(
          `Invalid ${name}[${i}] = ${v}: ${name} values must be integers in [${lo}, ${hi}]`,
        );
      }
    });
    return [...new Set(values)];
  };
  const nl = check("nLabelled", nLabelled, 1, Number.MAX_SAFE_INTEGER);
  const kw = check("withheld", withheld, 0, 9);
  const ss = check("seeds", seeds, 0, 2 ** 31 - 1);
  return ss.flatMap((seed) =>
    kw.flatMap((w) => nl.map((n) => ({ nLabelled: n, withheld: w, seed })))
  );
}

/**
 * Reads a finished cell's result file.
 *
 * @param path The file.
 * @returns The record, or null if the file does not exist.
 * @throws {Error} Naming the file if it is not a valid cell record (delete it to rerun).
 */
export async function readCellRecord(path: string): Promise<CellRecord | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `Corrupt cell result ${path}: ${(e as Error).message}; delete it to rerun the cell`,
    );
  }
  const decoded = CellRecordCodec.decode(json);
  if (E.isLeft(decoded)) {
    throw new Error(
      `Invalid cell result ${path}: ${
        PathReporter.report(decoded).slice(0, 3).join("; ")
      }; delete it to rerun the cell`,
    );
  }
  return decoded.right;
}

/**
 * Scores one method of a finished cell: the linear probe fitted on its hold-out embeddings
 * (standardised, multinomial logistic regression to convergence), accuracy on the test ones.
 *
 * @param outcome The method's outcome.
 * @param probe Probe options.
 * @returns The method's record.
 * @throws {RangeError} If the embeddings or labels are invalid (see fitLogisticProbe), or
 * the batch precision is not in [0, 1].
 */
export function scoreMethod(
  outcome: MethodOutcome,
  probe: LogisticProbeOptions = {},
): MethodRecord {
  const p = outcome.batchPrecision;
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new RangeError(`Invalid batchPrecision = ${p}: expected a number in [0, 1]`);
  }
  const start = performance.now();
  const model = fitLogisticProbe(outcome.holdout.features, outcome.holdout.labels, probe);
  const accuracy = probeAccuracy(model, outcome.test.features, outcome.test.labels);
  const probeSeconds = (performance.now() - start) / 1000;
  const optional = (key: "ari" | "nmi" | "acc") =>
    typeof outcome[key] === "number" && Number.isFinite(outcome[key])
      ? { [key]: outcome[key] }
      : {};
  return {
    batchPrecision: p,
    clusteringError: 1 - p,
    probeAccuracy: accuracy,
    probeIterations: model.iterations,
    probeGradNorm: model.gradNorm,
    probeConverged: model.converged,
    probeSeconds,
    ...optional("ari"),
    ...optional("nmi"),
    ...optional("acc"),
  };
}

/**
 * Writes `grid.csv`, `grid.json` and `figure4.svg` for the finished cells of a grid.
 *
 * @param out Results directory.
 * @param cells The requested cells.
 * @param failed Cells that failed in this run.
 * @returns The aggregate rows.
 */
export async function writeAggregate(
  out: string,
  cells: readonly GridCell[],
  failed: readonly FailedCell[] = [],
): Promise<AggregateRow[]> {
  const records: CellRecord[] = [];
  const missing: GridCell[] = [];
  for (const cell of cells) {
    const r = await readCellRecord(`${out}/cells/${cellFileName(cell)}`);
    if (r === null) missing.push(cell);
    else records.push(r);
  }
  const aggregate = aggregateCells(records);
  await writeCsvAtomic(`${out}/grid.csv`, gridCsvRecords(aggregate), GRID_CSV_COLUMNS);
  await writeJsonAtomic(`${out}/grid.json`, {
    aggregate,
    finished: records.map(({ nLabelled, withheld, seed }) => ({ nLabelled, withheld, seed })),
    missing,
    failed,
  });
  if (aggregate.length > 0) await savePlot(out, "figure4", figure4Spec(aggregate));
  return aggregate;
}

/**
 * Runs (or resumes) a grid: every cell without a result file is trained by `runCell`,
 * probed and written atomically; cells that throw are reported and skipped; the aggregate
 * files and Figure 4 are rewritten after each finished cell and at the end.
 *
 * @param options Grid values, results directory, probe options, logger.
 * @param runCell Trains one cell.
 * @returns What ran, what was skipped, what failed, and the aggregate.
 * @throws {RangeError} If the grid values are invalid.
 * @throws {Error} If an existing cell file is corrupt (naming it).
 */
export async function runGrid(options: GridOptions, runCell: CellRunner): Promise<GridReport> {
  const log = options.log ?? ((line: string) => console.error(line));
  const cells = gridCells(options.nLabelled, options.withheld, options.seeds);
  const out = options.out.replace(/\/+$/, "");
  const ran: GridCell[] = [], skipped: GridCell[] = [], failed: FailedCell[] = [];
  for (const [i, cell] of cells.entries()) {
    const name = cellFileName(cell);
    const tag = `[grid ${i + 1}/${cells.length}] n_ℓ=${cell.nLabelled} k_w=${cell.withheld} ` +
      `seed=${cell.seed}`;
    const path = `${out}/cells/${name}`;
    if (await readCellRecord(path) !== null) {
      skipped.push(cell);
      log(`${tag}: done already (${path})`);
      continue;
    }
    log(`${tag}: training`);
    const start = performance.now();
    try {
      const outcome = await runCell(cell, {
        runDir: `${out}/runs/${name.replace(/\.json$/, "")}`,
        resume: true,
      });
      const methods = Object.fromEntries(
        GRID_METHODS.map((m) => {
          const o = outcome?.methods?.[m];
          if (o === undefined) {
            throw new TypeError(`Invalid cell outcome: no result for method "${m}"`);
          }
          return [m, scoreMethod(o, { numClasses: 10, ...options.probe })];
        }),
      ) as Record<GridMethod, MethodRecord>;
      const record: CellRecord = {
        version: 1,
        ...cell,
        seconds: (performance.now() - start) / 1000,
        methods,
        ...(outcome.details === undefined ? {} : { details: outcome.details }),
      };
      await writeJsonAtomic(path, record);
      ran.push(cell);
      log(
        `${tag}: done in ${record.seconds.toFixed(1)} s — ` +
          GRID_METHODS.map((m) =>
            `${m}: clustering error ${methods[m].clusteringError.toFixed(4)}, probe accuracy ${
              methods[m].probeAccuracy.toFixed(4)
            }`
          ).join("; "),
      );
      await writeAggregate(out, cells, failed);
    } catch (e) {
      if (e instanceof Interrupted) throw e; // Ctrl-C: the cell checkpointed; stop the grid
      const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      failed.push({ ...cell, error });
      log(`${tag}: FAILED — ${error}`);
    }
  }
  const aggregate = await writeAggregate(out, cells, failed);
  log(
    `[grid] ${ran.length} trained, ${skipped.length} already done, ${failed.length} failed; ` +
      `results in ${out}/grid.csv, grid.json, figure4.svg`,
  );
  return { ran, skipped, failed, aggregate };
}
