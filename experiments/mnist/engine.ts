/**
 * The training engine of `exp:mnist` and `exp:semi` (paper §4.1–4.2, appendix 11.1–11.2): one
 * loop for two objectives.
 *
 * - `"cluster"` (ours): embeddings V = f_θ(X) of a batch, Σ = −‖v_i − v_j‖² (standardised, as
 *   the paper's code), the perturbed partial Fenchel–Young loss ℓ_ε(Σ; M_Ω) of Definition 8 with
 *   the batch's (possibly partial) labels as the constraints M_Ω; gradient
 *   A*_ε(Σ) − A*_ε(Σ; M_Ω) (Proposition 1) pushed through Σ by `tf/cluster_loss.ts`.
 *   With `lossGraph: "knn"`, the same loss on the batch's kNN graph instead of all n² pairs
 *   (`tf/graph_cluster_loss.ts`, `lib/losses/point_graph_loss.ts`): O(n k) edges, so a
 *   step can see batches of ≈ 1024 images.
 * - `"ce"` (baseline): the same backbone + Dense(numClasses) head trained with softmax
 *   cross-entropy on labelled batches.
 *
 * Optimiser: Adam (lr, β = (0.9, 0.999)) on the gradient plus a coupled ℓ2 weight decay
 * g ← g + λθ on every trainable tensor (kernels and biases) — the gradient of (λ/2)‖θ‖² added
 * to the loss, i.e. what `optax.chain(add_decayed_weights(λ), adam)` computes. Applied with
 * `optimizer.applyGradients` in the model's trainable-variable order, so the positional Adam
 * state matches `experiments/checkpoint.ts`'s expectations.
 *
 * Evaluation (reference protocol): on fixed batches of test-split images, each batch is
 * clustered by the k-spanning forest of the unperturbed Σ = −‖·‖² of its embeddings (= single
 * linkage with k clusters, the same for both objectives); batch-wise precision is the
 * proportion of correct entries of M*_k (connectivityAccuracy), plus ARI, NMI and Hungarian ACC
 * of the batch clustering, all averaged over batches. The checkpoint is chosen by validation
 * clustering error for "cluster", by validation classification error for "ce". Early stopping
 * after `patience` steps without improvement; the final test evaluation uses the best weights.
 *
 * Time budget (optional, `RunOptions.maxTrainSeconds`): training stops once the summed wall time
 * of its steps (forward, loss, backward, update; not the evaluations or checkpoints) reaches the
 * budget, counted across resumes; the weights of that step are evaluated on the validation
 * batches, and the final test evaluation uses the best of the evaluated checkpoints as usual.
 * This is what compares batch sizes at equal training time (`scripts/graph_batch_compare.ts`).
 *
 * Reproducibility: the batch of step s is a pure function of (seed, s) (see
 * `experiments/data/splits.ts`), and so is its perturbation seed ({@link perturbationSeed}),
 * so a resumed run needs only the step, the weights and the Adam state.
 *
 * Data-set-level evaluation (optional, `RunOptions.datasetEval`): after the test batches, the
 * first N test-split images embedded with the same weights, clustered as a whole (single
 * linkage, mutual reachability, and single linkage with a minimum cluster size on the 15-NN
 * graph, k = number of classes) and labelled
 * transductively from 1 % of their labels (`dataset_level.ts`); the embeddings are saved.
 *
 * Files in `outDir`: config.json, metrics.jsonl + metrics.csv (one record per evaluation),
 * checkpoints/step-*, best/step-* (best weights so far), summary.json, plots (*.svg), and with
 * the data-set-level evaluation test_embeddings.npy, test_labels.npy, test_embeddings.json.
 *
 * @module
 */
import { tf } from "../../tf/deps/tfjs.ts";
import { buildModel, type ImageShape, type ModelChoice } from "../models.ts";
import { clusterLossGrads } from "../../tf/cluster_loss.ts";
import { DEFAULT_GRAPH_NEIGHBOURS, graphClusterLossGrads } from "../../tf/graph_cluster_loss.ts";
import {
  CheckpointError,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
  setLearningRate,
  trainableVariables,
} from "../checkpoint.ts";
import {
  appendJsonlAtomic,
  filterJsonlAtomic,
  readJsonl,
  writeCsvAtomic,
  writeJsonAtomic,
} from "../io.ts";
import { TrainingProgress } from "../progress.ts";
import { RunSetupError } from "../errors.ts";
import { Interrupted, listenForStop } from "../interrupt.ts";
import { diffSettings } from "../run_dir.ts";
import { type CurvePoint, heatmapSpec, lineChartSpec, savePlot, scatterSpec } from "../plot.ts";
import { pca } from "../pca.ts";
import { embeddingMapSpec, MIN_MAP_POINTS } from "../embedding_map.ts";
import { mixSeed } from "../data/splits.ts";
import {
  type DatasetName,
  embedImages,
  type ImageDataset,
  type LabelledSplit,
  loadDataset,
} from "./image_dataset.ts";
import { maxSpanningForest } from "../../lib/forest/spanning_forest.ts";
import { negSquaredDistances } from "../../lib/core/similarity.ts";
import {
  adjustedRandIndex,
  clusteringAccuracy,
  connectivityAccuracy,
  connectivityFromLabels,
  normalizedMutualInfo,
} from "../../lib/metrics/metrics.ts";
import type { Matrix } from "../../lib/core/matrix.ts";
import { type DatasetLevelSummary, EMBEDDINGS_FILES, evaluateTestSplit } from "./dataset_level.ts";

// The data sets moved to image_dataset.ts; re-exported for the engine's users.
export { type DatasetName, embedImages, type ImageDataset, type LabelledSplit, loadDataset };

// ---------------------------------------------------------------------------------------
// Configuration

/** Hyperparameters of one training run (everything that determines its result). */
export interface EngineConfig {
  readonly objective: "cluster" | "ce";
  readonly model: ModelChoice;
  /** Embedding dimension (undefined: the network's default). */
  readonly embeddingDim?: number;
  readonly steps: number;
  readonly k: number;
  readonly epsilon: number;
  readonly samples: number;
  readonly learningRate: number;
  /**
   * Learning-rate schedule over `steps`: constant (the paper), or cosine decay from
   * `learningRate` to 0 (short runs: large steps early, a quiet finish). Default constant.
   */
  readonly lrSchedule?: LrSchedule;
  readonly weightDecay: number;
  /** Standardise Σ before the loss (paper's code). */
  readonly standardise: boolean;
  /**
   * The clustering loss on the batch's kNN graph instead of all pairs (module doc); absent: the
   * dense loss. Recorded in config.json only when set, so dense runs keep their config.
   */
  readonly lossGraph?: "knn";
  /** Neighbours per point of that graph (default 15). */
  readonly graphNeighbours?: number;
  readonly evalEvery: number;
  /** Early stopping: steps without validation improvement. */
  readonly patience: number;
  readonly checkpointEvery: number;
  readonly seed: number;
}

/** The data of a run: a deterministic batch stream and the evaluation batches. */
export interface TrainSetup {
  readonly dataset: ImageDataset;
  /**
   * Training batch of step s (train-split indices and one label per entry, `null` =
   * unlabelled); must be a pure function of s.
   */
  readonly batchAt: (step: number) => {
    readonly indices: Int32Array;
    readonly labels: readonly (number | null)[];
  };
  /** Validation batches (test-split indices), evaluated every `evalEvery` steps. */
  readonly validation: readonly Int32Array[];
  /** Test batches (test-split indices), evaluated once with the best weights. */
  readonly test: readonly Int32Array[];
  /** Whether training batches are augmented (CIFAR-10). */
  readonly augment?: boolean;
}

/** Where and how a run reports. */
export interface RunOptions {
  readonly outDir: string;
  readonly resume: boolean;
  readonly quiet?: boolean;
  readonly logEvery?: number;
  readonly label?: string;
  /** Backend name recorded in the summary. */
  readonly backend: string;
  /** Extra fields for config.json (CLI flags, data protocol). */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** Write the SVG plots (default true). */
  readonly plots?: boolean;
  /** Classes withheld from the labels (semi-supervised runs), highlighted in the UMAP map. */
  readonly withheld?: readonly number[];
  /**
   * Data-set-level evaluation of the first `images` test-split images after the test batches
   * (module doc); omitted: none.
   */
  readonly datasetEval?: { readonly images: number };
  /** Stop training after this many seconds of summed step time (module doc); omitted: none. */
  readonly maxTrainSeconds?: number;
}

/** Batch clustering metrics averaged over evaluation batches. */
export interface BatchMetrics {
  readonly precision: number;
  readonly ari: number;
  readonly nmi: number;
  readonly acc: number;
  /** Classification error of the CE head (CE objective only). */
  readonly classError?: number;
}

/** One metrics.jsonl record. */
export interface EvalRecord {
  readonly step: number;
  /** Mean training loss over the steps since the previous evaluation. */
  readonly trainLoss: number;
  readonly valPrecision: number;
  readonly valAri: number;
  readonly valNmi: number;
  readonly valAcc: number;
  readonly valClassError?: number;
  /** The selection criterion (lower is better). */
  readonly valError: number;
  readonly best: boolean;
  readonly numTensors: number;
}

/** The summary.json of a run. */
export interface RunSummary {
  readonly objective: "cluster" | "ce";
  readonly backend: string;
  readonly stepsDone: number;
  readonly stoppedEarly: boolean;
  readonly bestStep: number;
  readonly bestValError: number;
  readonly test: BatchMetrics & { readonly batches: number };
  /** Clustering and transductive labelling of the whole test split (`RunOptions.datasetEval`). */
  readonly datasetLevel?: DatasetLevelSummary;
  readonly timing: {
    /** Mean wall time of a training step (forward + backward + update), this process. */
    readonly stepSeconds: number;
    /** Mean time of the clustering loss alone (Σ read-back + CPU perturbed loss/gradient). */
    readonly clusterLossSeconds: number | null;
    readonly stepsPerSecond: number;
    /** Steps timed in this process (a resumed run times only its own steps). */
    readonly timedSteps: number;
    readonly totalSeconds: number;
  };
  readonly numTensors: { readonly afterFirstEval: number | null; readonly atEnd: number };
  /** With `RunOptions.maxTrainSeconds`: the budget, the step time spent, and whether it ran out. */
  readonly timeBudget?: {
    readonly seconds: number;
    readonly trainSeconds: number;
    readonly reached: boolean;
  };
}

/** What {@link trainRun} returns: the best-weights models (caller disposes) and the summary. */
export interface RunResult {
  /** The embedding network with the best weights. */
  readonly backbone: tf.LayersModel;
  /** Backbone + head (CE) or the backbone (cluster). */
  readonly model: tf.LayersModel;
  readonly summary: RunSummary;
  readonly history: readonly EvalRecord[];
}

/**
 * Perturbation seed of a training step: a pure function of (run seed, step), so a resumed run
 * draws the same noise.
 *
 * @param seed Run seed.
 * @param step Step.
 * @returns A 32-bit seed.
 */
export function perturbationSeed(seed: number, step: number): number {
  return mixSeed(seed, 0x5eed, step);
}

// ---------------------------------------------------------------------------------------
// Models

/** The networks of a run: backbone (embedding) and the trained model (with head for CE). */
export function buildNetworks(
  cfg: EngineConfig,
  shape: ImageShape,
  numClasses: number,
): { backbone: tf.LayersModel; model: tf.LayersModel } {
  const backbone = buildModel(cfg.model, {
    inputShape: shape,
    seed: cfg.seed,
    ...(cfg.embeddingDim === undefined ? {} : { embeddingDim: cfg.embeddingDim }),
  });
  if (cfg.objective === "cluster") return { backbone, model: backbone };
  const head = tf.layers.dense({
    units: numClasses,
    kernelInitializer: tf.initializers.glorotUniform({ seed: cfg.seed + 1000 }),
    name: "ce_head",
  });
  const model = tf.model({
    inputs: backbone.inputs,
    outputs: head.apply(backbone.outputs[0]!) as tf.SymbolicTensor,
    name: "ce_model",
  });
  return { backbone, model };
}

// ---------------------------------------------------------------------------------------
// Evaluation

/** Per-batch detail of an evaluation (for plots). */
export interface EvalDetail {
  readonly metrics: BatchMetrics;
  /** Embeddings of every evaluated image (batch order), as rows. */
  readonly embeddings: number[][];
  readonly labels: number[];
  /** Predicted and true connectivity of the first batch. */
  readonly firstBatch: { readonly predicted: Matrix; readonly truth: Matrix };
}

/**
 * Embeds the images of `batches` with the frozen networks and scores the batch clusterings
 * (module doc). Forward passes run in chunks of 512 inside `tf.tidy`.
 *
 * @param backbone Embedding network.
 * @param head Full model with classification head (CE), or null.
 * @param ds Data set.
 * @param batches Test-split index batches.
 * @param k Clusters per batch.
 * @returns Averaged metrics and details.
 */
export async function evaluateBatches(
  backbone: tf.LayersModel,
  head: tf.LayersModel | null,
  ds: ImageDataset,
  batches: readonly Int32Array[],
  k: number,
): Promise<EvalDetail> {
  const all = Int32Array.from(batches.flatMap((b) => Array.from(b)));
  const [h, w, c] = ds.shape;
  const emb: number[][] = [];
  let wrong = 0;
  for (let start = 0; start < all.length; start += 512) {
    const idx = all.subarray(start, Math.min(all.length, start + 512));
    const x = tf.tensor4d(ds.inputs("test", idx), [idx.length, h, w, c]);
    try {
      const v = tf.tidy(() => backbone.predict(x) as tf.Tensor2D);
      const rows = await v.array();
      v.dispose();
      emb.push(...rows);
      if (head !== null) {
        const pred = tf.tidy(() => tf.argMax(head.predict(x) as tf.Tensor2D, 1));
        const p = await pred.data();
        pred.dispose();
        for (let j = 0; j < idx.length; j++) if (p[j] !== ds.test.labels[idx[j]!]) wrong++;
      }
    } finally {
      x.dispose();
    }
  }
  let precision = 0, ari = 0, nmi = 0, acc = 0, at = 0;
  let firstBatch: EvalDetail["firstBatch"] | undefined;
  for (const b of batches) {
    const points = emb.slice(at, at + b.length);
    at += b.length;
    const truth = Array.from(b, (i) => ds.test.labels[i]!);
    const forest = maxSpanningForest(negSquaredDistances(points), k);
    const truthM = connectivityFromLabels(truth);
    precision += connectivityAccuracy(forest.connectivity, truthM);
    ari += adjustedRandIndex(forest.labels, truth);
    nmi += normalizedMutualInfo(forest.labels, truth);
    acc += clusteringAccuracy(forest.labels, truth);
    firstBatch ??= { predicted: forest.connectivity, truth: truthM };
  }
  const m = batches.length;
  return {
    metrics: {
      precision: precision / m,
      ari: ari / m,
      nmi: nmi / m,
      acc: acc / m,
      ...(head === null ? {} : { classError: wrong / all.length }),
    },
    embeddings: emb,
    labels: Array.from(all, (i) => ds.test.labels[i]!),
    firstBatch: firstBatch!,
  };
}

// ---------------------------------------------------------------------------------------
// Training

const CONFIG_KEYS: readonly (keyof EngineConfig)[] = [
  "objective",
  "model",
  "embeddingDim",
  "steps",
  "k",
  "epsilon",
  "samples",
  "learningRate",
  "lrSchedule",
  "weightDecay",
  "standardise",
  "evalEvery",
  "patience",
  "checkpointEvery",
  "seed",
];

/** Keys written only when set (added after runs were saved without them). */
const OPTIONAL_CONFIG_KEYS: readonly (keyof EngineConfig)[] = ["lossGraph", "graphNeighbours"];

function engineJson(cfg: EngineConfig): Record<string, unknown> {
  return Object.fromEntries([
    ...CONFIG_KEYS.map((key) => [key, cfg[key] ?? null]),
    ...OPTIONAL_CONFIG_KEYS.filter((key) => cfg[key] !== undefined).map((key) => [key, cfg[key]]),
  ]);
}

export { RunSetupError };

/** Adam with the paper's β = (0.9, 0.999). */
function makeOptimizer(cfg: EngineConfig): tf.Optimizer {
  return tf.train.adam(cfg.learningRate, 0.9, 0.999);
}

/** A learning-rate schedule name (`--lr-schedule`). */
export type LrSchedule = "constant" | "cosine";

/**
 * The learning rate of step `step` (0-based) of a run of `steps` steps: constant, or
 * lr · ½(1 + cos(π · step / steps)). A pure function of the step, so a resumed run follows the
 * same schedule.
 *
 * @param lr Base learning rate.
 * @param schedule Schedule.
 * @param step Current step.
 * @param steps Total steps.
 * @returns The learning rate.
 *
 * @example
 * ```ts
 * import { learningRateAt } from "./engine.ts";
 * if (learningRateAt(1e-3, "cosine", 50, 100) !== 5e-4) throw new Error();
 * ```
 */
export function learningRateAt(
  lr: number,
  schedule: LrSchedule,
  step: number,
  steps: number,
): number {
  return schedule === "constant" ? lr : lr * 0.5 * (1 + Math.cos((Math.PI * step) / steps));
}

/** Applies g + λθ with Adam in the variables' order, then disposes the gradients. */
function applyUpdate(
  optimizer: tf.Optimizer,
  vars: readonly tf.Variable[],
  grads: tf.NamedTensorMap,
  weightDecay: number,
): void {
  try {
    tf.tidy(() => {
      optimizer.applyGradients(vars.map((v) => {
        const g = grads[v.name];
        if (g === undefined) throw new Error(`No gradient for trainable variable ${v.name}`);
        return { name: v.name, tensor: weightDecay > 0 ? tf.add(g, tf.mul(v, weightDecay)) : g };
      }));
    });
  } finally {
    tf.dispose(Object.values(grads));
  }
}

/** One step's loss and the seconds spent in the clustering loss (null for CE). */
interface StepOutcome {
  readonly loss: number;
  readonly clusterLossSeconds: number | null;
}

/**
 * Number of clusters the loss uses on a batch: k, or fewer when the batch's constraints cannot
 * make k clusters. Must-links merge each labelled class into one group, so a fully labelled
 * batch of 64 that misses a class (probability ≈ 10 · 0.9⁶⁴ ≈ 1% on MNIST) has only 9 groups
 * and no 10-forest satisfies M_Ω (Definition 5 is infeasible); its true clustering has 9
 * clusters, so both solves use k = 9 on it. (The reference code's greedy instead silently breaks
 * one must-link.) Groups = distinct labels + unlabelled points.
 *
 * @param k Configured number of clusters.
 * @param labels Batch labels (`null` = unlabelled).
 * @returns min(k, groups).
 */
export function batchClusters(k: number, labels: readonly (number | null)[]): number {
  const classes = new Set<number>();
  let unlabelled = 0;
  for (const l of labels) {
    if (l === null) unlabelled++;
    else classes.add(l);
  }
  return Math.min(k, classes.size + unlabelled);
}

/** What the engine needs from a clustering-loss step, dense or on a graph. */
type ClusterStep = (
  embed: () => tf.Tensor2D,
  labels: readonly (number | null)[],
  seed: number,
  varList: tf.Variable[],
) => Promise<{ loss: number; grads: tf.NamedTensorMap; lossSeconds: number }>;

/**
 * The cluster-loss step per number of clusters (built once per k): the single place the engine
 * calls the tfjs adapters, `clusterLossGrads` (dense) or `graphClusterLossGrads` (kNN graph).
 * One forward pass per step on backends with synchronous reads (cpu, wasm, tensorflow), two on
 * webgpu.
 */
function clusterStepFor(cfg: EngineConfig): (k: number) => ClusterStep {
  const byK = new Map<number, ClusterStep>();
  return (k) => {
    let fn = byK.get(k);
    if (fn === undefined) {
      const opts = {
        k,
        epsilon: cfg.epsilon,
        samples: cfg.samples,
        noise: "gaussian",
        standardise: cfg.standardise,
      } as const;
      fn = cfg.lossGraph === "knn"
        ? graphClusterLossGrads({
          ...opts,
          neighbours: cfg.graphNeighbours ?? DEFAULT_GRAPH_NEIGHBOURS,
        })
        : clusterLossGrads(opts);
      byK.set(k, fn);
    }
    return fn;
  };
}

async function pruneBest(dir: string, keep: (step: number) => boolean): Promise<void> {
  for (const c of await listCheckpoints(dir)) {
    if (!keep(c.step)) await Deno.remove(c.path, { recursive: true });
  }
}

/**
 * Trains (or resumes) one run and writes its results (module doc).
 *
 * @param cfg Hyperparameters.
 * @param setup Data and batch streams.
 * @param opts Output directory, resume, progress, backend name.
 * @returns Best-weights networks (the caller disposes them), the summary and the history.
 * @throws {RunSetupError} If `outDir` already holds checkpoints and `resume` is false, or a
 * resumed run's config differs from the saved one.
 * @throws {CheckpointError} If the checkpoint to resume from is corrupt.
 */
export async function trainRun(
  cfg: EngineConfig,
  setup: TrainSetup,
  opts: RunOptions,
): Promise<RunResult> {
  const t0 = performance.now();
  const out = opts.outDir.replace(/\/+$/, "");
  const ckptDir = `${out}/checkpoints`, bestDir = `${out}/best`;
  const ds = setup.dataset;
  const [h, w, c] = ds.shape;
  const configJson = { engine: engineJson(cfg), ...(opts.meta ?? {}) };

  const existing = await latestCheckpoint(ckptDir);
  if (existing !== null && !opts.resume) {
    throw new RunSetupError(
      `Results directory ${out} already holds checkpoints (${existing}); pass --resume to ` +
        `continue that run, or choose another --out`,
    );
  }
  if (opts.resume && existing !== null) {
    const saved = await Deno.readTextFile(`${out}/config.json`).then(JSON.parse, () => null);
    const diff = diffSettings(saved?.engine ?? {}, configJson.engine);
    if (diff.length > 0) {
      throw new RunSetupError(
        `Cannot resume ${out}: settings differ from the saved run (${diff.join(", ")})`,
      );
    }
  }
  await Deno.mkdir(out, { recursive: true });
  await writeJsonAtomic(`${out}/config.json`, configJson);

  const { backbone, model } = buildNetworks(cfg, ds.shape, ds.numClasses);
  // Validation and test use the same evaluation (with the CE head's class error for CE runs).
  const evaluate = (batches: readonly Int32Array[]) =>
    evaluateBatches(backbone, cfg.objective === "ce" ? model : null, ds, batches, cfg.k);
  const vars = trainableVariables(model);
  let optimizer = makeOptimizer(cfg);
  let step = 0, bestError = Infinity, bestStep = -1, stopped = false;
  let lossSum = 0, lossCount = 0;
  // Summed step time of the run (all processes), for the time budget.
  const budget = opts.maxTrainSeconds;
  let trainSeconds = 0, budgetReached = false;

  if (opts.resume && existing !== null) {
    const state = await loadCheckpoint(existing, model, optimizer);
    step = state.step;
    const x = state.extra as Record<string, unknown>;
    bestError = typeof x.bestError === "number" ? x.bestError : Infinity;
    bestStep = typeof x.bestStep === "number" ? x.bestStep : -1;
    stopped = x.stopped === true;
    lossSum = typeof x.lossSum === "number" ? x.lossSum : 0;
    lossCount = typeof x.lossCount === "number" ? x.lossCount : 0;
    trainSeconds = typeof x.trainSeconds === "number" ? x.trainSeconds : 0;
    budgetReached = budget !== undefined && trainSeconds >= budget;
    // Drop what the killed process logged or saved after this checkpoint (it is redone).
    await filterJsonlAtomic(`${out}/metrics.jsonl`, (r) => (r as EvalRecord).step <= step);
    await pruneBest(bestDir, (s) => s <= step);
    console.error(`[resume] continuing ${out} from step ${step} (${existing})`);
  } else {
    const stale = [
      "metrics.jsonl",
      "metrics.csv",
      "summary.json",
      ...Object.values(EMBEDDINGS_FILES),
    ];
    for (const f of stale) {
      await Deno.remove(`${out}/${f}`).catch(() => {});
    }
    await Deno.remove(bestDir, { recursive: true }).catch(() => {});
  }
  const history = (await readJsonl(`${out}/metrics.jsonl`)) as EvalRecord[];

  const clusterStep = clusterStepFor(cfg);
  const progress = new TrainingProgress({
    total: cfg.steps,
    startStep: step,
    quiet: opts.quiet,
    logEvery: opts.logEvery,
    label: opts.label,
  });
  let timedSteps = 0, stepTime = 0, lossTime = 0;
  let tensorsAfterFirstEval: number | null = null;
  let committedBest = bestStep;

  const checkpoint = async () => {
    await saveCheckpoint(ckptDir, model, optimizer, {
      step,
      rngState: null, // all randomness is a function of (seed, step)
      extra: {
        bestError,
        bestStep,
        stopped,
        lossSum,
        lossCount,
        ...(budget === undefined ? {} : { trainSeconds }),
      },
    });
    committedBest = bestStep;
    await pruneBest(bestDir, (s) => s >= committedBest);
  };

  // Ctrl-C / SIGTERM: finish the step, checkpoint it, then stop (interrupt.ts).
  const stop = listenForStop((sig) =>
    progress.log(`${sig}: finishing step ${step + 1} and writing a checkpoint…`)
  );
  try {
    while (step < cfg.steps && !stopped && !budgetReached) {
      const s0 = performance.now();
      setLearningRate(
        optimizer,
        learningRateAt(cfg.learningRate, cfg.lrSchedule ?? "constant", step, cfg.steps),
      );
      const batch = setup.batchAt(step);
      const n = batch.indices.length;
      const augmentSeed = setup.augment ? mixSeed(cfg.seed, 0xa46, step) : undefined;
      const x = tf.tensor4d(ds.inputs("train", batch.indices, augmentSeed), [n, h, w, c]);
      let outcome: StepOutcome;
      try {
        if (cfg.objective === "cluster") {
          const embed = () => backbone.apply(x, { training: true }) as tf.Tensor2D;
          const r = await clusterStep(batchClusters(cfg.k, batch.labels))(
            embed,
            batch.labels,
            perturbationSeed(cfg.seed, step),
            vars,
          );
          applyUpdate(optimizer, vars, r.grads, cfg.weightDecay);
          outcome = { loss: r.loss, clusterLossSeconds: r.lossSeconds };
        } else {
          const labels = batch.labels.map((l, i) => {
            if (l === null) {
              throw new RangeError(`CE batch entry ${i} of step ${step} has no label`);
            }
            return l;
          });
          const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), ds.numClasses));
          const { value, grads } = tf.variableGrads(
            () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
            vars,
          );
          applyUpdate(optimizer, vars, grads, cfg.weightDecay);
          const loss = (await value.data())[0]!;
          tf.dispose([value, y]);
          outcome = { loss, clusterLossSeconds: null };
        }
      } finally {
        x.dispose();
      }
      step++;
      timedSteps++;
      const seconds = (performance.now() - s0) / 1000;
      stepTime += seconds;
      trainSeconds += seconds;
      budgetReached = budget !== undefined && trainSeconds >= budget;
      if (outcome.clusterLossSeconds !== null) lossTime += outcome.clusterLossSeconds;
      lossSum += outcome.loss;
      lossCount++;
      progress.update(step, outcome.loss);

      if (step % cfg.evalEvery === 0 || step === cfg.steps || budgetReached) {
        const ev = await evaluate(setup.validation);
        const m = ev.metrics;
        const valError = cfg.objective === "ce" ? m.classError! : 1 - m.precision;
        const improved = valError < bestError;
        if (improved) {
          bestError = valError;
          bestStep = step;
          await saveCheckpoint(bestDir, model, optimizer, {
            step,
            rngState: null,
            extra: { valError },
          }, { keep: Number.MAX_SAFE_INTEGER });
          await pruneBest(bestDir, (s) => s >= committedBest);
        }
        const numTensors = tf.memory().numTensors;
        tensorsAfterFirstEval ??= numTensors;
        const record: EvalRecord = {
          step,
          trainLoss: lossCount > 0 ? lossSum / lossCount : NaN,
          valPrecision: m.precision,
          valAri: m.ari,
          valNmi: m.nmi,
          valAcc: m.acc,
          ...(m.classError === undefined ? {} : { valClassError: m.classError }),
          valError,
          best: improved,
          numTensors,
        };
        lossSum = 0;
        lossCount = 0;
        history.push(record);
        await appendJsonlAtomic(`${out}/metrics.jsonl`, record);
        await writeCsvAtomic(
          `${out}/metrics.csv`,
          history as unknown as Record<string, number>[],
        );
        progress.log(
          `${opts.label ?? ""} eval step ${step}: val precision ${m.precision.toFixed(4)}, ` +
            `ARI ${m.ari.toFixed(3)}, NMI ${m.nmi.toFixed(3)}, ACC ${m.acc.toFixed(3)}` +
            (m.classError === undefined ? "" : `, class error ${m.classError.toFixed(4)}`) +
            `${improved ? " (best)" : ""} | ${(stepTime / Math.max(1, timedSteps)).toFixed(3)} ` +
            `s/step, loss ${(lossTime / Math.max(1, timedSteps)).toFixed(3)} s | ` +
            `tensors ${numTensors}`,
        );
        if (step - bestStep >= cfg.patience) {
          stopped = true;
          progress.log(`early stopping at step ${step}: best step ${bestStep}`);
        }
        if (budgetReached) {
          progress.log(
            `time budget reached at step ${step}: ${trainSeconds.toFixed(1)} s of training ` +
              `(budget ${budget} s); best step ${bestStep}`,
          );
        }
      }
      if (
        step % cfg.checkpointEvery === 0 || step === cfg.steps || stopped || budgetReached
      ) await checkpoint();
      else if (stop.signal !== null) await checkpoint();
      if (stop.signal !== null && step < cfg.steps && !stopped && !budgetReached) {
        throw new Interrupted(step, stop.signal);
      }
    }
  } finally {
    stop.close();
    progress.stop();
  }

  // Best weights for the final test evaluation.
  const best = await latestCheckpoint(bestDir);
  if (best === null) {
    throw new CheckpointError(`No best-weights checkpoint in ${bestDir}: nothing was evaluated`);
  }
  optimizer.dispose();
  optimizer = makeOptimizer(cfg); // loadCheckpoint wants a fresh one; it is discarded
  await loadCheckpoint(best, model, optimizer);
  optimizer.dispose();
  const test = await evaluate(setup.test);
  const datasetLevel = opts.datasetEval === undefined
    ? undefined
    : await evaluateTestSplit(backbone, ds, opts.datasetEval.images, out, bestStep);
  // Resumed with no step left (exp:semi's first method, finished before an interruption of the
  // second): keep the timings of the process that trained it instead of writing NaN.
  const earlier = timedSteps === 0
    ? await Deno.readTextFile(`${out}/summary.json`)
      .then((t) => JSON.parse(t) as RunSummary, () => undefined)
    : undefined;
  const summary: RunSummary = {
    objective: cfg.objective,
    backend: opts.backend,
    stepsDone: step,
    stoppedEarly: stopped && step < cfg.steps,
    bestStep,
    bestValError: bestError,
    test: { ...test.metrics, batches: setup.test.length },
    ...(datasetLevel === undefined ? {} : { datasetLevel }),
    timing: earlier?.timing ?? {
      stepSeconds: timedSteps > 0 ? stepTime / timedSteps : NaN,
      clusterLossSeconds: cfg.objective === "cluster" && timedSteps > 0
        ? lossTime / timedSteps
        : null,
      stepsPerSecond: stepTime > 0 ? timedSteps / stepTime : NaN,
      timedSteps,
      totalSeconds: (performance.now() - t0) / 1000,
    },
    numTensors: { afterFirstEval: tensorsAfterFirstEval, atEnd: tf.memory().numTensors },
    ...(budget === undefined
      ? {}
      : { timeBudget: { seconds: budget, trainSeconds, reached: budgetReached } }),
  };
  await writeJsonAtomic(`${out}/summary.json`, summary);
  if (opts.plots ?? true) {
    await writeRunPlots(
      out,
      history,
      test,
      cfg.objective,
      opts.withheld,
      bestStep >= 0 ? bestStep : undefined,
    );
  }
  return { backbone, model, summary, history };
}

/**
 * Writes the plots of a run: training curves, a PCA view and a UMAP map (the paper's Figure 5)
 * of the test embeddings coloured by class, and predicted vs true connectivity of the first
 * test batch.
 *
 * @param out Results directory.
 * @param history Evaluation records.
 * @param test Final test evaluation.
 * @param objective Objective (for titles).
 * @param withheld Classes withheld from the labels, highlighted in the UMAP map.
 * @param bestStep The step whose weights were kept (early stopping), marked on the curves.
 * @returns Resolves when the files are written.
 */
export async function writeRunPlots(
  out: string,
  history: readonly EvalRecord[],
  test: EvalDetail,
  objective: string,
  withheld: readonly number[] = [],
  bestStep?: number,
): Promise<void> {
  const curves: CurvePoint[] = [];
  for (const r of history) {
    if (Number.isFinite(r.trainLoss)) {
      curves.push({ x: r.step, y: r.trainLoss, series: "train loss" });
    }
  }
  const quality: CurvePoint[] = history.flatMap((r) => [
    { x: r.step, y: r.valPrecision, series: "val precision" },
    { x: r.step, y: r.valAri, series: "val ARI" },
    { x: r.step, y: r.valNmi, series: "val NMI" },
    { x: r.step, y: r.valAcc, series: "val ACC" },
    ...(r.valClassError === undefined
      ? []
      : [{ x: r.step, y: 1 - r.valClassError, series: "val class accuracy" }]),
  ]);
  if (curves.length > 0) {
    await savePlot(
      out,
      "training_loss",
      lineChartSpec(curves, {
        title: `${objective}: training loss`,
        xTitle: "step",
        yTitle: "loss",
        ...(bestStep === undefined
          ? {}
          : { markX: { x: bestStep, label: `best (step ${bestStep})` } }),
      }),
    );
  }
  if (quality.length > 0) {
    await savePlot(
      out,
      "validation_metrics",
      lineChartSpec(quality, {
        title: `${objective}: validation batch clustering`,
        xTitle: "step",
        yTitle: "metric",
        ...(bestStep === undefined
          ? {}
          : { markX: { x: bestStep, label: `best (step ${bestStep})` } }),
      }),
    );
  }
  const maxPoints = 2000;
  const rows = test.embeddings.slice(0, maxPoints);
  const { projected } = pca(rows, Math.min(2, rows[0]!.length));
  await savePlot(
    out,
    "embedding_pca",
    scatterSpec(
      projected.map((p, i) => ({ x: p[0]!, y: p[1] ?? 0, label: test.labels[i]! })),
      {
        title: `PCA of ${rows.length} test embeddings (colour = class)`,
        width: 360,
        height: 360,
        legend: true,
        legendTitle: "class",
        axes: true,
        xTitle: "principal component 1",
        yTitle: "principal component 2",
      },
    ),
  );
  if (rows.length >= MIN_MAP_POINTS) {
    const title = `UMAP of ${rows.length} test embeddings (${objective})` +
      (withheld.length > 0 ? `; withheld classes ${withheld.join(", ")} as diamonds` : "");
    await savePlot(
      out,
      "embedding_umap",
      embeddingMapSpec(rows, test.labels.slice(0, rows.length), { title, withheld, seed: 0 }),
    );
  }
  // Rows and columns sorted by true class, so the true M is block-diagonal and the predicted
  // M*'s mistakes show as off-block cells.
  const b = test.firstBatch.truth.n;
  const order = Array.from({ length: b }, (_, i) => i)
    .sort((i, j) => test.labels[i]! - test.labels[j]! || i - j);
  const sorted = (m: { n: number; data: ArrayLike<number> }) =>
    order.map((i) => order.map((j) => m.data[i * m.n + j]!));
  const heat = (title: string) => ({
    title,
    binary: ["different clusters", "same cluster"] as const,
    xTitle: "test image (sorted by true class)",
    yTitle: "test image (sorted by true class)",
  });
  await savePlot(
    out,
    "connectivity_predicted",
    heatmapSpec(sorted(test.firstBatch.predicted), heat("predicted M* (first test batch)")),
  );
  await savePlot(
    out,
    "connectivity_true",
    heatmapSpec(sorted(test.firstBatch.truth), heat("true M (first test batch)")),
  );
}
