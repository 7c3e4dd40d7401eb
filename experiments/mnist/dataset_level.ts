/**
 * The data-set-level evaluation of a trained exp:mnist network: the first `images` test-split
 * images (by default all 10 000) embedded with the selected weights, clustered as a whole and
 * labelled transductively by `experiments/dataset_eval.ts`, and the embeddings saved so that a
 * cross-check (`deno task transductive --embeddings <run>`, scikit-learn's label spreading)
 * can run on exactly the same points. The whole training split is embedded and saved too, so
 * that a clustering fitted on it (`fitClusters`) can assign the test split and its membership
 * probabilities can be calibrated (`deno task transductive --calibrate`).
 *
 * Files in the run directory (`embeddings_file.ts`): `test_embeddings.npy` (float32, images ×
 * dim), `test_labels.npy` (uint8) and the header `test_embeddings.json`; the same for the
 * training split as `train_embeddings.npy`, `train_labels.npy`, `train_embeddings.json`.
 *
 * Both halves of the test split are included; the checkpoint was chosen on the second half's
 * batch precision (validation), so the figures are mildly optimistic, as the batch test figures
 * on the first half are not.
 *
 * @module
 */
import type { tf } from "../../tf/deps/tfjs.ts";
import { embedImages, type ImageDataset } from "./image_dataset.ts";
import { type DatasetEvaluation, evaluateDataset } from "../dataset_eval.ts";
import { EMBEDDINGS_FILES, TRAIN_EMBEDDINGS_FILES, writeEmbeddings } from "../embeddings_file.ts";
import { nativeNeighbourGemm } from "../native_gemm.ts";

export { EMBEDDINGS_FILES, TRAIN_EMBEDDINGS_FILES };

/** The `datasetLevel` entry of an exp:mnist summary. */
export type DatasetLevelSummary = DatasetEvaluation & {
  /** Seconds to embed the images (forward passes). */
  readonly embedSeconds: number;
  /** Seconds to embed and save the whole training split. */
  readonly trainEmbedSeconds: number;
  /** The embeddings file, relative to the run directory. */
  readonly embeddingsFile: string;
  /**
   * The matrix product of the exact kNN search: OpenBLAS (`native_gemm.ts`) when it loads, else
   * the pure-TypeScript one (and why). The figures are the same with either.
   */
  readonly knnProduct?: string;
};

/**
 * Embeds the first `images` test-split images, saves them, and evaluates them at the data-set
 * level with k = the number of classes (module doc). The exact kNN search uses OpenBLAS when it
 * loads (`--allow-ffi`), the pure-TypeScript product otherwise: the same figures either way.
 *
 * @param backbone The embedding network, with the selected weights loaded.
 * @param ds The data set.
 * @param images How many test-split images (from the first), at most `ds.test.n`.
 * @param outDir The run directory.
 * @param step The step of the weights (recorded in the embeddings header).
 * @param trainImages How many training-split images to embed and save (from the first; the
 * images training drew from); default all.
 * @returns The evaluation with embedding time and file name.
 * @throws {RangeError} If `images` is not an integer in [2, ds.test.n], or from
 * `evaluateDataset` (e.g. fewer images than classes).
 */
export async function evaluateTestSplit(
  backbone: tf.LayersModel,
  ds: ImageDataset,
  images: number,
  outDir: string,
  step: number,
  trainImages: number = ds.train.n,
): Promise<DatasetLevelSummary> {
  if (!Number.isInteger(images) || images < 2 || images > ds.test.n) {
    throw new RangeError(
      `Invalid images = ${images}: the data-set-level evaluation needs an integer in [2, ${ds.test.n}] (the test split's size)`,
    );
  }
  const t0 = performance.now();
  const indices = Int32Array.from({ length: images }, (_, i) => i);
  const { data, rows, cols } = await embedImages(backbone, ds, "test", indices);
  const embedSeconds = (performance.now() - t0) / 1e3;
  const labels = ds.test.labels.slice(0, images);
  await writeEmbeddings(outDir, data, labels, {
    dataset: ds.name,
    numClasses: ds.numClasses,
    step,
  });
  const native = nativeNeighbourGemm();
  const r = evaluateDataset(
    Float64Array.from(data),
    rows,
    cols,
    labels,
    ds.numClasses,
    native.ok ? { gemm: native.gemm } : {},
  );
  const knnProduct = native.ok ? native.detail : `pure TypeScript (${native.why})`;
  const trainEmbedSeconds = await saveTrainingSplit(backbone, ds, trainImages, outDir, step);
  return {
    ...r,
    embedSeconds,
    trainEmbedSeconds,
    embeddingsFile: EMBEDDINGS_FILES.embeddings,
    knnProduct,
  };
}

/**
 * Embeds the whole training split with the selected weights and saves it (module doc).
 *
 * @param backbone The embedding network.
 * @param ds The data set.
 * @param images How many training-split images, from the first.
 * @param outDir The run directory.
 * @param step The step of the weights.
 * @returns Seconds spent.
 */
async function saveTrainingSplit(
  backbone: tf.LayersModel,
  ds: ImageDataset,
  images: number,
  outDir: string,
  step: number,
): Promise<number> {
  const t0 = performance.now();
  const indices = Int32Array.from({ length: images }, (_, i) => i);
  const { data } = await embedImages(backbone, ds, "train", indices);
  const meta = { dataset: ds.name, numClasses: ds.numClasses, step };
  await writeEmbeddings(outDir, data, ds.train.labels.slice(0, images), meta, "train");
  return (performance.now() - t0) / 1e3;
}
