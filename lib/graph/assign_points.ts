/**
 * Assigning new points to a fitted clustering (`fitted_clusters.ts`): the label of the most
 * similar training point when its similarity s* is above the cut level λ, else −1 or that label.
 * What is guaranteed is stated in `fitted_clusters.ts`'s module doc and tested against brute-force
 * single linkage of train ∪ {x} in `fitted_clusters_test.ts`.
 *
 * @module
 */
import { show } from "../core/errors.ts";
import type { PointsLike } from "../core/rect_matrix.ts";
import type { NeighbourGemm, ProgressCallback } from "./exact_neighbours.ts";
import { queryNeighbours } from "./neighbour_index.ts";
import {
  assertFittedClusters,
  type FittedClusters,
  modelIndex,
  preprocessPoints,
  similaritiesTo,
} from "./fitted_clusters.ts";

/**
 * Options of {@link assignPoints}.
 *
 * @category Fitted clusterings
 */
export interface AssignPointsOptions {
  /**
   * A point whose best similarity is not above λ: "reject" → −1 (default for a threshold cut),
   * "nearest" → its most similar training point's label (default for k cuts).
   */
  readonly outliers?: "reject" | "nearest";
  /** Matrix product of the exact search (default the pure-TypeScript one). */
  readonly gemm?: NeighbourGemm;
  /** Progress callback (stage "query"). */
  readonly onProgress?: ProgressCallback;
}

/**
 * What {@link assignPoints} returns, one entry per new point.
 *
 * @category Fitted clusterings
 */
export interface Assignment {
  /** Cluster of each new point, or −1 for a rejected outlier. */
  readonly labels: Int32Array;
  /** s*: the best similarity to a training point, in Σ's units. */
  readonly similarity: Float64Array;
  /** Index of the most similar training point (ties: smaller distance, then smaller index). */
  readonly nearest: Int32Array;
}

/**
 * Assigns new points to a fitted clustering (module doc): the label of the most similar
 * training point when its similarity s* is above the cut level λ, else −1 (`outliers:
 * "reject"`) or that label anyway (`"nearest"`). The search is exact; O(q n d) at worst, far
 * less on clustered data, never n × q memory.
 *
 * With mutual reachability the most similar training point maximises
 * −max(d², core_x², core_y²), ties broken by the smaller d², then the smaller index; it is
 * searched among the exact 2·minSamples (at least 8) nearest, widened until certified (a point
 * farther than the list's last has d² and so a key at least as large).
 *
 * @param model A model from {@link fitClusters} (or loaded back).
 * @param newPoints q × d raw coordinates (the model's preprocessing is applied).
 * @param options `outliers` ("reject" | "nearest"), matrix product, progress callback.
 * @returns Labels (−1 for rejected outliers), best similarities s*, and the most similar
 *   training point of each new point.
 * @throws {TypeError | RangeError} One line naming the argument and value, before any work: a
 *   model that is not one, new points of another dimension, with a non-finite coordinate, an
 *   empty array, an unknown `outliers`.
 *
 * @example A threshold cut rejects by default
 * ```ts
 * import { fitClusters } from "./fitted_clusters.ts";
 * import { assignPoints } from "./assign_points.ts";
 * import assert from "node:assert/strict";
 * const model = fitClusters([[0, 0], [0, 1], [5, 5], [5, 6]], { threshold: -2 });
 * const a = assignPoints(model, [[0.5, 0.5], [5, 7], [20, 20]]);
 * assert.deepEqual([...a.labels], [0, 1, -1]);
 * assert.deepEqual([...a.nearest], [0, 3, 3]);
 * assert.equal(a.similarity[1], -1);
 * assert.throws(() => assignPoints(model, [[1, 2, 3]]), /Invalid newPoints: they have 3/);
 * ```
 *
 * @category Fitted clusterings
 */
export function assignPoints(
  model: FittedClusters,
  newPoints: PointsLike,
  options: AssignPointsOptions = {},
): Assignment {
  assertFittedClusters("model", model);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected options to be an object, got ${show(options)}`);
  }
  const outliers = options.outliers ?? (model.cut.kind === "threshold" ? "reject" : "nearest");
  if (outliers !== "reject" && outliers !== "nearest") {
    throw new RangeError(
      `Invalid outliers = ${show(outliers)}: outliers must be "reject" or "nearest"`,
    );
  }
  const x = preprocessPoints(model, newPoints, "newPoints");
  const q = x.rows, n = model.n, index = modelIndex(model);
  const labels = new Int32Array(q), similarity = new Float64Array(q), nearest = new Int32Array(q);
  const search = { gemm: options.gemm, onProgress: options.onProgress };
  const ms = model.minSamples;
  if (ms === undefined) {
    const nb = queryNeighbours(index, x, 1, search);
    for (let i = 0; i < q; i++) {
      nearest[i] = nb.index[i];
      similarity[i] = -nb.distance2[i];
    }
  } else {
    let pending = Int32Array.from({ length: q }, (_, i) => i);
    let k = Math.min(n, Math.max(2 * ms, 8));
    while (pending.length > 0) {
      const rows = new Float64Array(pending.length * x.cols);
      pending.forEach((i, r) =>
        rows.set(x.data.subarray(i * x.cols, (i + 1) * x.cols), r * x.cols)
      );
      const nb = queryNeighbours(
        index,
        { rows: pending.length, cols: x.cols, data: rows },
        k,
        search,
      );
      const s = similaritiesTo(model, nb), again: number[] = [];
      for (let r = 0; r < pending.length; r++) {
        let best = 0;
        // Keys (−s, d², index) in list order: d² and index already ascend, so the first
        // largest similarity wins.
        for (let t = 1; t < k; t++) if (s[r * k + t] > s[r * k + best]) best = t;
        if (-s[r * k + best] <= nb.distance2[r * k + k - 1] || k === n) {
          nearest[pending[r]] = nb.index[r * k + best];
          similarity[pending[r]] = s[r * k + best];
        } else again.push(pending[r]);
      }
      pending = Int32Array.from(again);
      k = Math.min(n, 4 * k);
    }
  }
  for (let i = 0; i < q; i++) {
    labels[i] = similarity[i] > model.lambda || outliers === "nearest"
      ? model.labels[nearest[i]]
      : -1;
  }
  return { labels, similarity, nearest };
}
