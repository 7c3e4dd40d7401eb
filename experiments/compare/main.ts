/**
 * compare — spanning forests (Stewart et al. 2023) and OT k-means (Genevay et al. 2019) side by
 * side on the same data, with and without the same partial labels.
 *
 * Setting: fixed features (no training), so every method is the pure core's exact solver on
 * the same points and the comparison isolates the clustering model itself:
 * - the toy datasets of `exp:toy` (circles, moons, varied, aniso; standard-scaled 2-D), and
 * - an MNIST subset (`--mnist-n` test images, pixels / 255, 784-D) — raw pixels are a hard,
 *   realistic "frozen feature" case.
 *
 * A fraction `--labelled` of the points (stratified by class, at least one per class) gets its
 * label; the others are unlabelled. Methods:
 * - `forest`: maximum-weight k-spanning forest of Σ = −‖x_i − x_j‖² (single linkage), unsupervised;
 * - `forest + labels`: the constrained forest of Definition 5 with M_Ω from the partial labels
 *   (`constrainedSpanningForest`) — the prediction whose perturbed version the partial FY loss
 *   (Proposition 1) trains against;
 * - `k-means`: Lloyd with k-means++ (unsupervised baseline);
 * - `OT k-means`: entropic OT k-means with uniform sizes (unsupervised);
 * - `OT k-means + labels`: the same, its centroids seeded at the labelled class means and its
 *   sizes r set to the labelled class proportions (the natural way labels enter OT k-means).
 * Scores: ARI, NMI and Hungarian accuracy on the UNLABELLED points only (labelled points are
 * given away), plus wall time.
 *
 * Outputs (`--out`, default `results/compare`, atomic): `config.json`, `table.csv`,
 * `table.json`, `table.md`, `ari.svg` (grouped bars: ARI per dataset and method).
 *
 * Usage: `deno task compare [--labelled 0.1] [--mnist-n 1000] [--seed 0] [--help]`
 *
 * @module
 */
import {
  constrainedSpanningForest,
  constraintsFromLabels,
} from "../../lib/constrained/constrained_forest.ts";
import { kMeans } from "../../lib/ot/kmeans.ts";
import {
  adjustedRandIndex,
  clusteringAccuracy,
  normalizedMutualInfo,
} from "../../lib/metrics/metrics.ts";
import { otKMeans } from "../../lib/ot/ot_kmeans.ts";
import { negSquaredDistances } from "../../lib/core/similarity.ts";
import { maxSpanningForest } from "../../lib/forest/spanning_forest.ts";
import { type Command, flag, parseOrExit, runMain } from "../cli/flags.ts";
import { openRunDir } from "../run_dir.ts";
import { loadMnist } from "../data/idx.ts";
import { mixSeed, shuffled } from "../data/splits.ts";
import { writeCsvAtomic, writeJsonAtomic, writeTextAtomic } from "../io.ts";
import { savePlot } from "../plot.ts";
import { toyDatasets } from "../toy/datasets.ts";

/** Flags of `compare`. */
export const compareFlags = {
  seed: flag.int("Seed of data, labelled subset and initialisations", 0, 0, 2 ** 31 - 1),
  out: flag.string("Results directory", "results/compare"),
  toyN: flag.int("Points per toy dataset", 300, 10),
  mnistN: flag.int("MNIST test images (0 = skip MNIST)", 500, 0, 10000),
  dataDir: flag.string("Directory with MNIST's IDX files (default: packaged copy)", undefined),
  labelled: flag.number("Fraction of points whose label is given", 0.1, 0, 1),
  epsilon: flag.number(
    "OT k-means ε, relative to the mean squared distance between points",
    0.05,
    1e-6,
  ),
} as const;

/** A validated configuration of `compare`. */
export interface CompareConfig {
  readonly seed: number;
  readonly out: string;
  readonly toyN: number;
  readonly mnistN: number;
  readonly dataDir?: string;
  readonly labelled: number;
  readonly epsilon: number;
}

/** `compare`. */
export const compareCommand: Command<typeof compareFlags> = {
  name: "compare",
  summary: "Spanning forests vs OT k-means on the same data, without and with partial labels.",
  flags: compareFlags,
  checks: [
    (c) =>
      c.toyN === undefined || c.mnistN === undefined || c.mnistN === 0 || c.mnistN >= 10
        ? null
        : `--mnist-n ${c.mnistN} is too small for 10 clusters (at least 10, or 0 to skip MNIST)`,
  ],
};

/** The methods, in table order. */
export const COMPARE_METHODS = [
  "forest",
  "forest + labels",
  "k-means",
  "OT k-means",
  "OT k-means + labels",
] as const;

/** One method. */
export type CompareMethod = typeof COMPARE_METHODS[number];

/** One dataset of the comparison. */
export interface CompareDataset {
  readonly id: string;
  readonly points: readonly (readonly number[])[];
  readonly labels: Int32Array;
  readonly k: number;
}

/** One cell of the table. */
export interface CompareCell {
  readonly dataset: string;
  readonly method: CompareMethod;
  readonly n: number;
  readonly labelled: number;
  readonly ari: number;
  readonly nmi: number;
  readonly acc: number;
  readonly ms: number;
}

/**
 * A stratified labelled subset: `round(fraction · n_c)` points of each class c, at least one.
 *
 * @param labels True labels.
 * @param fraction Fraction in [0, 1]; 0 gives no labels at all.
 * @param seed Seed.
 * @returns `partial[i]` = the label or null.
 */
export function partialLabelsOf(
  labels: Int32Array,
  fraction: number,
  seed: number,
): (number | null)[] {
  const partial: (number | null)[] = Array.from(labels, () => null);
  if (fraction <= 0) return partial;
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  for (const c of classes) {
    const members = Int32Array.from(labels.keys()).filter((i) => labels[i] === c);
    const take = Math.max(1, Math.round(fraction * members.length));
    for (const i of shuffled(members, mixSeed(seed, c)).slice(0, take)) partial[i] = c;
  }
  return partial;
}

function meanSquaredDistance(points: readonly (readonly number[])[]): number {
  // Σ_{i,j} ‖x_i − x_j‖² / n² = 2 · (total variance), computed in O(nd).
  const n = points.length, d = points[0]!.length;
  let total = 0;
  for (let t = 0; t < d; t++) {
    let s = 0, s2 = 0;
    for (const p of points) {
      s += p[t]!;
      s2 += p[t]! * p[t]!;
    }
    total += s2 / n - (s / n) ** 2;
  }
  return 2 * total;
}

/**
 * Runs one method on one dataset.
 *
 * @param method Which method.
 * @param data The dataset.
 * @param partial Partial labels (null = unlabelled).
 * @param cfg Seed and ε.
 * @returns Predicted labels of all points.
 */
export function clusterWith(
  method: CompareMethod,
  data: CompareDataset,
  partial: readonly (number | null)[],
  cfg: Pick<CompareConfig, "seed" | "epsilon">,
): Int32Array {
  const { points, k } = data;
  const eps = cfg.epsilon * meanSquaredDistance(points);
  // Bounded work: 30 assignment/centroid rounds, inner solves to 1e-5 marginal error.
  const ot = {
    epsilon: eps,
    seed: cfg.seed,
    maxIters: 30,
    sinkhorn: { maxIters: 3000, tol: 1e-5 },
  };
  switch (method) {
    case "forest":
      return maxSpanningForest(negSquaredDistances(points), k).labels;
    case "forest + labels":
      return constrainedSpanningForest(
        negSquaredDistances(points),
        k,
        constraintsFromLabels(partial),
      ).labels;
    case "k-means":
      return kMeans(points, k, { seed: cfg.seed }).labels;
    case "OT k-means":
      return otKMeans(points, k, ot).labels;
    case "OT k-means + labels": {
      const d = points[0]!.length;
      const sums = Array.from({ length: k }, () => new Float64Array(d));
      const counts = new Float64Array(k);
      partial.forEach((c, i) => {
        if (c === null) return;
        counts[c]++;
        for (let t = 0; t < d; t++) sums[c]![t]! += points[i]![t]!;
      });
      if (counts.some((c) => c === 0)) {
        // Some class has no labelled point: fall back to the unsupervised initialisation.
        return otKMeans(points, k, ot).labels;
      }
      const total = counts.reduce((a, b) => a + b, 0);
      return otKMeans(points, k, {
        ...ot,
        initialCentroids: sums.map((s, c) => Array.from(s, (v) => v / counts[c]!)),
        sizes: Array.from(counts, (c) => c / total),
      }).labels;
    }
  }
}

/**
 * Scores predicted labels on the unlabelled points.
 *
 * @param pred Predicted labels (all points).
 * @param truth True labels.
 * @param partial Partial labels (scored points are those with null).
 * @returns ARI, NMI, ACC.
 */
export function scoreUnlabelled(
  pred: Int32Array,
  truth: Int32Array,
  partial: readonly (number | null)[],
): { ari: number; nmi: number; acc: number } {
  const idx = partial.flatMap((c, i) => (c === null ? [i] : []));
  const p = idx.map((i) => pred[i]!), t = idx.map((i) => truth[i]!);
  return {
    ari: adjustedRandIndex(p, t),
    nmi: normalizedMutualInfo(p, t),
    acc: clusteringAccuracy(p, t),
  };
}

/**
 * Runs the whole comparison (no files written).
 *
 * @param cfg Configuration.
 * @param datasets The datasets (see {@link loadCompareDatasets}).
 * @returns One cell per (dataset, method).
 */
export function runCompare(
  cfg: CompareConfig,
  datasets: readonly CompareDataset[],
): CompareCell[] {
  const cells: CompareCell[] = [];
  for (const data of datasets) {
    const partial = partialLabelsOf(data.labels, cfg.labelled, mixSeed(cfg.seed, 17));
    const labelled = partial.filter((c) => c !== null).length;
    for (const method of COMPARE_METHODS) {
      const t0 = performance.now();
      const pred = clusterWith(method, data, partial, cfg);
      const ms = performance.now() - t0;
      cells.push({
        dataset: data.id,
        method,
        n: data.points.length,
        labelled,
        ...scoreUnlabelled(pred, data.labels, partial),
        ms,
      });
    }
  }
  return cells;
}

/**
 * The datasets: the labelled toy sets and (if `mnistN > 0`) an MNIST test subset.
 *
 * @param cfg Configuration.
 * @returns The datasets.
 */
export async function loadCompareDatasets(cfg: CompareConfig): Promise<CompareDataset[]> {
  const out: CompareDataset[] = toyDatasets(cfg.toyN, cfg.seed)
    .filter((d) => d.labels !== null)
    .map((d) => ({ id: d.id, points: d.points, labels: d.labels!, k: d.k }));
  if (cfg.mnistN > 0) {
    const mnist = await loadMnist({ dataDir: cfg.dataDir });
    const idx = shuffled(Int32Array.from({ length: mnist.test.n }, (_, i) => i), cfg.seed)
      .slice(0, cfg.mnistN);
    const points = Array.from(
      idx,
      (i) => Array.from(mnist.test.images.subarray(i * 784, (i + 1) * 784), (v) => v / 255),
    );
    out.push({
      id: "mnist-pixels",
      points,
      labels: Int32Array.from(idx, (i) => mnist.test.labels[i]!),
      k: 10,
    });
  }
  return out;
}

/**
 * The table as markdown: one row per dataset, ARI (ACC) per method.
 *
 * @param cells The cells.
 * @returns Markdown.
 */
export function compareMarkdown(cells: readonly CompareCell[]): string {
  const datasets = [...new Set(cells.map((c) => c.dataset))];
  const lines = [
    `| dataset | ${COMPARE_METHODS.join(" | ")} |`,
    `|---|${COMPARE_METHODS.map(() => "---").join("|")}|`,
  ];
  for (const d of datasets) {
    const row = COMPARE_METHODS.map((m) => {
      const c = cells.find((x) => x.dataset === d && x.method === m)!;
      return `${c.ari.toFixed(2)} (${c.acc.toFixed(2)})`;
    });
    lines.push(`| ${d} | ${row.join(" | ")} |`);
  }
  return lines.join("\n") + "\n\nCells: ARI (Hungarian accuracy) on the unlabelled points.\n";
}

/**
 * Writes config, table (csv/json/md) and the ARI figure.
 *
 * @param cfg Configuration.
 * @param cells The cells.
 * @returns The paths written.
 */
export async function writeCompareResults(
  cfg: CompareConfig,
  cells: readonly CompareCell[],
): Promise<string[]> {
  const out = cfg.out;
  await writeJsonAtomic(`${out}/config.json`, cfg);
  const rows = cells.map((c) => ({ ...c }));
  await writeCsvAtomic(`${out}/table.csv`, rows);
  await writeJsonAtomic(`${out}/table.json`, rows);
  await writeTextAtomic(`${out}/table.md`, compareMarkdown(cells));
  const svg = await savePlot(out, "ari", {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `ARI on unlabelled points (${Math.round(cfg.labelled * 100)} % labelled)`,
    data: { values: rows.map((r) => ({ dataset: r.dataset, method: r.method, ari: r.ari })) },
    mark: "bar",
    encoding: {
      x: { field: "dataset", type: "nominal", title: null },
      xOffset: { field: "method", type: "nominal", sort: [...COMPARE_METHODS] },
      y: { field: "ari", type: "quantitative", title: "ARI" },
      color: { field: "method", type: "nominal", sort: [...COMPARE_METHODS], title: null },
    },
    width: 500,
    height: 250,
  });
  return [
    `${out}/config.json`,
    `${out}/table.csv`,
    `${out}/table.json`,
    `${out}/table.md`,
    svg,
  ];
}

/**
 * Runs `deno task compare` with the given arguments.
 *
 * @param argv Command-line arguments.
 * @returns The cells and the paths written.
 * @throws {UsageError} On invalid flags.
 * @throws {RunSetupError} If `--out` holds a run with other settings.
 */
export async function main(
  argv: readonly string[],
): Promise<{ cells: CompareCell[]; paths: string[] }> {
  const cfg = parseOrExit(compareCommand, argv) as CompareConfig;
  await openRunDir(cfg.out, {
    command: "compare",
    config: cfg as unknown as Record<string, unknown>,
    resume: false,
    resumable: false,
  });
  const t0 = performance.now();
  const cells = runCompare(cfg, await loadCompareDatasets(cfg));
  const paths = await writeCompareResults(cfg, cells);
  const seconds = (performance.now() - t0) / 1000;
  const summary = {
    command: "compare",
    seconds,
    metric: "ARI and Hungarian accuracy on the unlabelled points",
    results: Object.fromEntries(
      [...new Set(cells.map((c) => c.dataset))].map((d) => [
        d,
        Object.fromEntries(
          cells.filter((c) => c.dataset === d).map((c) => [c.method, { ari: c.ari, acc: c.acc }]),
        ),
      ]),
    ),
  };
  await writeJsonAtomic(`${cfg.out}/summary.json`, summary);
  paths.push(`${cfg.out}/summary.json`);
  console.log(compareMarkdown(cells));
  console.log(`compare: ${seconds.toFixed(1)} s; results in ${cfg.out}`);
  return { cells, paths };
}

if (import.meta.main) await runMain(() => main(Deno.args));
