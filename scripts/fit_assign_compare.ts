/**
 * Fit once, assign new points: our `fitClusters` + `assignPoints` against scikit-learn's
 * `KNeighborsClassifier(n_neighbors=1).predict` on the same fit (its training points and labels
 * read from our saved model directory), each in its own process under `/usr/bin/time -v` for
 * the wall time and the peak resident memory.
 *
 * 1. 32-d: n = 300 000 training points of the bench:graph mixture (10 centres 3·N(0, I), unit
 *    noise, `scripts/graph_compare.ts`), 30 000 new points from the same mixture. Ours: fit and
 *    save (one process), then load and assign (another), with OpenBLAS dgemm on one thread
 *    when available and with the pure-TypeScript product. scikit-learn: fit + predict.
 * 2. 2-d: n = 10⁶ uniform points (the bench:graph generator), k = 10, 10⁵ new points: fit and
 *    assign in one process (the goal: under 10 s), and scikit-learn on the same fit.
 *
 * Beside our fit, pynndescent's 15-NN graph of the same 32-d points (`python/knn_pynndescent.py`,
 * Debian python3-pynndescent; skipped with the reason when absent): the graph alone, which is
 * what a user would build before clustering.
 *
 * The nearest training point of every new point must be the same: ours is exact (direct
 * distances decide); a difference is reported with both direct distances (a tie, or
 * scikit-learn's rounding).
 *
 *     deno task bench:assign [--n32 300000] [--q32 30000] [--n2d 1000000] [--q2d 100000]
 *
 * Prints the figures and writes results/fit_assign_compare/<time>.json. Without
 * scikit-learn (Debian python3-sklearn for /usr/bin/python3) its side is skipped with the
 * reason; without OpenBLAS (or --allow-ffi) the native rows are.
 *
 * @module
 */
import { fitClusters, modelIndex } from "../lib/graph/fitted_clusters.ts";
import { assignPoints } from "../lib/graph/assign_points.ts";
import { rectFromData } from "../lib/core/rect_matrix.ts";
import { standardNormal, streamFor, uniformOpen01 } from "../lib/core/random.ts";
import { nativeNeighbourGemm } from "../experiments/native_gemm.ts";
import { loadFittedClusters, saveFittedClusters } from "../experiments/fitted_model_io.ts";
import { sizeFlag } from "./_args.ts";
import { writeReport } from "./_report.ts";

const here = (f: string) => new URL(f, import.meta.url).pathname;
const seconds = (t0: number) => (performance.now() - t0) / 1e3;

/** The child processes: `--child fit …` and `--child assign …` (each timed by the parent). */
if (Deno.args[0] === "--child") {
  const [, mode, ...rest] = Deno.args;
  const native = nativeNeighbourGemm("float64", 1);
  const read = async (path: string, rows: number, cols: number) =>
    rectFromData(rows, cols, new Float64Array((await Deno.readFile(path)).buffer));
  if (mode === "fit") {
    const [path, n, d, k, dir, also] = rest;
    const points = await read(path, Number(n), Number(d));
    let t0 = performance.now();
    const model = fitClusters(points, { k: Number(k), gemm: native.ok ? native.gemm : undefined });
    const fit = seconds(t0);
    t0 = performance.now();
    await saveFittedClusters(dir, model);
    const save = seconds(t0);
    const out: Record<string, unknown> = { fit_s: fit, save_s: save, method: model.method };
    if (also !== undefined) {
      // Fit and assign in one process: [queries, q, out.i32].
      const [queries, q, outPath] = also.split(",");
      const points = await read(queries, Number(q), Number(d));
      t0 = performance.now();
      modelIndex(model); // built once per model, on its first assignment
      out.index_s = seconds(t0);
      t0 = performance.now();
      const a = assignPoints(model, points, { gemm: native.ok ? native.gemm : undefined });
      out.assign_s = seconds(t0);
      await Deno.writeFile(outPath, new Uint8Array(a.nearest.buffer));
    }
    console.log(JSON.stringify(out));
  } else {
    const [dir, queries, q, outPath, product] = rest;
    let t0 = performance.now();
    const model = await loadFittedClusters(dir);
    const load = seconds(t0);
    const points = await read(queries, Number(q), model.d);
    const gemm = product === "native" && native.ok ? native.gemm : undefined;
    t0 = performance.now();
    modelIndex(model); // built once per model, on its first assignment
    const index = seconds(t0);
    t0 = performance.now();
    const a = assignPoints(model, points, { gemm });
    const assign = seconds(t0);
    await Deno.writeFile(outPath, new Uint8Array(a.nearest.buffer));
    const product_ = gemm !== undefined && native.ok ? native.detail : "pure TypeScript";
    console.log(
      JSON.stringify({ load_s: load, index_s: index, assign_s: assign, product: product_ }),
    );
  }
  Deno.exit(0);
}

const N32 = sizeFlag("--n32", 300_000), Q32 = sizeFlag("--q32", 30_000);
const N2D = sizeFlag("--n2d", 1_000_000), Q2D = sizeFlag("--q2d", 100_000);
const dir = await Deno.makeTempDir({ prefix: "spanclust_fit_assign_" });
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A command under /usr/bin/time -v: its last stdout line as JSON, wall time, peak memory. */
async function timed(exe: string, args: string[]): Promise<Record<string, unknown> | string> {
  try {
    const out = await new Deno.Command("/usr/bin/time", {
      args: ["-v", exe, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = text(out.stderr), last = text(out.stdout).trim().split("\n").pop() ?? "";
    if (!out.success) return `${exe} failed (${out.code}): ${stderr.slice(-400)}`;
    const parsed = JSON.parse(last);
    if (parsed.skipped) return parsed.skipped;
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
    const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/
      .exec(stderr);
    return {
      ...parsed,
      peak_rss_mb: Number(rss) / 1024,
      wall_s: wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : NaN,
    };
  } catch (e) {
    return `${exe} unavailable: ${(e as Error).message}`;
  }
}

const deno = (mode: string, ...args: string[]) =>
  timed(Deno.execPath(), [
    "run",
    "--no-prompt",
    "--quiet",
    "--allow-read",
    "--allow-write=/tmp",
    "--allow-env",
    "--allow-ffi",
    here("./fit_assign_compare.ts"),
    "--child",
    mode,
    ...args,
  ]);

/** Our nearest indices against scikit-learn's: the count that differ, and why. */
function compare(
  train: Float64Array,
  queries: Float64Array,
  d: number,
  ours: Int32Array,
  theirs: Int32Array,
): { differ: number; ties: number; theirs_farther: number; ours_farther: number } {
  const dist = (q: number, j: number) => {
    let s = 0;
    for (let t = 0; t < d; t++) s += (queries[q * d + t] - train[j * d + t]) ** 2;
    return s;
  };
  const r = { differ: 0, ties: 0, theirs_farther: 0, ours_farther: 0 };
  for (let q = 0; q < ours.length; q++) {
    if (ours[q] === theirs[q]) continue;
    r.differ++;
    const a = dist(q, ours[q]), b = dist(q, theirs[q]);
    if (a === b) r.ties++;
    else if (a < b) r.theirs_farther++;
    else r.ours_farther++;
  }
  return r;
}

/** A short command's standard output (Deno reads /proc only with every permission). */
const output = (exe: string, args: string[]) =>
  new Deno.Command(exe, { args, stdout: "piped", stderr: "null" }).output()
    .then((o) => text(o.stdout).trim(), () => "unknown");
const cpu = (await output("/usr/bin/grep", ["-m1", "model name", "/proc/cpuinfo"]))
  .replace(/^model name\s*:\s*/, "");
const nproc = await output("/usr/bin/nproc", []);
const load = () => Deno.loadavg().map((v) => v.toFixed(2)).join(" ");
const commit = await output("git", ["rev-parse", "--short", "HEAD"]);
const native = nativeNeighbourGemm("float64", 1);
const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  commit,
  nproc,
  cpu,
  load_before: load(),
  openblas: native.ok ? native.detail : `unavailable: ${native.why}`,
};
console.log(
  `machine: nproc ${nproc}, ${cpu}; load average ${report.load_before}; ` +
    `commit ${commit}; OpenBLAS ${native.ok ? native.detail : `skipped — ${native.why}`}`,
);
const fmt = (v: unknown) => (typeof v === "number" ? v.toFixed(2) : String(v));
const line = (what: string, r: Record<string, unknown> | string, keys: string[]) =>
  console.log(
    `  ${what}: ${
      typeof r === "string" ? `skipped — ${r}` : keys.map((k) => `${k} ${fmt(r[k])}`).join(", ") +
        `; wall ${fmt(r.wall_s)} s, peak memory ${fmt(r.peak_rss_mb)} MB`
    }`,
  );

// 1. 32-d mixture.
{
  const d = 32, rng = streamFor(16);
  const centres = Array.from(
    { length: 10 },
    () => Array.from({ length: d }, () => 3 * standardNormal(rng)),
  );
  const draw = (n: number) => {
    const x = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < d; t++) x[i * d + t] = centres[i % 10][t] + standardNormal(rng);
    }
    return x;
  };
  const train = draw(N32), queries = draw(Q32);
  await Deno.writeFile(`${dir}/train32.f64`, new Uint8Array(train.buffer));
  await Deno.writeFile(`${dir}/queries32.f64`, new Uint8Array(queries.buffer));
  console.log(`\n32-d mixture: fit n = ${N32}, k = 10; assign ${Q32} new points`);
  const fit = await deno("fit", `${dir}/train32.f64`, String(N32), String(d), "10", `${dir}/m32`);
  line("ours fitClusters + save", fit, ["fit_s", "save_s", "method"]);
  // Beside the fit: pynndescent's 15-NN graph of the same points (the graph alone, no
  // clustering), first build in a fresh process and a second, compiled one.
  const pynn = await timed("/usr/bin/python3", [
    here("../python/knn_pynndescent.py"),
    `${dir}/train32.f64`,
    String(N32),
    String(d),
    "15",
  ]);
  line("pynndescent 15-NN graph alone", pynn, ["seconds", "warm_seconds"]);
  const row: Record<string, unknown> = { n: N32, q: Q32, d, fit, pynndescent: pynn };
  if (typeof fit !== "string") {
    const runs: [string, string][] = native.ok ? [["native", "openblas"], ["js", "js"]] : [[
      "js",
      "js",
    ]];
    let ours: Int32Array | undefined;
    for (const [product, key] of runs) {
      const out = `${dir}/ours32_${key}.i32`;
      const r = await deno(
        "assign",
        `${dir}/m32`,
        `${dir}/queries32.f64`,
        String(Q32),
        out,
        product,
      );
      line(`ours load + assignPoints (${key} product)`, r, ["load_s", "index_s", "assign_s"]);
      row[`assign_${key}`] = r;
      if (typeof r !== "string") ours ??= new Int32Array((await Deno.readFile(out)).buffer);
    }
    const sk = await timed("/usr/bin/python3", [
      here("../python/knn_sklearn.py"),
      `${dir}/m32`,
      `${dir}/queries32.f64`,
      String(Q32),
      `${dir}/sk32.i32`,
    ]);
    line("scikit-learn KNeighborsClassifier(1) fit + predict", sk, [
      "fit_s",
      "predict_s",
      "algorithm",
    ]);
    row.sklearn = sk;
    if (typeof sk !== "string" && ours !== undefined) {
      const theirs = new Int32Array((await Deno.readFile(`${dir}/sk32.i32`)).buffer);
      row.nearest = compare(train, queries, d, ours, theirs.subarray(0, Q32));
      console.log(`  same nearest training point: ${JSON.stringify(row.nearest)}`);
    }
  }
  report.mixture32 = row;
}

// 2. 2-d uniform points.
{
  const uniform = (n: number, seed: number) => {
    const rng = streamFor(seed), x = new Float64Array(2 * n);
    for (let t = 0; t < x.length; t++) x[t] = uniformOpen01(rng);
    return x;
  };
  const train = uniform(N2D, 14), queries = uniform(Q2D, 15);
  await Deno.writeFile(`${dir}/train2.f64`, new Uint8Array(train.buffer));
  await Deno.writeFile(`${dir}/queries2.f64`, new Uint8Array(queries.buffer));
  console.log(`\n2-d uniform: fit n = ${N2D}, k = 10; assign ${Q2D} new points (goal: < 10 s)`);
  const both = await deno(
    "fit",
    `${dir}/train2.f64`,
    String(N2D),
    "2",
    "10",
    `${dir}/m2`,
    `${dir}/queries2.f64,${Q2D},${dir}/ours2.i32`,
  );
  line("ours fitClusters + save, then assignPoints", both, [
    "fit_s",
    "index_s",
    "assign_s",
    "method",
  ]);
  const row: Record<string, unknown> = { n: N2D, q: Q2D, ours: both };
  if (typeof both !== "string") {
    const total = (both.fit_s as number) + (both.index_s as number) + (both.assign_s as number);
    row.fit_and_assign_s = total;
    console.log(`  ours fit + index + assign: ${total.toFixed(2)} s`);
    const sk = await timed("/usr/bin/python3", [
      here("../python/knn_sklearn.py"),
      `${dir}/m2`,
      `${dir}/queries2.f64`,
      String(Q2D),
      `${dir}/sk2.i32`,
    ]);
    line("scikit-learn KNeighborsClassifier(1) fit + predict", sk, [
      "fit_s",
      "predict_s",
      "algorithm",
    ]);
    row.sklearn = sk;
    if (typeof sk !== "string") {
      const ours = new Int32Array((await Deno.readFile(`${dir}/ours2.i32`)).buffer);
      const theirs = new Int32Array((await Deno.readFile(`${dir}/sk2.i32`)).buffer);
      row.nearest = compare(train, queries, 2, ours, theirs.subarray(0, Q2D));
      console.log(`  same nearest training point: ${JSON.stringify(row.nearest)}`);
    }
  }
  report.uniform2d = row;
}

report.load_after = load();
console.log(`\nload average after: ${report.load_after}`);
await Deno.remove(dir, { recursive: true });
console.log(`written ${await writeReport("fit_assign_compare", report)}`);
