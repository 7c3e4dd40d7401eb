/**
 * exp:denoise — learning to ignore noise features through clustering (Stewart et al., 2023,
 * §4, Figure 3 right; appendix "synthetic denoising").
 *
 * X_signal ∈ R^{60×2} (15 points from each of 4 isotropic Gaussians, std 0.2), target
 * M_signal = M*_4(Σ_signal); two iid U[0, 1] noise columns are appended, X ∈ R^{60×4}. A
 * linear map θ ∈ R^{4×2} (init standard normal) is trained by SGD on the perturbed partial
 * Fenchel–Young loss (Definition 8) of Σ_θ = −‖Xθ_i − Xθ_j‖² against M_signal restricted to
 * each batch (a fully labelled batch), through the tfjs adapter `tf/cluster_loss.ts`
 * — so this is end-to-end training of a tfjs model through the clustering layer.
 *
 * Per batch it records the training loss, the validation clustering error
 * 1 − connectivity accuracy of M*_k(Σ_θ) (unperturbed, on a validation set drawn the same
 * way) against the validation M_signal, and the row norms of θ (rows 0–1 act on the signal,
 * the others on the noise: a learnt θ that suppresses the noise has small noise rows).
 *
 * Writes to `--out` (default `results/denoise`), atomically: `config.json`, `curve.csv`,
 * `curve.json`, `summary.json` (first batch with zero validation error per seed, final θ,
 * step times), `curve.svg` (validation error per batch, one line per seed), `loss.svg`, and
 * `points.svg` (validation points mapped by θ before and after training, coloured by target
 * cluster; the seed with the largest initial error).
 *
 * Usage: `deno task exp:denoise [--seeds 5] [--batches 100] [--backend cpu] [--help]`
 *
 * @module
 */
import { connectivityAccuracy, connectivityFromLabels } from "../../lib/metrics/metrics.ts";
import { foldIn, standardNormal, streamFor } from "../../lib/core/random.ts";
import { negSquaredDistances } from "../../lib/core/similarity.ts";
import { maxSpanningForest } from "../../lib/forest/spanning_forest.ts";
import {
  type Command,
  commonFlags,
  type ConfigOf,
  flag,
  parseOrExit,
  runMain,
} from "../cli/flags.ts";
import { openRunDir } from "../run_dir.ts";
import { tf } from "../../tf/deps/tfjs.ts";
import { writeCsvAtomic, writeJsonAtomic } from "../io.ts";
import { type CurvePoint, lineChartSpec, savePlot, scatterSpec } from "../plot.ts";
import { TrainingProgress } from "../progress.ts";
import { BACKEND_CHOICES, type BackendChoice, selectBackend } from "../../tf/backend.ts";
import type { NoiseName } from "../../lib/core/noise.ts";
import { applySgd, clusterLossGrads } from "../../tf/cluster_loss.ts";
import { type DenoiseData, denoiseData, PAPER_MEANS, randomMeans } from "./data.ts";

export type { DenoiseData };

/** The flags of `exp:denoise`; every hyperparameter of the paper's run is one. */
export const denoiseFlags = {
  backend: flag.choice(
    BACKEND_CHOICES,
    "tfjs backend. θ is 4×2 and a batch 32 points, so per-kernel overhead dominates and the " +
      "plain cpu backend is the fastest here; the clustering itself always runs on the CPU",
    "cpu",
  ),
  seed: commonFlags.seed,
  seeds: flag.int(
    "Run this many seeds (seed, seed+1, …) and report the batch at which each reaches zero " +
      "validation error",
    1,
    1,
    1000,
  ),
  out: flag.string("Results directory", "results/denoise"),
  quiet: commonFlags.quiet,
  logEvery: flag.int("Batches between log lines in quiet / non-TTY mode", 25, 1),
  batches: flag.int("Training batches (SGD steps)", 100, 1),
  batchSize: flag.int("Points per batch, drawn without replacement from the training set", 32, 2),
  learningRate: flag.positive("SGD learning rate", 0.01),
  epsilon: flag.number("Perturbation scale ε", 0.1, 1e-12),
  samples: flag.int("Monte-Carlo samples of the perturbed solver", 1000, 1),
  k: flag.int("Number of clusters k (of the target and of the loss)", 4, 1),
  noise: flag.choice(["gaussian", "gumbel"] as const, "Perturbation distribution", "gaussian"),
  similarity: flag.choice(
    ["standardised", "raw"] as const,
    "Σ seen by the loss: standardised over its n² entries (the paper's code) or raw −‖·‖²",
    "standardised",
  ),
  means: flag.choice(
    ["paper", "random"] as const,
    "Blob means: the paper's run, or uniform on [−10, 10]² drawn from the seed",
    "paper",
  ),
  pointsPerCluster: flag.int("Points per Gaussian blob (training and validation)", 15, 1),
  std: flag.number("Standard deviation of each blob", 0.2, 0),
  noiseColumns: flag.int("Number of iid U[0, 1] noise columns appended", 2, 0, 100),
} as const;

/** `exp:denoise`. */
export const denoiseCommand: Command<typeof denoiseFlags> = {
  name: "exp:denoise",
  summary: "Synthetic denoising (paper Figure 3 right): learn a linear map through clustering " +
    "that ignores uniform noise features.",
  flags: denoiseFlags,
  checks: [
    (c) =>
      c.k! > c.batchSize!
        ? `--k ${c.k} exceeds --batch-size ${c.batchSize}: a batch of ${c.batchSize} points ` +
          `cannot be split into ${c.k} clusters`
        : null,
  ],
};

/** A validated configuration of `exp:denoise` (every flag has a default, so none is absent). */
export interface DenoiseConfig {
  /** tfjs backend choice. */
  readonly backend: BackendChoice;
  /** First seed. */
  readonly seed: number;
  /** Number of seeds run. */
  readonly seeds: number;
  /** Results directory. */
  readonly out: string;
  /** Plain log lines instead of a progress bar. */
  readonly quiet: boolean;
  /** Batches between log lines (quiet mode). */
  readonly logEvery: number;
  /** SGD steps. */
  readonly batches: number;
  /** Points per batch. */
  readonly batchSize: number;
  /** SGD learning rate. */
  readonly learningRate: number;
  /** Perturbation scale ε. */
  readonly epsilon: number;
  /** Monte-Carlo samples. */
  readonly samples: number;
  /** Number of clusters. */
  readonly k: number;
  /** Perturbation distribution. */
  readonly noise: NoiseName;
  /** Σ standardised (paper's code) or raw. */
  readonly similarity: "standardised" | "raw";
  /** Blob means: the paper's or random. */
  readonly means: "paper" | "random";
  /** Points per blob. */
  readonly pointsPerCluster: number;
  /** Blob standard deviation. */
  readonly std: number;
  /** Number of U[0, 1] noise columns. */
  readonly noiseColumns: number;
}

/**
 * Narrows a parsed configuration to {@link DenoiseConfig}, with defaults for anything absent.
 *
 * @param parsed Output of `parseFlags` / `parseOrExit` for {@link denoiseCommand}, or a partial
 * configuration (tests).
 * @returns The full configuration.
 */
export function denoiseConfig(
  parsed: Partial<DenoiseConfig> | ConfigOf<typeof denoiseFlags>,
): DenoiseConfig {
  const full: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(denoiseFlags)) {
    full[key] = (parsed as Record<string, unknown>)[key] ?? f.default;
  }
  return full as unknown as DenoiseConfig;
}

/** One point of the training curve. */
export interface DenoiseRecord {
  /** The seed of the run. */
  readonly seed: number;
  /** SGD steps taken (0 = initial θ). */
  readonly batch: number;
  /** Loss of the batch that produced this θ (null at batch 0). */
  readonly loss: number | null;
  /** Validation clustering error 1 − connectivity accuracy after this batch. */
  readonly valError: number;
  /** Frobenius norm of θ's signal rows (0 and 1). */
  readonly signalNorm: number;
  /** Frobenius norm of θ's noise rows (2, …); 0 when there are none. */
  readonly noiseNorm: number;
  /** Wall time of the SGD step in milliseconds (null at batch 0). */
  readonly stepMs: number | null;
}

/** Everything one seed's run produces. */
export interface DenoiseRun {
  /** The seed of the run. */
  readonly seed: number;
  /** Blob means used. */
  readonly means: readonly (readonly number[])[];
  /** One record per batch, batch 0 = initial θ. */
  readonly records: readonly DenoiseRecord[];
  /** First batch with zero validation error, or null if never reached. */
  readonly firstZeroBatch: number | null;
  /** θ before training (rows = input features). */
  readonly initialTheta: number[][];
  /** θ after training. */
  readonly finalTheta: number[][];
  /** The validation set. */
  readonly validation: DenoiseData;
}

/**
 * Clustering error of M*_k(−‖Xθ_i − Xθ_j‖²) (unperturbed) against the target labels:
 * 1 − connectivity accuracy (the paper's metric).
 *
 * @param features X, n × d.
 * @param theta θ, d × e.
 * @param target Target cluster labels.
 * @param k Number of clusters.
 * @returns The error in [0, 1].
 */
export function clusteringError(
  features: readonly (readonly number[])[],
  theta: readonly (readonly number[])[],
  target: ArrayLike<number>,
  k: number,
): number {
  const mapped = project(features, theta);
  const labels = maxSpanningForest(negSquaredDistances(mapped), k).labels;
  return 1 - connectivityAccuracy(connectivityFromLabels(labels), connectivityFromLabels(target));
}

/** Xθ in float64. */
function project(x: readonly (readonly number[])[], theta: readonly (readonly number[])[]) {
  return x.map((row) => theta[0].map((_, c) => row.reduce((s, v, r) => s + v * theta[r][c], 0)));
}

function rowNorms(theta: readonly (readonly number[])[]): { signal: number; noise: number } {
  const sq = (rows: readonly (readonly number[])[]) =>
    Math.sqrt(rows.flat().reduce((s, v) => s + v * v, 0));
  return { signal: sq(theta.slice(0, 2)), noise: sq(theta.slice(2)) };
}

/**
 * Trains θ for one seed (the tfjs backend must be selected already).
 *
 * @param config The configuration.
 * @param seed The seed of this run (data, initialisation, batch order, perturbations).
 * @param progress Optional progress reporter.
 * @returns The run's curve and results.
 * @throws {RangeError} If the batch size exceeds the training set or is below k.
 */
export async function trainDenoise(
  config: DenoiseConfig,
  seed: number,
  progress?: TrainingProgress,
): Promise<DenoiseRun> {
  const means = config.means === "paper" ? PAPER_MEANS : randomMeans(4, foldIn(seed, 0));
  const dataOpts = {
    means,
    pointsPerCluster: config.pointsPerCluster,
    std: config.std,
    noiseColumns: config.noiseColumns,
    k: config.k,
  };
  const train = denoiseData(dataOpts, foldIn(seed, 1));
  const validation = denoiseData(dataOpts, foldIn(seed, 2));
  const n = train.features.length, d = train.features[0].length;
  if (config.batchSize > n || config.batchSize < config.k) {
    throw new RangeError(
      `Invalid batchSize = ${config.batchSize}: it must lie in [k, n] = [${config.k}, ${n}]`,
    );
  }
  const init = streamFor(seed, 3);
  const initialTheta = Array.from(
    { length: d },
    () => [standardNormal(init), standardNormal(init)],
  );
  const order = streamFor(seed, 4);
  const lossSeeds = foldIn(seed, 5);

  const x = tf.tensor2d(train.features);
  const theta = tf.variable(tf.tensor2d(initialTheta), true, `theta_${seed}`);
  const step = clusterLossGrads({
    k: config.k,
    epsilon: config.epsilon,
    samples: config.samples,
    noise: config.noise,
    standardise: config.similarity === "standardised",
  });
  const records: DenoiseRecord[] = [];
  const record = (batch: number, loss: number | null, stepMs: number | null, th: number[][]) => {
    const norms = rowNorms(th);
    records.push({
      seed,
      batch,
      loss,
      valError: clusteringError(validation.features, th, validation.target, config.k),
      signalNorm: norms.signal,
      noiseNorm: norms.noise,
      stepMs,
    });
  };
  const readTheta = async () => (await theta.array()) as number[][];
  try {
    record(0, null, null, initialTheta);
    const indices = Int32Array.from({ length: n }, (_, i) => i);
    for (let b = 1; b <= config.batches; b++) {
      const t0 = performance.now();
      // A fresh batch without replacement: a partial Fisher–Yates shuffle of the indices.
      for (let i = 0; i < config.batchSize; i++) {
        const j = i + ((order.unsafeNext() >>> 0) % (n - i));
        [indices[i], indices[j]] = [indices[j], indices[i]];
      }
      const batch = Array.from(indices.subarray(0, config.batchSize));
      const xb = tf.gather(x, batch);
      let loss: number;
      try {
        const labels = batch.map((i) => train.target[i]);
        const r = await step(() => tf.matMul(xb, theta), labels, foldIn(lossSeeds, b), [theta]);
        applySgd(r.grads, [theta], config.learningRate);
        loss = r.loss;
      } finally {
        xb.dispose();
      }
      const th = await readTheta();
      record(b, loss, performance.now() - t0, th);
      progress?.update(b, loss);
    }
    const finalTheta = await readTheta();
    const zero = records.find((r) => r.valError === 0);
    return {
      seed,
      means,
      records,
      firstZeroBatch: zero === undefined ? null : zero.batch,
      initialTheta,
      finalTheta,
      validation,
    };
  } finally {
    tf.dispose([x, theta]);
  }
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Per-seed part of {@link DenoiseSummary}. */
export interface DenoiseRunSummary {
  /** The seed. */
  readonly seed: number;
  /** Blob means used. */
  readonly means: readonly (readonly number[])[];
  /** First batch with zero validation error, or null. */
  readonly firstZeroBatch: number | null;
  /** Validation error of the initial θ. */
  readonly initialValError: number;
  /** Validation error after the last batch. */
  readonly finalValError: number;
  /** Loss of the first batch. */
  readonly initialLoss: number | null;
  /** Loss of the last batch. */
  readonly finalLoss: number | null;
  /** θ before training. */
  readonly initialTheta: number[][];
  /** θ after training. */
  readonly finalTheta: number[][];
  /** ‖θ_noise rows‖ / ‖θ_signal rows‖ before and after: it falls when θ suppresses the noise. */
  readonly noiseToSignalNorm: { readonly initial: number; readonly final: number };
}

/** What `summary.json` holds. */
export interface DenoiseSummary {
  /** Always "denoise". */
  readonly experiment: "denoise";
  /** The tfjs backend used. */
  readonly backend: string;
  /** First batch with zero validation error per seed (null: never within the run). */
  readonly firstZeroBatch: readonly { readonly seed: number; readonly batch: number | null }[];
  /** Median of the non-null first-zero batches, or null. */
  readonly medianFirstZeroBatch: number | null;
  /** How many seeds reached zero validation error. */
  readonly seedsReachingZero: number;
  /** Wall time of one SGD step (batch sampling, loss, backward, update), in ms. */
  readonly stepMs: { readonly median: number | null; readonly mean: number };
  /** Per-seed results. */
  readonly runs: readonly DenoiseRunSummary[];
  /** The configuration. */
  readonly config: DenoiseConfig;
}

/**
 * The summary written to `summary.json`.
 *
 * @param config The configuration.
 * @param runs The runs.
 * @param backend The backend's description.
 * @returns The summary.
 */
export function summarise(
  config: DenoiseConfig,
  runs: readonly DenoiseRun[],
  backend: string,
): DenoiseSummary {
  const stepMs = runs.flatMap((r) => r.records.flatMap((x) => x.stepMs === null ? [] : [x.stepMs]));
  return {
    experiment: "denoise",
    backend,
    firstZeroBatch: runs.map((r) => ({ seed: r.seed, batch: r.firstZeroBatch })),
    medianFirstZeroBatch: median(runs.flatMap((r) => r.firstZeroBatch ?? [])),
    seedsReachingZero: runs.filter((r) => r.firstZeroBatch !== null).length,
    stepMs: { median: median(stepMs), mean: stepMs.reduce((s, v) => s + v, 0) / stepMs.length },
    runs: runs.map((r) => {
      const first = r.records[0], last = r.records[r.records.length - 1];
      return {
        seed: r.seed,
        means: r.means,
        firstZeroBatch: r.firstZeroBatch,
        initialValError: first.valError,
        finalValError: last.valError,
        initialLoss: r.records[1]?.loss ?? null,
        finalLoss: last.loss,
        initialTheta: r.initialTheta,
        finalTheta: r.finalTheta,
        // θ suppresses the noise when the noise rows shrink relative to the signal rows.
        noiseToSignalNorm: {
          initial: first.noiseNorm / first.signalNorm,
          final: last.noiseNorm / last.signalNorm,
        },
      };
    }),
    config,
  };
}

/**
 * Writes every output file of the runs into `config.out`.
 *
 * @param config The configuration (its `out` is the directory).
 * @param runs One run per seed (at least one).
 * @param backend Description of the tfjs backend used.
 * @returns The paths written.
 */
export async function writeDenoiseResults(
  config: DenoiseConfig,
  runs: readonly DenoiseRun[],
  backend: string,
): Promise<string[]> {
  const out = config.out;
  const rows = runs.flatMap((r) => r.records);
  const summary = summarise(config, runs, backend);
  await writeJsonAtomic(`${out}/config.json`, config);
  await writeCsvAtomic(`${out}/curve.csv`, rows.map((r) => ({ ...r })), [
    "seed",
    "batch",
    "loss",
    "valError",
    "signalNorm",
    "noiseNorm",
    "stepMs",
  ]);
  await writeJsonAtomic(`${out}/curve.json`, rows);
  await writeJsonAtomic(`${out}/summary.json`, summary);
  const series = (r: DenoiseRun) => `seed ${r.seed}`;
  const errorCurve: CurvePoint[] = runs.flatMap((r) =>
    r.records.map((x) => ({ x: x.batch, y: x.valError, series: series(r) }))
  );
  const lossCurve: CurvePoint[] = runs.flatMap((r) =>
    r.records.flatMap((x) => x.loss === null ? [] : [{ x: x.batch, y: x.loss, series: series(r) }])
  );
  // The points figure shows the seed whose initial map clusters worst (the most telling one).
  const first = runs.reduce((a, b) => b.records[0].valError > a.records[0].valError ? b : a);
  const mappedBefore = project(first.validation.features, first.initialTheta);
  const mappedAfter = project(first.validation.features, first.finalTheta);
  const points = [
    ...first.validation.signal.map((p, i) => ({ p, i, column: "signal X_signal" })),
    ...mappedBefore.map((p, i) => ({ p, i, column: "Xθ, initial θ" })),
    ...mappedAfter.map((p, i) => ({ p, i, column: "Xθ, learnt θ" })),
  ].map(({ p, i, column }) => ({
    x: p[0],
    y: p[1],
    label: first.validation.target[i],
    column,
  }));
  return [
    `${out}/config.json`,
    `${out}/curve.csv`,
    `${out}/curve.json`,
    `${out}/summary.json`,
    await savePlot(
      out,
      "curve",
      lineChartSpec(errorCurve, {
        title: "Denoising: validation clustering error per batch",
        xTitle: "batch",
        yTitle: "1 − connectivity accuracy",
      }),
    ),
    await savePlot(
      out,
      "loss",
      lineChartSpec(lossCurve, {
        title: "Denoising: partial Fenchel–Young loss per batch",
        xTitle: "batch",
        yTitle: "loss",
      }),
    ),
    await savePlot(
      out,
      "points",
      scatterSpec(points, {
        title: `Validation points (seed ${first.seed}), coloured by target cluster`,
        columnOrder: ["signal X_signal", "Xθ, initial θ", "Xθ, learnt θ"],
        axes: true,
        legend: true,
        pointSize: 20,
      }),
    ),
  ];
}

/**
 * Runs the experiment for `config.seeds` seeds and writes the results.
 *
 * @param config The configuration.
 * @param log Where to print (stderr by default).
 * @returns The runs, the summary and the paths written.
 */
export async function runDenoise(
  config: DenoiseConfig,
  log: (line: string) => void = (l) => console.error(l),
): Promise<{ runs: DenoiseRun[]; summary: DenoiseSummary; paths: string[] }> {
  await openRunDir(config.out, {
    command: "exp:denoise",
    config: config as unknown as Record<string, unknown>,
    resume: false,
    resumable: false,
  });
  const info = await selectBackend(config.backend, log);
  const runs: DenoiseRun[] = [];
  for (let s = 0; s < config.seeds; s++) {
    const seed = config.seed + s;
    const progress = new TrainingProgress({
      total: config.batches,
      quiet: config.quiet,
      logEvery: config.logEvery,
      label: `denoise seed ${seed}`,
      write: log,
    });
    let run: DenoiseRun;
    try {
      run = await trainDenoise(config, seed, progress);
    } finally {
      progress.stop();
    }
    const last = run.records[run.records.length - 1];
    log(
      `[denoise] seed ${seed}: validation error ${run.records[0].valError.toFixed(4)} → ` +
        `${last.valError.toFixed(4)}; first zero at batch ${run.firstZeroBatch ?? "never"}; ` +
        `‖θ_noise‖/‖θ_signal‖ ${
          (run.records[0].noiseNorm / run.records[0].signalNorm).toFixed(3)
        } → ` +
        `${(last.noiseNorm / last.signalNorm).toFixed(3)}`,
    );
    runs.push(run);
  }
  const paths = await writeDenoiseResults(config, runs, info.detail);
  const summary = summarise(config, runs, info.detail);
  log(
    `[denoise] first batch with zero validation error per seed: ${
      summary.firstZeroBatch.map((f) => `${f.seed}: ${f.batch ?? "never"}`).join(", ")
    }; median step ${summary.stepMs.median?.toFixed(1)} ms`,
  );
  log(`[denoise] wrote ${paths.join(", ")}`);
  return { runs, summary, paths };
}

if (import.meta.main) {
  await runMain(() => runDenoise(denoiseConfig(parseOrExit(denoiseCommand, Deno.args))));
}
