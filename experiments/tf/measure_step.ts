/**
 * Measures the batch-64 forward+backward+Adam train-step time of the embedding networks on a
 * backend: `deno run -A experiments/tf/measure_step.ts --backend webgpu --models paper-lenet,small-cnn --steps 10`.
 * The loss is a stand-in (mean squared embedding), so this times the network only, not the
 * clustering loss. Prints one markdown table row per model.
 *
 * @module
 */
import { tf } from "../deps/tf.ts";
import { selectBackend } from "./backend.ts";
import { buildModel } from "./models.ts";
import { measureStepCommand, parseOrExit, runMain } from "../cli.ts";
import { canTrain } from "../can_train.ts";

/**
 * Times `steps` train steps after `warmup` untimed ones.
 *
 * @param model Network.
 * @param batch Batch size.
 * @param steps Timed steps.
 * @param warmup Untimed steps (shader compilation, allocation).
 * @returns Seconds per step (median) and parameter count.
 */
export async function timeTrainStep(
  model: tf.LayersModel,
  batch: number,
  steps: number,
  warmup: number,
): Promise<{ median: number; mean: number; params: number }> {
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  const x = tf.randomUniform([batch, ...shape], 0, 1, "float32", 1);
  const opt = tf.train.adam(3e-4);
  const step = async () => {
    const loss = opt.minimize(
      () => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)),
      true,
    )!;
    await loss.data(); // wait for the device
    loss.dispose();
  };
  for (let i = 0; i < warmup; i++) await step();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await step();
    times.push((performance.now() - t0) / 1000);
  }
  x.dispose();
  opt.dispose();
  times.sort((a, b) => a - b);
  return {
    median: times[Math.floor(times.length / 2)]!,
    mean: times.reduce((a, b) => a + b, 0) / times.length,
    params: model.countParams(),
  };
}

if (import.meta.main) {
  await runMain(async () => {
    const values = parseOrExit(measureStepCommand, Deno.args);
    const info = await selectBackend(values.backend!);
    for (const name of values.models!) {
      const inputShape = name === "resnet" ? [32, 32, 3] as const : [28, 28, 1] as const;
      const why = canTrain(info.name, name);
      if (why !== null) {
        console.log(`| ${name} | — | ${info.name} | cannot train: ${why} |`);
        continue;
      }
      const model = buildModel(name, { inputShape, seed: 0 });
      const r = await timeTrainStep(model, values.batch!, values.steps!, values.warmup!);
      console.log(
        `| ${name} | ${r.params} | ${info.name} | ${r.median.toFixed(3)} s | ${
          r.mean.toFixed(3)
        } s | ${(1 / r.median).toFixed(2)} |`,
      );
      model.dispose();
    }
  });
}
