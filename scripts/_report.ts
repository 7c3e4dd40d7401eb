/**
 * Where the comparison scripts keep their figures: one new JSON file per run,
 * `results/<script>/<time>.json`, written atomically.
 *
 * @module
 */
import { writeJsonAtomic } from "../experiments/io.ts";

/**
 * Writes `report` as pretty-printed JSON to `results/<name>/<ISO time, ":" as "-">.json`.
 *
 * @param name The script's results folder, e.g. "graph_compare".
 * @param report The figures.
 * @returns The file's absolute path.
 */
export async function writeReport(name: string, report: unknown): Promise<string> {
  const stamp = new Date().toISOString().replaceAll(":", "-");
  const path = new URL(`../results/${name}/${stamp}.json`, import.meta.url).pathname;
  await writeJsonAtomic(path, report);
  return path;
}
