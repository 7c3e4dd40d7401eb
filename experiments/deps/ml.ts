/**
 * The one place the clustering-baseline libraries are imported from (mljs `ml-kmeans`,
 * pinned), behind a narrow typed wrapper.
 *
 * @module
 */
import { kmeans } from "npm:ml-kmeans@7.0.1";

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
