/**
 * The paper's Figure 5: a 2-d map (UMAP) of test embeddings coloured by class, with the classes
 * withheld from the labels (semi-supervised runs) drawn as larger outlined diamonds, so one sees
 * whether the network learnt to separate classes it was never told about.
 *
 * @module
 */
import { umap2d } from "./deps/ml.ts";
import type { PlotSpec } from "./plot.ts";

/** Options of {@link embeddingMapSpec}. */
export interface EmbeddingMapOptions {
  /** Classes never labelled during training (highlighted). */
  readonly withheld?: readonly number[];
  /** Chart title. */
  readonly title: string;
  /** Seed of the UMAP layout. */
  readonly seed?: number;
}

/** Fewest points a map is drawn for (UMAP's 15 neighbours + 1). */
export const MIN_MAP_POINTS = 16;

/**
 * A vega-lite scatter of the UMAP layout of `embeddings`.
 *
 * @param embeddings One row per image.
 * @param labels The class of each row.
 * @param opts Withheld classes, title, seed.
 * @returns The spec (axes "UMAP 1" / "UMAP 2", legends "class" and "labels").
 * @throws {RangeError} With fewer than {@link MIN_MAP_POINTS} rows, or labels of another length.
 */
export function embeddingMapSpec(
  embeddings: readonly (readonly number[])[],
  labels: readonly number[],
  opts: EmbeddingMapOptions,
): PlotSpec {
  if (labels.length !== embeddings.length) {
    throw new RangeError(
      `Invalid labels: ${labels.length} labels for ${embeddings.length} embeddings`,
    );
  }
  if (embeddings.length < MIN_MAP_POINTS) {
    throw new RangeError(
      `Invalid embeddings: a map needs at least ${MIN_MAP_POINTS} points, got ${embeddings.length}`,
    );
  }
  const withheld = new Set(opts.withheld ?? []);
  const xy = umap2d(embeddings, { seed: opts.seed ?? 0 });
  const values = xy.map(([x, y], i) => ({
    x,
    y,
    class: String(labels[i]),
    labels: withheld.has(labels[i]!) ? "withheld class" : "labelled class",
  }));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: opts.title,
    width: 420,
    height: 420,
    data: { values },
    mark: { type: "point", filled: true, opacity: 0.8 },
    encoding: {
      x: { field: "x", type: "quantitative", title: "UMAP 1", scale: { zero: false } },
      y: { field: "y", type: "quantitative", title: "UMAP 2", scale: { zero: false } },
      color: {
        field: "class",
        type: "nominal",
        scale: { scheme: "category10" },
        sort: Array.from({ length: 10 }, (_, i) => String(i)),
        legend: { title: "class" },
      },
      shape: withheld.size > 0
        ? {
          field: "labels",
          type: "nominal",
          scale: { domain: ["labelled class", "withheld class"], range: ["circle", "diamond"] },
          legend: { title: "labels" },
        }
        : { value: "circle" },
      size: withheld.size > 0
        ? {
          field: "labels",
          type: "ordinal",
          scale: { domain: ["labelled class", "withheld class"], range: [10, 40] },
          legend: { title: "labels" }, // merged with the shape legend (same field and title)
        }
        : { value: 12 },
    },
  } as PlotSpec;
}
