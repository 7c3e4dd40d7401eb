/**
 * exp:toy — the spanning-forest clustering (Definition 2 of Stewart et al., 2023: the maximum
 * weight k-spanning forest of Σ = −‖x_i − x_j‖², i.e. single linkage cut at k clusters) next
 * to k-means, mean shift and a Gaussian mixture on scikit-learn's toy datasets (the paper's
 * Figure 3, left).
 *
 * Writes to `--out` (default `results/toy`), each file atomically:
 * - `grid.svg`: rows = datasets, columns = methods, points coloured by predicted cluster;
 * - `ari.csv`, `ari.json`, `ari.md`: adjusted Rand index per method × dataset ("no structure"
 *   has no ground truth: empty / null / "—").
 *
 * Usage: `deno task exp:toy [--seed 0] [--n 500] [--out results/toy]`
 *
 * @module
 */
import { E } from "../../lib/deps/fp.ts";
import { type Command, flag, parseFlags, runMain, UsageError } from "../cli/flags.ts";
import { openRunDir } from "../run_dir.ts";
import { adjustedRandIndex } from "../../lib/metrics/metrics.ts";
import { negSquaredDistances } from "../../lib/core/similarity.ts";
import { maxSpanningForest } from "../../lib/forest/spanning_forest.ts";
import { writeTextAtomic } from "../io.ts";
import { savePlot, scatterSpec } from "../plot.ts";
import { gaussianMixture, kMeans, meanShift } from "./baselines.ts";
import { type ToyDataset, type ToyDatasetId, toyDatasets } from "./datasets.ts";

/** Flags of `exp:toy`. */
export const toyFlags = {
  seed: flag.int("Seed of the datasets and the seeded baselines", 0, 0, 2 ** 32 - 1),
  n: flag.int("Points per dataset", 500, 3, 100_000),
  out: flag.string("Output directory", "results/toy"),
} as const;

/** Options of one run. */
export interface ToyOptions {
  /** 32-bit seed for the datasets and the seeded baselines. */
  readonly seed: number;
  /** Points per dataset. */
  readonly n: number;
  /** Output directory. */
  readonly out: string;
}

/** The compared methods, in column order. */
export const TOY_METHODS = ["spanning forest", "k-means", "mean shift", "GMM"] as const;
/** A compared method. */
export type ToyMethod = typeof TOY_METHODS[number];

/** sklearn's example's mean-shift quantile per dataset (0.2 for circles, else 0.3). */
const MEAN_SHIFT_QUANTILE: Partial<Record<ToyDatasetId, number>> = { circles: 0.2 };

/** One cell of the comparison. */
export interface ToyCell {
  /** Which dataset (row of the grid). */
  readonly dataset: ToyDatasetId;
  /** Which method (column of the grid). */
  readonly method: ToyMethod;
  /** Predicted cluster of each point. */
  readonly labels: Int32Array;
  /** Number of clusters found. */
  readonly clusters: number;
  /** ARI against the generating classes, or null where there are none. */
  readonly ari: number | null;
  /** Wall time of the clustering in milliseconds (not written to files). */
  readonly ms: number;
}

/** Everything a run computes. */
export interface ToyRun {
  /** The options it ran with. */
  readonly options: ToyOptions;
  /** The datasets, in row order. */
  readonly datasets: ToyDataset[];
  /** One cell per dataset × method, datasets outer, methods in {@link TOY_METHODS} order. */
  readonly cells: ToyCell[];
}

function cluster(method: ToyMethod, d: ToyDataset, seed: number): Int32Array {
  const points = d.points.map((p) => [...p]);
  switch (method) {
    case "spanning forest":
      return maxSpanningForest(negSquaredDistances(points), d.k).labels;
    case "k-means":
      return kMeans(points, d.k, { seed }).labels;
    case "mean shift":
      return meanShift(points, { quantile: MEAN_SHIFT_QUANTILE[d.id] ?? 0.3 }).labels;
    case "GMM":
      return gaussianMixture(points, d.k, { seed }).labels;
  }
}

/**
 * Runs every method on every toy dataset (no file output).
 *
 * @param options Seed, points per dataset (`out` is carried along, not used).
 * @returns The datasets and one cell per dataset × method.
 * @throws {RangeError} If `n` or `seed` is out of range.
 *
 * @example
 * ```ts
 * import { runToy } from "./main.ts";
 * import assert from "node:assert/strict";
 * const run = runToy({ seed: 0, n: 60, out: "unused" });
 * assert.equal(run.cells.length, 5 * 4);
 * ```
 */
export function runToy(options: ToyOptions): ToyRun {
  const datasets = toyDatasets(options.n, options.seed);
  const cells: ToyCell[] = [];
  for (const d of datasets) {
    for (const method of TOY_METHODS) {
      const start = performance.now();
      const labels = cluster(method, d, options.seed);
      const ms = performance.now() - start;
      cells.push({
        dataset: d.id,
        method,
        labels,
        clusters: new Set(labels).size,
        ari: d.labels === null ? null : adjustedRandIndex(labels, d.labels),
        ms,
      });
    }
  }
  return { options, datasets, cells };
}

/** ARI as a table cell: two decimals (no "-0.00"), "—" without ground truth. */
const formatAri = (ari: number | null) =>
  ari === null ? "—" : (Math.abs(ari) < 0.005 ? 0 : ari).toFixed(2);

/**
 * Renders the ARI table as markdown: one row per dataset, one column per method.
 *
 * @param run A finished run.
 * @returns The markdown table (with a trailing newline).
 *
 * @example
 * ```ts
 * import { ariMarkdown, runToy } from "./main.ts";
 * import assert from "node:assert/strict";
 * const md = ariMarkdown(runToy({ seed: 0, n: 30, out: "" }));
 * assert.match(md, /\| no structure \| — \| — \| — \| — \|/);
 * ```
 */
export function ariMarkdown(run: ToyRun): string {
  const lines = [
    `| dataset | ${TOY_METHODS.join(" | ")} |`,
    `|---|${TOY_METHODS.map(() => "---:").join("|")}|`,
    ...run.datasets.map((d) => {
      const row = TOY_METHODS.map((m) =>
        formatAri(run.cells.find((c) => c.dataset === d.id && c.method === m)!.ari)
      );
      return `| ${d.title} | ${row.join(" | ")} |`;
    }),
  ];
  return lines.join("\n") + "\n";
}

/**
 * Writes `grid.svg` (each panel with its ARI), `ari.csv`, `ari.json`, `ari.md` and `summary.json`
 * to `run.options.out`, atomically.
 *
 * @param run A finished run.
 * @returns The paths written.
 * @throws {Deno.errors.PermissionDenied} Without write permission.
 *
 * @example
 * ```ts
 * import { runToy, writeToyResults } from "./main.ts";
 * import assert from "node:assert/strict";
 * const out = await Deno.makeTempDir();
 * const paths = await writeToyResults(runToy({ seed: 0, n: 30, out }));
 * assert.equal(paths.length, 5);
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function writeToyResults(run: ToyRun): Promise<string[]> {
  const { out, seed, n } = run.options;
  const title = new Map(run.datasets.map((d) => [d.id, d.title]));
  const points = run.cells.flatMap((c) => {
    const d = run.datasets.find((x) => x.id === c.dataset)!;
    return d.points.map(([x, y], i) => ({
      x,
      y,
      label: c.labels[i],
      row: d.title,
      column: c.method,
      // The panel's score, printed in its corner (one point per panel carries it).
      ...(i === 0 && c.ari !== null ? { caption: `ARI ${formatAri(c.ari)}` } : {}),
    }));
  });
  const grid = await savePlot(
    out,
    "grid",
    scatterSpec(points, {
      title: `Clustering toy datasets (n = ${n}, seed = ${seed})`,
      rowOrder: run.datasets.map((d) => d.title),
      columnOrder: [...TOY_METHODS],
      width: 150,
      height: 150,
      pointSize: 8,
    }),
  );
  const csv = [
    "dataset,method,ari,clusters",
    ...run.cells.map((c) => `${c.dataset},${c.method},${c.ari ?? ""},${c.clusters}`),
  ].join("\n") + "\n";
  const json = {
    experiment: "toy",
    seed,
    n,
    methods: TOY_METHODS,
    datasets: run.datasets.map((d) => ({ id: d.id, title: title.get(d.id), k: d.k })),
    ari: Object.fromEntries(
      run.datasets.map((d) => [
        d.id,
        Object.fromEntries(
          run.cells.filter((c) => c.dataset === d.id).map((c) => [c.method, c.ari]),
        ),
      ]),
    ),
    clusters: Object.fromEntries(
      run.datasets.map((d) => [
        d.id,
        Object.fromEntries(
          run.cells.filter((c) => c.dataset === d.id).map((c) => [c.method, c.clusters]),
        ),
      ]),
    ),
  };
  const paths = [`${out}/ari.csv`, `${out}/ari.json`, `${out}/ari.md`, `${out}/summary.json`];
  await writeTextAtomic(paths[0], csv);
  await writeTextAtomic(paths[1], JSON.stringify(json, null, 2) + "\n");
  await writeTextAtomic(paths[2], ariMarkdown(run));
  const ms = Object.fromEntries(
    TOY_METHODS.map((
      m,
    ) => [m, run.cells.filter((c) => c.method === m).reduce((a, c) => a + c.ms, 0)]),
  );
  await writeTextAtomic(
    paths[3],
    JSON.stringify({ command: "exp:toy", ...json, clusteringMs: ms }, null, 2) + "\n",
  );
  return [grid, ...paths];
}

/** `exp:toy`: its flags through the one CLI layer (cli.ts). */
export const toyCommand: Command<typeof toyFlags> = {
  name: "exp:toy",
  summary: "Spanning-forest clustering next to k-means, mean shift and a GMM on sklearn's toy " +
    "datasets.",
  flags: toyFlags,
};

/**
 * Decodes the command line (`--seed`, `--n`, `--out`; defaults 0, 500, `results/toy`).
 *
 * @param args The arguments, e.g. `Deno.args`.
 * @returns The options.
 * @throws {UsageError} On an unknown flag or a value that does not decode (naming the flag).
 *
 * @example
 * ```ts
 * import { parseToyArgs } from "./main.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseToyArgs(["--n", "100"]), { seed: 0, n: 100, out: "results/toy" });
 * ```
 */
export function parseToyArgs(args: readonly string[]): ToyOptions {
  const r = parseFlags(toyCommand, args);
  if (E.isLeft(r)) throw new UsageError(r.left);
  if (r.right._tag === "Help") throw new UsageError("--help is not an option here");
  const { seed, n, out } = r.right.config;
  return { seed: seed!, n: n!, out: out! };
}

/**
 * The command-line entry point: runs, writes the results and prints the ARI table.
 *
 * @param args Command-line arguments.
 * @returns The run, or null when `--help` was asked for (the usage is printed).
 * @throws {UsageError} On invalid arguments.
 * @throws {RunSetupError} If `--out` holds a run with other settings.
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * import assert from "node:assert/strict";
 * const out = await Deno.makeTempDir();
 * const run = await main(["--n", "30", "--out", out]);
 * assert.equal(run?.options.out, out);
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function main(args: readonly string[]): Promise<ToyRun | null> {
  const parsed = parseFlags(toyCommand, args);
  if (E.isLeft(parsed)) throw new UsageError(parsed.left);
  if (parsed.right._tag === "Help") {
    console.log(parsed.right.text);
    return null;
  }
  const options = parseToyArgs(args);
  await openRunDir(options.out, {
    command: "exp:toy",
    config: { ...options },
    resume: false,
    resumable: false,
  });
  const start = performance.now();
  const run = runToy(options);
  const clusterMs = performance.now() - start;
  const paths = await writeToyResults(run);
  const totalMs = performance.now() - start;
  console.log(ariMarkdown(run));
  const perMethod = TOY_METHODS.map((m) =>
    `${m} ${run.cells.filter((c) => c.method === m).reduce((s, c) => s + c.ms, 0).toFixed(0)} ms`
  );
  console.log(`clustering: ${clusterMs.toFixed(0)} ms (${perMethod.join(", ")})`);
  console.log(`total with figures: ${(totalMs / 1000).toFixed(1)} s`);
  console.log(`wrote ${paths.join(", ")}`);
  return run;
}

if (import.meta.main) await runMain(() => main(Deno.args));
