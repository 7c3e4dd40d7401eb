/**
 * `exp:mnist` as a subprocess, stdout to a pipe (no terminal): the progress lines it prints, and
 * how soon a SIGINT in the middle of an evaluation interval stops it.
 */
import assert from "node:assert/strict";
import { latestCheckpoint } from "../checkpoint.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
/** exp:mnist's permissions (deno.json), with the temporary results directory writable. */
const permissions = (out: string) => [
  "--allow-read",
  `--allow-write=${out}`,
  "--allow-env=XDG_RUNTIME_DIR,SPANCLUST_NATIVE_BLAS",
  "--allow-ffi",
];
/** A tiny cpu run that evaluates only at its last step. */
const tiny = (out: string, steps: number, logEvery: number) => [
  ...["--backend", "cpu", "--model", "mlp", "--embedding-dim", "8", "--train-limit", "640"],
  ...["--batch-size", "32", "--samples", "8", "--eval-batches", "1", "--test-batches", "1"],
  ...["--steps", String(steps), "--eval-every", "100000", "--checkpoint-every", "100000"],
  ...["--log-every", String(logEvery), "--no-dataset-eval", "--seed", "7", "--out", out],
];
/** `mnist step 12/400 (3%) | loss 0.1234 | 31.20 steps/s | ETA 12s` */
const PROGRESS =
  /^mnist step (\d+)\/(\d+) \(\d+%\) \| loss \S+ \| ([\d.]+|\?) steps\/s \| ETA \S+$/;

function spawn(out: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...permissions(out), MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", OPENBLAS_NUM_THREADS: "1" },
  }).spawn();
}

/** Lines of a stream, as they come. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    yield* parts;
  }
  if (rest !== "") yield rest;
}

Deno.test("exp:mnist without a terminal prints a progress line every --log-every steps", async () => {
  const out = await Deno.makeTempDir();
  try {
    const child = spawn(out, tiny(out, 10, 4));
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    assert.equal(status.code, 0, stderr);
    const progress = stdout.split("\n").filter((l) => PROGRESS.test(l));
    assert.deepEqual(progress.map((l) => Number(PROGRESS.exec(l)![1])), [4, 8, 10], stdout);
    // Throughput is known from the second line on (the first step starts the clock).
    assert.ok(progress.slice(1).every((l) => Number(PROGRESS.exec(l)![3]) > 0), stdout);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test({
  name: "exp:mnist: SIGINT between evaluations stops after the current step, with a checkpoint",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const out = await Deno.makeTempDir();
    try {
      const steps = 2000;
      const child = spawn(out, tiny(out, steps, 1));
      const stderr = new Response(child.stderr).text();
      let reached = 0, rate = NaN, sentAt = 0, last = 0;
      let notice: number | undefined;
      for await (const line of lines(child.stdout)) {
        const seen = /^SIGINT: (?:finishing step (\d+)|stopping at step (\d+))/.exec(line);
        if (seen !== null) notice = Number(seen[1] ?? seen[2]);
        const m = PROGRESS.exec(line);
        if (m === null) continue;
        last = Number(m[1]);
        // Interrupt at step 20, far from the only evaluation (the last step).
        if (sentAt === 0 && last >= 20) {
          reached = last;
          rate = Number(m[3]);
          sentAt = performance.now();
          child.kill("SIGINT");
        }
      }
      const status = await child.status;
      const exitSeconds = (performance.now() - sentAt) / 1000;
      const err = await stderr;
      assert.ok(sentAt > 0, `no progress line reached step 20:\n${err}`);
      assert.equal(status.code, 130, err);
      const m = /interrupted at step (\d+); continue with --resume/.exec(err);
      assert.ok(m, err);
      const stopped = Number(m[1]);
      // The child's own account: the step it had reached (or was running) when the signal was
      // delivered is the step it checkpointed, no later one. (Before the loop gave the event
      // loop a turn, the signal was delivered only at the next evaluation: here, the end.)
      assert.equal(notice, stopped, `notice at step ${notice}, stopped at ${stopped}`);
      // Seen from here, through a pipe that may lag a line or two behind the child: soon after
      // the step last read before the signal.
      assert.ok(
        stopped >= reached && stopped <= reached + 5,
        `reached ${reached}, stopped ${stopped}`,
      );
      assert.equal(last, stopped);
      const ckpt = await latestCheckpoint(`${out}/checkpoints`);
      assert.ok(ckpt?.endsWith(`step-${String(stopped).padStart(10, "0")}`), `checkpoint ${ckpt}`);
      // Generous: twenty steps at the measured rate, plus 10 s to write the checkpoint and exit.
      const bound = 20 / rate + 10;
      assert.ok(
        exitSeconds < bound,
        `exit ${exitSeconds.toFixed(1)} s after SIGINT (bound ${bound.toFixed(1)} s)`,
      );
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
