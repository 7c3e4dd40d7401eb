/**
 * exp:otkmeans — unsupervised deep clustering of MNIST by entropic OT k-means with cluster-size
 * constraints (Genevay, Dulac-Arnold & Vert 2019, "Differentiable Deep Clustering with Cluster
 * Size Constraints", arXiv:1910.09036).
 *
 * ## Objective
 * An embedding net f_θ (784 → d) and k learnable centroids c ∈ R^{k×d} minimise, per batch of
 * n images with embeddings z_i = f_θ(x_i),
 *
 *   L(θ, c) = OT_ε(1/n, r, C),  C_ij = ‖z_i − c_j‖²,  r = uniform 1/k (the size constraint),
 *
 * where OT_ε is the entropic transport cost solved by log-domain Sinkhorn on the CPU
 * (`lib/ot/ot_kmeans.ts` `otKMeansLoss`), plus an optional joint reconstruction term
 * λ·‖g_φ(z) − x‖²/784 through a small decoder g_φ (see "Deviations").
 *
 * ## Gradient
 * By the envelope theorem (Danskin), ∂OT_ε/∂C = P* (the optimal plan), so the gradients in the
 * embeddings and the centroids are those of `otKMeansLoss`, computed in float64 on the CPU;
 * `tf/ot_kmeans_loss.ts` carries them into the tfjs tape (a surrogate whose gradient is exactly
 * ∂L/∂(z, c)). On backends that read tensors synchronously (cpu, wasm, tensorflow) the solve
 * runs INSIDE the taped closure on the one forward pass; on webgpu a separate forward pass of
 * the encoder comes first. train.jsonl logs the OT loss and the total (OT loss + λ·
 * reconstruction; during the warm-up the reconstruction term alone).
 *
 * ## What the paper says, and what we could not check
 * Found (abstract and introduction): k-means is rewritten as
 * entropic OT between the points and the centroids with prescribed cluster sizes; the loss is
 * minimised w.r.t. BOTH the embedding parameters and the cluster parameters by stochastic
 * gradient descent (joint updates, not alternation); it generalises the deep soft-k-means of
 * Jabi et al. (2018); and it "does not require a pre-training phase". Reported MNIST
 * unsupervised accuracy ≈ 0.85.
 * NOT found (the appendix could not be read): the appendix's ε,
 * batch size, learning rates, number of epochs, embedding dimension, network architecture and
 * whether an additional regulariser (e.g. reconstruction) is used. The defaults below are our
 * choices, each a flag; replace them when the appendix can be read.
 *
 * ## Deviations (and why)
 * - Feature collapse: OT_ε(z, c) → 0 when every z_i and every c_j coincide; the size
 *   constraint prevents all points going to ONE cluster but not this collapse of the
 *   embedding. We (a) normalise the embedding before the cost (`--normalise batch`, default:
 *   standardise each dimension over the batch and divide by √d, so the total variance is 1;
 *   minimising the within-cluster cost then maximises the between-cluster share, a Fisher-like
 *   criterion; `l2` puts z on the unit sphere instead, which we measured to collapse: test ACC
 *   0.117 = one cluster after 60 steps), and (b) add a joint reconstruction term
 *   (`--recon-weight` λ) so the embedding keeps information about the image.
 * - Centroids are initialised by OT k-means (`otKMeans`, k-means++ seeded) on the embeddings
 *   of `--init-sample` training images at step `--warmup-steps`; before that only the
 *   reconstruction term trains (an autoencoder warm-up). The paper preset uses
 *   `--warmup-steps 0` (no pre-training, as the paper claims); the quick preset warms up
 *   because 20 minutes on 2 cores leave no room for a slow start (DEC/IDEC-style schedule:
 *   autoencoder pre-training, then joint OT k-means + reconstruction fine-tuning).
 * - `--epsilon-start` (off by default, not measured): geometric ε decay from the
 *   initialisation to `--epsilon`.
 * - `--ot-learning-rate` (quick: 1e-4): after the initialisation the OT term moves the
 *   embedding away from what the autoencoder learnt; at Adam lr 1e-3 that DEGRADES the
 *   clustering (784-256-256-10, batch 256: test ACC 0.60 after 1000 OT steps, 0.46 after 3000;
 *   784-500-500-2000-10: 0.52 after 500, 0.34 after 2000). Quick preset, test ACC after 1000 /
 *   2000 / 3000 OT steps: lr 1e-4 → 0.709 / 0.715 / 0.719 (0.717 at 4000), lr 3e-4 → 0.721 /
 *   0.701 / 0.674 (a peak, then the same decline), lr 3e-5 → 0.703 after 1000 (compared on the
 *   test set, before the validation split existed). On the validation split (5000 held-out
 *   training images, best checkpoint): 3000 OT steps at 1e-4 → val 0.7138, at 3e-4 → 0.7154,
 *   6000 OT steps at 1e-4 → **0.7184**, the quick preset since (test 0.7456).
 * - `--objective self-label` (not the default; measured no better): cross-entropy of the
 *   distance softmax against the balanced plan ({@link selfLabelLoss}); its log-partition term
 *   rules out collapse without normalisation. After the same 2000-step warm-up (784-128-10, lr
 *   3e-3): test ACC 0.530 / 0.500 / 0.502 for (λ, τ) = (100, 1), (1, 1), (10, 0.3) after
 *   1500–2000 steps, vs 0.548 for the OT objective after 500.
 * - `--init-restarts` (5): the initialisation keeps the lowest-objective of several k-means++
 *   seeds (scikit-learn's n_init); single fits on the same embeddings ranged 0.60–0.65 test ACC.
 *
 * ## Baselines (`--objective`)
 * Every objective trains the same network on the same batches, with the same ε, centroid
 * initialisation and checkpoint selection (best validation ACC, one test evaluation); only the
 * clustering term differs.
 * - `ot` (default): OT_ε(1/n, 1/k, C) above.
 * - `soft-kmeans`: the same cost without the size constraint, SKM_ε = −ε (1/n) Σ_i log Σ_j
 *   (1/k) exp(−C_ij/ε) (`lib/ot/soft_kmeans.ts`; `tf/ot_kmeans_loss.ts` `prepareSoftKMeansLoss`):
 *   soft k-means at temperature ε, in closed form, with the same gradient form (∂/∂C = its Gibbs
 *   plan). OT_ε ≥ SKM_ε, equal when the soft plan is already balanced, so the difference between
 *   the two runs is what the size constraint does. train.jsonl logs it as `softKMeansLoss`.
 * - `ae-kmeans`: the reconstruction term alone for all `--steps` (the warm-up never ends, the
 *   model's centroids are never used), then k-means (`lib/ot/kmeans.ts` `kMeans`, k-means++
 *   seeded, best of `--init-restarts`) on the embeddings of `--init-sample` training images,
 *   fitted anew at each evaluation (`centroids: "fitted"`): the autoencoder + k-means baseline.
 * - `self-label`: see "Deviations".
 * `--preset dec-mlp` is the network DEC, IDEC and DKM report on: the 784–500–500–2000–10 MLP
 * autoencoder (ReLU, linear 10-d embedding, mirrored decoder; `decMlp` in
 * `experiments/models.ts`), with the default 15 000-step schedule and 5000 validation images. The
 * multi-seed comparison of the objectives on it has not been run; one OT run (seed 0, 22 min on
 * a shared 2-core machine) gave test ACC 0.635, below the 784-256-256-10 autoencoder's.
 *
 * ## Measurements (2-core CPU machine; test ACC / NMI / ARI of the nearest centroid)
 * Quick preset (`deno task exp:otkmeans`): wasm backend, 784-256-256-10 encoder + mirrored
 * decoder, batch 256, Adam lr 1e-3, λ = 100, ε = 0.05, 14 000 reconstruction-only steps
 * (60 epochs) on 55 000 training images, centroids from the best of 5 OT k-means fits on 5000
 * training embeddings, then 6000 joint OT steps at lr 1e-4, the checkpoint with the best
 * validation ACC (step 19 000) tested once: **0.7456 / 0.672 / 0.601** (seed 0; 7.5 min of
 * steps, 16.4 min of wall time on a shared machine). Its settings before the validation split
 * (1000 OT steps, all 60 000 images, the last step reported): 0.709 / 0.641 / 0.568 in 13.7 min
 * of training (warm-up steps 0.052 s, OT steps 0.09 s), largest cluster 12.0 %. Warm-up curve (fitted centroids, 2000 test images): 0.61 at 2000 steps, 0.64
 * at 4000, 0.655 at 6000, 0.67 at 8000, 0.66 at 10 000–14 000. 3000 OT steps: 0.719 / 0.651
 * / 0.579 (17.0 min); a single-fit initialisation instead of the best of 5 gave the same final
 * figures (0.7091). ε = 0.02 instead of 0.05 (at OT lr 3e-4): 0.722 vs 0.721 — no difference.
 * Step cost: the dense layers dominated on the cpu backend (one 128 × 784 × 256 matmul 89 ms,
 * ≈ 0.3 GMAC/s; Sinkhorn 128 × 10 ≈ 9 ms at ε = 0.05); on wasm a 784-128-10 step takes 14 ms,
 * 23× less than on cpu (0.32 s), which is what made 60 warm-up epochs fit in the budget.
 * Former cpu recipes (784-128-10, batch 128, lr 3e-3, λ = 100, warm-up 2000 of 2500 steps):
 * 0.544 / 0.516 / 0.393 in 13.8 min; smaller λ lets the OT term distort the embedding (λ = 1:
 * 0.381 after 250 OT steps, λ = 10: 0.414 after 200, λ = 1000: same as 100); a denoising
 * warm-up (`--input-noise 0.2`) was within noise; per-dimension standardisation vs centring
 * only made no difference to k-means on the embedding (0.53–0.58).
 * Search on validation (PyTorch port, `python/otkmeans_torch_search.py`, 61 trainings on an
 * H200, `docs/data/otkmeans-torch-search.csv`): with the paper LeNet every setting peaks early and then
 * declines; means over four seeds 0.633 (2000 autoencoder steps, then lr 1e-4, λ = 1) and 0.620
 * (no pre-training, lr 1e-4, λ = 1: the paper preset's settings); ε ≥ 0.2 collapses.
 * The gap to the paper's ≈ 0.85: our best embedding is a 60-epoch autoencoder's, and the OT
 * phase adds 5–6 points on top of it; the paper trains a LeNet-5 without pre-training by a
 * recipe (appendix) we could not read; with ours, a LeNet from scratch reaches ≈ 0.62 (0.36 s a
 * step on wasm, quiet 2-core machine).
 *
 * ## Evaluation
 * On the official test split (10 000 images, or `--eval-size` for intermediate evaluations):
 * ACC (Hungarian, `clusteringAccuracy`), NMI, ARI of (a) the argmax assignment to centroids,
 * i.e. nearest centroid argmax_j −‖z − c_j‖², and (b) the argmax of the entropic plan of the
 * whole evaluated set with uniform sizes (the constrained assignment).
 *
 * ## Outputs (`results/<run>/`, atomic writes; same conventions as exp:mnist)
 * `config.json`, `metrics.jsonl` + `metrics.csv` (one record per evaluation), `train.jsonl` +
 * `train.csv` (losses every `--log-every`/10 steps), `summary.json` (final test metrics,
 * timings, backend), `metrics.svg`, `loss.svg`, `checkpoints/step-*` every `--checkpoint-every`
 * steps (weights of encoder, decoder and centroids + Adam state + step) and `best/step-*`. The
 * loop (resume, checkpoints, best checkpoint, progress, interrupts) is `experiments/train/
 * loop.ts`; `--resume` continues from the newest checkpoint with the same data order (batches
 * are a pure function of (seed, step)).
 *
 * Usage: `deno task exp:otkmeans [--preset quick|paper|dec-mlp|smoke]
 * [--objective ot|self-label|soft-kmeans|ae-kmeans] [--backend auto|webgpu|cpu] [--help]`
 *
 * @module
 */
import { otKMeans } from "../../lib/ot/ot_kmeans.ts";
import { kMeans } from "../../lib/ot/kmeans.ts";
import type { RectMatrix } from "../../lib/core/rect_matrix.ts";
import { setLearningRate, trainableVariables } from "../checkpoint.ts";
import { parseOrExit, runMain } from "../cli/flags.ts";
import { markFinished, openRunDir } from "../run_dir.ts";
import { loadMnist, type MnistLike } from "../data/idx.ts";
import { batchAt, type BatchPlan, batchPlan, mixSeed, range, shuffled } from "../data/splits.ts";
import { tf } from "../../tf/deps/tfjs.ts";
import {
  pointCentroidLossOp,
  prepareOtKMeansLoss,
  prepareSoftKMeansLoss,
} from "../../tf/ot_kmeans_loss.ts";
import { appendJsonlAtomic, readJsonl, writeCsvAtomic } from "../io.ts";
import { selectBackend } from "../../tf/backend.ts";
import { isConvolutional } from "../models.ts";
import {
  type EvalContext,
  runTraining,
  type StepResult,
  type TrainingOutcome,
  type TrainingTask,
} from "../train/loop.ts";
import { otkmeansCommand, type OtKMeansConfig, otkmeansFlags } from "./flags.ts";
import {
  buildOtKMeansNet,
  CentroidTable,
  embed,
  imagesTensor,
  type OtKMeansNet,
} from "./network.ts";
import { clusteringMetrics, type OtKMeansRecord } from "./evaluation.ts";
import { selfLabelLoss } from "./self_label.ts";
import { METHODS, writePlots } from "./plots.ts";
import { epsilonAt, trainValSplit } from "./schedule.ts";

export { otkmeansCommand, type OtKMeansConfig, otkmeansFlags };
export { buildOtKMeansNet, CentroidTable, type OtKMeansNet };
export { clusteringMetrics, type OtKMeansRecord };
export { selfLabelLoss };
export { epsilonAt, trainValSplit };

/** What {@link runOtKMeans} returns. */
export interface OtKMeansRun {
  readonly records: readonly OtKMeansRecord[];
  readonly final: OtKMeansRecord;
  readonly out: string;
}

/** The summary.json of a run. */
export interface OtKMeansSummary {
  readonly method: string;
  /** `--objective`: what trained the embedding (module doc, "Baselines"). */
  readonly objective: OtKMeansConfig["objective"];
  readonly preset: string;
  readonly backend: string;
  readonly steps: number;
  readonly trainSeconds: number;
  readonly secondsPerStep: number;
  readonly selection: string;
  readonly selectedStep: number;
  readonly validation: OtKMeansRecord | null;
  readonly test: OtKMeansRecord;
  readonly paperAccuracy: number;
}

/** The images of a run: training batches, evaluation images, initialisation sample. */
interface OtKMeansData {
  readonly mnist: MnistLike;
  readonly trainIdx: Int32Array;
  readonly valIdx: Int32Array;
  readonly testAll: Int32Array;
  /**
   * Intermediate evaluations: validation images when there are any (labels used only to choose
   * the reported checkpoint), else test images (the last step is then what is reported).
   */
  readonly evalSplit: "val" | "test";
  readonly evalIdx: Int32Array;
  readonly plan: BatchPlan;
  readonly initIdx: Int32Array;
}

function dataOf(cfg: OtKMeansConfig, mnist: MnistLike): OtKMeansData {
  const { trainIdx, valIdx } = trainValSplit(mnist.train.n, cfg);
  const testAll = cfg.testSize > 0
    ? range(0, Math.min(cfg.testSize, mnist.test.n))
    : range(0, mnist.test.n);
  const evalSplit = valIdx.length > 0 ? "val" : "test";
  const evalIdx = valIdx.length > 0
    ? valIdx.slice(0, Math.min(cfg.evalSize, valIdx.length))
    : testAll.slice(0, Math.min(cfg.evalSize, testAll.length));
  const initIdx = shuffled(trainIdx, mixSeed(cfg.seed, 2)).slice(
    0,
    Math.min(cfg.initSample, trainIdx.length),
  );
  const plan = batchPlan(trainIdx, cfg.batchSize, cfg.seed);
  return { mnist, trainIdx, valIdx, testAll, evalSplit, evalIdx, plan, initIdx };
}

/**
 * Runs the experiment (training, evaluations, checkpoints, results).
 *
 * @param cfg Configuration.
 * @param log Line sink.
 * @param data MNIST (loaded from `cfg.dataDir` when absent).
 * @returns The evaluation records and the final test evaluation.
 */
export async function runOtKMeans(
  cfg: OtKMeansConfig,
  log: (line: string) => void = console.log,
  data?: MnistLike,
): Promise<OtKMeansRun> {
  const out = cfg.out ?? `results/otkmeans-${cfg.preset}`;
  await openRunDir(out, { command: "exp:otkmeans", config: cfg, resume: cfg.resume });
  const backend = await selectBackend(cfg.backend, log, {
    convolutional: isConvolutional(cfg.model),
  });
  const d = dataOf(cfg, data ?? await loadMnist({ dataDir: cfg.dataDir }));
  const task = new OtKMeansTask(cfg, d, backend, log);
  await runTraining(task, {
    out,
    resume: cfg.resume,
    steps: cfg.steps,
    evalEvery: cfg.evalEvery,
    checkpointEvery: cfg.checkpointEvery,
    config: {
      ...cfg,
      out,
      backend: backend.name,
      backendDetail: backend.detail,
      parameters: task.model.countParams(),
      trainImages: d.trainIdx.length,
      valImages: d.valIdx.length,
      testImages: d.testAll.length,
    },
    quiet: cfg.quiet,
    logEvery: cfg.logEvery,
    label: "otkmeans",
    write: log,
    notice: log,
  });
  const { records, final, selectedStep, steps } = task.finished!;
  await writePlots(out, records, d.evalSplit, selectedStep, cfg.objective);
  await markFinished(out, steps);
  log(
    `[otkmeans] test (${final.images} images, step ${selectedStep}): ACC ${
      final.accNearest.toFixed(4)
    } NMI ` +
      `${final.nmiNearest.toFixed(4)} ARI ${final.ariNearest.toFixed(4)}; results in ${out}`,
  );
  return { records, final, out };
}

/** exp:otkmeans as a {@link TrainingTask} (module doc): the step, the evaluation, the report. */
class OtKMeansTask implements TrainingTask<OtKMeansRecord, OtKMeansSummary> {
  readonly net: OtKMeansNet;
  readonly #vars: tf.Variable[];
  /** Whether the centroids were initialised (the warm-up is over). */
  #centroidsReady = false;
  /** Sinkhorn's column potential of the previous batch (warm start). */
  #gWarm: Float64Array | undefined;
  /** Centroids fitted at a step (memo: see {@link fitCentroids}). */
  #lastFit: { step: number; centroids: Float64Array } | undefined;
  /** What the report needs, once summarised. */
  finished:
    | { records: OtKMeansRecord[]; final: OtKMeansRecord; selectedStep: number; steps: number }
    | undefined;

  constructor(
    readonly cfg: OtKMeansConfig,
    readonly data: OtKMeansData,
    readonly backend: { readonly name: string; readonly detail: string },
    readonly log: (line: string) => void,
  ) {
    this.net = buildOtKMeansNet(cfg);
    this.#vars = trainableVariables(this.net.model);
  }

  get model(): tf.LayersModel {
    return this.net.model;
  }

  makeOptimizer(): tf.Optimizer {
    return tf.train.adam(this.cfg.learningRate);
  }

  state(): Record<string, unknown> {
    return { centroidsReady: this.#centroidsReady };
  }

  restore(state: Readonly<Record<string, unknown>>): void {
    this.#centroidsReady = state["centroidsReady"] === true;
  }

  /**
   * OT k-means on the current embeddings of the initialisation sample: what the centroid
   * initialisation does, and (during the warm-up) what the evaluations use; plain k-means
   * (Lloyd) instead for `--objective ae-kmeans`, the autoencoder + k-means baseline. The best
   * (lowest final objective) of --init-restarts k-means++ seeds, as scikit-learn's n_init:
   * single fits of the same embeddings ranged 0.60–0.65 test ACC. Memoised per step: an
   * evaluation at the end of the warm-up and the initialisation before the next step see the
   * same weights and would fit the same centroids.
   */
  async fitCentroids(step: number): Promise<Float64Array> {
    if (this.#lastFit?.step === step) return this.#lastFit.centroids;
    const { cfg, net } = this, idx = this.data.initIdx;
    const { z } = await embed(net, this.data.mnist.train, idx);
    const points = { rows: idx.length, cols: net.d, data: z };
    let best: { objective: number; centroids: Float64Array } | undefined;
    for (let r = 0; r < cfg.initRestarts; r++) {
      const seed = mixSeed(cfg.seed, 3, r);
      const fit = cfg.objective === "ae-kmeans"
        ? kMeans(points, net.k, { seed, maxIters: 100 })
        : otKMeans(points, net.k, { epsilon: epsilonAt(cfg, step), seed, maxIters: 50 });
      const objective = "inertia" in fit ? fit.inertia : fit.history.at(-1)!;
      if (best === undefined || objective < best.objective) {
        best = { objective, centroids: fit.centroids.data };
      }
    }
    this.#lastFit = { step, centroids: best!.centroids };
    return this.#lastFit.centroids;
  }

  /**
   * Centroid initialisation once the warm-up is over: OT k-means on training embeddings. With
   * `--objective ae-kmeans` the whole run is the warm-up (the centroids are never trained).
   */
  async prepare(step: number): Promise<void> {
    if (this.#centroidsReady || step < this.cfg.warmupSteps) return;
    if (this.cfg.objective === "ae-kmeans") return;
    const w = tf.tensor2d(Float32Array.from(await this.fitCentroids(step)), [
      this.net.k,
      this.net.d,
    ]);
    this.net.table.setWeights([w]);
    w.dispose();
    this.#centroidsReady = true;
    this.log(
      `[otkmeans] step ${step}: centroids initialised by OT k-means on ${this.data.initIdx.length} ` +
        `images`,
    );
  }

  async trainStep(step: number, optimizer: tf.Optimizer): Promise<StepResult> {
    const { cfg, net } = this, ready = this.#centroidsReady;
    setLearningRate(
      optimizer,
      ready && cfg.otLearningRate > 0 ? cfg.otLearningRate : cfg.learningRate,
    );
    const batch = batchAt(this.data.plan, step);
    const x = imagesTensor(this.data.mnist.train, batch);
    const flat = x.reshape([batch.length, 784]);
    let otLoss = NaN;
    // The OT k-means loss of the batch (or the self-label loss on its plan, or the soft k-means
    // loss without the size constraint) as a tape op.
    const lossOp = (zv: Float64Array, cv: Float64Array) => {
      const z: RectMatrix = { rows: batch.length, cols: net.d, data: zv };
      const c: RectMatrix = { rows: net.k, cols: net.d, data: cv };
      if (cfg.objective === "soft-kmeans") {
        const soft = prepareSoftKMeansLoss(z, c, { epsilon: epsilonAt(cfg, step) });
        otLoss = soft.loss;
        return soft.op;
      }
      const r = prepareOtKMeansLoss(z, c, {
        epsilon: epsilonAt(cfg, step),
        initialG: this.#gWarm,
        maxIters: 5000,
        tol: 1e-6,
      });
      this.#gWarm = r.sinkhorn.g;
      otLoss = r.loss;
      if (cfg.objective === "ot") return r.op;
      const s = selfLabelLoss(z, c, r.sinkhorn.plan, cfg.temperature);
      return pointCentroidLossOp(s.loss, s.gradPoints, s.gradCentroids);
    };
    // Solved INSIDE the taped closure from a synchronous read of z (one forward pass) where
    // reads are synchronous; on webgpu from a separate asynchronous forward pass first.
    let pre: ReturnType<typeof lossOp> | undefined;
    if (ready && this.backend.name === "webgpu") {
      const zt = net.embedder.predict(x) as tf.Tensor;
      const zv = Float64Array.from(await zt.data());
      const cv = Float64Array.from(await net.table.centroids.data());
      zt.dispose();
      pre = lossOp(zv, cv);
    }
    const value = optimizer.minimize(
      () => {
        // Masking noise during the warm-up only (denoising autoencoder, as DEC's SDAE).
        const input = !ready && cfg.inputNoise > 0
          ? tf.mul(
            x,
            tf.cast(
              tf.greaterEqual(
                tf.randomUniform(x.shape, 0, 1, "float32", mixSeed(cfg.seed, 4, step)),
                cfg.inputNoise,
              ),
              "float32",
            ),
          )
          : x;
        const [z, , rec] = net.model.apply(input, { training: true }) as tf.Tensor[];
        const c = net.table.centroids;
        const mse = tf.mul(tf.mean(tf.square(tf.sub(rec!, flat))), cfg.reconWeight);
        if (!ready) return tf.add(mse, tf.mul(tf.sum(c), 0)) as tf.Scalar;
        const op = pre ??
          lossOp(Float64Array.from(z!.dataSync()), Float64Array.from(c.dataSync()));
        return tf.add(op(z as tf.Tensor2D, c), mse) as tf.Scalar;
      },
      true,
      this.#vars,
    );
    const total = (await value!.data())[0]!;
    tf.dispose([value!, x, flat]);
    const done = step + 1;
    const logged = done % Math.max(1, Math.floor(cfg.logEvery / 10)) === 0;
    // The clustering term under its own name: the OT loss, or the soft k-means loss.
    const clusterTerm = cfg.objective === "soft-kmeans" ? "softKMeansLoss" : "otLoss";
    return {
      loss: Number.isNaN(otLoss) ? total : otLoss,
      ...(logged ? { log: { step: done, [clusterTerm]: otLoss, totalLoss: total } } : {}),
    };
  }

  /** Scores the embeddings of `idx` (module doc, "Evaluation"). */
  async score(
    split: "val" | "test",
    idx: Int32Array,
    step: number,
    seconds: number,
  ): Promise<OtKMeansRecord> {
    const images = split === "val" ? this.data.mnist.train : this.data.mnist.test;
    const embedded = await embed(this.net, images, idx);
    // Before the initialisation the model's centroids are random: score instead the centroids
    // the initialisation would fit now (the "autoencoder + OT k-means" figure of the warm-up).
    const ready = this.#centroidsReady;
    const centroids = ready ? embedded.centroids : await this.fitCentroids(step);
    const truth = Array.from(idx, (i) => images.labels[i]!);
    return {
      step,
      split,
      ...clusteringMetrics(embedded.z, centroids, truth, this.net.k, this.cfg.epsilon),
      centroids: ready ? "trained" : "fitted",
      seconds,
    };
  }

  async evaluate(ctx: EvalContext): Promise<{ record: OtKMeansRecord; line: string }> {
    const d = this.data;
    // Without validation the last step's evaluation is the report: all test images.
    const rec = d.evalSplit === "val"
      ? await this.score("val", d.evalIdx, ctx.step, ctx.trainSeconds)
      : await this.score(
        "test",
        ctx.step === this.cfg.steps ? d.testAll : d.evalIdx,
        ctx.step,
        ctx.trainSeconds,
      );
    const line = `[otkmeans] step ${ctx.step}: ${rec.split} ACC ${rec.accNearest.toFixed(4)} ` +
      `NMI ${rec.nmiNearest.toFixed(4)} ARI ${rec.ariNearest.toFixed(4)} (nearest) | ACC ` +
      `${rec.accTransport.toFixed(4)} (transport) on ${rec.images} images`;
    return { record: rec, line };
  }

  /** Model selection: the best validation ACC of the nearest-centroid assignment. */
  errorOf(record: OtKMeansRecord): number | undefined {
    return record.split === "val" ? -record.accNearest : undefined;
  }

  async summarise(o: TrainingOutcome<OtKMeansRecord>): Promise<OtKMeansSummary> {
    const { cfg, data: d } = this, out = cfg.out ?? `results/otkmeans-${cfg.preset}`;
    const records = [...o.history];
    // The newest: with --val-size 0 and --eval-size ≥ the test set, every evaluation qualifies.
    let final = records.findLast((r) => r.split === "test" && r.images === d.testAll.length);
    let selectedStep = o.step;
    if (d.evalSplit === "val") {
      // The one test evaluation: the weights of the best validation ACC.
      const best = await o.restoreBest();
      if (best === null) throw new Error(`${out}/best holds no checkpoint after ${o.step} steps`);
      selectedStep = best.step;
      if (final === undefined || final.step !== selectedStep) {
        this.restore(best.state);
        this.#lastFit = undefined;
        final = await this.score("test", d.testAll, selectedStep, o.trainSeconds);
        await appendJsonlAtomic(`${out}/metrics.jsonl`, final);
        records.push(final);
      }
    } else if (final === undefined || final.step !== o.step) {
      final = await this.score("test", d.testAll, o.step, o.trainSeconds);
      await appendJsonlAtomic(`${out}/metrics.jsonl`, final);
      records.push(final);
    }
    const selectedVal = records.find((r) => r.split === "val" && r.step === selectedStep);
    await writeCsvAtomic(`${out}/metrics.csv`, records as unknown as Record<string, number>[]);
    const train = (await readJsonl(`${out}/train.jsonl`)) as Record<string, number>[];
    await writeCsvAtomic(`${out}/train.csv`, train);
    this.finished = { records, final, selectedStep, steps: o.step };
    return {
      method: METHODS[cfg.objective],
      objective: cfg.objective,
      preset: cfg.preset,
      backend: this.backend.detail,
      steps: o.step,
      trainSeconds: o.trainSeconds,
      secondsPerStep: o.trainSeconds / Math.max(1, o.step),
      selection: d.evalSplit === "val"
        ? `best validation ACC (nearest centroid) on ${d.evalIdx.length} held-out training images`
        : "last step (no validation images)",
      selectedStep,
      validation: selectedVal ?? null,
      test: final,
      paperAccuracy: 0.85,
    };
  }
}

if (import.meta.main) {
  await runMain(() => runOtKMeans(parseOrExit(otkmeansCommand, Deno.args) as OtKMeansConfig));
}
