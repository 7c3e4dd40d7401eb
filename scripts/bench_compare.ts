/**
 * Side-by-side ratio table: scipy's `linkage(pdist(X), "single")` vs our single-linkage
 * hierarchy (dense Prim) on the same continuous random points, in one run on this machine.
 * Distances are built beforehand on both sides and excluded from the timings. For every n it
 * also checks that both give the same partition at every k (merge by merge), and times the
 * memory floor (one plain pass over the n² entries of Σ).
 *
 *     deno task bench:compare            # n = 1024, 4096 (and 256)
 *     deno task bench:compare -- --large # adds n = 10 000 (Σ is 800 MB)
 *
 * Needs python3 with numpy and scipy; without them it says so and times our side only.
 * Exits with status 1 when a partition differs from scipy's at some k (the claim "same partition
 * at every k" of docs/benchmarks.md rests on this check), 0 otherwise.
 */
import { memoryFloorPassFor, negSquaredDistanceMatrix, randomPoints } from "../bench/inputs.ts";
import {
  forestHierarchy,
  type Hierarchy,
  unsafeForestHierarchy,
} from "../lib/forest/spanning_forest.ts";

import { type Command, flag, parseOrExit, runMain } from "../experiments/cli/flags.ts";

/** Flags of `bench:compare`. */
export const benchCompareFlags = {
  sizes: flag.intList("Numbers of points n to time", [256, 1024, 4096], 2, 20_000),
  large: flag.bool("Also n = 10 000 (Σ is 800 MB)"),
  dim: flag.int("Dimension of the Gaussian points", 8, 1, 1024),
} as const;

/** `bench:compare`. */
export const benchCompareCommand: Command<typeof benchCompareFlags> = {
  name: "bench:compare",
  summary: "Single linkage side by side: scipy's linkage(pdist(X), 'single') vs our hierarchy, " +
    "with a partition check at every k (needs python3 with numpy and scipy for the scipy side).",
  flags: benchCompareFlags,
};
const helper = new URL("../python/single_linkage_scipy.py", import.meta.url).pathname;

/** Milliseconds with two decimals below 10 ms (n = 256 takes a fraction of a millisecond). */
const ms = (t: number): string => t.toFixed(t < 10 ? 2 : 1);

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1];
}

function timeMs(reps: number, f: () => unknown): number {
  // Warm-up: let the JIT finish optimising (at least 300 ms or 3 calls).
  const until = performance.now() + 300;
  for (let w = 0; w < 3 || performance.now() < until; w++) f();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

/**
 * The first merge step at which the two merge sequences join different pairs of clusters (so
 * some k has different partitions), or −1 when they agree at every step. Clusters are tracked
 * here with a plain union–find, not the library's, so that the check does not share code with
 * what it checks.
 */
export function firstMergeMismatch(h: Hierarchy, a: Int32Array, b: Int32Array): number {
  const parent = Int32Array.from({ length: h.n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (let t = 0; t < h.n - 1; t++) {
    const ours = [find(h.left[t]), find(h.right[t])].sort((p, q) => p - q);
    const theirs = [find(a[t]), find(b[t])].sort((p, q) => p - q);
    if (ours[0] !== theirs[0] || ours[1] !== theirs[1] || ours[0] === ours[1]) return t;
    parent[ours[1]] = ours[0];
  }
  return -1;
}

async function scipyLinkage(
  x: Float64Array,
  n: number,
  reps: number,
): Promise<{ ms: number; a: Int32Array; b: Int32Array; versions: string } | string> {
  const dir = await Deno.makeTempDir({ prefix: "spanclust_cmp_" });
  try {
    const pts = `${dir}/points.f64`, out = `${dir}/merges.i32`;
    await Deno.writeFile(pts, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
    let res: Deno.CommandOutput;
    try {
      res = await new Deno.Command("python3", {
        args: [helper, pts, String(n), String(DIM()), String(reps), out],
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (e) {
      return `python3 not runnable (${e instanceof Error ? e.message : e})`;
    }
    const text = new TextDecoder().decode(res.stdout).trim();
    if (res.code === 3) return `numpy/scipy missing: ${text}`;
    if (res.code !== 0) return `scipy helper failed: ${new TextDecoder().decode(res.stderr)}`;
    const info = JSON.parse(text);
    const merges = new Int32Array((await Deno.readFile(out)).buffer);
    return {
      ms: median(info.linkage_ms),
      a: merges.subarray(0, n - 1),
      b: merges.subarray(n - 1),
      versions: `scipy ${info.scipy}, numpy ${info.numpy}`,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

let dimension = 8;
const DIM = () => dimension;

async function main(argv: readonly string[]): Promise<void> {
  const cfg = parseOrExit(benchCompareCommand, argv);
  dimension = cfg.dim!;
  const sizes = [...cfg.sizes!, ...(cfg.large ? [10_000] : [])];
  const rows: string[] = [];
  let versions = "", skipped = "";
  const mismatches: string[] = [];
  for (const n of sizes) {
    const reps = n >= 10_000 ? 3 : n >= 4096 ? 5 : 9;
    const x = randomPoints(n, DIM(), 2024 + n);
    const sigma = negSquaredDistanceMatrix(x, DIM());
    const rssBefore = Deno.memoryUsage().rss;
    const floorPass = memoryFloorPassFor(n);
    const floor = timeMs(reps, () => floorPass(sigma.data));
    const ours = timeMs(reps, () => unsafeForestHierarchy(sigma));
    const rssAfter = Deno.memoryUsage().rss;
    const checked = timeMs(reps, () => forestHierarchy(sigma));
    const h = unsafeForestHierarchy(sigma);
    const sp = await scipyLinkage(x, n, reps);
    const extraMb = Math.max(0, rssAfter - rssBefore) / 2 ** 20;
    const sigmaMb = (8 * n * n) / 2 ** 20;
    let scipyCell = "—", ratio = "—", checkedRatio = "—", same = "—";
    if (typeof sp === "string") skipped = sp;
    else {
      versions = sp.versions;
      scipyCell = ms(sp.ms);
      ratio = (sp.ms / ours).toFixed(1) + "×";
      checkedRatio = (sp.ms / checked).toFixed(2) + "×";
      const at = firstMergeMismatch(h, sp.a, sp.b);
      same = at === -1 ? "yes" : "**NO**";
      if (at !== -1) {
        mismatches.push(`n = ${n}: merge ${at} differs from scipy's (k = ${n - at - 1})`);
      }
    }
    rows.push(
      `| ${n} | ${scipyCell} | ${ms(ours)} | ${ms(checked)} | ${
        ms(floor)
      } | ${ratio} | ${checkedRatio} | ${(ours / floor).toFixed(2)}× | ${same} | ${
        sigmaMb.toFixed(0)
      } MB / +${extraMb.toFixed(0)} MB |`,
    );
    console.error(`n = ${n} done`);
  }
  console.log(
    `Single linkage, Σ = −‖xᵢ − xⱼ‖² of ${DIM()}-d Gaussian points (median ms; ${Deno.build.arch}, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}${
      versions ? ", " + versions : ""
    })\n`,
  );
  console.log(
    "| n | scipy linkage (ms) | ours, unsafeForestHierarchy (ms) | ours, forestHierarchy incl. validation (ms) | memory floor (ms) | scipy / ours | scipy / ours incl. validation | ours / floor | same partition at every k | Σ size / extra RSS during solve |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);
  if (skipped) console.log(`\nscipy skipped: ${skipped}`);
  if (mismatches.length > 0) {
    console.error(`Partition mismatch with scipy:\n${mismatches.join("\n")}`);
    Deno.exit(1);
  }
}

if (import.meta.main) await runMain(() => main(Deno.args));
