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

import type { GridCell } from "./aggregate.ts";
import {
  type CellContext,
  type CellOutcome,
  type CellRunner,
  gridCells,
  type GridOptions,
  type GridReport,
  type LabelledEmbeddings,
  type MethodOutcome,
  runGrid,
  writeAggregate,
} from "./grid_runner.ts";

export * from "./grid_runner.ts";

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
