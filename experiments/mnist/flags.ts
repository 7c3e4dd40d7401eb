/**
 * The flags, checks and presets of `exp:mnist` (paper §4.1, appendix 11.1); `exp:semi` shares
 * its training flags, checks and presets (`experiments/semi/flags.ts`).
 *
 * @module
 */
import { type Command, commonFlags, type ConfigOf, flag, type FlagCheck } from "../cli/flags.ts";
import { MODEL_CHOICES } from "../choices.ts";
import { DATASET_EVAL_DEFAULTS } from "../dataset_eval.ts";

/** Training flags of `exp:mnist` (paper §4.1, appendix 11.1), shared with `exp:semi`. */
export const trainingFlags = {
  ...commonFlags,
  preset: flag.choice(["quick", "quick-mlp", "paper"] as const, "Sizes preset", "quick"),
  dataset: flag.choice(["mnist", "fashion", "cifar10"] as const, "Data set", "mnist"),
  dataDir: flag.string("Directory with the data set's files (default: packaged copy)", undefined),
  model: flag.choice(MODEL_CHOICES, "Embedding network", "small-cnn"),
  embeddingDim: flag.int("Embedding dimension (0: the network's default)", 0, 0),
  trainLimit: flag.int("Use only the first N training images (0: all; smoke tests)", 0, 0),
  steps: flag.int("Training steps", 1500, 1),
  batchSize: flag.int("Batch size", 64, 2),
  k: flag.int("Number of clusters", 10, 1),
  epsilon: flag.positive("Perturbation scale ε > 0", 0.1),
  samples: flag.int("Monte-Carlo samples of the perturbed solver", 100, 1),
  learningRate: flag.positive("Adam learning rate", 3e-4),
  lrSchedule: flag.choice(
    ["constant", "cosine"] as const,
    "Learning-rate schedule: constant, or cosine decay to 0 over --steps",
    "constant",
  ),
  weightDecay: flag.number("ℓ2 weight decay", 1e-4, 0),
  evalEvery: flag.int("Steps between validation evaluations", 100, 1),
  evalBatches: flag.int("Validation batches per evaluation during training (max 78)", 78, 1, 78),
  testBatches: flag.int("Test batches of the final evaluation (max 78)", 78, 1, 78),
  patience: flag.int("Early stopping: steps without validation improvement", 10000, 1),
  checkpointEvery: flag.int("Steps between checkpoints", 500, 1),
  resume: flag.bool("Continue from the last checkpoint in --out"),
} as const;

/** The neighbours of the data-set-level evaluation's kNN graph. */
const DATASET_EVAL_NEIGHBOURS = DATASET_EVAL_DEFAULTS.neighbours;

/** Flags of exp:mnist's data-set-level evaluation of the trained embedding. */
export const datasetEvalFlags = {
  noDatasetEval: flag.bool(
    "Skip the data-set-level evaluation after training (clustering and transductive labelling of the test split's embeddings, saved as test_embeddings.npy)",
  ),
  datasetImages: flag.int(
    "Test-split images of the data-set-level evaluation, from the first (0: all)",
    0,
    0,
  ),
} as const;

/** The neighbours of the graph loss's kNN graph when `--graph-neighbours` is not given. */
export const GRAPH_LOSS_NEIGHBOURS = 15;

/** Images in each half (validation, test) of the test split that evaluation batches come from. */
const EVAL_HALF_IMAGES = 5000;

/**
 * Flags of exp:mnist that let it train on large batches and compare batch sizes at equal time.
 * All optional (no default value), so that runs saved before they existed keep their settings.
 */
export const batchScaleFlags = {
  lossGraph: {
    ...flag.choice(
      ["dense", "knn"] as const,
      "Clustering loss on all n² pairs of a batch (dense) or on its kNN graph (knn: O(n · neighbours) edges, for batches of ~1024) (default: dense)",
      "dense",
    ),
    default: undefined,
  },
  graphNeighbours: flag.int(
    `Neighbours per point of the kNN graph of --loss-graph knn (default: ${GRAPH_LOSS_NEIGHBOURS})`,
    undefined,
    1,
  ),
  maxMinutes: flag.positive(
    "Stop training after this many minutes of summed step time (evaluations not counted), then evaluate the best checkpoint as usual",
    undefined,
  ),
  evalBatchSize: flag.int(
    "Images per validation and test batch (default: --batch-size); set it to compare runs trained on different batch sizes",
    undefined,
    2,
    EVAL_HALF_IMAGES,
  ),
} as const;

/** The choices of `--augment`. */
export const AUGMENT_CHOICES = ["none", "flip", "shift", "flip-shift"] as const;
/** A value of `--augment`. */
export type AugmentChoice = typeof AUGMENT_CHOICES[number];

/** The largest shift, in pixels, of `--augment shift` (each axis, zero padded). */
export const AUGMENT_SHIFT_PIXELS = 2;

/**
 * Training-batch augmentation of exp:mnist on MNIST and Fashion-MNIST (CIFAR-10 always trains
 * on pad-4 crops and flips). Optional (no default value), so that runs saved before it existed
 * keep their settings.
 */
export const augmentFlags = {
  augment: {
    ...flag.choice(
      AUGMENT_CHOICES,
      `Training-batch augmentation on mnist and fashion: flip (mirror left–right with probability ` +
        `1/2), shift (random shift of up to ${AUGMENT_SHIFT_PIXELS} pixels each way, zero ` +
        `padded), both, or none (default: none)`,
      "none",
    ),
    default: undefined as AugmentChoice | undefined,
  },
} as const;

/** Flags of `exp:mnist` (paper §4.1, appendix 11.1). */
export const mnistFlags = {
  ...trainingFlags,
  ...batchScaleFlags,
  ...augmentFlags,
  ...datasetEvalFlags,
} as const;

/** Cross-flag checks of {@link batchScaleFlags}, run before any data is loaded. */
export const batchScaleChecks: readonly FlagCheck<ConfigOf<typeof mnistFlags>>[] = [
  (c) =>
    c.graphNeighbours !== undefined && c.lossGraph !== "knn"
      ? `--graph-neighbours ${c.graphNeighbours} applies only with --loss-graph knn (the ` +
        `${c.lossGraph ?? "dense"} loss uses every pair of a batch)`
      : null,
  (c) => {
    const nb = c.graphNeighbours ?? GRAPH_LOSS_NEIGHBOURS;
    return c.lossGraph === "knn" && nb >= c.batchSize!
      ? `--graph-neighbours ${nb} must be below --batch-size ${c.batchSize}: a point of a ` +
        `batch has at most ${c.batchSize! - 1} neighbours`
      : null;
  },
  (c) =>
    c.evalBatchSize !== undefined && c.k! > c.evalBatchSize
      ? `--k ${c.k} exceeds --eval-batch-size ${c.evalBatchSize}: an evaluation batch of ` +
        `${c.evalBatchSize} images cannot be split into ${c.k} clusters`
      : null,
];

/** Cross-flag checks of exp:mnist and exp:semi, run before any data is loaded. */
export const mnistChecks: readonly FlagCheck<ConfigOf<typeof trainingFlags>>[] = [
  (c) =>
    c.k! > c.batchSize!
      ? `--k ${c.k} exceeds --batch-size ${c.batchSize}: a batch of ${c.batchSize} images ` +
        `cannot be split into ${c.k} clusters`
      : null,
  (c) =>
    c.trainLimit! > 0 && c.trainLimit! < c.batchSize!
      ? `--train-limit ${c.trainLimit} is smaller than --batch-size ${c.batchSize}: not one ` +
        `full batch`
      : null,
];

/** `exp:mnist` with its presets. */
export const mnistCommand: Command<typeof mnistFlags> = {
  name: "exp:mnist",
  summary: "Learn an embedding through perturbed spanning-forest clustering (supervised).",
  flags: mnistFlags,
  outDefault: "results/<dataset>-<preset>-seed<seed>",
  checks: [
    ...mnistChecks,
    ...batchScaleChecks,
    (c) =>
      c.dataset === "cifar10" && c.augment !== undefined && c.augment !== "none"
        ? `--augment ${c.augment} applies to mnist and fashion: cifar10 always trains on ` +
          `pad-4 random crops and flips`
        : null,
    (c) =>
      c.datasetImages! > 0 && c.datasetImages! <= DATASET_EVAL_NEIGHBOURS
        ? `--dataset-images ${c.datasetImages} is too small: the data-set-level evaluation's ` +
          `${DATASET_EVAL_NEIGHBOURS}-NN graph needs at least ${
            DATASET_EVAL_NEIGHBOURS + 1
          } images (0: all)`
        : null,
  ],
  presets: {
    // The paper's LeNet on the wasm backend with our OpenBLAS kernels (docs/backends.md), Adam
    // lr 1e-3 with cosine decay over 10 000 steps. The checkpoint is chosen on all 78
    // validation batches: on 20 (1280 easy-half images) validation precision saturates at
    // 0.9998 by step 3250 and picks that checkpoint by noise (test 0.9775;
    // docs/experiments/mnist.md).
    quick: {
      model: "paper-lenet",
      backend: "wasm",
      steps: 10000,
      learningRate: 1e-3,
      lrSchedule: "cosine",
      evalEvery: 500,
      checkpointEvery: 1000,
    },
    // The former default: an MLP on wasm, 30 000 cosine steps (stops early at ≈ 21 000).
    "quick-mlp": {
      model: "mlp",
      backend: "wasm",
      steps: 30000,
      learningRate: 1e-3,
      lrSchedule: "cosine",
      evalBatches: 20,
      checkpointEvery: 2000,
    },
    paper: { model: "paper-lenet", steps: 30000 },
  },
};
