/**
 * The plots of an `exp:mnist` / `exp:semi` run (SVG, `plot.ts`): training and validation
 * curves with the kept checkpoint marked, a PCA view and a UMAP map of the test embeddings,
 * and predicted vs true connectivity of the first test batch.
 *
 * @module
 */
import { type CurvePoint, heatmapSpec, lineChartSpec, savePlot, scatterSpec } from "../plot.ts";
import { pca } from "../pca.ts";
import { embeddingMapSpec, MIN_MAP_POINTS } from "../embedding_map.ts";
import type { EvalDetail } from "./batch_eval.ts";
import type { EvalRecord } from "./engine.ts";

/**
 * Writes the plots of a run: training curves, a PCA view and a UMAP map (the paper's Figure 5)
 * of the test embeddings coloured by class, and predicted vs true connectivity of the first
 * test batch.
 *
 * @param out Results directory.
 * @param history Evaluation records.
 * @param test Final test evaluation.
 * @param objective Objective (for titles).
 * @param withheld Classes withheld from the labels, highlighted in the UMAP map.
 * @param bestStep The step whose weights were kept (early stopping), marked on the curves.
 * @returns Resolves when the files are written.
 */
export async function writeRunPlots(
  out: string,
  history: readonly EvalRecord[],
  test: EvalDetail,
  objective: string,
  withheld: readonly number[] = [],
  bestStep?: number,
): Promise<void> {
  const curves: CurvePoint[] = [];
  for (const r of history) {
    if (Number.isFinite(r.trainLoss)) {
      curves.push({ x: r.step, y: r.trainLoss, series: "train loss" });
    }
  }
  const quality: CurvePoint[] = history.flatMap((r) => [
    { x: r.step, y: r.valPrecision, series: "val precision" },
    { x: r.step, y: r.valAri, series: "val ARI" },
    { x: r.step, y: r.valNmi, series: "val NMI" },
    { x: r.step, y: r.valAcc, series: "val ACC" },
    ...(r.valClassError === undefined
      ? []
      : [{ x: r.step, y: 1 - r.valClassError, series: "val class accuracy" }]),
  ]);
  if (curves.length > 0) {
    await savePlot(
      out,
      "training_loss",
      lineChartSpec(curves, {
        title: `${objective}: training loss`,
        xTitle: "step",
        yTitle: "loss",
        ...(bestStep === undefined
          ? {}
          : { markX: { x: bestStep, label: `best (step ${bestStep})` } }),
      }),
    );
  }
  if (quality.length > 0) {
    await savePlot(
      out,
      "validation_metrics",
      lineChartSpec(quality, {
        title: `${objective}: validation batch clustering`,
        xTitle: "step",
        yTitle: "metric",
        ...(bestStep === undefined
          ? {}
          : { markX: { x: bestStep, label: `best (step ${bestStep})` } }),
      }),
    );
  }
  const maxPoints = 2000;
  const rows = test.embeddings.slice(0, maxPoints);
  const { projected } = pca(rows, Math.min(2, rows[0]!.length));
  await savePlot(
    out,
    "embedding_pca",
    scatterSpec(
      projected.map((p, i) => ({ x: p[0]!, y: p[1] ?? 0, label: test.labels[i]! })),
      {
        title: `PCA of ${rows.length} test embeddings (colour = class)`,
        width: 360,
        height: 360,
        legend: true,
        legendTitle: "class",
        axes: true,
        xTitle: "principal component 1",
        yTitle: "principal component 2",
      },
    ),
  );
  if (rows.length >= MIN_MAP_POINTS) {
    const title = `UMAP of ${rows.length} test embeddings (${objective})` +
      (withheld.length > 0 ? `; withheld classes ${withheld.join(", ")} as diamonds` : "");
    await savePlot(
      out,
      "embedding_umap",
      embeddingMapSpec(rows, test.labels.slice(0, rows.length), { title, withheld, seed: 0 }),
    );
  }
  // Rows and columns sorted by true class, so the true M is block-diagonal and the predicted
  // M*'s mistakes show as off-block cells.
  const b = test.firstBatch.truth.n;
  const order = Array.from({ length: b }, (_, i) => i)
    .sort((i, j) => test.labels[i]! - test.labels[j]! || i - j);
  const sorted = (m: { n: number; data: ArrayLike<number> }) =>
    order.map((i) => order.map((j) => m.data[i * m.n + j]!));
  const heat = (title: string) => ({
    title,
    binary: ["different clusters", "same cluster"] as const,
    xTitle: "test image (sorted by true class)",
    yTitle: "test image (sorted by true class)",
  });
  await savePlot(
    out,
    "connectivity_predicted",
    heatmapSpec(sorted(test.firstBatch.predicted), heat("predicted M* (first test batch)")),
  );
  await savePlot(
    out,
    "connectivity_true",
    heatmapSpec(sorted(test.firstBatch.truth), heat("true M (first test batch)")),
  );
}
