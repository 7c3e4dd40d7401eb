/**
 * Running a deno task as a user runs it (`deno task -q NAME -- …`, with the task's own
 * permissions from deno.json) in a subprocess, and the checks its output shares across tests.
 *
 * @module
 */
import assert from "node:assert/strict";

/** The repository root: the working directory of every task. */
export const ROOT = new URL("..", import.meta.url).pathname;

const decoder = new TextDecoder();

/** A finished task: exit status and its decoded output. */
export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `deno task -q name -- ...args` in ROOT, without colours, and waits for it.
 *
 * @param name The task.
 * @param args Its arguments.
 * @returns Its exit status, stdout and stderr.
 */
export async function task(name: string, args: readonly string[]): Promise<Ran> {
  const { code, stdout, stderr } = await spawnTask(name, args).output();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/**
 * Starts `deno task -q name -- ...args` in ROOT, without colours, with piped output.
 *
 * @param name The task.
 * @param args Its arguments.
 * @returns The running process (its stdout and stderr to be read by the caller).
 */
export function spawnTask(name: string, args: readonly string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", name, "--", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

/**
 * One line `error: …` on stderr matching `pattern`, exit status `code`, no stack trace.
 *
 * @param r The finished task.
 * @param code The expected exit status.
 * @param pattern What the error line says.
 */
export function assertOneLineError(r: Ran, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit status (stderr: ${r.stderr})`);
  const lines = r.stderr.trim().split("\n").filter((l) => l.startsWith("error:"));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace without --debug");
}

/**
 * A fresh directory name under results/ (the tasks may write only there), relative to ROOT.
 *
 * @returns The name; the directory is not created.
 */
export function scratch(): string {
  return `results/.test-${crypto.randomUUID().slice(0, 8)}`;
}
