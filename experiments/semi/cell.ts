/**
 * One cell (n_ℓ, k_w, seed) of the semi-supervised experiment (paper §4.2, appendix 11.2,
 * Figure 4): `deno task exp:semi` runs one (experiments/semi/main.ts), the grid runs many
 * (experiments/semi/grid.ts); both import this module, which imports neither.
 *
 * Protocol (reference code): a balanced hold-out of 1000 train images (100 per class) for the
 * linear probe; from the other 59 000, n_ℓ // (10 − k_w) labelled images of each kept class
 * (the k_w withheld classes are never labelled). Ours: the perturbed partial FY loss on
 * batches of 32 labelled + 32 unlabelled images (pairs with an unlabelled point unknown),
 * ε = 0.1, 100 samples. Baseline: the same backbone + Dense(10) trained with cross-entropy on
 * labelled batches of 64 (checkpoint by validation classification error). Both backbones are
 * then frozen; the hold-out and the test split are embedded, and a multinomial logistic
 * regression probe fitted on the hold-out embeddings is scored on the test embeddings.
 *
 * Results: `<out>/ours/`, `<out>/ce/` (each a full engine run directory plus
 * `embeddings.json`), and `<out>/cell.json` (the {@link CellResult}).
 *
 * @module
 */
import type { ConfigOf } from "../cli/flags.ts";
import type { semiFlags } from "./flags.ts";
import {
  balancedHoldout,
  batchAt,
  batchPlan,
  mixSeed,
  partialLabels,
  semiBatchAt,
  semiSupervisedSplit,
  testValidationSplit,
  withheldClasses,
} from "../data/splits.ts";
import { writeJsonAtomic } from "../io.ts";
import { fitLogisticProbe, probeAccuracy } from "../probe/logistic.ts";
import {
  embedImages,
  type ImageDataset,
  loadDataset,
  type RunSummary,
  trainRun,
  type TrainSetup,
} from "../mnist/engine.ts";
import { defaultOut, engineConfig, evaluationBatches, type MnistConfig } from "../mnist/main.ts";

type RawSemiConfig = ConfigOf<typeof semiFlags>;
/** The parsed flags of `exp:semi` (every flag but `out` / `dataDir` has a default). */
export type SemiConfig = {
  readonly [K in keyof RawSemiConfig]-?: K extends "out" | "dataDir" ? RawSemiConfig[K]
    : NonNullable<RawSemiConfig[K]>;
};

/** One method's outcome in a cell. */
export interface MethodResult {
  /** The engine's summary (test batch precision, ARI, NMI, ACC, timings). */
  readonly summary: RunSummary;
  /** Clustering error on test batches: 1 − batch precision (Figure 4, left). */
  readonly clusteringError: number;
  /** Test accuracy of the linear probe fitted on the hold-out embeddings (Figure 4, right). */
  readonly probeTestAccuracy: number;
  /** Whether the probe's solver reached its tolerance. */
  readonly probeConverged: boolean;
  /** Where the embeddings were written. */
  readonly embeddingsFile: string;
}

/** The outcome of one (n_ℓ, k_w, seed) cell. */
export interface CellResult {
  readonly dataset: string;
  readonly nLabelled: number;
  readonly withheld: number;
  readonly withheldClasses: readonly number[];
  readonly seed: number;
  readonly labelledPerClass: number;
  readonly ours: MethodResult;
  readonly ce: MethodResult;
}

/** Default results directory of a cell. */
export function cellOut(
  cfg: Pick<SemiConfig, "dataset" | "preset" | "seed" | "nLabelled" | "withheld">,
): string {
  return `${defaultOut(cfg)}-semi-n${cfg.nLabelled}-kw${cfg.withheld}`;
}

/**
 * Embeds the hold-out and test images, fits the probe on the hold-out, scores it on the test
 * images, and writes the embeddings.
 */
async function probeAndSave(
  run: Awaited<ReturnType<typeof trainRun>>,
  ds: ImageDataset,
  holdout: Int32Array,
  test: Int32Array,
  file: string,
): Promise<Omit<MethodResult, "summary" | "clusteringError">> {
  const h = await embedImages(run.backbone, ds, "train", holdout);
  const t = await embedImages(run.backbone, ds, "test", test);
  const hLabels = Array.from(holdout, (i) => ds.train.labels[i]!);
  const tLabels = Array.from(test, (i) => ds.test.labels[i]!);
  const probe = fitLogisticProbe(h, hLabels, { numClasses: ds.numClasses });
  const accuracy = probeAccuracy(probe, t, tLabels);
  const round = (x: Float32Array) => Array.from(x, (v) => Math.round(v * 1e5) / 1e5);
  await writeJsonAtomic(file, {
    dim: h.cols,
    holdout: { indices: Array.from(holdout), labels: hLabels, data: round(h.data) },
    test: { indices: Array.from(test), labels: tLabels, data: round(t.data) },
  });
  return { probeTestAccuracy: accuracy, probeConverged: probe.converged, embeddingsFile: file };
}

/**
 * Runs one semi-supervised cell: trains ours and the CE baseline, probes both, writes
 * `cell.json`. Each run resumes from its checkpoints when `resume` is set (so a grid runner can
 * resume cell by cell).
 *
 * @param cfg Flags of `exp:semi` (n_ℓ, k_w, seed, every hyperparameter).
 * @param backend Backend name recorded in the summaries.
 * @returns The cell's result.
 * @throws {RangeError} If n_ℓ gives fewer than one labelled image per kept class.
 */
export async function runSemiCell(cfg: SemiConfig, backend = "unknown"): Promise<CellResult> {
  const ds = await loadDataset(cfg.dataset, cfg.dataDir);
  const out = (cfg.out ?? cellOut(cfg)).replace(/\/+$/, "");
  const { holdout, train } = balancedHoldout(ds.train.labels, 100, cfg.seed, ds.numClasses);
  const pool = cfg.trainLimit > 0 ? train.filter((i) => i < cfg.trainLimit) : train;
  const withheld = withheldClasses(cfg.dataset, cfg.withheld, ds.numClasses);
  let split: ReturnType<typeof semiSupervisedSplit>;
  try {
    split = semiSupervisedSplit(ds.train.labels, pool, cfg.nLabelled, withheld, cfg.seed);
  } catch (e) {
    throw new RangeError(
      `Invalid --n-labelled ${cfg.nLabelled} with --withheld ${cfg.withheld} on ${pool.length} ` +
        `training images: ${(e as Error).message}`,
    );
  }
  const { validation, test } = evaluationBatches(ds, cfg);
  const half = Math.floor(cfg.batchSize / 2);
  const protocol = {
    dataset: cfg.dataset,
    nLabelled: cfg.nLabelled,
    withheld: cfg.withheld,
    withheldClasses: withheld,
    labelledPerClass: split.perClass,
    labelled: split.labelled.length,
    unlabelled: split.unlabelled.length,
    holdout: holdout.length,
  };
  const common = { resume: cfg.resume, quiet: cfg.quiet, logEvery: cfg.logEvery, backend };

  const testImages = testValidationSplit(ds.test.n).test;
  // One method: train (or resume) its run, then probe its frozen backbone.
  const trainAndProbe = async (
    method: "ours" | "ce",
    batchAt: TrainSetup["batchAt"],
  ): Promise<{ run: Awaited<ReturnType<typeof trainRun>>; result: MethodResult }> => {
    const setup: TrainSetup = {
      dataset: ds,
      batchAt,
      validation,
      test,
    };
    const objective = method === "ours" ? "cluster" : "ce";
    const run = await trainRun(engineConfig(cfg as unknown as MnistConfig, objective), setup, {
      ...common,
      outDir: `${out}/${method}`,
      label: method,
      withheld,
      meta: { command: "exp:semi", method, flags: cfg, protocol },
    });
    const probe = await probeAndSave(
      run,
      ds,
      holdout,
      testImages,
      `${out}/${method}/embeddings.json`,
    );
    const clusteringError = 1 - run.summary.test.precision;
    return { run, result: { summary: run.summary, clusteringError, ...probe } };
  };

  const ours = await trainAndProbe("ours", (step) => {
    const b = semiBatchAt(split, step, cfg.seed, half);
    return { indices: b.indices, labels: partialLabels(ds.train.labels, b) };
  });
  const cePlan = batchPlan(
    split.labelled,
    Math.min(cfg.batchSize, split.labelled.length),
    mixSeed(cfg.seed, 0xce),
  );
  const ce = await trainAndProbe("ce", (step) => {
    const indices = batchAt(cePlan, step);
    return { indices, labels: Array.from(indices, (i) => ds.train.labels[i]!) };
  });
  for (const r of [ours, ce]) r.run.model.dispose(); // the CE model shares the backbone's layers

  const result: CellResult = {
    dataset: cfg.dataset,
    nLabelled: cfg.nLabelled,
    withheld: cfg.withheld,
    withheldClasses: withheld,
    seed: cfg.seed,
    labelledPerClass: split.perClass,
    ours: ours.result,
    ce: ce.result,
  };
  await writeJsonAtomic(`${out}/cell.json`, result);
  return result;
}
