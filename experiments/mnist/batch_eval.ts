/**
 * Batch-wise evaluation of an embedding network (reference protocol, paper §4.1): fixed batches
 * of test-split images, each clustered by the k-spanning forest of the unperturbed
 * Σ = −‖v_i − v_j‖² of its embeddings (= single linkage with k clusters); batch precision is the
 * proportion of correct entries of M*_k, with ARI, NMI and Hungarian ACC of the batch
 * clustering, all averaged over batches. The same evaluation serves validation (checkpoint
 * choice) and test, and both objectives of the engine.
 *
 * @module
 */
import { tf } from "../../tf/deps/tfjs.ts";
import type { ImageDataset } from "./image_dataset.ts";
import { maxSpanningForest } from "../../lib/forest/spanning_forest.ts";
import { negSquaredDistances } from "../../lib/core/similarity.ts";
import {
  adjustedRandIndex,
  clusteringAccuracy,
  connectivityAccuracy,
  connectivityFromLabels,
  normalizedMutualInfo,
} from "../../lib/metrics/metrics.ts";
import type { Matrix } from "../../lib/core/matrix.ts";

/** Batch clustering metrics averaged over evaluation batches. */
export interface BatchMetrics {
  readonly precision: number;
  readonly ari: number;
  readonly nmi: number;
  readonly acc: number;
  /** Classification error of the CE head (CE objective only). */
  readonly classError?: number;
}

/** Per-batch detail of an evaluation (for plots). */
export interface EvalDetail {
  readonly metrics: BatchMetrics;
  /** Embeddings of every evaluated image (batch order), as rows. */
  readonly embeddings: number[][];
  readonly labels: number[];
  /** Predicted and true connectivity of the first batch. */
  readonly firstBatch: { readonly predicted: Matrix; readonly truth: Matrix };
}

/**
 * Embeds the images of `batches` with the frozen networks and scores the batch clusterings
 * (module doc). Forward passes run in chunks of 512 inside `tf.tidy`.
 *
 * @param backbone Embedding network.
 * @param head Full model with classification head (CE), or null.
 * @param ds Data set.
 * @param batches Test-split index batches.
 * @param k Clusters per batch.
 * @returns Averaged metrics and details.
 */
export async function evaluateBatches(
  backbone: tf.LayersModel,
  head: tf.LayersModel | null,
  ds: ImageDataset,
  batches: readonly Int32Array[],
  k: number,
): Promise<EvalDetail> {
  const all = Int32Array.from(batches.flatMap((b) => Array.from(b)));
  const [h, w, c] = ds.shape;
  const emb: number[][] = [];
  let wrong = 0;
  for (let start = 0; start < all.length; start += 512) {
    const idx = all.subarray(start, Math.min(all.length, start + 512));
    const x = tf.tensor4d(ds.inputs("test", idx), [idx.length, h, w, c]);
    try {
      const v = tf.tidy(() => backbone.predict(x) as tf.Tensor2D);
      const rows = await v.array();
      v.dispose();
      emb.push(...rows);
      if (head !== null) {
        const pred = tf.tidy(() => tf.argMax(head.predict(x) as tf.Tensor2D, 1));
        const p = await pred.data();
        pred.dispose();
        for (let j = 0; j < idx.length; j++) if (p[j] !== ds.test.labels[idx[j]!]) wrong++;
      }
    } finally {
      x.dispose();
    }
  }
  let precision = 0, ari = 0, nmi = 0, acc = 0, at = 0;
  let firstBatch: EvalDetail["firstBatch"] | undefined;
  for (const b of batches) {
    const points = emb.slice(at, at + b.length);
    at += b.length;
    const truth = Array.from(b, (i) => ds.test.labels[i]!);
    const forest = maxSpanningForest(negSquaredDistances(points), k);
    const truthM = connectivityFromLabels(truth);
    precision += connectivityAccuracy(forest.connectivity, truthM);
    ari += adjustedRandIndex(forest.labels, truth);
    nmi += normalizedMutualInfo(forest.labels, truth);
    acc += clusteringAccuracy(forest.labels, truth);
    firstBatch ??= { predicted: forest.connectivity, truth: truthM };
  }
  const m = batches.length;
  return {
    metrics: {
      precision: precision / m,
      ari: ari / m,
      nmi: nmi / m,
      acc: acc / m,
      ...(head === null ? {} : { classError: wrong / all.length }),
    },
    embeddings: emb,
    labels: Array.from(all, (i) => ds.test.labels[i]!),
    firstBatch: firstBatch!,
  };
}
