/**
 * `deno task exp:mnist`: supervised learning through clustering (paper §4.1, appendix 11.1) —
 * an embedding network trained with the perturbed partial Fenchel–Young loss on fully labelled
 * batches, evaluated by batch-wise clustering precision on the test split.
 *
 * Protocol (reference code): training batches from the official train split (a fresh seeded
 * permutation per epoch); official test split: first half = test, second half = validation;
 * evaluation batches of `--batch-size` (64 ⇒ 78 batches, last irregular one dropped), or of
 * `--eval-batch-size` when given.
 *
 * Large batches: `--loss-graph knn` trains with the clustering loss on each batch's kNN graph
 * (`--graph-neighbours`, default 15) instead of all pairs, so `--batch-size 1024` is practical;
 * `--max-minutes M` stops training after M minutes of step time. Together with
 * `--eval-batch-size 64` they compare batch sizes at equal training time
 * (`scripts/graph_batch_compare.ts`).
 *
 * Then, unless `--no-dataset-eval`, the data-set-level evaluation of the selected weights on the
 * whole test split (`--dataset-images` to take only the first N): single linkage, mutual
 * reachability and single linkage with a minimum cluster size (⌈n / (4k)⌉) of the 15-NN graph at
 * k = number of classes, and transductive labelling from 1 % of the labels (`dataset_level.ts`),
 * in summary.json under `datasetLevel`.
 *
 * @module
 */
import { type ConfigOf, parseOrExit, runMain } from "../cli/flags.ts";
import {
  AUGMENT_SHIFT_PIXELS,
  GRAPH_LOSS_NEIGHBOURS,
  mnistCommand,
  type mnistFlags,
} from "./flags.ts";
import { markFinished, openRunDir } from "../run_dir.ts";
import { selectBackend } from "../../tf/backend.ts";
import {
  batchAt,
  batchPlan,
  fixedBatches,
  mixSeed,
  range,
  testValidationSplit,
} from "../data/splits.ts";
import {
  type EngineConfig,
  type ImageAugment,
  type ImageDataset,
  loadDataset,
  type RunResult,
  trainRun,
  type TrainSetup,
} from "./engine.ts";
import { isConvolutional, type ModelChoice } from "../models.ts";
import { formatDatasetEvaluation } from "../dataset_eval.ts";

type RawMnistConfig = ConfigOf<typeof mnistFlags>;
/** Flags of `exp:mnist` that may be absent (no default value). */
type OptionalMnistFlag =
  | "out"
  | "dataDir"
  | "lossGraph"
  | "graphNeighbours"
  | "maxMinutes"
  | "evalBatchSize"
  | "augment";
/** The parsed flags of `exp:mnist` (every flag but the optional ones has a default). */
export type MnistConfig = {
  readonly [K in keyof RawMnistConfig]-?: K extends OptionalMnistFlag ? RawMnistConfig[K]
    : NonNullable<RawMnistConfig[K]>;
};

/**
 * The network a data set trains: CIFAR-10 always uses the ResNet (its images are 32×32×3).
 *
 * @param cfg Flags.
 * @returns The model name.
 */
export function modelFor(cfg: Pick<MnistConfig, "dataset" | "model">): ModelChoice {
  if (cfg.dataset === "cifar10" && cfg.model !== "resnet") {
    console.error(`[exp:mnist] cifar10 uses --model resnet (asked: ${cfg.model})`);
    return "resnet";
  }
  return cfg.model;
}

/**
 * Engine settings from the flags.
 *
 * @param cfg Flags.
 * @param objective Objective.
 * @returns Engine config.
 */
export function engineConfig(
  cfg: MnistConfig,
  objective: EngineConfig["objective"],
): EngineConfig {
  return {
    objective,
    model: modelFor(cfg),
    ...(cfg.embeddingDim > 0 ? { embeddingDim: cfg.embeddingDim } : {}),
    steps: cfg.steps,
    k: cfg.k,
    epsilon: cfg.epsilon,
    samples: cfg.samples,
    learningRate: cfg.learningRate,
    lrSchedule: cfg.lrSchedule,
    weightDecay: cfg.weightDecay,
    standardise: true,
    ...(cfg.lossGraph === "knn"
      ? {
        lossGraph: "knn" as const,
        graphNeighbours: cfg.graphNeighbours ?? GRAPH_LOSS_NEIGHBOURS,
      }
      : {}),
    evalEvery: cfg.evalEvery,
    patience: cfg.patience,
    checkpointEvery: cfg.checkpointEvery,
    seed: cfg.seed,
  };
}

/**
 * Validation and test batches of the test split (reference protocol), of `evalBatchSize`
 * images when given, else of the training batch size.
 *
 * @param ds Data set.
 * @param cfg Batch sizes and how many batches.
 * @returns The batches.
 */
export function evaluationBatches(
  ds: ImageDataset,
  cfg:
    & Pick<MnistConfig, "batchSize" | "evalBatches" | "testBatches">
    & Partial<Pick<MnistConfig, "evalBatchSize">>,
): { validation: Int32Array[]; test: Int32Array[] } {
  const split = testValidationSplit(ds.test.n);
  const size = cfg.evalBatchSize ?? cfg.batchSize;
  return {
    validation: fixedBatches(split.validation, size).slice(0, cfg.evalBatches),
    test: fixedBatches(split.test, size).slice(0, cfg.testBatches),
  };
}

/**
 * The augmentation of `--augment` (MNIST and Fashion-MNIST training batches).
 *
 * @param choice The flag's value (absent: none).
 * @returns The shifts and flips, or undefined for none.
 */
export function augmentOf(choice: MnistConfig["augment"]): ImageAugment | undefined {
  if (choice === undefined || choice === "none") return undefined;
  return {
    shift: choice === "flip" ? 0 : AUGMENT_SHIFT_PIXELS,
    flip: choice !== "shift",
  };
}

/** Default results directory of a run. */
export function defaultOut(cfg: Pick<MnistConfig, "dataset" | "preset" | "seed">): string {
  return `results/${cfg.dataset}-${cfg.preset}-seed${cfg.seed}`;
}

/**
 * Runs `exp:mnist` with the given arguments.
 *
 * @param argv Command-line arguments.
 * @returns The run (best-weights networks, summary, history).
 */
export async function main(argv: readonly string[]): Promise<RunResult> {
  const cfg = parseOrExit(mnistCommand, argv) as MnistConfig;
  const out = cfg.out ?? defaultOut(cfg);
  await openRunDir(out, { command: "exp:mnist", config: cfg, resume: cfg.resume });
  const backend = await selectBackend(cfg.backend, undefined, {
    convolutional: isConvolutional(modelFor(cfg)),
  });
  const ds = await loadDataset(cfg.dataset, cfg.dataDir, augmentOf(cfg.augment));
  const trainIdx = range(0, cfg.trainLimit > 0 ? Math.min(cfg.trainLimit, ds.train.n) : ds.train.n);
  const plan = batchPlan(trainIdx, cfg.batchSize, mixSeed(cfg.seed, 0x7a1));
  const { validation, test } = evaluationBatches(ds, cfg);
  const setup: TrainSetup = {
    dataset: ds,
    batchAt: (step) => {
      const indices = batchAt(plan, step);
      return { indices, labels: Array.from(indices, (i) => ds.train.labels[i]!) };
    },
    validation,
    test,
  };
  const datasetImages = cfg.datasetImages > 0 ? Math.min(cfg.datasetImages, ds.test.n) : ds.test.n;
  const result = await trainRun(engineConfig(cfg, "cluster"), setup, {
    outDir: out,
    resume: cfg.resume,
    quiet: cfg.quiet,
    logEvery: cfg.logEvery,
    label: cfg.dataset,
    backend: backend.name,
    ...(cfg.noDatasetEval
      ? {}
      : { datasetEval: { images: datasetImages, trainImages: trainIdx.length } }),
    ...(cfg.maxMinutes === undefined ? {} : { maxTrainSeconds: cfg.maxMinutes * 60 }),
    meta: {
      command: "exp:mnist",
      flags: cfg,
      backendDetail: backend.detail,
      data: {
        dataset: cfg.dataset,
        trainImages: trainIdx.length,
        validationBatches: validation.length,
        testBatches: test.length,
      },
    },
  });
  const s = result.summary;
  await markFinished(out, s.stepsDone);
  console.log(
    `[exp:mnist] ${out}: test batch precision ${s.test.precision.toFixed(4)}, ARI ` +
      `${s.test.ari.toFixed(3)}, NMI ${s.test.nmi.toFixed(3)}, ACC ${s.test.acc.toFixed(3)} ` +
      `(${s.test.batches} batches; best step ${s.bestStep} of ${s.stepsDone}); ` +
      `${s.timing.stepSeconds.toFixed(3)} s/step (clustering loss ` +
      `${(s.timing.clusterLossSeconds ?? NaN).toFixed(3)} s), ` +
      `${s.timing.stepsPerSecond.toFixed(2)} steps/s on ${s.backend}`,
  );
  if (s.timeBudget !== undefined) {
    console.log(
      `[exp:mnist] time budget ${s.timeBudget.seconds} s: ` +
        `${s.timeBudget.reached ? "reached" : "not reached"} after ` +
        `${s.timeBudget.trainSeconds.toFixed(1)} s of training steps, ${s.stepsDone} steps ` +
        `of ${cfg.batchSize} images (${s.stepsDone * cfg.batchSize} images seen)`,
    );
  }
  const d = s.datasetLevel;
  if (d !== undefined) {
    for (const line of formatDatasetEvaluation(d)) {
      console.log(`[exp:mnist] data set (${d.images} test images, ${d.dim}-d): ${line}`);
    }
    console.log(
      `[exp:mnist] data set: embedding ${d.embedSeconds.toFixed(1)} s, evaluation ` +
        `${d.seconds.total.toFixed(1)} s (kNN graph ${d.seconds.graph.toFixed(1)} s, ` +
        `product: ${d.knnProduct ?? "pure TypeScript"}); ` +
        `embeddings in ${out}/${d.embeddingsFile}`,
    );
  }
  return result;
}

if (import.meta.main) await runMain(() => main(Deno.args));
