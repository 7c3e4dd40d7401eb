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
 * `experiments/data/splits.ts`), and so is its perturbation seed (`perturbationSeed`), so a
 * resumed run needs only the step, the weights and the Adam state.
 *
 * The loop itself (checkpoints, resume, best checkpoint, metrics.jsonl, progress, interrupts,
 * early stopping, the time budget, summary.json) is `experiments/train/loop.ts`; this module is
 * the task it runs: the step (`step.ts`), the batch evaluation (`batch_eval.ts`) and the
 * summary, and the plots afterwards (`plots.ts`).
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
import type { ModelChoice } from "../models.ts";
import {
  CheckpointError,
  latestCheckpoint,
  setLearningRate,
  trainableVariables,
} from "../checkpoint.ts";
import { RunSetupError } from "../errors.ts";
import { diffSettings } from "../run_dir.ts";
import { mixSeed } from "../data/splits.ts";
import {
  type EvalContext,
  runTraining,
  type TrainingOutcome,
  type TrainingTask,
} from "../train/loop.ts";
import type { ImageDataset } from "./image_dataset.ts";
import {
  type DatasetLevelSummary,
  EMBEDDINGS_FILES,
  evaluateTestSplit,
  TRAIN_EMBEDDINGS_FILES,
} from "./dataset_level.ts";
import { type BatchMetrics, type EvalDetail, evaluateBatches } from "./batch_eval.ts";
import {
  applyUpdate,
  batchClusters,
  buildNetworks,
  clusterStepFor,
  learningRateAt,
  type LrSchedule,
  makeOptimizer,
  perturbationSeed,
} from "./step.ts";
import { writeRunPlots } from "./plots.ts";

// The engine's pieces live in their own modules; re-exported for the engine's users.
export * from "./image_dataset.ts";
export { type BatchMetrics, type EvalDetail, evaluateBatches };
export { batchClusters, buildNetworks, learningRateAt, type LrSchedule, perturbationSeed };
export { writeRunPlots };
export { RunSetupError };

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
  readonly datasetEval?: { readonly images: number; readonly trainImages?: number };
  /** Stop training after this many seconds of summed step time (module doc); omitted: none. */
  readonly maxTrainSeconds?: number;
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
  const out = opts.outDir.replace(/\/+$/, "");
  const configJson = { engine: engineJson(cfg), ...(opts.meta ?? {}) };
  if (opts.resume && (await latestCheckpoint(`${out}/checkpoints`)) !== null) {
    const saved = await Deno.readTextFile(`${out}/config.json`).then(JSON.parse, () => null);
    const diff = diffSettings(saved?.engine ?? {}, configJson.engine);
    if (diff.length > 0) {
      throw new RunSetupError(
        `Cannot resume ${out}: settings differ from the saved run (${diff.join(", ")})`,
      );
    }
  }
  const task = new EngineTask(cfg, setup, opts);
  const summary = await runTraining(task, {
    out,
    resume: opts.resume,
    steps: cfg.steps,
    evalEvery: cfg.evalEvery,
    checkpointEvery: cfg.checkpointEvery,
    patience: cfg.patience,
    ...(opts.maxTrainSeconds === undefined ? {} : { maxTrainSeconds: opts.maxTrainSeconds }),
    config: configJson,
    staleFiles: [...Object.values(EMBEDDINGS_FILES), ...Object.values(TRAIN_EMBEDDINGS_FILES)],
    quiet: opts.quiet,
    logEvery: opts.logEvery,
    label: opts.label,
  });
  const { history, test } = task.finished!;
  if (opts.plots ?? true) {
    await writeRunPlots(
      out,
      history,
      test,
      cfg.objective,
      opts.withheld,
      summary.bestStep >= 0 ? summary.bestStep : undefined,
    );
  }
  return { backbone: task.backbone, model: task.model, summary, history };
}

/**
 * The engine as a {@link TrainingTask}: one step of either objective, the batch evaluation on
 * the validation batches, and the summary after the test evaluation of the best weights.
 */
class EngineTask implements TrainingTask<EvalRecord, RunSummary> {
  readonly backbone: tf.LayersModel;
  readonly model: tf.LayersModel;
  /** The history and the test evaluation, once summarised (for the plots). */
  finished: { history: readonly EvalRecord[]; test: EvalDetail } | undefined;
  readonly #vars: tf.Variable[];
  readonly #clusterStep: ReturnType<typeof clusterStepFor>;
  readonly #started = performance.now();
  /** Seconds spent in the clustering loss by this process's steps. */
  #lossSeconds = 0;
  #tensorsAfterFirstEval: number | null = null;

  constructor(
    readonly cfg: EngineConfig,
    readonly setup: TrainSetup,
    readonly opts: RunOptions,
  ) {
    const nets = buildNetworks(cfg, setup.dataset.shape, setup.dataset.numClasses);
    this.backbone = nets.backbone;
    this.model = nets.model;
    this.#vars = trainableVariables(this.model);
    this.#clusterStep = clusterStepFor(cfg);
  }

  makeOptimizer(): tf.Optimizer {
    return makeOptimizer(this.cfg);
  }

  /** Validation and test use the same evaluation (with the CE head's class error for CE). */
  #evaluate(batches: readonly Int32Array[]): Promise<EvalDetail> {
    const head = this.cfg.objective === "ce" ? this.model : null;
    return evaluateBatches(this.backbone, head, this.setup.dataset, batches, this.cfg.k);
  }

  async trainStep(step: number, optimizer: tf.Optimizer): Promise<{ loss: number }> {
    const { cfg, setup } = this, ds = setup.dataset, [h, w, c] = ds.shape;
    setLearningRate(
      optimizer,
      learningRateAt(cfg.learningRate, cfg.lrSchedule ?? "constant", step, cfg.steps),
    );
    const batch = setup.batchAt(step);
    const n = batch.indices.length;
    // The data set decides whether to augment (CIFAR-10 always, MNIST-like sets when loaded
    // with an augmentation); the step's seed makes a resumed run draw the same batches.
    const augmentSeed = mixSeed(cfg.seed, 0xa46, step);
    const x = tf.tensor4d(ds.inputs("train", batch.indices, augmentSeed), [n, h, w, c]);
    try {
      if (cfg.objective === "cluster") {
        const embed = () => this.backbone.apply(x, { training: true }) as tf.Tensor2D;
        const r = await this.#clusterStep(batchClusters(cfg.k, batch.labels))(
          embed,
          batch.labels,
          perturbationSeed(cfg.seed, step),
          this.#vars,
        );
        applyUpdate(optimizer, this.#vars, r.grads, cfg.weightDecay);
        this.#lossSeconds += r.lossSeconds;
        return { loss: r.loss };
      }
      const labels = batch.labels.map((l, i) => {
        if (l === null) throw new RangeError(`CE batch entry ${i} of step ${step} has no label`);
        return l;
      });
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), ds.numClasses));
      const { value, grads } = tf.variableGrads(
        () =>
          tf.losses.softmaxCrossEntropy(y, this.model.apply(x, { training: true }) as tf.Tensor),
        this.#vars,
      );
      applyUpdate(optimizer, this.#vars, grads, cfg.weightDecay);
      const loss = (await value.data())[0]!;
      tf.dispose([value, y]);
      return { loss };
    } finally {
      x.dispose();
    }
  }

  async evaluate(
    ctx: EvalContext,
  ): Promise<{ record: EvalRecord; line: string }> {
    const m = (await this.#evaluate(this.setup.validation)).metrics;
    const valError = this.cfg.objective === "ce" ? m.classError! : 1 - m.precision;
    const best = ctx.improves(valError);
    const numTensors = tf.memory().numTensors;
    this.#tensorsAfterFirstEval ??= numTensors;
    const record: EvalRecord = {
      step: ctx.step,
      trainLoss: ctx.trainLoss,
      valPrecision: m.precision,
      valAri: m.ari,
      valNmi: m.nmi,
      valAcc: m.acc,
      ...(m.classError === undefined ? {} : { valClassError: m.classError }),
      valError,
      best,
      numTensors,
    };
    const line = `${this.opts.label ?? ""} eval step ${ctx.step}: val precision ` +
      `${m.precision.toFixed(4)}, ARI ${m.ari.toFixed(3)}, NMI ${m.nmi.toFixed(3)}, ACC ` +
      `${m.acc.toFixed(3)}` +
      (m.classError === undefined ? "" : `, class error ${m.classError.toFixed(4)}`) +
      `${best ? " (best)" : ""} | ${ctx.stepSeconds.toFixed(3)} s/step, loss ` +
      `${(this.#lossSeconds / ctx.timedSteps).toFixed(3)} s | tensors ${numTensors}`;
    return { record, line };
  }

  errorOf(record: EvalRecord): number {
    return record.valError;
  }

  async summarise(o: TrainingOutcome<EvalRecord>): Promise<RunSummary> {
    const { cfg, opts, setup } = this;
    // Best weights for the final test evaluation.
    if ((await o.restoreBest()) === null) {
      throw new CheckpointError(
        `No best-weights checkpoint in ${opts.outDir.replace(/\/+$/, "")}/best: nothing was ` +
          `evaluated`,
      );
    }
    const test = await this.#evaluate(setup.test);
    this.finished = { history: o.history, test };
    const out = opts.outDir.replace(/\/+$/, "");
    const datasetLevel = opts.datasetEval === undefined ? undefined : await evaluateTestSplit(
      this.backbone,
      setup.dataset,
      opts.datasetEval.images,
      out,
      o.bestStep,
      opts.datasetEval.trainImages,
    );
    // Resumed with no step left (exp:semi's first method, finished before an interruption of
    // the second): keep the timings of the process that trained it instead of writing NaN.
    const earlier = o.timedSteps === 0
      ? await Deno.readTextFile(`${out}/summary.json`)
        .then((t) => JSON.parse(t) as RunSummary, () => undefined)
      : undefined;
    const n = o.timedSteps;
    return {
      objective: cfg.objective,
      backend: opts.backend,
      stepsDone: o.step,
      stoppedEarly: o.stopped && o.step < cfg.steps,
      bestStep: o.bestStep,
      bestValError: o.bestError,
      test: { ...test.metrics, batches: setup.test.length },
      ...(datasetLevel === undefined ? {} : { datasetLevel }),
      timing: earlier?.timing ?? {
        stepSeconds: n > 0 ? o.timedSeconds / n : NaN,
        clusterLossSeconds: cfg.objective === "cluster" && n > 0 ? this.#lossSeconds / n : null,
        stepsPerSecond: o.timedSeconds > 0 ? n / o.timedSeconds : NaN,
        timedSteps: n,
        totalSeconds: (performance.now() - this.#started) / 1000,
      },
      numTensors: { afterFirstEval: this.#tensorsAfterFirstEval, atEnd: tf.memory().numTensors },
      ...(opts.maxTrainSeconds === undefined ? {} : {
        timeBudget: {
          seconds: opts.maxTrainSeconds,
          trainSeconds: o.trainSeconds,
          reached: o.budgetReached,
        },
      }),
    };
  }
}
