/**
 * `deno task compare:runs`: the validation curves of several training runs in one figure, for
 * comparing recipes (exp:mnist, exp:semi or exp:otkmeans runs: anything that writes
 * `metrics.jsonl`). Only validation records are drawn; test figures never are.
 *
 *     deno task compare:runs --runs "baseline=results/a,flips=results/b" \
 *       --metric valPrecision --title "Fashion-MNIST" --out results/fashion-recipes.svg
 *
 * `--metric` names a numeric field of the records (exp:mnist: `valPrecision`, `valAcc`, …;
 * exp:otkmeans: `accNearest`, with `split: "val"`). Records with a `split` other than `val`
 * are skipped. The SVG is written atomically.
 *
 * @module
 */
import { type Command, flag, parseOrExit, runMain } from "../experiments/cli/flags.ts";
import { readJsonl, writeTextAtomic } from "../experiments/io.ts";
import { type CurvePoint, lineChartSpec, renderSvg } from "../experiments/plot.ts";

const compareRunsFlags = {
  runs: flag.string("Comma-separated name=directory pairs, one curve each", undefined),
  metric: flag.string("Field of the metrics.jsonl records to draw", "valPrecision"),
  title: flag.string("Figure title", "Validation curves"),
  yTitle: flag.string("y-axis title (default: the metric)", undefined),
  out: flag.string("Output SVG", undefined),
} as const;

const compareRunsCommand: Command<typeof compareRunsFlags> = {
  name: "compare:runs",
  summary: "The validation curves of several runs in one vega-lite SVG.",
  flags: compareRunsFlags,
  checks: [
    (c) => c.runs === undefined ? "--runs is required: name=dir pairs, comma-separated" : null,
    (c) => c.out === undefined ? "--out is required: the SVG to write" : null,
    (c) =>
      (c.runs ?? "").split(",").find((p) => !/^[^=]+=.+$/.test(p)) !== undefined
        ? `Invalid --runs ${JSON.stringify(c.runs)}: expected name=dir pairs separated by commas`
        : null,
  ],
};

/**
 * The points of one run's validation curve.
 *
 * @param name The curve's legend entry.
 * @param records The run's metrics.jsonl records.
 * @param metric The field to draw.
 * @returns One point per validation record holding the field.
 * @throws {RangeError} If no record holds the field as a finite number.
 */
export function validationCurve(
  name: string,
  records: readonly Record<string, unknown>[],
  metric: string,
): CurvePoint[] {
  const points = records
    .filter((r) => r.split === undefined || r.split === "val")
    .filter((r) => typeof r[metric] === "number" && Number.isFinite(r[metric]))
    .map((r) => ({ x: r.step as number, y: r[metric] as number, series: name }));
  if (points.length === 0) {
    const keys = Object.keys(records[0] ?? {}).join(", ");
    throw new RangeError(
      `Invalid --metric ${metric} for run ${name}: no validation record holds it (fields: ${keys})`,
    );
  }
  return points;
}

if (import.meta.main) {
  await runMain(async () => {
    const cfg = parseOrExit(compareRunsCommand, Deno.args);
    const points: CurvePoint[] = [];
    for (const pair of cfg.runs!.split(",")) {
      const [name, dir] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
      const records = await readJsonl(`${dir.replace(/\/+$/, "")}/metrics.jsonl`) as Record<
        string,
        unknown
      >[];
      points.push(...validationCurve(name, records, cfg.metric!));
    }
    const spec = lineChartSpec(points, {
      title: cfg.title,
      xTitle: "training step",
      yTitle: cfg.yTitle ?? cfg.metric,
    });
    await writeTextAtomic(cfg.out!, await renderSvg(spec));
    console.log(
      `[compare:runs] ${points.length} points of ${cfg.runs!.split(",").length} runs → ${cfg.out}`,
    );
  });
}
