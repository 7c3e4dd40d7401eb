/**
 * Command-line flags of every experiment, parsed and validated in this one place.
 *
 * Each flag is an io-ts codec from the raw string (or boolean) to a typed value, with a
 * default and a description; a command is a named record of flags (one io-ts codec per
 * experiment) with optional presets (`--preset quick|paper`) that change defaults. Explicit
 * flags beat the preset, which beats the defaults. `--help` (also after `--`, the npm habit)
 * lists every flag with the value that applies under each preset; unknown flags, missing and
 * invalid values, and the command's cross-flag `checks` (run before any data is loaded) are
 * usage errors.
 *
 * Every task's entry point is `runMain(() => main(Deno.args))`: an error prints as one line
 * `error: <message>` (the stack only with `--debug`) and sets the exit status — 2 for usage,
 * 1 for anything else, 130 for a run stopped by Ctrl-C/SIGTERM after its checkpoint, 0 for
 * `--resume` of a finished run — and the terminal is restored.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { E, pipe, t } from "../lib/deps/fp.ts";
import { BACKEND_CHOICES, MODEL_CHOICES } from "./choices.ts";
import { exitOnSignal, Interrupted } from "./interrupt.ts";
import { AlreadyFinished, UsageError } from "./errors.ts";
import { DATASET_EVAL_DEFAULTS } from "./dataset_eval.ts";

export { AlreadyFinished, Interrupted, UsageError };

/** One flag: its codec (from the raw argv value), default, and help text. */
export interface Flag<A> {
  readonly codec: t.Type<A, unknown, unknown>;
  /** `undefined` means "no default": the flag is optional and absent unless given. */
  readonly default: A | undefined;
  readonly description: string;
  /** Shown after the flag name in `--help` (`<int>`, `a|b|c`); empty for booleans. */
  readonly placeholder: string;
  readonly boolean: boolean;
}

// deno-lint-ignore no-explicit-any
type AnyFlags = Record<string, Flag<any>>;
/** The typed configuration a command's flags decode to (keys in camelCase). */
export type ConfigOf<F extends AnyFlags> = { readonly [K in keyof F]: F[K]["default"] };

function numberCodec(
  name: string,
  integer: boolean,
  min: number,
  max: number,
  exclusiveMin = false,
): t.Type<number, unknown, unknown> {
  return new t.Type<number, unknown, unknown>(
    name,
    (u): u is number => typeof u === "number",
    (u, c) => {
      const v = typeof u === "number"
        ? u
        : typeof u === "string" && u.trim() !== ""
        ? Number(u)
        : NaN;
      if (
        !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max ||
        (exclusiveMin && v === min)
      ) {
        return t.failure(
          u,
          c,
          `expected ${integer ? "an integer" : "a number"} in ${exclusiveMin ? "(" : "["}${min}, ${
            max === Infinity ? "∞)" : `${max}]`
          }, got ${JSON.stringify(u)}`,
        );
      }
      return t.success(v);
    },
    (a) => a,
  );
}

/** Flag builders. */
export const flag = {
  /** An integer in [min, max]. */
  int(description: string, dflt: number | undefined, min = 0, max = Number.MAX_SAFE_INTEGER) {
    return {
      codec: numberCodec("int", true, min, max),
      default: dflt,
      description,
      placeholder: "<int>",
      boolean: false,
    } satisfies Flag<number>;
  },
  /** A finite number in [min, max]. */
  number(description: string, dflt: number | undefined, min = -Infinity, max = Infinity) {
    return {
      codec: numberCodec("number", false, min, max),
      default: dflt,
      description,
      placeholder: "<x>",
      boolean: false,
    } satisfies Flag<number>;
  },
  /** A finite number > 0 (a scale, a rate). */
  positive(description: string, dflt: number | undefined) {
    return {
      codec: numberCodec("number", false, 0, Infinity, true),
      default: dflt,
      description,
      placeholder: "<x>",
      boolean: false,
    } satisfies Flag<number>;
  },
  /** One of fixed choices. */
  choice<const C extends readonly string[]>(choices: C, description: string, dflt: C[number]) {
    const codec = new t.Type<C[number], unknown, unknown>(
      choices.join("|"),
      (u): u is C[number] => typeof u === "string" && choices.includes(u),
      (u, c) =>
        typeof u === "string" && choices.includes(u)
          ? t.success(u as C[number])
          : t.failure(u, c, `expected one of ${choices.join(", ")}, got ${JSON.stringify(u)}`),
      (a) => a,
    );
    return {
      codec,
      default: dflt as C[number],
      description,
      placeholder: choices.join("|"),
      boolean: false,
    } satisfies Flag<C[number]>;
  },
  /** A string (a path, a name); `undefined` default ⇒ optional. */
  string(description: string, dflt: string | undefined) {
    const codec = new t.Type<string, unknown, unknown>(
      "string",
      (u): u is string => typeof u === "string",
      (u, c) =>
        typeof u === "string" && u !== ""
          ? t.success(u)
          : t.failure(u, c, `expected a non-empty string, got ${JSON.stringify(u)}`),
      (a) => a,
    );
    return { codec, default: dflt, description, placeholder: "<s>", boolean: false } satisfies Flag<
      string
    >;
  },
  /** A comma-separated list of integers, e.g. `--n-labelled 100,250,500`. */
  intList(description: string, dflt: readonly number[], min = 0, max = Number.MAX_SAFE_INTEGER) {
    const one = numberCodec("int", true, min, max);
    const codec = new t.Type<readonly number[], unknown, unknown>(
      "int list",
      (u): u is readonly number[] => Array.isArray(u),
      (u, c) => {
        if (Array.isArray(u)) return t.success(u);
        if (typeof u !== "string") return t.failure(u, c, "expected a comma-separated list");
        const out: number[] = [];
        for (const part of u.split(",")) {
          const r = one.validate(part, c);
          if (E.isLeft(r)) {
            return t.failure(
              u,
              c,
              `expected comma-separated integers in [${min}, ${max}], got ${JSON.stringify(u)}`,
            );
          }
          out.push(r.right);
        }
        return t.success(out);
      },
      (a) => a,
    );
    return {
      codec,
      default: dflt,
      description,
      placeholder: "<a,b,…>",
      boolean: false,
    } satisfies Flag<readonly number[]>;
  },
  /** A comma-separated list of fixed choices, e.g. `--models mlp,paper-lenet`. */
  choiceList<const C extends readonly string[]>(
    choices: C,
    description: string,
    dflt: readonly C[number][],
  ) {
    const codec = new t.Type<readonly C[number][], unknown, unknown>(
      "choice list",
      (u): u is readonly C[number][] => Array.isArray(u),
      (u, c) => {
        if (Array.isArray(u)) return t.success(u);
        const parts = typeof u === "string" ? u.split(",") : [];
        const bad = parts.filter((p) => !choices.includes(p));
        return parts.length > 0 && bad.length === 0 ? t.success(parts as C[number][]) : t.failure(
          u,
          c,
          `expected a comma-separated list of ${choices.join(", ")}, got ${JSON.stringify(u)}`,
        );
      },
      (a) => a,
    );
    return {
      codec,
      default: dflt,
      description,
      placeholder: `<${choices.join("|")},…>`,
      boolean: false,
    } satisfies Flag<readonly C[number][]>;
  },
  /** A switch (present ⇒ true). */
  bool(description: string) {
    return {
      codec: t.boolean,
      default: false,
      description,
      placeholder: "",
      boolean: true,
    } satisfies Flag<
      boolean
    >;
  },
};

/** A cross-flag check: a message naming the flags and values, or null (bivariant in C). */
export type FlagCheck<C> = { check(config: C): string | null }["check"];

/** A command: name, summary, flags, and presets that override defaults. */
export interface Command<F extends AnyFlags> {
  readonly name: string;
  readonly summary: string;
  readonly flags: F;
  /** Preset name → default overrides; selected by `--preset` (a `choice` flag of F). */
  readonly presets?: Readonly<Record<string, Partial<ConfigOf<F>>>>;
  /** How the default of `--out` is formed, for `--help` (e.g. `results/<dataset>-<preset>`). */
  readonly outDefault?: string;
  /**
   * Cross-flag checks run after decoding (e.g. `--k` at most `--batch-size`): each returns a
   * message naming the flags and values, or null. A message is a usage error (exit 2).
   */
  readonly checks?: readonly FlagCheck<ConfigOf<F>>[];
}

/** `learningRate` → `learning-rate`. */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * `--help` text: every flag with placeholder, description, default, and preset values.
 *
 * @param cmd Command.
 * @returns Multi-line text.
 */
export function helpText<F extends AnyFlags>(cmd: Command<F>): string {
  const show = (v: unknown) => Array.isArray(v) ? v.join(",") : String(v);
  const presets = Object.entries(cmd.presets ?? {});
  const rows = Object.entries(cmd.flags).map(([k, f]) => {
    const head = `  --${kebab(k)}${f.placeholder ? ` ${f.placeholder}` : ""}`;
    let dflt: string;
    if (k === "out" && cmd.outDefault !== undefined) dflt = ` (default: ${cmd.outDefault})`;
    else if (f.boolean) dflt = "";
    else if (k !== "preset" && presets.length > 0 && presets.some(([, p]) => k in p)) {
      // A preset always applies, so show the value each preset gives (not the bare default).
      dflt = ` (${
        presets.map(([n, p]) =>
          `${n}: ${show(k in p ? (p as Record<string, unknown>)[k] : f.default ?? "none")}`
        ).join("; ")
      })`;
    } else if (f.default !== undefined) dflt = ` (default: ${show(f.default)})`;
    else dflt = /\((default: |required)/.test(f.description) ? "" : " (optional)";
    return { head, text: `${f.description}${dflt}` };
  });
  rows.push({ head: "  --debug", text: "Print stack traces of errors" });
  rows.push({ head: "  --help", text: "Print this help and exit" });
  const width = Math.max(...rows.map((r) => r.head.length)) + 2;
  return [
    `Usage: deno task ${cmd.name} [flags]`,
    "",
    cmd.summary,
    "",
    "Flags:",
    ...rows.map((r) => r.head.padEnd(width) + r.text),
  ].join("\n");
}

/** A parse outcome: help requested, or a validated config. */
export type Parsed<F extends AnyFlags> =
  | { readonly _tag: "Help"; readonly text: string }
  | { readonly _tag: "Config"; readonly config: ConfigOf<F> };

/**
 * Parses and validates argv for a command.
 *
 * @param cmd Command.
 * @param argv Arguments (e.g. `Deno.args`).
 * @returns Right(help or config) or Left(a message naming the bad flag and what it expects).
 */
export function parseFlags<F extends AnyFlags>(
  cmd: Command<F>,
  argv: readonly string[],
): E.Either<string, Parsed<F>> {
  const options: Record<string, { type: "string" | "boolean" }> = {
    help: { type: "boolean" },
    debug: { type: "boolean" },
  };
  // `deno task X -- --help` (the npm habit) passes the separator through: drop it.
  const args = argv[0] === "--" ? argv.slice(1) : [...argv];
  const byKebab = new Map<string, string>();
  for (const [k, f] of Object.entries(cmd.flags)) {
    options[kebab(k)] = { type: f.boolean ? "boolean" : "string" };
    byKebab.set(kebab(k), k);
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args, options, strict: true, allowPositionals: false })
      .values as Record<string, string | boolean | undefined>;
  } catch (e) {
    const msg = (e as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(msg);
    if (unknown) {
      const name = unknown[1]!.replace(/^-+/, "");
      const near = [...byKebab.keys()].filter((k) => k.includes(name) || name.includes(k));
      return E.left(
        `Unknown flag ${unknown[1]} for ${cmd.name}${
          near.length ? ` (did you mean ${near.map((n) => `--${n}`).join(", ")}?)` : ""
        }; see --help for the list of flags`,
      );
    }
    return E.left(`Invalid arguments for ${cmd.name}: ${msg}; see --help`);
  }
  if (values.help === true) return E.right({ _tag: "Help", text: helpText(cmd) });

  const errors: string[] = [];
  const decodeOne = (k: string, raw: unknown) =>
    pipe(
      cmd.flags[k]!.codec.decode(raw),
      E.mapLeft((es) =>
        `Invalid --${kebab(k)} ${JSON.stringify(raw)}: ${es[0]?.message ?? "invalid"}`
      ),
    );
  // Preset first (it changes the defaults of the others).
  let presetOverrides: Record<string, unknown> = {};
  if ("preset" in cmd.flags) {
    const raw = values["preset"] ?? cmd.flags["preset"]!.default;
    const r = decodeOne("preset", raw);
    if (E.isLeft(r)) return E.left(r.left);
    presetOverrides = (cmd.presets?.[r.right as string] ?? {}) as Record<string, unknown>;
  }
  const config: Record<string, unknown> = {};
  for (const k of Object.keys(cmd.flags)) {
    const raw = values[kebab(k)];
    if (raw === undefined) {
      config[k] = k in presetOverrides ? presetOverrides[k] : cmd.flags[k]!.default;
      continue;
    }
    const r = decodeOne(k, raw);
    if (E.isLeft(r)) errors.push(r.left);
    else config[k] = r.right;
  }
  if (errors.length > 0) return E.left(errors.join("; "));
  for (const check of cmd.checks ?? []) {
    const why = check(config as ConfigOf<F>);
    if (why !== null) errors.push(why);
  }
  if (errors.length > 0) return E.left(errors.join("; "));
  return E.right({ _tag: "Config", config: config as ConfigOf<F> });
}

/**
 * Parses `argv` for a command's `main`: prints help and exits 0, or returns the config.
 *
 * @param cmd Command.
 * @param argv Arguments.
 * @returns The validated config.
 * @throws {UsageError} Naming every bad flag and what it expects (printed by {@link runMain}
 *   as one `error:` line, exit status 2).
 */
export function parseOrExit<F extends AnyFlags>(
  cmd: Command<F>,
  argv: readonly string[],
): ConfigOf<F> {
  const r = parseFlags(cmd, argv);
  if (E.isLeft(r)) throw new UsageError(r.left);
  if (r.right._tag === "Help") {
    console.log(r.right.text);
    Deno.exit(0);
  }
  return r.right.config;
}

/** Shows the cursor and turns line wrap back on (a progress bar may have hidden them). */
export function restoreTerminal(): void {
  const seq = new TextEncoder().encode("\x1b[?25h\x1b[?7h");
  for (const s of [Deno.stdout, Deno.stderr]) {
    try {
      if (s.isTerminal()) s.writeSync(seq);
    } catch {
      // not a terminal we can write to: nothing to restore
    }
  }
}

/**
 * How a command ends on an error: the status and the one line to print. Usage errors exit
 * 2, an interrupted run 130, a run already finished 0 (it says so), anything else 1. A
 * missing Deno permission names the flag to add.
 *
 * @param e What was thrown.
 * @returns Exit status and message (no stack).
 */
export function describeError(e: unknown): { code: number; line: string } {
  const oneLine = (m: string) => m.replace(/\s*\n\s*/g, "; ").trim();
  if (e instanceof Interrupted) {
    return { code: 130, line: `interrupted at step ${e.step}; ${e.hint}` };
  }
  if (e instanceof AlreadyFinished) return { code: 0, line: oneLine(e.message) };
  if (e instanceof UsageError) return { code: 2, line: `error: ${oneLine(e.message)}` };
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof Deno.errors.NotCapable || /run again with the --allow-\w+ flag/.test(msg)) {
    return {
      code: 1,
      line: `error: ${oneLine(msg)} (the task in deno.json lacks this permission: add the flag ` +
        `there, or run the file with deno run and that flag)`,
    };
  }
  return { code: 1, line: `error: ${oneLine(msg)}` };
}

/**
 * The top level of every task: runs `body`, prints an error as one `error: <message>` line
 * (the stack trace only with `--debug`), restores the terminal and exits with
 * {@link describeError}'s status (0 on success).
 *
 * @param body The command (typically `() => main(Deno.args)`).
 * @param argv Arguments (for `--debug`).
 * @returns Never: it exits the process.
 */
export async function runMain(
  body: () => Promise<unknown>,
  argv: readonly string[] = Deno.args,
): Promise<never> {
  let code = 0;
  exitOnSignal();
  try {
    await body();
  } catch (e) {
    restoreTerminal();
    const d = describeError(e);
    code = d.code;
    console.error(d.line);
    if (argv.includes("--debug") && e instanceof Error && e.stack) console.error(e.stack);
  }
  Deno.exit(code);
}

// ---------------------------------------------------------------------------------------
// The experiments' flags.

/** Flags every training experiment shares. */
export const commonFlags = {
  backend: flag.choice(
    BACKEND_CHOICES,
    "tfjs backend (auto: tensorflow, else webgpu on a hardware adapter for a convolutional network, else wasm, else cpu; on a CPU-only machine wasm is the fastest for every network)",
    "auto",
  ),
  seed: flag.int("Seed of data order, initialisation and perturbations", 0, 0, 2 ** 31 - 1),
  out: flag.string("Results directory", undefined),
  quiet: flag.bool("No progress bar: one log line every --log-every steps"),
  logEvery: flag.int("Steps between log lines in quiet / non-TTY mode", 100, 1),
} as const;

/** Training flags of `exp:mnist` (paper §4.1, appendix 11.1), shared with `exp:semi`. */
const trainingFlags = {
  ...commonFlags,
  preset: flag.choice(["quick", "quick-mlp", "paper"] as const, "Sizes preset", "quick"),
  dataset: flag.choice(["mnist", "fashion", "cifar10"] as const, "Data set", "mnist"),
  dataDir: flag.string("Directory with the data set's files (default: packaged copy)", undefined),
  model: flag.choice(MODEL_CHOICES, "Embedding network", "small-cnn"),
  embeddingDim: flag.int("Embedding dimension (0: the network's default)", 0, 0),
  trainLimit: flag.int("Use only the first N training images (0: all; smoke tests)", 0, 0),
  steps: flag.int("Training steps", 1500, 1),
  batchSize: flag.int("Batch size", 64, 2),
  k: flag.int("Number of clusters", 10, 1),
  epsilon: flag.positive("Perturbation scale ε > 0", 0.1),
  samples: flag.int("Monte-Carlo samples of the perturbed solver", 100, 1),
  learningRate: flag.positive("Adam learning rate", 3e-4),
  lrSchedule: flag.choice(
    ["constant", "cosine"] as const,
    "Learning-rate schedule: constant, or cosine decay to 0 over --steps",
    "constant",
  ),
  weightDecay: flag.number("ℓ2 weight decay", 1e-4, 0),
  evalEvery: flag.int("Steps between validation evaluations", 100, 1),
  evalBatches: flag.int("Validation batches per evaluation during training (max 78)", 78, 1, 78),
  testBatches: flag.int("Test batches of the final evaluation (max 78)", 78, 1, 78),
  patience: flag.int("Early stopping: steps without validation improvement", 10000, 1),
  checkpointEvery: flag.int("Steps between checkpoints", 500, 1),
  resume: flag.bool("Continue from the last checkpoint in --out"),
} as const;

/** The neighbours of the data-set-level evaluation's kNN graph. */
const DATASET_EVAL_NEIGHBOURS = DATASET_EVAL_DEFAULTS.neighbours;

/** Flags of exp:mnist's data-set-level evaluation of the trained embedding. */
export const datasetEvalFlags = {
  noDatasetEval: flag.bool(
    "Skip the data-set-level evaluation after training (clustering and transductive labelling of the test split's embeddings, saved as test_embeddings.npy)",
  ),
  datasetImages: flag.int(
    "Test-split images of the data-set-level evaluation, from the first (0: all)",
    0,
    0,
  ),
} as const;

/** The neighbours of the graph loss's kNN graph when `--graph-neighbours` is not given. */
export const GRAPH_LOSS_NEIGHBOURS = 15;

/** Images in each half (validation, test) of the test split that evaluation batches come from. */
const EVAL_HALF_IMAGES = 5000;

/**
 * Flags of exp:mnist that let it train on large batches and compare batch sizes at equal time.
 * All optional (no default value), so that runs saved before they existed keep their settings.
 */
export const batchScaleFlags = {
  lossGraph: {
    ...flag.choice(
      ["dense", "knn"] as const,
      "Clustering loss on all n² pairs of a batch (dense) or on its kNN graph (knn: O(n · neighbours) edges, for batches of ~1024) (default: dense)",
      "dense",
    ),
    default: undefined,
  },
  graphNeighbours: flag.int(
    `Neighbours per point of the kNN graph of --loss-graph knn (default: ${GRAPH_LOSS_NEIGHBOURS})`,
    undefined,
    1,
  ),
  maxMinutes: flag.positive(
    "Stop training after this many minutes of summed step time (evaluations not counted), then evaluate the best checkpoint as usual",
    undefined,
  ),
  evalBatchSize: flag.int(
    "Images per validation and test batch (default: --batch-size); set it to compare runs trained on different batch sizes",
    undefined,
    2,
    EVAL_HALF_IMAGES,
  ),
} as const;

/** Flags of `exp:mnist` (paper §4.1, appendix 11.1). */
export const mnistFlags = { ...trainingFlags, ...batchScaleFlags, ...datasetEvalFlags } as const;

/** Cross-flag checks of {@link batchScaleFlags}, run before any data is loaded. */
export const batchScaleChecks: readonly FlagCheck<ConfigOf<typeof mnistFlags>>[] = [
  (c) =>
    c.graphNeighbours !== undefined && c.lossGraph !== "knn"
      ? `--graph-neighbours ${c.graphNeighbours} applies only with --loss-graph knn (the ` +
        `${c.lossGraph ?? "dense"} loss uses every pair of a batch)`
      : null,
  (c) => {
    const nb = c.graphNeighbours ?? GRAPH_LOSS_NEIGHBOURS;
    return c.lossGraph === "knn" && nb >= c.batchSize!
      ? `--graph-neighbours ${nb} must be below --batch-size ${c.batchSize}: a point of a ` +
        `batch has at most ${c.batchSize! - 1} neighbours`
      : null;
  },
  (c) =>
    c.evalBatchSize !== undefined && c.k! > c.evalBatchSize
      ? `--k ${c.k} exceeds --eval-batch-size ${c.evalBatchSize}: an evaluation batch of ` +
        `${c.evalBatchSize} images cannot be split into ${c.k} clusters`
      : null,
];

/** Cross-flag checks of exp:mnist and exp:semi, run before any data is loaded. */
export const mnistChecks: readonly FlagCheck<ConfigOf<typeof trainingFlags>>[] = [
  (c) =>
    c.k! > c.batchSize!
      ? `--k ${c.k} exceeds --batch-size ${c.batchSize}: a batch of ${c.batchSize} images ` +
        `cannot be split into ${c.k} clusters`
      : null,
  (c) =>
    c.trainLimit! > 0 && c.trainLimit! < c.batchSize!
      ? `--train-limit ${c.trainLimit} is smaller than --batch-size ${c.batchSize}: not one ` +
        `full batch`
      : null,
];

/** `exp:mnist` with its presets. */
export const mnistCommand: Command<typeof mnistFlags> = {
  name: "exp:mnist",
  summary: "Learn an embedding through perturbed spanning-forest clustering (supervised).",
  flags: mnistFlags,
  outDefault: "results/<dataset>-<preset>-seed<seed>",
  checks: [
    ...mnistChecks,
    ...batchScaleChecks,
    (c) =>
      c.datasetImages! > 0 && c.datasetImages! <= DATASET_EVAL_NEIGHBOURS
        ? `--dataset-images ${c.datasetImages} is too small: the data-set-level evaluation's ` +
          `${DATASET_EVAL_NEIGHBOURS}-NN graph needs at least ${
            DATASET_EVAL_NEIGHBOURS + 1
          } images (0: all)`
        : null,
  ],
  presets: {
    // The paper's LeNet on the wasm backend with our OpenBLAS kernels (docs/backends.md), Adam
    // lr 1e-3 with cosine decay over 10 000 steps. The checkpoint is chosen on all 78
    // validation batches: on 20 (1280 easy-half images) validation precision saturates at
    // 0.9998 by step 3250 and picks that checkpoint by noise (test 0.9775;
    // docs/experiments/mnist.md).
    quick: {
      model: "paper-lenet",
      backend: "wasm",
      steps: 10000,
      learningRate: 1e-3,
      lrSchedule: "cosine",
      evalEvery: 500,
      checkpointEvery: 1000,
    },
    // The former default: an MLP on wasm, 30 000 cosine steps (stops early at ≈ 21 000).
    "quick-mlp": {
      model: "mlp",
      backend: "wasm",
      steps: 30000,
      learningRate: 1e-3,
      lrSchedule: "cosine",
      evalBatches: 20,
      checkpointEvery: 2000,
    },
    paper: { model: "paper-lenet", steps: 30000 },
  },
};

/** Flags of `exp:semi` (paper §4.2, appendix 11.2). */
export const semiFlags = {
  ...trainingFlags,
  nLabelled: flag.int("Labelled images n_ℓ", 1000, 1),
  withheld: flag.int("Withheld classes k_w", 3, 0, 9),
  grid: flag.bool("Run the whole grid n_ℓ × k_w × seeds (resumable) and draw Figure 4"),
  gridNLabelled: flag.intList("n_ℓ values of --grid", [100, 250, 500, 1000, 2000, 5000], 1),
  gridWithheld: flag.intList("k_w values of --grid", [0, 3, 6], 0, 9),
  gridSeeds: flag.int("Seeds per --grid cell", 3, 1),
} as const;

/** `exp:semi`. */
export const semiCommand: Command<typeof semiFlags> = {
  name: "exp:semi",
  summary: "Semi-supervised learning through clustering with withheld classes, vs a CE baseline.",
  flags: semiFlags,
  presets: mnistCommand.presets as Command<typeof semiFlags>["presets"],
  outDefault: "results/<dataset>-<preset>-seed<seed>-semi-n<n-labelled>-kw<withheld> " +
    "(--grid: results/semi-grid)",
  checks: mnistChecks as Command<typeof semiFlags>["checks"],
};

/** Flags of `transductive` (`scripts/transductive_mnist.ts`). */
export const transductiveFlags = {
  embeddings: flag.string(
    "An exp:mnist run directory: use its saved test embeddings (test_embeddings.npy) instead of a random projection of the pixels",
    undefined,
  ),
  all: flag.bool(
    "Random projection of all 70 000 MNIST images (train + test, NN-descent graph) instead of the 10 000 test images",
  ),
  fraction: flag.positive(
    "Fraction of the labels given to the transductive labelling, in (0, 1)",
    DATASET_EVAL_DEFAULTS.labelledFraction,
  ),
  seed: flag.int(
    "Seed of the labelled draw (exp:mnist's data-set-level evaluation uses the default)",
    DATASET_EVAL_DEFAULTS.seed,
    0,
    2 ** 31 - 1,
  ),
  minSize: flag.int(
    "Minimum cluster size of the single-linkage cut that refuses smaller splits (default ⌈n / (4k)⌉, as exp:mnist)",
    undefined,
    1,
  ),
  out: flag.string("Results file (JSON)", undefined),
} as const;

/** `transductive`: data-set-level clustering and label spreading, ours next to scikit-learn's. */
export const transductiveCommand: Command<typeof transductiveFlags> = {
  name: "transductive",
  summary: "Whole-data-set clustering and transductive labelling of MNIST features (a random " +
    "projection of the pixels, or a trained run's embeddings), next to scikit-learn's " +
    "LabelSpreading.",
  flags: transductiveFlags,
  outDefault: "results/transductive/<time>.json",
  checks: [
    (c) =>
      c.fraction! >= 1
        ? `--fraction ${c.fraction} is not below 1: some labels must be left to predict`
        : null,
    (c) =>
      c.all && c.embeddings !== undefined
        ? `--all and --embeddings ${c.embeddings} exclude each other: a run's embeddings are of ` +
          `the test split only`
        : null,
  ],
};
