/**
 * Training progress: a live bar (npm `cli-progress`) with step, loss, throughput and ETA on a
 * terminal; in quiet mode — asked for, or whenever stdout is not a TTY (CI, logs, pipes) — one
 * plain line every `logEvery` steps and at the end instead.
 *
 * Throughput is measured from the first step seen by this process, so a resumed run reports
 * its own speed and an honest ETA rather than counting the restored steps as instantaneous.
 *
 * @module
 */
import { cliProgress } from "./deps/progress.ts";

/** Options of {@link TrainingProgress}. */
export interface ProgressOptions {
  /** Total steps of the run. */
  readonly total: number;
  /** Step already reached (resumed runs). */
  readonly startStep?: number;
  /**
   * Quiet mode even on a terminal. Without a terminal it is always quiet: a bar written to a
   * file or a pipe prints nothing there (`--quiet` defaults to false, which must not mean "no
   * progress lines in the log").
   */
  readonly quiet?: boolean;
  /** Whether stdout is a terminal (default `Deno.stdout.isTerminal()`); injectable for tests. */
  readonly terminal?: boolean;
  /** Steps between lines in quiet mode. */
  readonly logEvery?: number;
  /** Prefix of every line (run name). */
  readonly label?: string;
  /** Line sink of quiet mode (default `console.log`). */
  readonly write?: (line: string) => void;
  /** Clock in milliseconds (default `performance.now`); injectable for tests. */
  readonly now?: () => number;
}

/**
 * Formats seconds as `1h02m`, `3m05s` or `12s`.
 *
 * @param seconds Non-negative duration (non-finite ⇒ `?`).
 * @returns Short text.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, "0")}s`;
  return `${r}s`;
}

/** A snapshot of progress, as printed. */
export interface ProgressStatus {
  readonly step: number;
  readonly total: number;
  readonly loss: number | undefined;
  /** Steps per second since this process started (NaN before two updates). */
  readonly stepsPerSecond: number;
  /** Seconds left at the current throughput. */
  readonly etaSeconds: number;
}

/**
 * One quiet-mode line, e.g. `mnist step 200/1500 (13%) | loss 0.4312 | 2.10 steps/s | ETA 10m19s`.
 *
 * @param s Status.
 * @param label Prefix.
 * @returns The line.
 */
export function formatProgressLine(s: ProgressStatus, label = ""): string {
  const pct = s.total > 0 ? Math.floor((100 * s.step) / s.total) : 100;
  const loss = s.loss === undefined ? "-" : s.loss.toPrecision(4);
  const rate = Number.isFinite(s.stepsPerSecond) ? s.stepsPerSecond.toFixed(2) : "?";
  return `${label ? `${label} ` : ""}step ${s.step}/${s.total} (${pct}%) | loss ${loss} | ` +
    `${rate} steps/s | ETA ${formatDuration(s.etaSeconds)}`;
}

/** Progress reporter for one training run. */
export class TrainingProgress {
  readonly quiet: boolean;
  #opts: ProgressOptions;
  #bar: InstanceType<typeof cliProgress.SingleBar> | undefined;
  #firstStep: number | undefined;
  #firstTime = 0;
  #lastLogged: number;
  #status: ProgressStatus;
  #now: () => number;

  /**
   * Starts the bar (TTY) or quiet logging.
   *
   * @param opts Options.
   */
  constructor(opts: ProgressOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? (() => performance.now());
    this.quiet = opts.quiet === true || !(opts.terminal ?? Deno.stdout.isTerminal());
    const start = opts.startStep ?? 0;
    this.#lastLogged = start;
    this.#status = {
      step: start,
      total: opts.total,
      loss: undefined,
      stepsPerSecond: NaN,
      etaSeconds: NaN,
    };
    if (!this.quiet) {
      this.#bar = new cliProgress.SingleBar({
        format: `${opts.label ? `${opts.label} ` : ""}{bar} {value}/{total} | loss {loss} | ` +
          `{rate} steps/s | ETA {etaText}`,
        hideCursor: true,
        stopOnComplete: false,
        etaBuffer: 50,
      }, cliProgress.Presets.shades_classic);
      this.#bar.start(opts.total, start, { loss: "-", rate: "?", etaText: "?" });
    }
  }

  /** The latest status. */
  get status(): ProgressStatus {
    return this.#status;
  }

  /**
   * Records that `step` steps are finished.
   *
   * @param step Steps finished so far.
   * @param loss Latest training loss.
   */
  update(step: number, loss?: number): void {
    const t = this.#now();
    if (this.#firstStep === undefined) {
      this.#firstStep = step;
      this.#firstTime = t;
    }
    const done = step - this.#firstStep, seconds = (t - this.#firstTime) / 1000;
    const rate = done > 0 && seconds > 0 ? done / seconds : NaN;
    this.#status = {
      step,
      total: this.#opts.total,
      loss,
      stepsPerSecond: rate,
      etaSeconds: (this.#opts.total - step) / rate,
    };
    if (this.#bar) {
      this.#bar.update(step, {
        loss: loss === undefined ? "-" : loss.toPrecision(4),
        rate: Number.isFinite(rate) ? rate.toFixed(2) : "?",
        etaText: formatDuration(this.#status.etaSeconds),
      });
    } else {
      const every = this.#opts.logEvery ?? 100;
      if (step - this.#lastLogged >= every || step >= this.#opts.total) {
        this.#lastLogged = step;
        this.#write(formatProgressLine(this.#status, this.#opts.label));
      }
    }
  }

  /**
   * Prints a message without breaking the bar (e.g. an evaluation result).
   *
   * @param line Text.
   */
  log(line: string): void {
    if (this.#bar) {
      this.#bar.stop();
      console.log(line);
      this.#bar.start(this.#opts.total, this.#status.step, {
        loss: this.#status.loss === undefined ? "-" : this.#status.loss.toPrecision(4),
        rate: Number.isFinite(this.#status.stepsPerSecond)
          ? this.#status.stepsPerSecond.toFixed(2)
          : "?",
        etaText: formatDuration(this.#status.etaSeconds),
      });
    } else {
      this.#write(line);
    }
  }

  /** Stops the bar (restores the cursor). */
  stop(): void {
    this.#bar?.stop();
    this.#bar = undefined;
  }

  #write(line: string): void {
    (this.#opts.write ?? ((l: string) => console.log(l)))(line);
  }
}
