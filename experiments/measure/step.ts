/**
 * `deno task measure:step`: the train-step time of every network on every backend — forward,
 * a mean-square stand-in loss, backward and Adam, batch 64 (the autoencoder: 256, as exp:otkmeans
 * trains it). The network only: the clustering loss is timed by the experiments themselves.
 *
 *     deno task measure:step                                  # every model, wasm / webgpu / cpu
 *     deno task measure:step --models paper-lenet --backends wasm --blas-threads 1,2
 *
 * Prints a markdown table; a (model, backend) pair whose first step exceeds `--max-seconds` is
 * reported as slower than that and not timed further (the cpu backend takes minutes per paper
 * LeNet step). For wasm with OpenBLAS each `--blas-threads` count is timed. `deno task
 * bench:torch` (scripts/bench_torch.ts) puts PyTorch CPU beside the wasm figures.
 *
 * Timing: median over `--steps` steps after `--warmup` untimed ones, wall clock; on a shared
 * machine compare only figures from one run.
 *
 * @module
 */
import { tf } from "../../tf/deps/tfjs.ts";
import { type Command, type ConfigOf, flag, parseOrExit, runMain } from "../cli/flags.ts";
import { selectBackend } from "../../tf/backend.ts";
import { buildModel, mlpAutoencoder, MODEL_CHOICES } from "../models.ts";
import { loadNativeBlas } from "../../tf/native_blas.ts";

/** The networks `measure:step` times: the experiments' models and the OT k-means autoencoder. */
export const MEASURED_MODELS = [...MODEL_CHOICES, "otk-autoencoder"] as const;
/** One of {@link MEASURED_MODELS}. */
export type MeasuredModel = typeof MEASURED_MODELS[number];

/** The backends `measure:step` can time. */
export const MEASURED_BACKENDS = ["wasm", "webgpu", "cpu", "tensorflow"] as const;

/** A train-step timing. */
export interface StepTiming {
  /** Median seconds per step (null when the first step exceeded the budget). */
  readonly median: number | null;
  /** Seconds of the first (untimed, warm-up) step. */
  readonly first: number;
  /** Trainable parameters. */
  readonly params: number;
  /** Batch size used. */
  readonly batch: number;
}

/** Batch size of a model's step (the autoencoder trains at 256 in exp:otkmeans). */
export function batchOf(model: MeasuredModel, batch: number): number {
  return model === "otk-autoencoder" ? 256 : batch;
}

/**
 * Builds a measured network with seed 0.
 *
 * @param model Its name.
 * @returns An uncompiled layers model.
 */
export function buildMeasured(model: MeasuredModel): tf.LayersModel {
  if (model === "otk-autoencoder") return mlpAutoencoder({ seed: 0 });
  const inputShape = model === "resnet" ? [32, 32, 3] as const : [28, 28, 1] as const;
  return buildModel(model, { inputShape, seed: 0 });
}

/**
 * Times `steps` train steps after `warmup` untimed ones (the first warm-up step is timed alone
 * to enforce `maxSeconds`).
 *
 * @param model Network.
 * @param batch Batch size.
 * @param steps Timed steps.
 * @param warmup Untimed steps (≥ 1).
 * @param maxSeconds Budget of the first step: beyond it, no further step is run.
 * @returns The timing.
 */
export async function timeTrainStep(
  model: tf.LayersModel,
  batch: number,
  steps: number,
  warmup: number,
  maxSeconds = Infinity,
): Promise<StepTiming> {
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  const x = tf.randomUniform([batch, ...shape], 0, 1, "float32", 1);
  const opt = tf.train.adam(3e-4);
  const step = async () => {
    const t0 = performance.now();
    const loss = opt.minimize(
      () => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)),
      true,
    )!;
    await loss.data(); // wait for the device
    loss.dispose();
    return (performance.now() - t0) / 1000;
  };
  const params = model.countParams();
  try {
    const first = await step();
    if (first > maxSeconds) return { median: null, first, params, batch };
    for (let i = 1; i < warmup; i++) await step();
    const times: number[] = [];
    for (let i = 0; i < steps; i++) times.push(await step());
    times.sort((a, b) => a - b);
    return { median: times[Math.floor(times.length / 2)]!, first, params, batch };
  } finally {
    x.dispose();
    opt.dispose();
  }
}

/** Flags of `measure:step`. */
export const measureStepFlags = {
  models: flag.choiceList(MEASURED_MODELS, "Networks to time", [
    "paper-lenet",
    "small-cnn",
    "mlp",
    "otk-autoencoder",
  ]),
  backends: flag.choiceList(MEASURED_BACKENDS, "Backends to time", ["wasm", "webgpu", "cpu"]),
  blasThreads: flag.intList("OpenBLAS thread counts to time on wasm", [1, 2], 1, 256),
  steps: flag.int("Timed steps (median reported)", 10, 1),
  warmup: flag.int("Untimed steps first", 2, 1),
  batch: flag.int("Batch size (the autoencoder always uses 256)", 64, 1),
  maxSeconds: flag.number("Skip a pair whose first step takes longer (seconds)", 20, 0),
} as const;

/** A command's config with every default present. */
export type Defined<F extends Parameters<typeof parseOrExit>[0]["flags"]> = {
  readonly [K in keyof ConfigOf<F>]-?: NonNullable<ConfigOf<F>[K]>;
};

/** `measure:step`. */
export const measureStepCommand: Command<typeof measureStepFlags> = {
  name: "measure:step",
  summary: "Train-step time of every network on every backend (network only, batch 64).",
  flags: measureStepFlags,
};

/**
 * Runs `measure:step`.
 *
 * @param argv Command-line arguments.
 * @returns The table rows printed.
 */
export async function main(argv: readonly string[]): Promise<string[]> {
  const cfg = parseOrExit(measureStepCommand, argv) as Defined<typeof measureStepFlags>;
  const rows: string[] = [];
  const print = (row: string) => {
    rows.push(row);
    console.log(row);
  };
  print("| network | params | batch | backend | s/step (median) | steps/s |");
  print("|---|---|---|---|---|---|");
  for (const backend of cfg.backends) {
    let info;
    try {
      info = await selectBackend(backend, () => {});
    } catch (e) {
      console.error(`[measure:step] ${backend}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    const blas = loadNativeBlas();
    const threads = backend === "wasm" && blas.ok ? cfg.blasThreads : [null];
    for (const t of threads) {
      if (t !== null && blas.ok) blas.blas.setThreads(t);
      const label = t === null
        ? info.name
        : `${info.name} + OpenBLAS ${t} thread${t > 1 ? "s" : ""}`;
      for (const name of cfg.models) {
        const model = buildMeasured(name);
        const r = await timeTrainStep(
          model,
          batchOf(name, cfg.batch),
          cfg.steps,
          cfg.warmup,
          cfg.maxSeconds,
        );
        model.dispose();
        const time = r.median === null
          ? `> ${cfg.maxSeconds} s (first step ${r.first.toFixed(1)} s)`
          : `${r.median.toFixed(4)} s`;
        const rate = r.median === null ? "—" : (1 / r.median).toFixed(1);
        print(`| ${name} | ${r.params} | ${r.batch} | ${label} | ${time} | ${rate} |`);
      }
    }
  }
  return rows;
}

if (import.meta.main) {
  await runMain(() => main(Deno.args));
}
