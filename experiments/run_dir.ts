/**
 * One results directory = one run. Every task that writes results opens its `--out` through
 * {@link openRunDir}, which writes `run.json` (the command and its settings) and refuses to
 * mix work:
 *
 * - without `--resume`, a directory that holds a run (a `run.json`, `config.json`,
 *   `checkpoints/`, `metrics.jsonl` or `summary.json`) is refused ("pass --resume to continue
 *   it, or choose another --out"). Tasks that cannot resume (exp:toy, compare, exp:denoise)
 *   may rerun into a directory holding a run with the same settings (same result, replaced);
 *   other settings are refused with the difference.
 * - with `--resume`, a directory that does not exist or holds no run is an error, a run with
 *   other settings is refused with a short diff (`steps: 400 → 450`), and a finished run
 *   ({@link markFinished}) stops with "already finished at step N".
 *
 * Operational flags (where the data is, where results go, the backend, progress output) are
 * not settings: a run may be resumed on another backend or with another log interval.
 *
 * @module
 */
import { pathExists, writeJsonAtomic } from "./io.ts";
import { kebab } from "./cli/flags.ts";
import { AlreadyFinished, RunSetupError } from "./errors.ts";

export { AlreadyFinished, RunSetupError };

/** Flags that say how to run, not what: they may change between a run and its resume. */
export const OPERATIONAL_FLAGS: readonly string[] = [
  "resume",
  "quiet",
  "logEvery",
  "out",
  "backend",
  "dataDir",
  "debug",
];

/**
 * The settings of a config: every defined value but the operational flags.
 *
 * @param config Decoded flags.
 * @returns A JSON-compatible record, keys sorted.
 */
export function settingsOf(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(config).sort()) {
    if (!OPERATIONAL_FLAGS.includes(k) && config[k] !== undefined) out[k] = config[k];
  }
  return JSON.parse(JSON.stringify(out));
}

const show = (v: unknown) =>
  v === undefined ? "(unset)" : Array.isArray(v) ? v.join(",") : String(v);

/**
 * The differences between saved and current settings, one `flag: old → new` entry each.
 *
 * @param saved Settings of the saved run.
 * @param current Settings of this invocation.
 * @returns The entries (empty when equal), flags in kebab-case.
 *
 * @example
 * ```ts
 * import { diffSettings } from "./run_dir.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(diffSettings({ steps: 400, k: 3 }, { steps: 450, k: 3 }), ["steps: 400 → 450"]);
 * ```
 */
export function diffSettings(
  saved: Readonly<Record<string, unknown>>,
  current: Readonly<Record<string, unknown>>,
): string[] {
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(current)])].sort();
  return keys
    .filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(current[k]))
    .map((k) => `${kebab(k)}: ${show(saved[k])} → ${show(current[k])}`);
}

/** What `run.json` holds. */
export interface RunRecord {
  readonly format: "spanclust-run";
  readonly command: string;
  readonly settings: Record<string, unknown>;
  /** Set by {@link markFinished}. */
  readonly finished: { readonly step: number; readonly at: string } | null;
}

const RUN_MARKERS = ["run.json", "config.json", "checkpoints", "metrics.jsonl", "summary.json"];

/**
 * Reads `run.json` of a directory.
 *
 * @param out Results directory.
 * @returns The record, or null when there is none.
 * @throws {RunSetupError} If it exists but is not a run record.
 */
export async function readRunRecord(out: string): Promise<RunRecord | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${out}/run.json`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  let rec: RunRecord;
  try {
    rec = JSON.parse(text);
  } catch (e) {
    throw new RunSetupError(`Corrupt ${out}/run.json: ${(e as Error).message}`);
  }
  if (rec?.format !== "spanclust-run" || typeof rec.settings !== "object") {
    throw new RunSetupError(`Corrupt ${out}/run.json: not a spanclust run record`);
  }
  return rec;
}

/** How {@link openRunDir} opened a directory. */
export interface OpenedRun {
  /** True when an existing run is continued (its files are kept). */
  readonly resume: boolean;
}

/**
 * Checks and claims a results directory for a command (module doc), creating it.
 *
 * @param out Results directory.
 * @param opts The command's name, its decoded flags, `--resume`, and whether it can resume.
 * @returns Whether an existing run is continued.
 * @throws {RunSetupError} If the directory cannot be used as asked (message says why and
 *   what to do).
 * @throws {AlreadyFinished} On `--resume` of a finished run.
 */
export async function openRunDir(
  out: string,
  opts: {
    readonly command: string;
    readonly config: Readonly<Record<string, unknown>>;
    readonly resume: boolean;
    readonly resumable?: boolean;
    /** The command continues on its own (no --resume flag): say "continue" in messages. */
    readonly continues?: boolean;
  },
): Promise<OpenedRun> {
  const settings = settingsOf(opts.config);
  const cannot = opts.continues ? "Cannot continue" : "Cannot --resume";
  const resumable = opts.resumable ?? true;
  let info: Deno.FileInfo | null = null;
  try {
    info = await Deno.stat(out);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (info !== null && !info.isDirectory) {
    throw new RunSetupError(`--out ${out} is a file, not a directory`);
  }
  const markers = info === null ? [] : (await Promise.all(
    RUN_MARKERS.map(async (m) => (await pathExists(`${out}/${m}`)) ? m : null),
  ))
    .filter((m): m is string => m !== null);
  const record = markers.includes("run.json") ? await readRunRecord(out) : null;
  if (opts.resume) {
    if (info === null) {
      throw new RunSetupError(
        `Cannot --resume ${out}: the directory does not exist (drop --resume to start a run there)`,
      );
    }
    if (markers.length === 0) {
      throw new RunSetupError(
        `Cannot --resume ${out}: it holds no run (drop --resume to start one there)`,
      );
    }
    if (record !== null) {
      if (record.command !== opts.command) {
        throw new RunSetupError(
          `${cannot} ${out}: it holds a run of ${record.command}, not ${opts.command}`,
        );
      }
      const diff = diffSettings(record.settings, settings);
      if (diff.length > 0) {
        throw new RunSetupError(
          `${cannot} ${out}: settings differ from the saved run (${diff.join(", ")}); ` +
            `${opts.continues ? "continue" : "resume"} with the saved settings, or start a new ` +
            `run with another --out`,
        );
      }
      if (record.finished !== null) throw new AlreadyFinished(out, record.finished.step);
      return { resume: true };
    }
    // A run from before run.json existed: its settings cannot be checked here.
    console.error(`[resume] ${out} has no run.json (an older run): settings not compared`);
  } else if (markers.length > 0) {
    const same = record !== null && record.command === opts.command &&
      diffSettings(record.settings, settings).length === 0;
    if (resumable) {
      throw new RunSetupError(
        `${out} already holds a run (${markers.join(", ")}); pass --resume to continue it, ` +
          `or choose another --out`,
      );
    }
    if (!same) {
      const diff = record === null ? [] : diffSettings(record.settings, settings);
      throw new RunSetupError(
        `${out} already holds ${
          record === null
            ? "results"
            : record.command !== opts.command
            ? `a run of ${record.command}`
            : `a run with other settings (${diff.join(", ")})`
        }; choose another --out, or remove it first`,
      );
    }
  }
  await Deno.mkdir(out, { recursive: true });
  if (!opts.resume || record === null) {
    const fresh: RunRecord = {
      format: "spanclust-run",
      command: opts.command,
      settings,
      finished: null,
    };
    await writeJsonAtomic(`${out}/run.json`, fresh);
  }
  return { resume: opts.resume };
}

/**
 * Records in `run.json` that the run finished (a later `--resume` then says so).
 *
 * @param out Results directory (opened with {@link openRunDir}).
 * @param step The last step.
 * @returns Resolves when written.
 */
export async function markFinished(out: string, step: number): Promise<void> {
  const rec = await readRunRecord(out);
  if (rec === null) return;
  await writeJsonAtomic(`${out}/run.json`, {
    ...rec,
    finished: { step, at: new Date().toISOString() },
  });
}
