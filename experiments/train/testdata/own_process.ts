/**
 * Tests that send a real signal to their own process (`Deno.kill(Deno.pid, …)`) must not share
 * it: `deno test --parallel` runs test modules side by side in one process, signals reach every
 * listener in it, and another module's training loop would stop on them. Such a test runs only
 * when {@link OWN_PROCESS} is set; a companion test starts it in a `deno test` of its own.
 *
 * @module
 */
import assert from "node:assert/strict";

const FLAG = "SPANCLUST_OWN_PROCESS";

/** Whether this process runs the tests that signal themselves (set by {@link inOwnProcess}). */
export const OWN_PROCESS: boolean = Deno.env.get(FLAG) === "1";

/**
 * Runs the tests of `module` named `name` in a `deno test` process of their own and asserts
 * that they ran and passed.
 *
 * @param module `import.meta.url` of the test module.
 * @param name The test's exact name.
 */
export async function inOwnProcess(module: string, name: string): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--no-check", "--filter", name, new URL(module).pathname],
    env: { [FLAG]: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, /ok \| 1 passed \| 0 failed/, text);
}
