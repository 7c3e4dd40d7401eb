import assert from "node:assert/strict";
import { tf } from "../../tf/deps/tfjs.ts";
import { latestCheckpoint, listCheckpoints } from "../checkpoint.ts";
import { readJsonl } from "../io.ts";
import { Interrupted } from "../interrupt.ts";
import { RunSetupError } from "../errors.ts";
import { runTraining, type TrainingOptions, type TrainingTask } from "./loop.ts";
import { inOwnProcess, OWN_PROCESS } from "./testdata/own_process.ts";

await tf.setBackend("cpu");

interface Rec {
  readonly step: number;
  readonly trainLoss: number;
  readonly error: number;
}

/**
 * A linear model fitted by Adam to fixed data; its "validation error" at step s is the scripted
 * `errors[s]`, so which checkpoint is best is known in advance.
 */
class FakeTask implements TrainingTask<Rec, { bestStep: number; restored: number | null }> {
  readonly model: tf.LayersModel;
  readonly #x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  readonly #y = tf.tensor2d([[1], [2], [3]]);
  constructor(
    readonly errors: Readonly<Record<number, number>>,
    readonly onStep?: (s: number) => void,
  ) {
    this.model = tf.sequential({
      layers: [tf.layers.dense({
        units: 1,
        inputShape: [2],
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      })],
    });
  }
  makeOptimizer(): tf.Optimizer {
    return tf.train.adam(0.01);
  }
  async trainStep(step: number, optimizer: tf.Optimizer) {
    this.onStep?.(step);
    const loss = optimizer.minimize(
      () => tf.losses.meanSquaredError(this.#y, this.model.apply(this.#x) as tf.Tensor),
      true,
    )!;
    const value = (await loss.data())[0]!;
    loss.dispose();
    return { loss: value };
  }
  evaluate(ctx: { step: number; trainLoss: number }) {
    const record = { step: ctx.step, trainLoss: ctx.trainLoss, error: this.errors[ctx.step] ?? 9 };
    return Promise.resolve({ record, line: `eval ${ctx.step}` });
  }
  errorOf(r: Rec): number {
    return r.error;
  }
  async summarise(o: { bestStep: number; restoreBest: () => Promise<{ step: number } | null> }) {
    const restored = await o.restoreBest();
    return { bestStep: o.bestStep, restored: restored?.step ?? null };
  }
  weights(): number[] {
    return this.model.getWeights().flatMap((w) => Array.from(w.dataSync()));
  }
  dispose(): void {
    this.model.dispose();
    tf.dispose([this.#x, this.#y]);
  }
}

const options = (out: string, extra: Partial<TrainingOptions> = {}): TrainingOptions => ({
  out,
  resume: false,
  steps: 8,
  evalEvery: 2,
  checkpointEvery: 4,
  config: { fake: true },
  quiet: true,
  write: () => {},
  notice: () => {},
  ...extra,
});

const ERRORS = { 2: 3, 4: 1, 6: 2, 8: 1 };

Deno.test("runTraining: the best evaluation's checkpoint is kept, restored and summarised", async () => {
  const out = await Deno.makeTempDir();
  const task = new FakeTask(ERRORS);
  try {
    const summary = await runTraining(task, options(out));
    // Errors 3, 1, 2, 1: the first of the equal lowest, step 4.
    assert.deepEqual(summary, { bestStep: 4, restored: 4 });
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${out}/summary.json`)), summary);
    assert.deepEqual((await listCheckpoints(`${out}/best`)).map((c) => c.step), [4]);
    const records = (await readJsonl(`${out}/metrics.jsonl`)) as Rec[];
    assert.deepEqual(records.map((r) => [r.step, r.error]), [[2, 3], [4, 1], [6, 2], [8, 1]]);
    assert.ok(records.every((r) => Number.isFinite(r.trainLoss) && r.trainLoss > 0));
    const csv = (await Deno.readTextFile(`${out}/metrics.csv`)).trim().split("\n");
    assert.deepEqual(csv.map((l) => l.split(",")[0]), ["step", "2", "4", "6", "8"]);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${out}/config.json`)), { fake: true });
    // A second run into the same directory must say --resume.
    await assert.rejects(
      () => runTraining(new FakeTask(ERRORS), options(out)),
      (e: unknown) => e instanceof RunSetupError && /pass --resume/.test(e.message),
    );
  } finally {
    task.dispose();
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("runTraining: a resume after a kill rolls metrics.jsonl back and ends as a straight run", async () => {
  const killed = await Deno.makeTempDir(), straight = await Deno.makeTempDir();
  const a = new FakeTask(ERRORS), b = new FakeTask(ERRORS), c = new FakeTask(ERRORS);
  try {
    await runTraining(a, options(killed));
    // What a kill after step 8's evaluation but before its checkpoint leaves: the records of
    // steps 6 and 8 are in metrics.jsonl, the newest checkpoint is step 4's.
    await Deno.remove(`${killed}/checkpoints/step-0000000008`, { recursive: true });
    await Deno.remove(`${killed}/summary.json`);
    const notices: string[] = [];
    const summary = await runTraining(
      b,
      options(killed, { resume: true, notice: (l) => notices.push(l) }),
    );
    assert.match(notices.join("\n"), /continuing .* from step 4 \(.*step-0000000004\)/);
    const records = (await readJsonl(`${killed}/metrics.jsonl`)) as Rec[];
    assert.deepEqual(records.map((r) => r.step), [2, 4, 6, 8], "no record twice");
    assert.deepEqual(summary, { bestStep: 4, restored: 4 });
    await runTraining(c, options(straight));
    // The restored best weights are the same; so are the last checkpoints, byte for byte.
    assert.deepEqual(b.weights(), c.weights());
    const last = "checkpoints/step-0000000008/weights.bin";
    assert.deepEqual(
      await Deno.readFile(`${killed}/${last}`),
      await Deno.readFile(`${straight}/${last}`),
    );
    const [ra, rb] = [
      (await readJsonl(`${killed}/metrics.jsonl`)) as Rec[],
      (await readJsonl(`${straight}/metrics.jsonl`)) as Rec[],
    ];
    assert.deepEqual(ra, rb, "the mean training losses resume too");
  } finally {
    for (const t of [a, b, c]) t.dispose();
    await Deno.remove(killed, { recursive: true });
    await Deno.remove(straight, { recursive: true });
  }
});

Deno.test("runTraining: early stopping after `patience` steps without a better evaluation", async () => {
  const out = await Deno.makeTempDir();
  const task = new FakeTask({ 2: 1, 4: 2, 6: 3, 8: 0 });
  try {
    const summary = await runTraining(task, options(out, { patience: 4 }));
    assert.equal(summary.bestStep, 2);
    const records = (await readJsonl(`${out}/metrics.jsonl`)) as Rec[];
    assert.deepEqual(records.map((r) => r.step), [2, 4, 6]);
    // Stopped at step 6 with a checkpoint there, although checkpoints are due every 4 steps.
    assert.match((await latestCheckpoint(`${out}/checkpoints`))!, /step-0000000006$/);
  } finally {
    task.dispose();
    await Deno.remove(out, { recursive: true });
  }
});

const SIGNAL_DURING_STEP =
  "runTraining: a signal during a step is acted on after that step, not at the next evaluation";

Deno.test({
  name: `${SIGNAL_DURING_STEP} (in a process of its own)`,
  ignore: Deno.build.os === "windows" || OWN_PROCESS,
  fn: () => inOwnProcess(import.meta.url, SIGNAL_DURING_STEP),
});

Deno.test({
  name: SIGNAL_DURING_STEP,
  ignore: Deno.build.os === "windows" || !OWN_PROCESS,
  fn: async () => {
    const out = await Deno.makeTempDir();
    // The signal arrives while step 3 (0-based) runs; the step never yields to the event loop
    // (as a tfjs step on the cpu backend), so only the loop's own yield can deliver it.
    const task = new FakeTask({}, (s) => {
      if (s !== 3) return;
      Deno.kill(Deno.pid, "SIGTERM");
      const until = performance.now() + 50;
      while (performance.now() < until) { /* the signal arrives meanwhile */ }
    });
    try {
      await assert.rejects(
        () =>
          runTraining(task, options(out, { steps: 200, evalEvery: 1000, checkpointEvery: 1000 })),
        (e: unknown) => e instanceof Interrupted && e.signal === "SIGTERM" && e.step === 4,
      );
      assert.match((await latestCheckpoint(`${out}/checkpoints`))!, /step-0000000004$/);
    } finally {
      task.dispose();
      await Deno.remove(out, { recursive: true });
    }
  },
});
