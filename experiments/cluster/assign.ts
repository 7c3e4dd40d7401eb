/**
 * `deno task cluster --model DIR --input new.csv`: the rows of a CSV file assigned to a saved
 * model (`assignPoints`), with the probability of each cluster and of none (`clusterMembership`
 * on a worker pool, antithetic pairs; ε defaults to |λ|/10, a tenth of the cut level).
 *
 * The model fixes the feature columns (by name; a file without a header has columns c0, c1, …),
 * the preprocessing, the similarities and the cut. A file that lacks one of the model's columns
 * is refused with one line naming it; other columns are copied through.
 *
 * @module
 */
import type { FittedClusters } from "../../lib/graph/fitted_clusters.ts";
import { assignPoints } from "../../lib/graph/assign_points.ts";
import { MembershipWorkerPool } from "../../lib/graph/membership_pool.ts";
import { loadFittedClusters } from "../fitted_model_io.ts";
import { pathExists, toCsv, writeTextAtomic } from "../io.ts";
import { featureMatrix, parseCsv, toTable } from "./table.ts";

/**
 * Refuses an existing path unless `overwrite`.
 *
 * @param path A file or directory.
 * @param overwrite Whether replacing it is allowed.
 * @returns Resolves when the path may be written.
 * @throws {RangeError} If it exists and `overwrite` is false.
 */
export async function refuseExisting(path: string, overwrite: boolean): Promise<void> {
  if (overwrite || !(await pathExists(path))) return;
  throw new RangeError(`${path} exists: choose another output, or pass --overwrite`);
}

/** A column name not yet in `taken` (prefixed with underscores if needed). */
function fresh(name: string, taken: Set<string>): string {
  while (taken.has(name)) name = `_${name}`;
  taken.add(name);
  return name;
}

/** The flags {@link assignTable} reads. */
export interface AssignConfig {
  readonly input?: string;
  readonly model?: string;
  readonly overwrite?: boolean;
  readonly epsilon?: number;
  readonly samples?: number;
  readonly seed?: number;
}

/**
 * Assigns the rows of `cfg.input` to the model in `cfg.model` and writes `out`: the input's
 * columns, `cluster` (−1 for an outlier of a threshold cut) and one probability per cluster
 * plus the outlier probability.
 *
 * @param cfg Input, model directory, overwrite, and the probabilities' ε, samples and seed.
 * @param out The output CSV.
 * @returns The paths written.
 * @throws {DataFormatError} If the model directory is missing, incomplete, altered or of
 *   another version.
 * @throws {RangeError} If the output exists (without overwrite), the input lacks a model column
 *   or holds a non-numeric feature.
 */
export async function assignTable(
  cfg: AssignConfig,
  out: string,
): Promise<{ paths: string[] }> {
  const input = cfg.input!, dir = cfg.model!;
  await refuseExisting(out, cfg.overwrite ?? false);
  const model = await loadFittedClusters(dir);
  const table = toTable(parseCsv(await Deno.readTextFile(input)), input);
  const columns = model.columns ?? Array.from({ length: model.d }, (_, t) => `c${t}`);
  const missing = columns.filter((c) => !table.header.includes(c));
  if (missing.length > 0) {
    throw new RangeError(
      `${input} lacks the column${missing.length > 1 ? "s" : ""} ${
        missing.map((c) => JSON.stringify(c)).join(", ")
      } of the model in ${dir} (its columns: ${table.header.join(", ")}; the model's: ${
        columns.join(", ")
      })`,
    );
  }
  const points = featureMatrix(table, columns, input);
  const { labels } = assignPoints(model, points);
  const epsilon = cfg.epsilon ?? defaultEpsilon(model), samples = cfg.samples ?? 100;
  const pool = MembershipWorkerPool.create(
    Math.max(1, Math.min(16, navigator.hardwareConcurrency)),
  );
  let p;
  try {
    p = await pool.membership(model, points, {
      epsilon,
      samples,
      seed: cfg.seed ?? 0,
      antithetic: samples % 2 === 0,
    });
  } finally {
    pool.terminate();
  }
  const K = model.clusters, taken = new Set(table.header);
  const column = fresh("cluster", taken);
  const pColumns = Array.from({ length: K }, (_, c) => fresh(`p_${c}`, taken));
  const outlierColumn = fresh("p_outlier", taken);
  const rows = table.rows.map((r, i) => {
    const rec: Record<string, string | number> = {};
    table.header.forEach((h, j) => (rec[h] = r[j]!));
    rec[column] = labels[i]!;
    for (let c = 0; c < K; c++) rec[pColumns[c]] = p.probabilities[i * K + c];
    rec[outlierColumn] = p.outlier[i];
    return rec;
  });
  await writeTextAtomic(out, toCsv(rows, [...table.header, column, ...pColumns, outlierColumn]));
  let outliers = 0;
  for (const l of labels) if (l === -1) outliers++;
  console.log(
    `assigned ${labels.length} points to the ${K} clusters of ${dir} (${outliers} outliers; ` +
      `probabilities from ${samples} samples at ε = ${epsilon}); wrote ${out}`,
  );
  return { paths: [out] };
}

/**
 * The default noise scale of the probabilities: a tenth of the cut level's magnitude |λ| (the
 * similarity a point must beat to join a cluster), or 1 when nothing is cut (λ = −∞) or λ = 0.
 *
 * @param model A fitted model.
 * @returns ε > 0.
 */
export function defaultEpsilon(model: FittedClusters): number {
  const l = Math.abs(model.lambda);
  return Number.isFinite(l) && l > 0 ? l / 10 : 1;
}
