/**
 * The real commands, run as a user runs them (`deno task X -- …`, with the task's own
 * permissions from deno.json) in a subprocess with tiny settings: exit statuses, one-line
 * errors, help, run directories that refuse to mix runs, and Ctrl-C.
 */
import assert from "node:assert/strict";
import { latestCheckpoint } from "../experiments/checkpoint.ts";
import { tinyMnistFlags } from "../experiments/train/testdata/tiny_mnist.ts";
import { assertOneLineError, ROOT, scratch, spawnTask, task } from "./_task.ts";

const tinyMnist = (out: string, steps: number) => [
  ...tinyMnistFlags(out, steps, 1000),
  "--log-every",
  "1",
  "--dataset-images",
  "200",
];

Deno.test("every task answers --help after `--` and rejects bad flags with exit 2", async () => {
  for (
    const name of [
      "exp:mnist",
      "exp:semi",
      "exp:semi:grid",
      "exp:otkmeans",
      "exp:denoise",
      "exp:toy",
      "compare",
      "measure:step",
      "bench:compare",
      "cluster",
      "web",
      "transductive",
      "compare:runs",
      "gpu:check",
    ]
  ) {
    const help = await task(name, ["--help"]);
    assert.equal(help.code, 0, `${name} --help: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`^Usage: deno task ${name} \\[flags\\]`), name);
    const bad = await task(name, ["--no-such-flag"]);
    assertOneLineError(bad, 2, new RegExp(`Unknown flag --no-such-flag for ${name}`));
  }
  // Help tells the value that applies under each preset, and where results go.
  const help = (await task("exp:mnist", ["--help"])).stdout;
  assert.match(help, /--model .*\(quick: paper-lenet; quick-mlp: mlp; paper: paper-lenet\)/);
  assert.match(help, /--out .*\(default: results\/<dataset>-<preset>-seed<seed>\)/);
  // measure:step used to run on cpu with --backend foo and exit 0.
  assertOneLineError(
    await task("measure:step", ["--backends", "foo"]),
    2,
    /Invalid --backends "foo": expected a comma-separated list of wasm, webgpu, cpu/,
  );
  assertOneLineError(await task("exp:toy", ["--n", "2"]), 2, /Invalid --n "2"/);
  assertOneLineError(
    await task("compare:runs", ["--runs", "results/a", "--out", "results/x.svg"]),
    2,
    /Invalid --runs "results\/a": expected name=dir pairs separated by commas/,
  );
  assertOneLineError(
    await task("compare:runs", ["--out", "results/x.svg"]),
    2,
    /--runs is required/,
  );
});

Deno.test("exp:mnist's graph-loss flags: bad values are one-line usage errors", async () => {
  assertOneLineError(
    await task("exp:mnist", ["--loss-graph", "knn", "--graph-neighbours", "0"]),
    2,
    /^error: Invalid --graph-neighbours "0": expected an integer in \[1, /,
  );
  assertOneLineError(
    await task("exp:mnist", [
      "--loss-graph",
      "knn",
      "--batch-size",
      "64",
      "--graph-neighbours",
      "64",
    ]),
    2,
    /^error: --graph-neighbours 64 must be below --batch-size 64/,
  );
});

Deno.test("exp:mnist checks what it can before any work, and errors are one line", async () => {
  assertOneLineError(await task("exp:mnist", ["--k", "100"]), 2, /--k 100 exceeds --batch-size/);
  assertOneLineError(await task("exp:mnist", ["--epsilon", "0"]), 2, /Invalid --epsilon "0"/);
  assertOneLineError(
    await task("exp:mnist", ["--train-limit", "10"]),
    2,
    /--train-limit 10 is smaller than --batch-size 64/,
  );
  const out = scratch();
  try {
    // A missing data directory: one line, exit 1; the stack only with --debug.
    const args = [...tinyMnist(out, 3), "--data-dir", "/nonexistent-spanclust"];
    const missing = await task("exp:mnist", args);
    assertOneLineError(missing, 1, /nonexistent-spanclust/);
    const debug = await task("exp:mnist", [...args, "--out", `${out}-2`, "--debug"]);
    assert.equal(debug.code, 1);
    assert.match(debug.stderr, /^\s+at /m, "--debug prints the stack");
    // --resume of a directory that does not exist is an error, not a fresh run.
    assertOneLineError(
      await task("exp:mnist", [...tinyMnist(`${out}-none`, 3), "--resume"]),
      1,
      /Cannot --resume .*: the directory does not exist/,
    );
    // --out that is a file; --out outside results/ names the permission flag to add.
    await Deno.mkdir(`${ROOT}/${out}`, { recursive: true });
    await Deno.writeTextFile(`${ROOT}/${out}/file`, "");
    assertOneLineError(
      await task("exp:mnist", tinyMnist(`${out}/file`, 3)),
      1,
      /--out .*file is a file, not a directory/,
    );
    const tmp = await Deno.makeTempDir();
    try {
      assertOneLineError(
        await task("exp:mnist", tinyMnist(`${tmp}/run`, 3)),
        1,
        /Requires (read|write) access .*run again with the --allow-(read|write) flag/,
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  } finally {
    for (const d of [out, `${out}-2`, `${out}-none`]) {
      await Deno.remove(`${ROOT}/${d}`, { recursive: true }).catch(() => {});
    }
  }
});

Deno.test("exp:otkmeans never mixes two runs in one --out; no tfjs banner", async () => {
  const out = scratch();
  try {
    const first = await task("exp:otkmeans", ["--preset", "smoke", "--quiet", "--out", out]);
    assert.equal(first.code, 0, first.stderr);
    assert.doesNotMatch(first.stdout + first.stderr, /Hi, looks like you are running/);
    const summary = await Deno.readTextFile(`${ROOT}/${out}/summary.json`);
    assertOneLineError(
      await task("exp:otkmeans", ["--preset", "smoke", "--steps", "3", "--out", out]),
      1,
      /already holds a run .*pass --resume to continue it, or choose another --out/,
    );
    assertOneLineError(
      await task(
        "exp:otkmeans",
        ["--preset", "smoke", "--resume", "--learning-rate", "0.5"]
          .concat(["--out", out]),
      ),
      1,
      /settings differ from the saved run \(learning-rate: 0\.001 → 0\.5\)/,
    );
    const again = await task("exp:otkmeans", ["--preset", "smoke", "--resume", "--out", out]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /already finished at step 6/);
    assert.doesNotMatch(again.stdout + again.stderr, /NaN/);
    assert.equal(await Deno.readTextFile(`${ROOT}/${out}/summary.json`), summary, "untouched");
  } finally {
    await Deno.remove(`${ROOT}/${out}`, { recursive: true }).catch(() => {});
  }
});

Deno.test("deno task transductive --embeddings <run> reproduces the run's data-set-level figures", async () => {
  assertOneLineError(
    await task("transductive", ["--fraction", "1"]),
    2,
    /--fraction 1 is not below 1/,
  );
  assertOneLineError(await task("transductive", ["--min-size", "0"]), 2, /Invalid --min-size "0"/);
  assertOneLineError(
    await task("transductive", ["--calibrate"]),
    2,
    /--calibrate needs --embeddings/,
  );
  assertOneLineError(
    await task("transductive", ["--all", "--embeddings", "results/x"]),
    2,
    /--all and --embeddings results\/x exclude each other/,
  );
  const out = scratch();
  try {
    assertOneLineError(
      await task("transductive", ["--embeddings", out, "--out", `${out}/t.json`]),
      1,
      /--embeddings .*: no test_embeddings\.json there/,
    );
    const run = await task("exp:mnist", tinyMnist(out, 3));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /data set \(200 test images, 8-d\): transductive labelling from/);
    const r = await task("transductive", ["--embeddings", out, "--out", `${out}/t.json`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /transductive accuracy [\d.]+, identical to ours/);
    assert.match(r.stdout, /scikit-learn: (LabelSpreading.* [\d.]+ \(|skipped — )/);
    const report = JSON.parse(await Deno.readTextFile(`${ROOT}/${out}/t.json`));
    const summary = JSON.parse(await Deno.readTextFile(`${ROOT}/${out}/summary.json`));
    assert.equal(report.run.matchesSummary, true);
    assert.equal(
      report.datasetLevel.transductive.accuracy,
      summary.datasetLevel.transductive.accuracy,
    );
    assert.equal(report.datasetLevel.singleLinkage.nmi, summary.datasetLevel.singleLinkage.nmi);
    assert.deepEqual(
      report.datasetLevel.singleLinkageMinSize,
      summary.datasetLevel.singleLinkageMinSize,
    );
    assert.match(r.stdout, /single linkage, clusters of ≥ 5 points, k = 10: ACC/);
    // Another minimum cluster size is reported, and not held against the summary's.
    const r3 = await task("transductive", [
      "--embeddings",
      out,
      "--min-size",
      "3",
      "--out",
      `${out}/t3.json`,
    ]);
    assert.equal(r3.code, 0, r3.stderr);
    assert.match(r3.stdout, /clusters of ≥ 3 points/);
    assert.match(r3.stdout, /identical to ours/);
    // A run without training embeddings is refused before the evaluation, in one line.
    const trainHeader = `${ROOT}/${out}/train_embeddings.json`;
    await Deno.rename(trainHeader, `${trainHeader}.away`);
    const missing = await task("transductive", ["--embeddings", out, "--calibrate"]);
    await Deno.rename(`${trainHeader}.away`, trainHeader);
    assertOneLineError(missing, 1, /--calibrate: .* has no train_embeddings\.json/);
    assert.doesNotMatch(missing.stdout, /transductive labelling/);
    // --calibrate: the run's training embeddings fitted, the test split assigned, ε on validation.
    const rc = await task("transductive", [
      "--embeddings",
      out,
      "--calibrate",
      "--min-size",
      "3",
      "--calibration-points",
      "20",
      "--calibration-samples",
      "4",
      "--out",
      `${out}/tc.json`,
    ]);
    assert.equal(rc.code, 0, rc.stderr);
    assert.match(rc.stdout, /test half \(100\): assignment accuracy [\d.]+ \(Hungarian [\d.]+\)/);
    assert.match(rc.stdout, /ε chosen on validation [\d.e-]+; test half ECE [\d.]+/);
    const cal = JSON.parse(await Deno.readTextFile(`${ROOT}/${out}/tc.json`)).calibration;
    assert.equal(cal.membership.validation.length, 4);
    assert.ok(
      cal.membership.validation.some((t: { epsilon: number; ece: number }) =>
        t.epsilon === cal.membership.epsilon &&
        cal.membership.validation.every((u: { ece: number }) => t.ece <= u.ece)
      ),
    );
    const ls = report.labelSpreading;
    assert.ok(
      typeof ls.skipped === "string" || (ls.accuracy >= 0 && ls.accuracy <= 1),
      JSON.stringify(ls),
    );
  } finally {
    await Deno.remove(`${ROOT}/${out}`, { recursive: true }).catch(() => {});
  }
});

Deno.test("exp:mnist: Ctrl-C finishes the step, checkpoints it, exits 130; --resume continues", async () => {
  const out = scratch();
  try {
    const child = spawnTask("exp:mnist", tinyMnist(out, 60));
    // Interrupt after the first evaluation (step 3); checkpoints are due only every 1000 steps.
    const deadline = Date.now() + 60_000;
    while (true) {
      const text = await Deno.readTextFile(`${ROOT}/${out}/metrics.jsonl`).catch(() => "");
      if (text.trim() !== "") break;
      assert.ok(Date.now() < deadline, "no evaluation within 60 s");
      await new Promise((r) => setTimeout(r, 20));
    }
    // `deno task` runs the script in a child process: signal the process group's members.
    const pids = await childPids(child.pid);
    for (const pid of [child.pid, ...pids]) Deno.kill(pid, "SIGINT");
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    assert.equal(status.code, 130, stderr);
    const m = /interrupted at step (\d+); continue with --resume/.exec(stderr);
    assert.ok(m, stderr);
    const step = Number(m[1]);
    assert.ok(step >= 3 && step < 60, `step ${step}`);
    const ckpt = await latestCheckpoint(`${ROOT}/${out}/checkpoints`);
    assert.ok(ckpt?.endsWith(`step-${String(step).padStart(10, "0")}`), `checkpoint ${ckpt}`);
    assert.doesNotMatch(stdout + stderr, /^\s+at /m);
    // No finished step lost: --resume starts exactly there and finishes the run.
    const resumed = await task("exp:mnist", [...tinyMnist(out, 60), "--resume"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`continuing .* from step ${step}\\b`));
    const summary = JSON.parse(await Deno.readTextFile(`${ROOT}/${out}/summary.json`));
    assert.equal(summary.stepsDone, 60);
    assert.equal(summary.timing.timedSteps, 60 - step);
  } finally {
    await Deno.remove(`${ROOT}/${out}`, { recursive: true }).catch(() => {});
  }
});

Deno.test("exp:otkmeans: SIGTERM checkpoints the finished step and exits 130", async () => {
  const out = scratch();
  try {
    const args = ["--preset", "smoke", "--steps", "400", "--quiet", "--out", out];
    const child = spawnTask("exp:otkmeans", args);
    // The smoke preset evaluates every 3 steps and checkpoints every 3: wait for the first.
    const deadline = Date.now() + 60_000;
    while ((await latestCheckpoint(`${ROOT}/${out}/checkpoints`)) === null) {
      assert.ok(Date.now() < deadline, "no checkpoint within 60 s");
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const pid of [child.pid, ...(await childPids(child.pid))]) Deno.kill(pid, "SIGTERM");
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    assert.equal(status.code, 130, stdout + stderr);
    const m = /interrupted at step (\d+); continue with --resume/.exec(stderr);
    assert.ok(m, stderr);
    const ckpt = await latestCheckpoint(`${ROOT}/${out}/checkpoints`);
    assert.ok(ckpt?.endsWith(`step-${m[1]!.padStart(10, "0")}`), `checkpoint ${ckpt}`);
    assert.ok(Number(m[1]) < 400);
  } finally {
    await Deno.remove(`${ROOT}/${out}`, { recursive: true }).catch(() => {});
  }
});

/** Descendants of a process (Linux /proc). */
async function childPids(pid: number): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const stat = await Deno.readTextFile(`/proc/${e.name}/stat`).catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid === pid) out.push(Number(e.name), ...(await childPids(Number(e.name))));
  }
  return out;
}

Deno.test("deno task cluster: a CSV with k, a threshold, partial labels, or k from gaps", async () => {
  const dir = scratch();
  const input = `${ROOT}/${dir}/points.csv`;
  try {
    await Deno.mkdir(`${ROOT}/${dir}`, { recursive: true });
    // Three groups on the plane; two points labelled, one group unlabelled.
    await Deno.writeTextFile(
      input,
      "x,y,label\n0,0,a\n0.2,0,\n0,0.3,\n8,8,b\n8.2,8,\n8,8.1,\n20,0,\n20.1,0,\n20,0.2,\n",
    );
    const read = async (p: string) =>
      (await Deno.readTextFile(`${ROOT}/${p}`)).trim().split("\n").slice(1)
        .map((l) => Number(l.split(",").at(-1)));
    const groups = [0, 0, 0, 1, 1, 1, 2, 2, 2];
    const same = (a: number[]) =>
      groups.every((g, i) => groups.every((h, j) => (g === h) === (a[i] === a[j])));

    const cluster = (file: string, ...flags: string[]) =>
      task("cluster", ["--input", input, ...flags, "--out", `${dir}/${file}`]);

    const byK = await cluster("k.csv", "--columns", "x,y", "--k", "3");
    assert.equal(byK.code, 0, byK.stderr);
    assert.ok(same(await read(`${dir}/k.csv`)));
    const byGap = await cluster("gap.csv", "--columns", "x,y");
    assert.match(byGap.stdout, /into 3 clusters \(chosen from the largest gap/);
    const byT = await cluster("t.csv", "--columns", "x,y", "--threshold", "1");
    assert.equal(byT.code, 0, byT.stderr);
    assert.ok(same(await read(`${dir}/t.csv`)));
    // Partial labels a and b: k = 2 clusters, a's group and b's group kept apart.
    const byLabels = await cluster("l.csv", "--labels-column", "label");
    assert.equal(byLabels.code, 0, byLabels.stderr);
    const l = await read(`${dir}/l.csv`);
    assert.equal(new Set(l).size, 2);
    assert.notEqual(l[0], l[3]);
    // Errors: one line, naming what is wrong.
    assertOneLineError(
      await task("cluster", ["--input", input, "--k", "3", "--out", `${dir}/k.csv`]),
      1,
      /exists: choose another output, or pass --overwrite/,
    );
    assertOneLineError(
      await task("cluster", ["--input", input, "--k", "2", "--out", `${dir}/x.csv`]),
      1,
      /line 2, column label: "a" is not a number/,
    );
    assertOneLineError(
      await task("cluster", ["--input", input, "--k", "2", "--threshold", "1"]),
      2,
      /both given/,
    );
  } finally {
    await Deno.remove(`${ROOT}/${dir}`, { recursive: true }).catch(() => {});
  }
});

Deno.test({
  name: "exp:mnist on a terminal: Ctrl-C restores the cursor and line wrap",
  ignore: !(await Deno.stat("/usr/bin/script").then(() => true, () => false)),
  fn: async () => {
    // util-linux `script` gives the command a pseudo-terminal, so the progress bar is drawn
    // (it hides the cursor); after Ctrl-C the cursor must be shown again.
    const out = scratch();
    try {
      const all = tinyMnist(out, 60), at = all.indexOf("--log-every");
      const args = all.filter((a, j) => a !== "--quiet" && j !== at && j !== at + 1);
      const cmd = [Deno.execPath(), "task", "-q", "exp:mnist", "--", ...args].join(" ");
      const child = new Deno.Command("script", {
        args: ["-qfec", cmd, "/dev/null"],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1", TERM: "xterm" },
      }).spawn();
      const deadline = Date.now() + 60_000;
      while ((await Deno.readTextFile(`${ROOT}/${out}/metrics.jsonl`).catch(() => "")) === "") {
        assert.ok(Date.now() < deadline, "no evaluation within 60 s");
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const pid of await childPids(child.pid)) Deno.kill(pid, "SIGINT");
      const [status, stdout] = await Promise.all([
        child.status,
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
      ]);
      assert.equal(status.code, 130, stdout);
      assert.match(stdout, /interrupted at step \d+; continue with --resume/);
      const hidden = stdout.lastIndexOf("\x1b[?25l");
      assert.ok(hidden >= 0, "the bar hid the cursor (a terminal was used)");
      assert.ok(stdout.indexOf("\x1b[?25h", hidden) > hidden, "cursor shown again");
      const noWrap = stdout.lastIndexOf("\x1b[?7l");
      if (noWrap >= 0) assert.ok(stdout.indexOf("\x1b[?7h", noWrap) > noWrap, "wrap restored");
    } finally {
      await Deno.remove(`${ROOT}/${out}`, { recursive: true }).catch(() => {});
    }
  },
});

/** Loopback hosts a server task may listen on, with an optional port. */
const LOOPBACK = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?$/;

/**
 * Why a `deno run` / `deno bench` command's network permission is too wide, or null: none at
 * all is fine, and so is `--allow-net=` scoped to the loopback address (a local web server);
 * a bare `--allow-net` or any other host is not.
 */
function netProblem(cmd: string): string | null {
  for (const m of cmd.matchAll(/--allow-net(=(\S*))?/g)) {
    if (m[1] === undefined) return "asks for the whole network (bare --allow-net)";
    const bad = m[2]!.split(",").filter((h) => !LOOPBACK.test(h));
    if (bad.length > 0 || m[2] === "") return `asks for the network beyond loopback: ${bad}`;
  }
  return null;
}

Deno.test("deno.json: tasks ask for what they use (no -A, network only on loopback)", async () => {
  // The rule itself.
  assert.equal(netProblem("deno run --no-prompt a.ts"), null);
  assert.equal(netProblem("deno run --allow-net=127.0.0.1,localhost:8000 a.ts"), null);
  assert.match(netProblem("deno run --allow-net a.ts")!, /bare/);
  assert.match(netProblem("deno run --allow-net=127.0.0.1,0.0.0.0 a.ts")!, /0\.0\.0\.0/);
  assert.match(netProblem("deno run --allow-net=registry.npmjs.org a.ts")!, /beyond loopback/);

  const { tasks } = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)) as {
    tasks: Record<string, string>;
  };
  const checked = new Set<string>();
  for (const [name, cmd] of Object.entries(tasks)) {
    // A task may chain commands (`deno bundle … && deno run …`): check each `deno run|bench`.
    for (const part of cmd.split("&&").map((p) => p.trim())) {
      if (!/^(?:\S+=\S+ )*deno (run|bench) /.test(part)) continue; // test, ok: developer tasks
      checked.add(name);
      assert.doesNotMatch(part, /\s(-A|--allow-all)\b/, `${name} runs with all permissions`);
      const why = netProblem(part);
      assert.equal(why, null, `${name} ${why}`);
      assert.match(
        part,
        /--no-prompt/,
        `${name}: a missing permission must be an error, not a prompt`,
      );
    }
  }
  for (const name of ["web", "exp:mnist", "cluster", "bench"]) {
    assert.ok(checked.has(name), `${name} was checked`);
  }
});
