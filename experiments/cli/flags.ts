/**
 * The command-line framework of every task: flags, commands, presets, help, and the top level
 * that turns errors into exit statuses. A command's own flags live beside it (e.g.
 * `experiments/mnist/flags.ts`); this module knows none of them.
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
import { E, pipe, t } from "../../lib/deps/fp.ts";
import { BACKEND_CHOICES } from "../choices.ts";
import { exitOnSignal, Interrupted } from "../interrupt.ts";
import { AlreadyFinished, UsageError } from "../errors.ts";

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
// Flags shared by the training experiments.

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
