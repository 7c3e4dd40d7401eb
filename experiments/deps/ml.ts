/**
 * The one place the clustering-baseline libraries are imported from (mljs `ml-kmeans`,
 * pinned), behind a narrow typed wrapper.
 *
 * @module
 */
import { kmeans } from "npm:ml-kmeans@7.0.1";
import { UMAP } from "npm:umap-js@1.4.0";

/** What one {@link mlKMeans} run returns. */
export interface MlKMeansRun {
  /** Cluster index of each point. */
  readonly clusters: readonly number[];
  /** The k centroids. */
  readonly centroids: readonly (readonly number[])[];
}

/**
 * One run of `ml-kmeans`: Lloyd iterations from a seeded k-means++ start.
 *
 * @param data Points as rows (not modified).
 * @param k Number of clusters.
 * @param seed Non-negative integer seed of the library's PRNG.
 * @param maxIterations Maximum Lloyd iterations.
 * @returns Cluster of each point and the centroids.
 * @throws {RangeError} From the library, if `k` exceeds the number of points.
 *
 * @example
 * ```ts
 * import { mlKMeans } from "./ml.ts";
 * const r = mlKMeans([[0], [1], [10], [11]], 2, 1, 100);
 * if (r.clusters[0] !== r.clusters[1]) throw new Error();
 * ```
 */
export function mlKMeans(
  data: readonly (readonly number[])[],
  k: number,
  seed: number,
  maxIterations: number,
): MlKMeansRun {
  const run = kmeans(data.map((p) => [...p]), k, {
    seed,
    initialization: "kmeans++",
    maxIterations,
  });
  return { clusters: run.clusters, centroids: run.centroids };
}

/** Options of {@link umap2d}. */
export interface Umap2dOptions {
  /** Neighbours of the kNN graph (umap-js default 15). */
  readonly neighbours?: number;
  /** Minimum distance between embedded points (default 0.1). */
  readonly minDist?: number;
  /** Seed of the layout's PRNG (same seed ⇒ same layout). */
  readonly seed: number;
}

/**
 * A 2-d UMAP layout of points (PAIR's `umap-js`, pinned), seeded with a small xorshift so that
 * a layout is reproducible.
 *
 * @param data Points as rows (not modified); at least `neighbours + 1` of them.
 * @param opts Neighbours, minimum distance, seed.
 * @returns One (x, y) per point.
 * @throws {RangeError} With fewer points than `neighbours + 1`.
 *
 * @example Two far groups stay apart
 * ```ts
 * import { umap2d } from "./ml.ts";
 * const pts = Array.from({ length: 40 }, (_, i) => [i < 20 ? 0 : 100, (i % 20) / 20]);
 * const xy = umap2d(pts, { neighbours: 5, seed: 1 });
 * if (xy.length !== 40 || xy.some((p) => p.length !== 2)) throw new Error();
 * ```
 */
export function umap2d(
  data: readonly (readonly number[])[],
  opts: Umap2dOptions,
): [number, number][] {
  const neighbours = opts.neighbours ?? 15;
  if (data.length < neighbours + 1) {
    throw new RangeError(
      `Invalid data: UMAP with ${neighbours} neighbours needs at least ${neighbours + 1} points, ` +
        `got ${data.length}`,
    );
  }
  let s = (opts.seed >>> 0) || 0x9e3779b9;
  const random = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: neighbours,
    minDist: opts.minDist ?? 0.1,
    random,
  });
  return umap.fit(data.map((p) => [...p])) as [number, number][];
}
