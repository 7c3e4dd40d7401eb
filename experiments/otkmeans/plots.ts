/**
 * The figures of an exp:otkmeans run: metrics.svg (the evaluations, the reported checkpoint
 * marked) and loss.svg (the clustering term of train.jsonl).
 *
 * @module
 */
import { readJsonl } from "../io.ts";
import { type CurvePoint, lineChartSpec, savePlot } from "../plot.ts";
import type { OtKMeansConfig } from "./flags.ts";
import type { OtKMeansRecord } from "./evaluation.ts";

/** What each `--objective` trains (summary.json's `method`). */
export const METHODS: Readonly<Record<OtKMeansConfig["objective"], string>> = {
  "ot": "OT k-means deep clustering (Genevay et al. 2019)",
  "self-label": "self-labelling against the OT k-means plan",
  "soft-kmeans": "soft k-means deep clustering (OT k-means without the size constraint)",
  "ae-kmeans": "autoencoder, then k-means on its embeddings",
};

/**
 * metrics.svg (the evaluations) and loss.svg (the clustering term of train.jsonl: the OT loss,
 * or the soft k-means loss; none for ae-kmeans, which trains no clustering term).
 */
export async function writePlots(
  out: string,
  records: readonly OtKMeansRecord[],
  evalSplit: "val" | "test",
  selectedStep: number,
  objective: OtKMeansConfig["objective"],
): Promise<void> {
  const metricPoints: CurvePoint[] = records.filter((r) => r.split === evalSplit).flatMap((r) => [
    { x: r.step, y: r.accNearest, series: "ACC" },
    { x: r.step, y: r.nmiNearest, series: "NMI" },
    { x: r.step, y: r.ariNearest, series: "ARI" },
  ]);
  await savePlot(
    out,
    "metrics",
    lineChartSpec(metricPoints, {
      title: `${METHODS[objective]}: ${
        evalSplit === "val" ? "validation" : "test"
      } metrics (nearest centroid)`,
      xTitle: "step",
      yTitle: "score",
      ...(evalSplit === "val" ? { markX: { x: selectedStep, label: "reported checkpoint" } } : {}),
    }),
  );
  const soft = objective === "soft-kmeans";
  const key = soft ? "softKMeansLoss" : "otLoss";
  const train = (await readJsonl(`${out}/train.jsonl`)) as Record<string, number>[];
  const lossPoints = train.filter((r) => Number.isFinite(r[key])).map((r) => ({
    x: r["step"]!,
    y: r[key]!,
    series: soft ? "SKM_ε loss" : "OT_ε loss",
  }));
  if (lossPoints.length > 0) {
    await savePlot(
      out,
      "loss",
      lineChartSpec(lossPoints, {
        title: soft ? "Training soft k-means loss" : "Training OT k-means loss",
        xTitle: "step",
        yTitle: "loss",
      }),
    );
  }
}
