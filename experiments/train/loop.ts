/**
 * The resumable training loop that every trained experiment runs (`exp:mnist`, `exp:semi`,
 * `exp:otkmeans`). What is the same for every model lives here once; what is particular to a
 * model (its networks, its loss, its evaluation) comes in through a {@link TrainingTask}.
 *
 * What the loop owns, in a run directory `out`:
 * - **Checkpoints** `checkpoints/step-*` (weights + optimizer state + the loop's counters + the
 *   task's own state), every `checkpointEvery` steps, at the last step, and when stopping.
 *   With `resume`, training continues from the newest one. Nothing else is needed to continue,
 *   because a task's batches and noise must be pure functions of (seed, step).
 * - **The best checkpoint** `best/step-*`: the weights of the evaluation whose selection error
 *   ({@link TrainingTask.errorOf}, lower is better) is the lowest so far. Best checkpoints
 *   written after the last regular checkpoint are kept beside the one it knew, so a run killed
 *   in between still finds its best after a resume; they are pruned at the next checkpoint.
 * - **metrics.jsonl** (one record per evaluation) and **metrics.csv**, plus an optional
 *   **train.jsonl** of per-step records. On resume, records past the checkpoint's step are
 *   dropped (the killed process logged them; the resumed one redoes them), and the best so far
 *   is read back from the records that remain: metrics.jsonl is the one source of truth.
 * - **Progress**: a bar on a terminal, one line every `logEvery` steps otherwise
 *   (`progress.ts`).
 * - **Interrupts**: SIGINT / SIGTERM finish the current step, write a checkpoint and throw
 *   {@link Interrupted} (the task's top level prints the resume hint and exits 130). A signal
 *   handler can only run when the loop gives the event loop a turn; a tfjs step on the cpu or
 *   wasm backend never does (its reads resolve as microtasks), so the loop yields once after
 *   every step ({@link EventLoopTurn}, 0.01 ms; `setTimeout(0)` costs ≈ 2 ms, a seventh of a
 *   14 ms wasm step). Without it a Ctrl-C waited for the next evaluation (48 s measured on the
 *   default `exp:mnist`).
 * - **Stopping rules**: early stopping after `patience` steps without a better evaluation, and
 *   an optional budget of summed step time (`maxTrainSeconds`, counted across resumes) after
 *   which the step reached is evaluated and training ends.
 * - **summary.json**, written atomically from what {@link TrainingTask.summarise} returns.
 *
 * @module
 */
import type { tf } from "../../tf/deps/tfjs.ts";
import {
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
} from "../checkpoint.ts";
import {
  appendJsonlAtomic,
  type CsvValue,
  filterJsonlAtomic,
  readJsonl,
  writeCsvAtomic,
  writeJsonAtomic,
} from "../io.ts";
import { TrainingProgress } from "../progress.ts";
import { RunSetupError } from "../errors.ts";
import { Interrupted, listenForStop } from "../interrupt.ts";

// ---------------------------------------------------------------------------------------
// The task interface

/** What one training step reports. */
export interface StepResult {
  /** The step's training loss (shown by the progress, averaged into {@link EvalContext}). */
  readonly loss: number;
  /** A per-step record to append to train.jsonl, when the task logs this step. */
  readonly log?: Readonly<Record<string, unknown>>;
}

/** What the loop tells an evaluation. */
export interface EvalContext {
  /** Steps finished (the weights evaluated are those after this many steps). */
  readonly step: number;
  /** Mean training loss of the steps since the previous evaluation (NaN if none). */
  readonly trainLoss: number;
  /** Summed time of the training steps so far, all processes of the run. */
  readonly trainSeconds: number;
  /** Steps timed in this process, and their mean time (NaN before the first). */
  readonly timedSteps: number;
  readonly stepSeconds: number;
  /** Whether a record of this selection error would be the best so far (strictly lower). */
  readonly improves: (error: number) => boolean;
}

/** A checkpoint read back: its step and the task state saved with it. */
export interface RestoredCheckpoint {
  readonly step: number;
  readonly state: Readonly<Record<string, unknown>>;
}

/** What the loop hands to {@link TrainingTask.summarise} when training is over. */
export interface TrainingOutcome<R> {
  /** Steps finished. */
  readonly step: number;
  /** Every evaluation record of the run, in order (metrics.jsonl). */
  readonly history: readonly R[];
  /** Step and selection error of the best evaluation (-1 and Infinity: none). */
  readonly bestStep: number;
  readonly bestError: number;
  /** Whether early stopping ended training. */
  readonly stopped: boolean;
  /** Whether the time budget ended training. */
  readonly budgetReached: boolean;
  /** Summed step time of the run (all processes). */
  readonly trainSeconds: number;
  /** Steps timed in this process and their summed time (a resumed run times only its own). */
  readonly timedSteps: number;
  readonly timedSeconds: number;
  /**
   * Loads the best checkpoint's weights into the model (through a fresh optimizer that is then
   * discarded); null when no evaluation was a candidate.
   */
  readonly restoreBest: () => Promise<RestoredCheckpoint | null>;
}

/**
 * A model plugged into {@link runTraining}. `R` is its metrics.jsonl record, `S` its
 * summary.json.
 */
export interface TrainingTask<R extends { readonly step: number }, S> {
  /** The model whose weights are checkpointed (every trainable tensor of the run). */
  readonly model: tf.LayersModel;
  /** A new optimizer (the loop makes the one it trains with, and fresh ones to restore). */
  makeOptimizer(): tf.Optimizer;
  /**
   * Work due before step `step` that is not a training step (not timed), e.g. initialising
   * centroids once a warm-up is over.
   */
  prepare?(step: number): Promise<void>;
  /** Trains step `step` (0-based): forward, loss, backward, update. */
  trainStep(step: number, optimizer: tf.Optimizer): Promise<StepResult>;
  /** Evaluates the current weights: the metrics.jsonl record and the line to print. */
  evaluate(ctx: EvalContext): Promise<{ readonly record: R; readonly line: string }>;
  /** Selection error of a record (lower is better); undefined: the record is no candidate. */
  errorOf(record: R): number | undefined;
  /** JSON state of the task saved in every checkpoint (e.g. a phase flag). */
  state?(): Record<string, unknown>;
  /** Restores that state from the checkpoint resumed from. */
  restore?(state: Readonly<Record<string, unknown>>): void;
  /** The summary of the finished training (written to summary.json by the loop). */
  summarise(outcome: TrainingOutcome<R>): Promise<S>;
}

/** How and where {@link runTraining} runs. */
export interface TrainingOptions {
  /** Results directory. */
  readonly out: string;
  /** Continue from the newest checkpoint in `out` (a fresh start if there is none). */
  readonly resume: boolean;
  readonly steps: number;
  readonly evalEvery: number;
  readonly checkpointEvery: number;
  /** Early stopping: steps without a better evaluation (default: never). */
  readonly patience?: number;
  /** Stop once the summed step time reaches this many seconds (default: no budget). */
  readonly maxTrainSeconds?: number;
  /** Written to config.json (atomically) before training. */
  readonly config: unknown;
  /** Files of `out` a fresh start removes besides the loop's own (results of the task). */
  readonly staleFiles?: readonly string[];
  /** Progress: no bar (one line every `logEvery` steps); line prefix; line sink. */
  readonly quiet?: boolean;
  readonly logEvery?: number;
  readonly label?: string;
  readonly write?: (line: string) => void;
  /** Sink of the loop's notices (resuming); default `console.error`. */
  readonly notice?: (line: string) => void;
}

/** The files the loop writes in `out`, each removed by a fresh start. */
export const LOOP_FILES = {
  metrics: "metrics.jsonl",
  metricsCsv: "metrics.csv",
  steps: "train.jsonl",
  summary: "summary.json",
} as const;

// ---------------------------------------------------------------------------------------
// The loop

/** The loop's counters, saved in every checkpoint beside the task's state. */
interface Counters {
  step: number;
  /** Whether early stopping has ended training. */
  stopped: boolean;
  /** Training loss summed since the previous evaluation, and its step count. */
  lossSum: number;
  lossCount: number;
  /** Summed step time, all processes. */
  trainSeconds: number;
}

/**
 * Trains `task` in `opts.out` until the last step, early stopping, the time budget or a signal
 * (module doc), then writes summary.json from `task.summarise`.
 *
 * @typeParam R The task's evaluation record.
 * @typeParam S The task's summary.
 * @param task The model, its step, evaluation and summary.
 * @param opts Directory, schedule, stopping rules, progress.
 * @returns The summary, as written to summary.json.
 * @throws {RunSetupError} If `out` holds checkpoints and `resume` is false.
 * @throws {CheckpointError} If the checkpoint to resume from is corrupt or does not fit.
 * @throws {Interrupted} After checkpointing the step finished when SIGINT/SIGTERM came.
 */
export async function runTraining<R extends { readonly step: number }, S>(
  task: TrainingTask<R, S>,
  opts: TrainingOptions,
): Promise<S> {
  const out = opts.out.replace(/\/+$/, "");
  const dirs = { checkpoints: `${out}/checkpoints`, best: `${out}/best` };
  const optimizer = task.makeOptimizer();
  const c = await openCounters(task, optimizer, out, dirs, opts);
  await writeJsonAtomic(`${out}/config.json`, opts.config);
  const history = (await readJsonl(`${out}/${LOOP_FILES.metrics}`)) as R[];
  let best = bestOf(task, history);
  let committedBest = best.step;
  let budgetReached = opts.maxTrainSeconds !== undefined && c.trainSeconds >= opts.maxTrainSeconds;
  let timedSteps = 0, timedSeconds = 0;

  const progress = new TrainingProgress({
    total: opts.steps,
    startStep: c.step,
    quiet: opts.quiet,
    logEvery: opts.logEvery,
    label: opts.label,
    write: opts.write,
  });
  const save = async (dir: string, extra: Record<string, unknown>, keep?: number) => {
    await saveCheckpoint(
      dir,
      task.model,
      optimizer,
      { step: c.step, rngState: null, extra: { ...task.state?.(), ...extra } },
      keep === undefined ? undefined : { keep },
    );
  };
  const checkpoint = async () => {
    const { stopped, lossSum, lossCount, trainSeconds } = c;
    await save(dirs.checkpoints, { stopped, lossSum, lossCount, trainSeconds });
    committedBest = best.step;
    await pruneCheckpoints(dirs.best, (s) => s >= committedBest);
  };
  const evaluate = async () => {
    const { record, line } = await task.evaluate({
      step: c.step,
      trainLoss: c.lossCount > 0 ? c.lossSum / c.lossCount : NaN,
      trainSeconds: c.trainSeconds,
      timedSteps,
      stepSeconds: timedSeconds / timedSteps,
      improves: (error) => error < best.error,
    });
    const error = task.errorOf(record);
    if (error !== undefined && error < best.error) {
      best = { step: c.step, error };
      await save(dirs.best, { error }, Number.MAX_SAFE_INTEGER);
      await pruneCheckpoints(dirs.best, (s) => s >= committedBest);
    }
    c.lossSum = 0;
    c.lossCount = 0;
    history.push(record);
    await appendJsonlAtomic(`${out}/${LOOP_FILES.metrics}`, record);
    await writeCsvAtomic(
      `${out}/${LOOP_FILES.metricsCsv}`,
      history as unknown as Record<string, CsvValue>[],
    );
    progress.log(line);
    if (opts.patience !== undefined && c.step - best.step >= opts.patience) {
      c.stopped = true;
      progress.log(`early stopping at step ${c.step}: best step ${best.step}`);
    }
    if (budgetReached) {
      progress.log(
        `time budget reached at step ${c.step}: ${c.trainSeconds.toFixed(1)} s of training ` +
          `(budget ${opts.maxTrainSeconds} s); best step ${best.step}`,
      );
    }
  };

  // Whether a training step is running (a signal can arrive inside one that awaits the event
  // loop, e.g. on webgpu, or between steps, in the loop's own turn).
  let inStep = false;
  const stop = listenForStop((sig) =>
    progress.log(
      `${sig}: ${inStep ? `finishing step ${c.step + 1}` : `stopping at step ${c.step}`} ` +
        `and writing a checkpoint…`,
    )
  );
  const turn = new EventLoopTurn();
  try {
    while (c.step < opts.steps && !c.stopped && !budgetReached) {
      await task.prepare?.(c.step);
      const t0 = performance.now();
      inStep = true;
      const r = await task.trainStep(c.step, optimizer);
      const seconds = (performance.now() - t0) / 1000;
      c.step++;
      inStep = false;
      timedSteps++;
      timedSeconds += seconds;
      c.trainSeconds += seconds;
      c.lossSum += r.loss;
      c.lossCount++;
      budgetReached = opts.maxTrainSeconds !== undefined &&
        c.trainSeconds >= opts.maxTrainSeconds;
      if (r.log !== undefined) await appendJsonlAtomic(`${out}/${LOOP_FILES.steps}`, r.log);
      progress.update(c.step, r.loss);
      // A signal that came during the step is delivered now.
      await turn.take();
      const last = c.step === opts.steps;
      if (c.step % opts.evalEvery === 0 || last || budgetReached) await evaluate();
      const done = last || c.stopped || budgetReached;
      if (c.step % opts.checkpointEvery === 0 || done || stop.signal !== null) await checkpoint();
      if (stop.signal !== null && !done) throw new Interrupted(c.step, stop.signal);
    }
  } finally {
    turn.close();
    stop.close();
    progress.stop();
  }
  optimizer.dispose(); // its state is in the last checkpoint

  const summary = await task.summarise({
    step: c.step,
    history,
    bestStep: best.step,
    bestError: best.error,
    stopped: c.stopped,
    budgetReached,
    trainSeconds: c.trainSeconds,
    timedSteps,
    timedSeconds,
    restoreBest: async () => {
      const path = await latestCheckpoint(dirs.best);
      if (path === null) return null;
      const fresh = task.makeOptimizer();
      try {
        const st = await loadCheckpoint(path, task.model, fresh);
        return { step: st.step, state: st.extra as Record<string, unknown> };
      } finally {
        fresh.dispose();
      }
    },
  });
  await writeJsonAtomic(`${out}/${LOOP_FILES.summary}`, summary);
  return summary;
}

/**
 * Resumes from the newest checkpoint (restoring weights, optimizer, counters and the task's
 * state, and rolling the logs back to its step), or prepares a fresh start.
 */
async function openCounters<R extends { readonly step: number }, S>(
  task: TrainingTask<R, S>,
  optimizer: tf.Optimizer,
  out: string,
  dirs: { readonly checkpoints: string; readonly best: string },
  opts: TrainingOptions,
): Promise<Counters> {
  const c: Counters = { step: 0, stopped: false, lossSum: 0, lossCount: 0, trainSeconds: 0 };
  const existing = await latestCheckpoint(dirs.checkpoints);
  if (existing !== null && !opts.resume) {
    throw new RunSetupError(
      `Results directory ${out} already holds checkpoints (${existing}); pass --resume to ` +
        `continue that run, or choose another --out`,
    );
  }
  await Deno.mkdir(out, { recursive: true });
  if (existing === null) {
    for (const f of [...Object.values(LOOP_FILES), ...(opts.staleFiles ?? [])]) {
      await Deno.remove(`${out}/${f}`).catch(() => {});
    }
    await Deno.remove(dirs.best, { recursive: true }).catch(() => {});
    return c;
  }
  const st = await loadCheckpoint(existing, task.model, optimizer);
  const x = st.extra as Record<string, unknown>;
  const num = (v: unknown) => typeof v === "number" ? v : 0;
  Object.assign(c, {
    step: st.step,
    stopped: x.stopped === true,
    lossSum: num(x.lossSum),
    lossCount: num(x.lossCount),
    trainSeconds: num(x.trainSeconds),
  });
  task.restore?.(x);
  // Drop what the killed process logged or saved after this checkpoint (it is redone).
  const upTo = (r: unknown) => (r as { step: number }).step <= c.step;
  await filterJsonlAtomic(`${out}/${LOOP_FILES.metrics}`, upTo);
  await filterJsonlAtomic(`${out}/${LOOP_FILES.steps}`, upTo);
  await pruneCheckpoints(dirs.best, (s) => s <= c.step);
  (opts.notice ?? console.error)(`[resume] continuing ${out} from step ${c.step} (${existing})`);
  return c;
}

/** The best candidate among `history` (the first of equal errors, as the loop decides). */
function bestOf<R extends { readonly step: number }, S>(
  task: TrainingTask<R, S>,
  history: readonly R[],
): { step: number; error: number } {
  let best = { step: -1, error: Infinity };
  for (const r of history) {
    const error = task.errorOf(r);
    if (error !== undefined && error < best.error) best = { step: r.step, error };
  }
  return best;
}

async function pruneCheckpoints(dir: string, keep: (step: number) => boolean): Promise<void> {
  for (const c of await listCheckpoints(dir)) {
    if (!keep(c.step)) await Deno.remove(c.path, { recursive: true });
  }
}

/**
 * One turn of the event loop on demand, for signal handlers to run between steps. A message
 * through a `MessageChannel` is delivered by the event loop (as a signal is) and costs ≈ 0.01
 * ms; `setTimeout(0)` is clamped to ≈ 2 ms. Close it when done: an open port is a resource.
 */
export class EventLoopTurn {
  #channel = new MessageChannel();

  /** @returns Resolves once the event loop has taken a turn. */
  take(): Promise<void> {
    return new Promise((resolve) => {
      this.#channel.port1.onmessage = () => resolve();
      this.#channel.port2.postMessage(null);
    });
  }

  /** Closes the channel. */
  close(): void {
    this.#channel.port1.close();
    this.#channel.port2.close();
  }
}
