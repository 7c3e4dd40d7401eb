/**
 * `deno task cluster`: cluster the points of a CSV file with the maximum spanning forest
 * (single linkage) of Σ = −‖x_i − x_j‖² and write one label per row.
 *
 * - `--k K`: K clusters; `--threshold T`: points closer than T end in one cluster (a cut of
 *   the hierarchy); neither: k is chosen from the hierarchy's largest gap (`chooseK`).
 * - `--labels-column C`: a column of partial labels (empty cell = unlabelled): the constrained
 *   forest keeps equal labels together and different ones apart (k defaults to the number of
 *   distinct labels).
 * - `--columns a,b`: the feature columns (default: every column but the labels column);
 *   `--scale standard` standardises each feature first.
 *
 * Writes `--out` (default `results/cluster/<input name>.labels.csv`): the input's columns and
 * a `cluster` column; `--linkage-out` also writes scipy's linkage matrix Z as CSV. Refuses to
 * replace an existing file unless `--overwrite`.
 *
 * @module
 */
import {
  constrainedSpanningForest,
  constraintsFromLabels,
} from "../../lib/constrained/constrained_forest.ts";
import { chooseK, cutAtThreshold, linkageMatrix } from "../../lib/forest/hierarchy.ts";
import { negSquaredDistances } from "../../lib/core/similarity.ts";
import { type Forest, forestAt, forestHierarchy } from "../../lib/forest/spanning_forest.ts";
import { type Command, flag, parseOrExit, runMain, UsageError } from "../cli/flags.ts";
import { toCsv, writeTextAtomic } from "../io.ts";

/** Largest n: Σ is dense (8n² bytes; 20 000 points = 3.2 GB). */
export const MAX_POINTS = 20_000;

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
  out: flag.string("Output CSV (the input's columns + cluster)", undefined),
  linkageOut: flag.string("Also write scipy's linkage matrix Z (CSV) here", undefined),
  overwrite: flag.bool("Replace existing output files"),
} as const;

/** `cluster`. */
export const clusterCommand: Command<typeof clusterFlags> = {
  name: "cluster",
  summary: "Cluster the points of a CSV file (spanning forest = single linkage) and write one " +
    "label per row.",
  flags: clusterFlags,
  outDefault: "results/cluster/<input name>.labels.csv",
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
  ],
};

/**
 * Parses CSV text (RFC 4180: quoted fields, doubled quotes, CRLF). Blank lines are skipped.
 *
 * @param text The file's text.
 * @returns Rows of cells.
 * @throws {SyntaxError} On an unterminated quote (naming the line).
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], cell = "", quoted = false, line = 1, startLine = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === "\n") line++;
        cell += ch;
      }
    } else if (ch === '"' && cell === "") {
      quoted = true;
      startLine = line;
    } else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      if (row.length > 1 || row[0] !== "") rows.push(row);
      row = [];
      cell = "";
      line++;
    } else cell += ch;
  }
  if (quoted) throw new SyntaxError(`Unterminated quoted field starting on line ${startLine}`);
  row.push(cell);
  if (row.length > 1 || row[0] !== "") rows.push(row);
  return rows;
}

/** A CSV table with its header (given or generated `c0, c1, …`). */
export interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly hasHeader: boolean;
}

const isNumber = (s: string) => s.trim() !== "" && Number.isFinite(Number(s));

/**
 * A table from parsed CSV: the first row is a header when one of its cells is not a number.
 *
 * @param cells Parsed rows.
 * @param path File name for messages.
 * @returns The table.
 * @throws {RangeError} If the file is empty or rows have different lengths.
 */
export function toTable(cells: readonly string[][], path: string): Table {
  if (cells.length === 0) throw new RangeError(`${path} is empty`);
  const hasHeader = cells[0]!.some((c) => !isNumber(c));
  const width = cells[0]!.length;
  const header = hasHeader ? cells[0]!.map((c) => c.trim()) : cells[0]!.map((_, j) => `c${j}`);
  const rows = hasHeader ? cells.slice(1) : cells;
  rows.forEach((r, i) => {
    if (r.length !== width) {
      throw new RangeError(
        `${path} line ${
          i + 1 + (hasHeader ? 1 : 0)
        } has ${r.length} fields, the first line ${width}`,
      );
    }
  });
  return { header, rows, hasHeader };
}

/** The outcome of {@link clusterTable}. */
export interface ClusterResult {
  readonly forest: Forest;
  /** How k was set. */
  readonly how: "k" | "threshold" | "gap" | "labels";
  readonly features: readonly string[];
  readonly points: number[][];
}

/**
 * Clusters a table's rows (module doc).
 *
 * @param table The table.
 * @param cfg Flags (k, threshold, labels column, columns, scale).
 * @param path File name for messages.
 * @returns The forest and how k was chosen.
 * @throws {RangeError} On a missing column, a non-numeric cell, too few or too many points, or
 * k out of range (each naming the value).
 */
export function clusterTable(
  table: Table,
  cfg: {
    readonly k?: number;
    readonly threshold?: number;
    readonly labelsColumn?: string;
    readonly columns?: string;
    readonly scale?: "none" | "standard";
  },
  path: string,
): ClusterResult {
  const col = (name: string) => {
    const j = table.header.indexOf(name);
    if (j < 0) {
      throw new RangeError(
        `${path} has no column ${JSON.stringify(name)} (columns: ${table.header.join(", ")})`,
      );
    }
    return j;
  };
  const labelsAt = cfg.labelsColumn === undefined ? -1 : col(cfg.labelsColumn);
  const featureNames = cfg.columns !== undefined
    ? cfg.columns.split(",").map((s) => s.trim())
    : table.header.filter((_, j) => j !== labelsAt);
  const featureIdx = featureNames.map(col);
  if (featureIdx.length === 0) throw new RangeError(`${path}: no feature column left`);
  const n = table.rows.length;
  if (n < 1) throw new RangeError(`${path} has no data rows`);
  if (n > MAX_POINTS) {
    throw new RangeError(
      `${path} has ${n} points: at most ${MAX_POINTS} (Σ is a dense n × n matrix, ` +
        `${((8 * n * n) / 2 ** 30).toFixed(1)} GB here)`,
    );
  }
  const line = (i: number) => i + 1 + (table.hasHeader ? 1 : 0);
  const points = table.rows.map((r, i) =>
    featureIdx.map((j) => {
      if (!isNumber(r[j]!)) {
        throw new RangeError(
          `${path} line ${line(i)}, column ${table.header[j]}: ${
            JSON.stringify(r[j])
          } is not a number (features must be numeric: pick them with --columns, or name a ` +
            `label column with --labels-column)`,
        );
      }
      return Number(r[j]);
    })
  );
  if (cfg.scale === "standard") {
    for (let j = 0; j < featureIdx.length; j++) {
      const mean = points.reduce((s, p) => s + p[j]!, 0) / n;
      const sd = Math.sqrt(points.reduce((s, p) => s + (p[j]! - mean) ** 2, 0) / n);
      for (const p of points) p[j] = sd > 0 ? (p[j]! - mean) / sd : 0;
    }
  }
  const sigma = negSquaredDistances(points);
  const checkK = (k: number) => {
    if (k > n) throw new RangeError(`--k ${k} exceeds the ${n} points of ${path}`);
    return k;
  };
  if (labelsAt >= 0) {
    const labels = table.rows.map((r) => {
      const v = r[labelsAt]!.trim();
      return v === "" ? null : v;
    });
    const ids = new Map<string, number>();
    const numeric = labels.map((l) => {
      if (l === null) return null;
      if (!ids.has(l)) ids.set(l, ids.size);
      return ids.get(l)!;
    });
    if (ids.size === 0) {
      throw new RangeError(`${path}: column ${cfg.labelsColumn} holds no label (all empty)`);
    }
    const k = checkK(cfg.k ?? ids.size);
    const forest = constrainedSpanningForest(sigma, k, constraintsFromLabels(numeric));
    return { forest, how: cfg.k === undefined ? "labels" : "k", features: featureNames, points };
  }
  const h = forestHierarchy(sigma);
  if (cfg.k !== undefined) {
    return { forest: forestAt(h, checkK(cfg.k)), how: "k", features: featureNames, points };
  }
  if (cfg.threshold !== undefined) {
    const forest = cutAtThreshold(h, -(cfg.threshold ** 2));
    return { forest, how: "threshold", features: featureNames, points };
  }
  if (n < 3) throw new RangeError(`${path} has ${n} points: give --k (choosing k needs n ≥ 3)`);
  return { forest: forestAt(h, chooseK(h).k), how: "gap", features: featureNames, points };
}

async function refuseExisting(path: string, overwrite: boolean): Promise<void> {
  if (overwrite) return;
  try {
    await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  throw new RangeError(`${path} exists: choose another output, or pass --overwrite`);
}

/**
 * Runs `deno task cluster` with the given arguments.
 *
 * @param argv Command-line arguments.
 * @returns The clustering and the paths written.
 * @throws {UsageError} On invalid flags.
 * @throws {RangeError} On an input that cannot be clustered (message names the line/column).
 */
export async function main(argv: readonly string[]): Promise<ClusterResult & { paths: string[] }> {
  const cfg = parseOrExit(clusterCommand, argv);
  const input = cfg.input!;
  const name = input.replace(/^.*\//, "").replace(/\.csv$/i, "");
  const out = cfg.out ?? `results/cluster/${name}.labels.csv`;
  if (cfg.linkageOut !== undefined && cfg.labelsColumn !== undefined) {
    throw new UsageError("--linkage-out needs an unconstrained run (no --labels-column)");
  }
  await refuseExisting(out, cfg.overwrite!);
  if (cfg.linkageOut !== undefined) await refuseExisting(cfg.linkageOut, cfg.overwrite!);
  const table = toTable(parseCsv(await Deno.readTextFile(input)), input);
  const result = clusterTable(table, cfg, input);
  const labels = result.forest.labels;
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
    const z = linkageMatrix(forestHierarchy(negSquaredDistances(result.points)), {
      distance: "sqrt-negate",
    });
    await writeTextAtomic(
      cfg.linkageOut,
      toCsv(z.map(([a, b, d, s]) => ({ a, b, distance: d, size: s }))),
    );
    paths.push(cfg.linkageOut);
  }
  const sizes = new Map<number, number>();
  for (const l of labels) sizes.set(l, (sizes.get(l) ?? 0) + 1);
  const why = {
    k: "as asked",
    threshold: `at distance ${cfg.threshold}`,
    gap: "chosen from the largest gap",
    labels: "one per label",
  }[result.how];
  console.log(
    `clustered ${labels.length} points (${result.features.join(", ")}) into ${sizes.size} ` +
      `clusters (${why}; sizes ${[...sizes.values()].join(", ")}); wrote ${paths.join(", ")}`,
  );
  return { ...result, paths };
}

if (import.meta.main) await runMain(() => main(Deno.args));
