/**
 * exp:semi:grid — the semi-supervised grid of the paper (§4.2, appendix 11.2, Figure 4):
 * n_ℓ ∈ {100, 250, 500, 1000, 2000, 5000} × k_w ∈ {0, 3, 6} × seeds, each cell training our
 * clustering model and the cross-entropy baseline, then fitting the linear probe
 * (experiments/probe/logistic.ts) on each method's hold-out embeddings and scoring it on the
 * test embeddings.
 *
 * Resumable cell by cell: a finished cell writes `<out>/cells/<nl>-<kw>-<seed>.json`
 * atomically, and a rerun skips every cell whose file exists. A cell killed mid-training
 * leaves no result file; on the rerun it is trained again with `resume: true` in its run
 * directory `<out>/runs/<nl>-<kw>-<seed>/`, so the training engine continues from its last
 * checkpoint there. A cell that throws leaves no result file, is reported, and the grid goes
 * on with the next cell (the run then exits with status 1).
 *
 * After every finished cell the aggregate is rewritten: `<out>/grid.csv`, `<out>/grid.json`
 * (aggregate rows, finished / missing / failed cells) and `<out>/figure4.svg`.
 *
 * The training itself is behind {@link CellRunner}, so the runner is tested with fakes.
 *
 * Usage: `deno task exp:semi:grid [--nl 100,500] [--kw 0,3] [--seeds 0,1] [training flags]`
 *
 * @module
 */
import { E, PathReporter, t } from "../../lib/deps/fp.ts";
import type { CellResult, SemiConfig } from "./cell.ts";
import { selectBackend } from "../../tf/backend.ts";
import { isConvolutional } from "../models.ts";
import {
  type Command,
  type ConfigOf,
  flag,
  parseFlags,
  runMain,
  UsageError,
} from "../cli/flags.ts";
import { semiCommand, semiFlags } from "./flags.ts";
import { Interrupted } from "../interrupt.ts";
import { openRunDir, readRunRecord } from "../run_dir.ts";
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
 * import { gridCells } from "./grid.ts";
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

// ---------------------------------------------------------------------------------------
// Command line.

// The training flags of exp:semi, less those the grid sets per cell or replaces.
const {
  nLabelled: _nLabelled,
  withheld: _withheld,
  seed: _seed,
  out: _out,
  resume: _resume,
  grid: _grid,
  gridNLabelled: _gridNLabelled,
  gridWithheld: _gridWithheld,
  gridSeeds: _gridSeeds,
  ...trainingFlags
} = semiFlags;

/** Flags of `exp:semi:grid`: the grid's values, probe settings and exp:semi's training flags. */
export const semiGridFlags = {
  nl: flag.intList("n_ℓ values (labelled images)", [100, 250, 500, 1000, 2000, 5000], 1),
  kw: flag.intList("k_w values (withheld classes)", [0, 3, 6], 0, 9),
  seeds: flag.intList("Seeds", [0, 1, 2], 0, 2 ** 31 - 1),
  out: flag.string("Results directory", "results/semi-grid"),
  probeC: flag.number("Linear probe: inverse ℓ2 regularisation C (sklearn's default)", 1, 1e-12),
  probeTol: flag.number("Linear probe: tolerance on ‖∇f‖∞/n", 1e-6, 1e-14),
  probeMaxIters: flag.int("Linear probe: maximum L-BFGS iterations", 2000, 1),
  aggregateOnly: flag.bool("Train nothing: aggregate the finished cells and redraw Figure 4"),
  ...trainingFlags,
} as const;

/** The `exp:semi:grid` command. */
export const semiGridCommand: Command<typeof semiGridFlags> = {
  name: "exp:semi:grid",
  summary: "Semi-supervised grid n_ℓ × k_w × seeds (resumable per cell) and Figure 4.",
  flags: semiGridFlags,
  outDefault: "results/semi-grid",
  checks: [
    (c) =>
      c.k! > c.batchSize!
        ? `--k ${c.k} exceeds --batch-size ${c.batchSize}: a batch of ${c.batchSize} images ` +
          `cannot be split into ${c.k} clusters`
        : null,
  ],
  // exp:semi's presets (quick / paper) change training flags only, which the grid shares.
  presets: semiCommand.presets as Command<typeof semiGridFlags>["presets"],
};

/** The validated configuration of `exp:semi:grid`. */
export type SemiGridConfig = ConfigOf<typeof semiGridFlags>;

/**
 * The grid options of `exp:semi --grid` (for the exp:semi entry point): its
 * `--grid-n-labelled`, `--grid-withheld`, and `--grid-seeds` seeds counted from `--seed`.
 *
 * @param config The decoded exp:semi configuration.
 * @returns Grid options (out: `--out` or `results/semi-grid`).
 */
export function gridOptionsFromSemiConfig(config: ConfigOf<typeof semiFlags>): GridOptions {
  return {
    out: config.out ?? "results/semi-grid",
    nLabelled: config.gridNLabelled,
    withheld: config.gridWithheld,
    seeds: Array.from({ length: config.gridSeeds ?? 1 }, (_, i) => (config.seed ?? 0) + i),
  };
}

/**
 * The options {@link runGrid} takes for a grid configuration: its cells, output directory and
 * probe settings.
 *
 * @param config A decoded `exp:semi:grid` configuration.
 * @returns Grid options.
 */
export function gridOptionsOf(config: SemiGridConfig): GridOptions {
  return {
    out: config.out!,
    nLabelled: config.nl,
    withheld: config.kw,
    seeds: config.seeds,
    probe: { C: config.probeC, tol: config.probeTol, maxIters: config.probeMaxIters },
  };
}

/**
 * The grid configuration that `exp:semi --grid` stands for: exp:semi's training flags, the grid
 * from `--grid-n-labelled`, `--grid-withheld` and `--grid-seeds` (seeds counted from `--seed`),
 * `--out` (default `results/semi-grid`) and the probe's defaults.
 *
 * @param config The decoded exp:semi configuration (with `grid` set).
 * @returns The equivalent `exp:semi:grid` configuration.
 */
export function gridConfigFromSemiConfig(config: SemiConfig): SemiGridConfig {
  const {
    nLabelled: _n,
    withheld: _w,
    seed: _s,
    out: _o,
    resume: _r,
    grid: _g,
    gridNLabelled: _gn,
    gridWithheld: _gw,
    gridSeeds: _gs,
    ...training
  } = config;
  const options = gridOptionsFromSemiConfig(config);
  return {
    ...training,
    nl: options.nLabelled,
    kw: options.withheld,
    seeds: options.seeds,
    out: options.out,
    probeC: semiGridFlags.probeC.default,
    probeTol: semiGridFlags.probeTol.default,
    probeMaxIters: semiGridFlags.probeMaxIters.default,
    aggregateOnly: false,
  } as SemiGridConfig;
}

/**
 * The exp:semi configuration of one cell: the grid's training flags with the cell's n_ℓ,
 * k_w and seed, its run directory as `out`, `resume` on (the engine continues from a
 * checkpoint a killed attempt left there, or starts at step 0), `grid` off, progress quiet.
 *
 * @param config The grid configuration.
 * @param cell The cell.
 * @param context Its run directory.
 * @returns The configuration `runSemiCell` takes.
 */
export function cellConfig(
  config: SemiGridConfig,
  cell: GridCell,
  context: CellContext,
): SemiConfig {
  const {
    nl: _nl,
    kw: _kw,
    seeds: _seeds,
    out: _o,
    probeC: _c,
    probeTol: _tol,
    probeMaxIters: _it,
    aggregateOnly: _a,
    ...training
  } = config;
  // Every training flag has a default (cli.ts), so the decoded values are all present; the
  // cast only narrows ConfigOf's optional types to SemiConfig's.
  return {
    ...training,
    nLabelled: cell.nLabelled,
    withheld: cell.withheld,
    seed: cell.seed,
    out: context.runDir,
    resume: true,
    quiet: true,
    grid: false,
    gridNLabelled: config.nl,
    gridWithheld: config.kw,
    gridSeeds: config.seeds.length,
  } as unknown as SemiConfig;
}

/** The embeddings file `runSemiCell` writes per method (`<run>/<method>/embeddings.json`). */
const EmbeddingsFileCodec = t.type({
  dim: t.number,
  holdout: t.type({ labels: t.array(t.number), data: t.array(t.number) }),
  test: t.type({ labels: t.array(t.number), data: t.array(t.number) }),
});

/**
 * Reads an embeddings file of `runSemiCell` back as the probe's training and test sets.
 *
 * @param path `embeddings.json` of one method.
 * @returns Hold-out and test embeddings with labels.
 * @throws {Error} Naming the file if it is missing, not JSON, or not the expected shape.
 */
export async function readEmbeddingsFile(
  path: string,
): Promise<{ holdout: LabelledEmbeddings; test: LabelledEmbeddings }> {
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(`Cannot read embeddings ${path}: ${(e as Error).message}`);
  }
  const decoded = EmbeddingsFileCodec.decode(json);
  if (E.isLeft(decoded)) {
    throw new Error(
      `Invalid embeddings ${path}: ${PathReporter.report(decoded).slice(0, 3).join("; ")}`,
    );
  }
  const { dim, holdout, test } = decoded.right;
  const set = (s: { labels: number[]; data: number[] }, name: string): LabelledEmbeddings => {
    if (s.data.length !== s.labels.length * dim) {
      throw new Error(
        `Invalid embeddings ${path}: ${name} has ${s.data.length} values for ${s.labels.length} ` +
          `labels of dimension ${dim}`,
      );
    }
    return {
      features: { rows: s.labels.length, cols: dim, data: Float64Array.from(s.data) },
      labels: s.labels,
    };
  };
  return { holdout: set(holdout, "holdout"), test: set(test, "test") };
}

/**
 * Maps the `CellResult` of experiments/semi/cell.ts to the grid's {@link CellOutcome}: the
 * test batch metrics from each run's summary, and the hold-out / test embeddings read back
 * from the files it wrote (the grid refits the probe itself so that every cell file records
 * the probe's iterations and final gradient norm; its accuracy equals runSemiCell's own
 * probe up to the 1e-5 rounding of the stored embeddings).
 *
 * @param result What runSemiCell returned.
 * @returns The cell outcome.
 * @throws {Error} If an embeddings file is missing or malformed.
 */
export async function cellOutcomeFromSemiResult(result: CellResult): Promise<CellOutcome> {
  const method = async (m: CellResult["ours"]): Promise<MethodOutcome> => ({
    batchPrecision: m.summary.test.precision,
    ari: m.summary.test.ari,
    nmi: m.summary.test.nmi,
    acc: m.summary.test.acc,
    ...(await readEmbeddingsFile(m.embeddingsFile)),
  });
  const details = (m: CellResult["ours"]) => ({
    stepsDone: m.summary.stepsDone,
    bestStep: m.summary.bestStep,
    stoppedEarly: m.summary.stoppedEarly,
    stepSeconds: m.summary.timing.stepSeconds,
    backend: m.summary.backend,
    engineProbeTestAccuracy: m.probeTestAccuracy,
  });
  return {
    methods: { ours: await method(result.ours), ce: await method(result.ce) },
    details: {
      dataset: result.dataset,
      withheldClasses: result.withheldClasses,
      labelledPerClass: result.labelledPerClass,
      ours: details(result.ours),
      ce: details(result.ce),
    },
  };
}

/**
 * The real cell runner: selects the tfjs backend once, then per cell calls `runSemiCell` of
 * experiments/semi/cell.ts (imported lazily, so the grid's tests never load the engine)
 * with {@link cellConfig} and maps its result with {@link cellOutcomeFromSemiResult}.
 *
 * @param config The grid configuration.
 * @returns A {@link CellRunner}.
 */
export function semiCellRunner(config: SemiGridConfig): CellRunner {
  let backend: Promise<string> | null = null;
  return async (cell, context) => {
    backend ??= selectBackend(config.backend ?? "auto", undefined, {
      convolutional: isConvolutional(config.model ?? "mlp"),
    }).then((b) => b.name);
    const { runSemiCell } = await import("./cell.ts");
    const result = await runSemiCell(cellConfig(config, cell, context), await backend);
    return cellOutcomeFromSemiResult(result);
  };
}

/**
 * Entry point of `deno task exp:semi:grid`.
 *
 * @param argv Arguments.
 * @param runCell Cell runner (default: {@link semiCellRunner}); tests pass a fake.
 * @returns The report, or null after `--help`.
 * @throws {RangeError} On invalid flags.
 */
export async function main(
  argv: readonly string[],
  runCell?: CellRunner,
): Promise<GridReport | null> {
  const parsed = parseFlags(semiGridCommand, argv);
  if (E.isLeft(parsed)) throw new UsageError(parsed.left);
  if (parsed.right._tag === "Help") {
    console.log(parsed.right.text);
    return null;
  }
  const config = parsed.right.config;
  const options = gridOptionsOf(config);
  if (config.aggregateOnly) {
    const cells = gridCells(options.nLabelled, options.withheld, options.seeds);
    const aggregate = await writeAggregate(options.out, cells);
    return { ran: [], skipped: [], failed: [], aggregate };
  }
  await openGridDir(config);
  try {
    return await runGrid(options, runCell ?? semiCellRunner(config));
  } catch (e) {
    // The grid has no --resume: the same command continues it (cell by cell, from checkpoints).
    if (e instanceof Interrupted) {
      throw new Interrupted(e.step, e.signal, "run the same command again to continue the grid");
    }
    throw e;
  }
}

/**
 * Claims a grid's results directory (run_dir.ts): a new one, or one holding a grid with the
 * same training and probe settings, which the grid continues cell by cell (the grid's values
 * `--nl`, `--kw`, `--seeds` may grow). A directory holding anything else, or a grid trained
 * with other settings, is refused with the difference.
 *
 * @param config The grid's configuration.
 * @returns Resolves when the directory is claimed.
 * @throws {RunSetupError} As described.
 */
export async function openGridDir(config: SemiGridConfig): Promise<void> {
  const { nl: _nl, kw: _kw, seeds: _s, aggregateOnly: _a, ...settings } = config;
  const out = config.out!;
  const holdsGrid = (await readRunRecord(out).catch(() => null))?.command === "exp:semi:grid";
  await openRunDir(out, {
    command: "exp:semi:grid",
    config: settings,
    resume: holdsGrid,
    resumable: false, // it has no --resume: the same command continues it
    continues: true,
  });
}

if (import.meta.main) {
  await runMain(async () => {
    const report = await main(Deno.args);
    if (report !== null && report.failed.length > 0) {
      throw new Error(`${report.failed.length} grid cell(s) failed (listed above)`);
    }
  });
}
