/**
 * `deno task cluster`: cluster the points of a CSV file with the maximum spanning forest
 * (single linkage) of Σ = −‖x_i − x_j‖² and write one label per row; or fit once, save the
 * model, and assign the rows of other files to it with a probability per cluster.
 *
 * - `--k K`: K clusters; `--threshold T`: points closer than T end in one cluster (a cut of
 *   the hierarchy); neither: k is chosen from the hierarchy's largest gap (`chooseK`).
 *   `--min-size S` (with `--k`): K clusters of at least S points (`cutAtMinSize`).
 * - Any number of points: Σ is dense up to 2048 points, then a Delaunay (2-d) or kNN graph
 *   (`clusterPoints`; `--method`, `--neighbours`, `--min-samples` for mutual reachability).
 * - `--labels-column C`: a column of partial labels (empty cell = unlabelled): the constrained
 *   forest keeps equal labels together and different ones apart (k defaults to the number of
 *   distinct labels; dense up to 2048 points, on the kNN or Delaunay graph beyond).
 * - `--columns a,b`: the feature columns (default: every column but the labels column);
 *   `--scale standard` standardises each feature first; `--metric cosine` compares directions.
 * - `--save-model DIR`: also save the fitted model (`fitClusters`: labels, cut level, training
 *   points, preprocessing) to DIR.
 * - `--model DIR --input new.csv`: assign each row of new.csv to the saved model's clusters
 *   (`assignPoints`; −1 for an outlier of a threshold cut) and write one probability column per
 *   cluster (`clusterMembership`: `--epsilon`, `--samples`, `--seed`), plus the outlier
 *   probability. new.csv must hold the model's feature columns (by name); other columns are
 *   copied through.
 *
 * Writes `--out` (default `results/cluster/<input name>.labels.csv`, or `.assigned.csv` with
 * `--model`): the input's columns and a `cluster` column; `--linkage-out` also writes scipy's
 * linkage matrix Z as CSV. Refuses to replace an existing file or model directory unless
 * `--overwrite`.
 *
 * @module
 */
import {
  constrainedSpanningForest,
  constraintsFromLabels,
} from "../../lib/constrained/constrained_forest.ts";
import { constrainedSpanningForestOnGraph } from "../../lib/constrained/constrained_forest_on_graph.ts";
import { linkageMatrix } from "../../lib/forest/hierarchy.ts";
import { negSquaredDistances } from "../../lib/core/similarity.ts";
import { rectToRows } from "../../lib/core/rect_matrix.ts";
import type { Hierarchy } from "../../lib/forest/spanning_forest.ts";
import { clusterPoints, DENSE_MAX_POINTS } from "../../lib/graph/cluster_points.ts";
import {
  type FitClustersOptions,
  fitClustersWithHierarchy,
  type FittedClusters,
} from "../../lib/graph/fitted_clusters.ts";
import {
  type Command,
  type ConfigOf,
  flag,
  parseOrExit,
  runMain,
  UsageError,
} from "../cli/flags.ts";
import { toCsv, writeTextAtomic } from "../io.ts";
import { saveFittedClusters } from "../fitted_model_io.ts";
import { assignTable, refuseExisting } from "./assign.ts";
import { columnIndex, featureMatrix, parseCsv, type Table, toTable } from "./table.ts";

export { parseCsv, type Table, toTable };

/** Flags of `cluster`. */
export const clusterFlags = {
  input: flag.string(
    "CSV file of points (required), one row per point; a header row is detected",
    undefined,
  ),
  k: flag.int("Number of clusters (default: chosen from the largest gap)", undefined, 1),
  threshold: flag.positive(
    "Distance threshold: points closer than this end in one cluster (instead of --k)",
    undefined,
  ),
  minSize: flag.int("With --k: clusters of at least this many points", undefined, 1),
  labelsColumn: flag.string(
    "Column of partial labels (empty = unlabelled): kept together / apart",
    undefined,
  ),
  columns: flag.string("Comma-separated feature columns (default: all but the labels)", undefined),
  scale: flag.choice(
    ["none", "standard"] as const,
    "Feature scaling: none, or each column to mean 0 and variance 1",
    "none",
  ),
  metric: flag.choice(
    ["sqeuclidean", "cosine"] as const,
    "Similarity: −squared distance, or of directions (points scaled to unit length)",
    "sqeuclidean",
  ),
  method: flag.choice(
    ["auto", "dense", "delaunay", "knn", "nn-descent"] as const,
    "How Σ is represented (auto: dense up to 2048 points, Delaunay in 2-d, else kNN)",
    "auto",
  ),
  neighbours: flag.int("Neighbours per point of the kNN graphs", 15, 1, 65536),
  minSamples: flag.int(
    "Mutual reachability (HDBSCAN's min_samples): core distance to this neighbour",
    undefined,
    1,
    65536,
  ),
  out: flag.string("Output CSV (the input's columns + cluster)", undefined),
  linkageOut: flag.string("Also write scipy's linkage matrix Z (CSV) here", undefined),
  saveModel: flag.string("Also save the fitted model to this directory", undefined),
  model: flag.string(
    "Assign --input's rows to the model saved in this directory (instead of clustering them)",
    undefined,
  ),
  epsilon: flag.positive(
    "With --model: noise scale of the cluster probabilities (default: |cut level| / 10)",
    undefined,
  ),
  samples: flag.int("With --model: Monte-Carlo samples of the probabilities", 100, 2, 1_000_000),
  seed: flag.int("With --model: seed of the probabilities", 0, 0, 2 ** 31 - 1),
  overwrite: flag.bool("Replace existing output files and model directories"),
} as const;

/** The decoded flags of `cluster`. */
export type ClusterConfig = ConfigOf<typeof clusterFlags>;

const FIT_ONLY = [
  "k",
  "threshold",
  "minSize",
  "labelsColumn",
  "columns",
  "minSamples",
  "saveModel",
  "linkageOut",
] as const;

/** `cluster`. */
export const clusterCommand: Command<typeof clusterFlags> = {
  name: "cluster",
  summary: "Cluster the points of a CSV file (spanning forest = single linkage) and write one " +
    "label per row; or assign the rows of a CSV file to a saved model.",
  flags: clusterFlags,
  outDefault: "results/cluster/<input name>.labels.csv (.assigned.csv with --model)",
  checks: [
    (c) => (c.input === undefined ? "--input <csv> is required" : null),
    (c) =>
      c.k !== undefined && c.threshold !== undefined
        ? `--k ${c.k} and --threshold ${c.threshold} both given: choose one`
        : null,
    (c) =>
      c.threshold !== undefined && c.labelsColumn !== undefined
        ? "--threshold cannot be combined with --labels-column (the labels fix the clusters " +
          "they join; give --k or nothing)"
        : null,
    (c) =>
      c.minSize !== undefined && c.k === undefined
        ? `--min-size ${c.minSize} needs --k (the number of clusters of at least that size)`
        : null,
    (c) => {
      if (c.labelsColumn === undefined) return null;
      const bad = (["minSize", "minSamples", "saveModel"] as const).find((f) => c[f] !== undefined);
      if (bad !== undefined) {
        return `--${kebab(bad)} cannot be combined with --labels-column (constrained forests ` +
          "are cut by their labels, and are not saved as models)";
      }
      return c.metric === "cosine"
        ? "--metric cosine cannot be combined with --labels-column"
        : null;
    },
    (c) => {
      if (c.model === undefined) return null;
      const bad = FIT_ONLY.find((f) => c[f] !== undefined);
      if (bad !== undefined) {
        return `--${kebab(bad)} cannot be combined with --model (the saved model fixes the ` +
          "features, the similarities and the cut)";
      }
      return c.scale !== "none" || c.metric !== "sqeuclidean" || c.method !== "auto"
        ? "--scale, --metric and --method cannot be combined with --model (the saved model fixes them)"
        : null;
    },
  ],
};

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The outcome of {@link clusterTable}. */
export interface ClusterResult {
  /** Cluster of each row. */
  readonly labels: Int32Array;
  /** How k was set. */
  readonly how: "k" | "threshold" | "gap" | "labels" | "min-size";
  readonly features: readonly string[];
  /** The fitted model (not for a constrained run). */
  readonly model?: FittedClusters;
  /** The hierarchy the model was cut from (not for a constrained run). */
  readonly hierarchy?: Hierarchy;
}

/**
 * Clusters a table's rows (module doc).
 *
 * @param table The table.
 * @param cfg Flags (k, threshold, minimum size, labels column, columns, scale, metric, method,
 *   neighbours, minSamples).
 * @param path File name for messages.
 * @returns The labels, how k was chosen, the model and hierarchy (unconstrained runs).
 * @throws {RangeError} On a missing column, a non-numeric cell, too few points, or k out of
 * range (each naming the value).
 */
export function clusterTable(
  table: Table,
  cfg: Partial<ClusterConfig>,
  path: string,
): ClusterResult {
  const labelsAt = cfg.labelsColumn === undefined ? -1 : columnIndex(table, cfg.labelsColumn, path);
  const features = cfg.columns !== undefined
    ? cfg.columns.split(",").map((s) => s.trim())
    : table.header.filter((_, j) => j !== labelsAt);
  const points = featureMatrix(table, features, path);
  const n = points.rows;
  const checkK = (k: number) => {
    if (k > n) throw new RangeError(`--k ${k} exceeds the ${n} points of ${path}`);
    return k;
  };
  if (labelsAt >= 0) {
    if (cfg.scale === "standard") standardiseColumns(points.data, n, points.cols);
    const ids = new Map<string, number>();
    const numeric = table.rows.map((r) => {
      const v = r[labelsAt]!.trim();
      if (v === "") return null;
      if (!ids.has(v)) ids.set(v, ids.size);
      return ids.get(v)!;
    });
    if (ids.size === 0) {
      throw new RangeError(`${path}: column ${cfg.labelsColumn} holds no label (all empty)`);
    }
    const k = checkK(cfg.k ?? ids.size);
    const how = cfg.k === undefined ? "labels" : "k";
    if (n <= DENSE_MAX_POINTS) {
      const sigma = negSquaredDistances(rectToRows(points));
      const forest = constrainedSpanningForest(sigma, k, constraintsFromLabels(numeric));
      return { labels: forest.labels, how, features };
    }
    const { graph } = clusterPoints(points, 1, {
      method: cfg.method === "dense" ? undefined : cfg.method,
      neighbours: cfg.neighbours,
    });
    return { labels: constrainedSpanningForestOnGraph(graph!, k, numeric).labels, how, features };
  }
  if (cfg.k !== undefined) checkK(cfg.k);
  if (cfg.k === undefined && cfg.threshold === undefined && n < 3) {
    throw new RangeError(`${path} has ${n} points: give --k (choosing k needs n ≥ 3)`);
  }
  const options: FitClustersOptions = {
    ...(cfg.threshold !== undefined
      ? { threshold: -(cfg.threshold ** 2) }
      : { k: cfg.k ?? "largest-gap" }),
    minSize: cfg.minSize,
    metric: cfg.metric,
    standardise: cfg.scale === "standard",
    columns: features,
    method: cfg.method,
    neighbours: cfg.neighbours,
    minSamples: cfg.minSamples,
  };
  const { model, hierarchy } = fitClustersWithHierarchy(points, options);
  const how = cfg.threshold !== undefined
    ? "threshold"
    : cfg.minSize !== undefined
    ? "min-size"
    : cfg.k !== undefined
    ? "k"
    : "gap";
  return { labels: model.labels, how, features, model, hierarchy };
}

/** Each column to mean 0 and (population) variance 1; a constant column to 0. In place. */
function standardiseColumns(x: Float64Array, n: number, d: number): void {
  for (let t = 0; t < d; t++) {
    let mean = 0, sd = 0;
    for (let i = 0; i < n; i++) mean += x[i * d + t];
    mean /= n;
    for (let i = 0; i < n; i++) sd += (x[i * d + t] - mean) ** 2;
    sd = Math.sqrt(sd / n);
    for (let i = 0; i < n; i++) x[i * d + t] = sd > 0 ? (x[i * d + t] - mean) / sd : 0;
  }
}

/**
 * Runs `deno task cluster` with the given arguments.
 *
 * @param argv Command-line arguments.
 * @returns The paths written.
 * @throws {UsageError} On invalid flags.
 * @throws {RangeError} On an input that cannot be clustered (message names the line/column).
 */
export async function main(argv: readonly string[]): Promise<{ paths: string[] }> {
  const cfg = parseOrExit(clusterCommand, argv);
  const input = cfg.input!;
  const name = input.replace(/^.*\//, "").replace(/\.csv$/i, "");
  if (cfg.model !== undefined) {
    return await assignTable(cfg, cfg.out ?? `results/cluster/${name}.assigned.csv`);
  }
  const out = cfg.out ?? `results/cluster/${name}.labels.csv`;
  if (cfg.linkageOut !== undefined && cfg.labelsColumn !== undefined) {
    throw new UsageError("--linkage-out needs an unconstrained run (no --labels-column)");
  }
  await refuseExisting(out, cfg.overwrite!);
  if (cfg.linkageOut !== undefined) await refuseExisting(cfg.linkageOut, cfg.overwrite!);
  if (cfg.saveModel !== undefined) await refuseExisting(cfg.saveModel, cfg.overwrite!);
  const table = toTable(parseCsv(await Deno.readTextFile(input)), input);
  const result = clusterTable(table, cfg, input);
  const labels = result.labels;
  const column = table.header.includes("cluster") ? "cluster_label" : "cluster";
  const rows = table.rows.map((r, i) => {
    const rec: Record<string, string | number> = {};
    table.header.forEach((h, j) => (rec[h] = r[j]!));
    rec[column] = labels[i]!;
    return rec;
  });
  await writeTextAtomic(out, toCsv(rows, [...table.header, column]));
  const paths = [out];
  if (cfg.linkageOut !== undefined) {
    const z = linkageMatrix(result.hierarchy!, { distance: "sqrt-negate" });
    await writeTextAtomic(
      cfg.linkageOut,
      toCsv(z.map(([a, b, d, s]) => ({ a, b, distance: d, size: s }))),
    );
    paths.push(cfg.linkageOut);
  }
  if (cfg.saveModel !== undefined) {
    await saveFittedClusters(cfg.saveModel, result.model!, { overwrite: cfg.overwrite });
    paths.push(cfg.saveModel);
  }
  const sizes = new Map<number, number>();
  for (const l of labels) sizes.set(l, (sizes.get(l) ?? 0) + 1);
  const why = {
    k: "as asked",
    "min-size": `as asked, each of at least ${cfg.minSize} points`,
    threshold: `at distance ${cfg.threshold}`,
    gap: "chosen from the largest gap",
    labels: "one per label",
  }[result.how];
  const method = result.model === undefined ? "" : `, ${result.model.method}`;
  console.log(
    `clustered ${labels.length} points (${
      result.features.join(", ")
    }${method}) into ${sizes.size} ` +
      `clusters (${why}; sizes ${[...sizes.values()].join(", ")}); wrote ${paths.join(", ")}`,
  );
  return { paths };
}

if (import.meta.main) await runMain(() => main(Deno.args));
