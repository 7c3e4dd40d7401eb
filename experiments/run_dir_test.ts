import assert from "node:assert/strict";
import {
  AlreadyFinished,
  diffSettings,
  markFinished,
  openRunDir,
  readRunRecord,
  RunSetupError,
  settingsOf,
} from "./run_dir.ts";
import { describeError, UsageError } from "./cli/flags.ts";
import { Interrupted } from "./interrupt.ts";

Deno.test("settingsOf drops operational flags; diffSettings is one short entry per change", () => {
  assert.deepEqual(
    settingsOf({ steps: 4, out: "x", resume: true, quiet: true, backend: "cpu", k: undefined }),
    { steps: 4 },
  );
  assert.deepEqual(
    diffSettings({ steps: 400, learningRate: 1e-3 }, { steps: 450, learningRate: 1e-3 }),
    [
      "steps: 400 → 450",
    ],
  );
  assert.deepEqual(diffSettings({ hidden: [64] }, { hidden: [64, 32], k: 3 }), [
    "hidden: 64 → 64,32",
    "k: (unset) → 3",
  ]);
});

Deno.test("openRunDir: one run per directory", async (t) => {
  const root = await Deno.makeTempDir();
  const open = (out: string, config: Record<string, unknown>, resume = false, resumable = true) =>
    openRunDir(out, { command: "exp:x", config, resume, resumable });
  try {
    await t.step("a new directory is created and claimed with run.json", async () => {
      assert.deepEqual(await open(`${root}/a`, { steps: 3, out: "ignored" }), { resume: false });
      const rec = await readRunRecord(`${root}/a`);
      assert.deepEqual(rec, {
        format: "spanclust-run",
        command: "exp:x",
        settings: { steps: 3 },
        finished: null,
      });
    });
    await t.step("a directory holding a run is refused without --resume", async () => {
      await assert.rejects(
        () => open(`${root}/a`, { steps: 3 }),
        (e: unknown) =>
          e instanceof RunSetupError && /already holds a run \(run\.json\)/.test(e.message),
      );
      // Older runs (no run.json) count too.
      await Deno.mkdir(`${root}/old`);
      await Deno.writeTextFile(`${root}/old/summary.json`, "{}");
      await assert.rejects(
        () => open(`${root}/old`, { steps: 3 }),
        /already holds a run \(summary\.json\)/,
      );
    });
    await t.step("--resume: same settings continue, others are refused with the diff", async () => {
      assert.deepEqual(await open(`${root}/a`, { steps: 3, backend: "wasm" }, true), {
        resume: true,
      });
      await assert.rejects(
        () => open(`${root}/a`, { steps: 4 }, true),
        /Cannot --resume .*settings differ from the saved run \(steps: 3 → 4\)/,
      );
      await assert.rejects(
        () => openRunDir(`${root}/a`, { command: "exp:y", config: { steps: 3 }, resume: true }),
        /holds a run of exp:x, not exp:y/,
      );
    });
    await t.step("--resume of a finished run, a missing or empty directory", async () => {
      await markFinished(`${root}/a`, 3);
      await assert.rejects(
        () => open(`${root}/a`, { steps: 3 }, true),
        (e: unknown) => e instanceof AlreadyFinished && e.step === 3,
      );
      await assert.rejects(() => open(`${root}/none`, {}, true), /does not exist/);
      await Deno.mkdir(`${root}/empty`);
      await assert.rejects(() => open(`${root}/empty`, {}, true), /holds no run/);
      // An empty existing directory is fine for a new run.
      assert.deepEqual(await open(`${root}/empty`, {}), { resume: false });
    });
    await t.step("tasks that cannot resume rerun only with the same settings", async () => {
      await open(`${root}/toy`, { n: 30 }, false, false);
      assert.deepEqual(await open(`${root}/toy`, { n: 30 }, false, false), { resume: false });
      await assert.rejects(
        () => open(`${root}/toy`, { n: 40 }, false, false),
        /already holds a run with other settings \(n: 30 → 40\); choose another --out/,
      );
    });
    await t.step("an --out that is a file", async () => {
      await Deno.writeTextFile(`${root}/file`, "");
      await assert.rejects(
        () => open(`${root}/file`, {}),
        /--out .*file is a file, not a directory/,
      );
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("describeError: exit statuses and one line", () => {
  assert.deepEqual(describeError(new UsageError('Invalid --k "x"')), {
    code: 2,
    line: 'error: Invalid --k "x"',
  });
  assert.deepEqual(describeError(new Interrupted(7, "SIGINT")), {
    code: 130,
    line: "interrupted at step 7; continue with --resume",
  });
  assert.equal(describeError(new AlreadyFinished("r", 5)).code, 0);
  assert.deepEqual(describeError(new RangeError("line one\n  line two")), {
    code: 1,
    line: "error: line one; line two",
  });
  const perm = describeError(
    new Deno.errors.NotCapable(
      'Requires write access to "/x", run again with the --allow-write flag',
    ),
  );
  assert.equal(perm.code, 1);
  assert.match(perm.line, /--allow-write flag.*deno\.json/);
});
