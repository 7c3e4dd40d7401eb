/**
 * How `exp:otkmeans` scores a clustering of embedded images: ACC (Hungarian), NMI and ARI of
 * the nearest-centroid assignment and of the argmax of the entropic plan with uniform sizes
 * (the constrained assignment), and the largest cluster's share.
 *
 * @module
 */
import { otKMeansLoss } from "../../lib/ot/ot_kmeans.ts";
import {
  adjustedRandIndex,
  clusteringAccuracy,
  normalizedMutualInfo,
} from "../../lib/metrics/metrics.ts";

/** One evaluation record (a line of metrics.jsonl). */
export interface OtKMeansRecord {
  readonly step: number;
  /**
   * Which images were scored: held-out `val` training images (model selection), or `test`
   * images (the final report; every evaluation when `--val-size 0`).
   */
  readonly split: "val" | "test";
  readonly images: number;
  readonly accNearest: number;
  readonly nmiNearest: number;
  readonly ariNearest: number;
  readonly accTransport: number;
  readonly nmiTransport: number;
  readonly ariTransport: number;
  /** Largest cluster's share under the nearest-centroid assignment (1/k = balanced). */
  readonly largestClusterShare: number;
  /**
   * Which centroids were scored: the model's `trained` ones, or (during the warm-up, before the
   * initialisation) centroids `fitted` by OT k-means to the current embeddings of the
   * initialisation sample — the autoencoder + OT k-means figure.
   */
  readonly centroids: "trained" | "fitted";
  readonly seconds: number;
}

/**
 * Clustering metrics of embeddings against labels: nearest centroid and entropic-plan argmax.
 *
 * @param z Embeddings, row-major n × d.
 * @param centroids Centroids, row-major k × d.
 * @param truth True labels (length n).
 * @param k Clusters.
 * @param epsilon ε of the plan.
 * @returns ACC, NMI, ARI of both assignments and the largest cluster share.
 */
export function clusteringMetrics(
  z: Float64Array,
  centroids: Float64Array,
  truth: ArrayLike<number>,
  k: number,
  epsilon: number,
): Omit<OtKMeansRecord, "step" | "seconds" | "centroids" | "split"> {
  const n = truth.length, d = z.length / n;
  const nearest = new Int32Array(n);
  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    let best = 0, bestCost = Infinity;
    for (let j = 0; j < k; j++) {
      let c = 0;
      for (let t = 0; t < d; t++) {
        const diff = z[i * d + t]! - centroids[j * d + t]!;
        c += diff * diff;
      }
      if (c < bestCost) [best, bestCost] = [j, c];
    }
    nearest[i] = best;
    counts[best]++;
  }
  const solved =
    otKMeansLoss({ rows: n, cols: d, data: z }, { rows: k, cols: d, data: centroids }, {
      epsilon,
      maxIters: 20000,
      tol: 1e-6,
    }).sinkhorn;
  const plan = solved.plan.data;
  const transport = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (plan[i * k + j]! > plan[i * k + best]!) best = j;
    transport[i] = best;
  }
  return {
    images: n,
    accNearest: clusteringAccuracy(nearest, truth),
    nmiNearest: normalizedMutualInfo(nearest, truth),
    ariNearest: adjustedRandIndex(nearest, truth),
    accTransport: clusteringAccuracy(transport, truth),
    nmiTransport: normalizedMutualInfo(transport, truth),
    ariTransport: adjustedRandIndex(transport, truth),
    largestClusterShare: Math.max(...counts) / n,
  };
}
