/**
 * `deno task compare:batch`: what seeing 1024 points per step does to MNIST test precision,
 * against the paper's batches of 64, at equal training time.
 *
 *     deno task compare:batch --minutes 20                    # paper LeNet on wasm (quick preset)
 *     deno task compare:batch --minutes 20 --resume           # after an interruption
 *
 * Two exp:mnist runs, one after the other in this process, with the same preset, seed, ε,
 * samples, learning rate and time budget:
 *
 * - `dense-<small>`: batches of `--small-batch` (64), the dense loss on all pairs;
 * - `knn-<large>`: batches of `--large-batch` (1024), the loss on each batch's
 *   `--graph-neighbours`-NN graph (`--loss-graph knn`).
 *
 * Each trains until its summed step time reaches `--minutes` (`--max-minutes`; evaluations are
 * not counted), with a constant learning rate (a cosine schedule needs a step horizon the budget
 * does not give) and no early stopping; both are evaluated after the same number of training
 * images (`--eval-images`, rounded to whole steps) on the same validation batches of
 * `--small-batch` images (`--eval-batch-size`), and the best of those checkpoints is tested on the
 * same 78 test batches of 64. The runs go to `<out>/dense-<small>` and `<out>/knn-<large>` and are
 * resumable; a table of test precision, steps, images seen and time per step is printed and
 * written to `<out>/comparison.json`.
 *
 * @module
 */
import {
  AlreadyFinished,
  type Command,
  type ConfigOf,
  flag,
  parseOrExit,
  runMain,
} from "../experiments/cli/flags.ts";
import { BACKEND_CHOICES, MODEL_CHOICES } from "../experiments/choices.ts";
import { writeJsonAtomic } from "../experiments/io.ts";
import type { RunSummary } from "../experiments/mnist/engine.ts";
import { main as mnistMain } from "../experiments/mnist/main.ts";

/** Flags of `compare:batch`. */
export const compareBatchFlags = {
  minutes: flag.positive("Training time of each run, in minutes of summed step time", 20),
  preset: flag.choice(
    ["quick", "quick-mlp", "paper"] as const,
    "exp:mnist preset of both runs (network, backend, learning rate)",
    "quick",
  ),
  backend: {
    ...flag.choice(BACKEND_CHOICES, "tfjs backend (default: the preset's)", "auto"),
    default: undefined,
  },
  model: {
    ...flag.choice(MODEL_CHOICES, "Embedding network (default: the preset's)", "paper-lenet"),
    default: undefined,
  },
  learningRate: flag.positive("Adam learning rate of both runs (default: the preset's)", undefined),
  smallBatch: flag.int("Batch size of the dense run", 64, 2),
  largeBatch: flag.int("Batch size of the graph run", 1024, 3),
  graphNeighbours: flag.int("Neighbours per point of the graph run's kNN graph", 15, 1),
  samples: flag.int("Monte-Carlo samples of the perturbed loss", 100, 1),
  evalImages: flag.int("Training images between validation evaluations", 32000, 1),
  evalBatches: flag.int("Validation batches per evaluation (max 78)", 78, 1, 78),
  testBatches: flag.int("Test batches of the final evaluation (max 78)", 78, 1, 78),
  trainLimit: flag.int("Use only the first N training images (0: all; smoke tests)", 0, 0),
  datasetEval: flag.bool("Also run exp:mnist's data-set-level evaluation after each run"),
  seed: flag.int("Seed of both runs", 0, 0, 2 ** 31 - 1),
  out: flag.string(
    "Results directory (default: results/compare-batch-<minutes>min-seed<seed>)",
    undefined,
  ),
  resume: flag.bool("Continue the runs in --out (a finished one is read, not rerun)"),
  quiet: flag.bool("No progress bars: log lines only"),
} as const;

type Config = ConfigOf<typeof compareBatchFlags>;

/** `compare:batch`. */
export const compareBatchCommand: Command<typeof compareBatchFlags> = {
  name: "compare:batch",
  summary: "exp:mnist at equal training time: batches of 64 on the dense loss against " +
    "batches of 1024 on the kNN-graph loss.",
  flags: compareBatchFlags,
  checks: [
    (c) =>
      c.largeBatch! <= c.smallBatch!
        ? `--large-batch ${c.largeBatch} is not above --small-batch ${c.smallBatch}`
        : null,
    (c) =>
      c.graphNeighbours! >= c.largeBatch!
        ? `--graph-neighbours ${c.graphNeighbours} must be below --large-batch ${c.largeBatch}: ` +
          `a point of a batch has at most ${c.largeBatch! - 1} neighbours`
        : null,
    (c) =>
      c.trainLimit! > 0 && c.trainLimit! < c.largeBatch!
        ? `--train-limit ${c.trainLimit} is smaller than --large-batch ${c.largeBatch}: not one ` +
          `full batch`
        : null,
  ],
};

/** One run of the comparison. */
export interface ComparedRun {
  /** Directory name under `--out`: `dense-64`, `knn-1024`. */
  readonly name: string;
  readonly loss: "dense" | "knn";
  readonly batchSize: number;
  /** The exp:mnist arguments of the run. */
  readonly args: readonly string[];
}

/** Validation evaluations every `images` training images, in steps of `batch` (at least 1). */
export function stepsPerImages(images: number, batch: number): number {
  return Math.max(1, Math.round(images / batch));
}

/** Steps and patience of the runs: never reached, the time budget stops them. */
const UNREACHED = 1_000_000_000;

/**
 * The results directory of a comparison.
 *
 * @param cfg Flags.
 * @returns `--out`, or its default.
 */
export function outDir(cfg: Pick<Config, "out" | "minutes" | "seed">): string {
  return cfg.out ?? `results/compare-batch-${cfg.minutes}min-seed${cfg.seed}`;
}

/**
 * The two runs' exp:mnist arguments (module doc).
 *
 * @param cfg Flags of the comparison.
 * @returns The dense run, then the graph run.
 */
export function comparedRuns(cfg: Config): readonly [ComparedRun, ComparedRun] {
  const out = outDir(cfg);
  const common = (batch: number) => [
    "--preset",
    cfg.preset!,
    ...(cfg.backend === undefined ? [] : ["--backend", cfg.backend]),
    ...(cfg.model === undefined ? [] : ["--model", cfg.model]),
    ...(cfg.learningRate === undefined ? [] : ["--learning-rate", String(cfg.learningRate)]),
    "--lr-schedule",
    "constant",
    "--steps",
    String(UNREACHED),
    "--patience",
    String(UNREACHED),
    "--max-minutes",
    String(cfg.minutes),
    "--batch-size",
    String(batch),
    "--eval-batch-size",
    String(cfg.smallBatch),
    "--eval-every",
    String(stepsPerImages(cfg.evalImages!, batch)),
    "--checkpoint-every",
    String(stepsPerImages(cfg.evalImages!, batch)),
    "--eval-batches",
    String(cfg.evalBatches),
    "--test-batches",
    String(cfg.testBatches),
    "--samples",
    String(cfg.samples),
    "--seed",
    String(cfg.seed),
    ...(cfg.trainLimit! > 0 ? ["--train-limit", String(cfg.trainLimit)] : []),
    ...(cfg.datasetEval ? [] : ["--no-dataset-eval"]),
    ...(cfg.quiet ? ["--quiet"] : []),
    ...(cfg.resume ? ["--resume"] : []),
  ];
  const dense = `dense-${cfg.smallBatch}`, knn = `knn-${cfg.largeBatch}`;
  return [
    {
      name: dense,
      loss: "dense",
      batchSize: cfg.smallBatch!,
      args: [...common(cfg.smallBatch!), "--out", `${out}/${dense}`],
    },
    {
      name: knn,
      loss: "knn",
      batchSize: cfg.largeBatch!,
      args: [
        ...common(cfg.largeBatch!),
        "--loss-graph",
        "knn",
        "--graph-neighbours",
        String(cfg.graphNeighbours),
        "--out",
        `${out}/${knn}`,
      ],
    },
  ];
}

/** One row of the comparison table. */
export interface ComparisonRow {
  readonly run: string;
  readonly loss: string;
  readonly batchSize: number;
  readonly testPrecision: number;
  readonly testAri: number;
  readonly testNmi: number;
  readonly testAcc: number;
  /** Best validation precision (the selected checkpoint's). */
  readonly valPrecision: number;
  readonly bestStep: number;
  readonly steps: number;
  readonly imagesSeen: number;
  /** Summed step time (the budgeted quantity), seconds. */
  readonly trainSeconds: number;
  readonly stepSeconds: number;
  readonly lossSeconds: number | null;
  readonly budgetReached: boolean;
}

/**
 * The table row of a finished run.
 *
 * @param run The run.
 * @param s Its summary.json.
 * @returns The row.
 */
export function comparisonRow(run: ComparedRun, s: RunSummary): ComparisonRow {
  return {
    run: run.name,
    loss: run.loss === "knn" ? "kNN graph" : "dense",
    batchSize: run.batchSize,
    testPrecision: s.test.precision,
    testAri: s.test.ari,
    testNmi: s.test.nmi,
    testAcc: s.test.acc,
    valPrecision: 1 - s.bestValError,
    bestStep: s.bestStep,
    steps: s.stepsDone,
    imagesSeen: s.stepsDone * run.batchSize,
    trainSeconds: s.timeBudget?.trainSeconds ?? s.timing.stepSeconds * s.timing.timedSteps,
    stepSeconds: s.timing.stepSeconds,
    lossSeconds: s.timing.clusterLossSeconds,
    budgetReached: s.timeBudget?.reached ?? false,
  };
}

/**
 * The comparison as a markdown table.
 *
 * @param rows Rows, dense first.
 * @returns The lines.
 *
 * @example
 * ```ts
 * import { formatComparison } from "./graph_batch_compare.ts";
 * const lines = formatComparison([{ run: "dense-64", loss: "dense", batchSize: 64,
 *   testPrecision: 0.99, testAri: 0.9, testNmi: 0.9, testAcc: 0.9, valPrecision: 0.995,
 *   bestStep: 100, steps: 120, imagesSeen: 7680, trainSeconds: 60, stepSeconds: 0.5,
 *   lossSeconds: 0.01, budgetReached: true }]);
 * if (!lines[2].startsWith("| dense-64 | dense | 64 | 0.9900 |")) throw new Error(lines[2]);
 * ```
 */
export function formatComparison(rows: readonly ComparisonRow[]): string[] {
  return [
    "| run | loss | batch | test precision | ARI / NMI / ACC | val precision (best step) | " +
    "steps | images seen | training s | s/step (loss) |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows.map((r) =>
      `| ${r.run} | ${r.loss} | ${r.batchSize} | ${r.testPrecision.toFixed(4)} | ` +
      `${r.testAri.toFixed(3)} / ${r.testNmi.toFixed(3)} / ${r.testAcc.toFixed(3)} | ` +
      `${r.valPrecision.toFixed(4)} (${r.bestStep}) | ${r.steps} | ${r.imagesSeen} | ` +
      `${r.trainSeconds.toFixed(1)}${r.budgetReached ? "" : " (budget not reached)"} | ` +
      `${r.stepSeconds.toFixed(3)} (${r.lossSeconds?.toFixed(3) ?? "–"}) |`
    ),
  ];
}

/**
 * Runs `compare:batch` with the given arguments.
 *
 * @param argv Command-line arguments.
 * @returns The rows (dense, then graph).
 */
export async function main(argv: readonly string[]): Promise<ComparisonRow[]> {
  const cfg = parseOrExit(compareBatchCommand, argv);
  const rows: ComparisonRow[] = [], out = outDir(cfg);
  for (const run of comparedRuns(cfg)) {
    console.error(`[compare:batch] ${run.name}: deno task exp:mnist ${run.args.join(" ")}`);
    let summary: RunSummary;
    try {
      const result = await mnistMain(run.args);
      result.model.dispose();
      if (result.model !== result.backbone) result.backbone.dispose();
      summary = result.summary;
    } catch (e) {
      if (!(e instanceof AlreadyFinished)) throw e;
      console.error(`[compare:batch] ${run.name} finished earlier: reading its summary`);
      summary = JSON.parse(await Deno.readTextFile(`${out}/${run.name}/summary.json`));
    }
    rows.push(comparisonRow(run, summary));
  }
  const table = formatComparison(rows);
  console.log(
    `\n[compare:batch] ${cfg.minutes} min of training each (${cfg.preset} preset, seed ` +
      `${cfg.seed}); test precision on ${cfg.testBatches} batches of ${cfg.smallBatch}:`,
  );
  for (const line of table) console.log(line);
  await writeJsonAtomic(`${out}/comparison.json`, { flags: cfg, rows });
  return rows;
}

if (import.meta.main) await runMain(() => main(Deno.args));
