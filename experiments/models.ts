/**
 * Embedding networks for the experiments (tfjs layers models, input NHWC, output an
 * embedding vector per image — no final activation, since Σ = −‖v_i − v_j‖² is built on it).
 *
 * @module
 */
import { tf } from "../tf/deps/tfjs.ts";

/** Input shape of one image, `[height, width, channels]`. */
export type ImageShape = readonly [number, number, number];

/** Options shared by the builders. */
export interface EmbeddingOptions {
  /** Image shape; MNIST `[28, 28, 1]` by default. */
  readonly inputShape?: ImageShape;
  /** Embedding dimension (paper: 256). */
  readonly embeddingDim?: number;
  /** Seed for the Glorot-uniform initialisers (same seed ⇒ same initial weights). */
  readonly seed?: number;
}

const MNIST_SHAPE: ImageShape = [28, 28, 1];

function init(seed: number | undefined, offset: number) {
  return tf.initializers.glorotUniform({ seed: seed === undefined ? undefined : seed + offset });
}

/**
 * The paper's "LeNet-5" embedding net (Figure 7 / reference code): conv 32 3×3 → ReLU →
 * avgpool 2 → conv 64 3×3 → ReLU → avgpool 2 → dense 256 → ReLU → dense 256. Convolutions use
 * SAME padding as flax's `nn.Conv` default (the reference code is flax), giving 887 680
 * parameters on 28×28×1 input.
 *
 * @param opts Input shape, embedding dimension (default 256), seed; `widths` scales the
 *   convolutional filters and the hidden dense width (default `[32, 64, 256]`).
 * @returns An uncompiled layers model.
 */
export function paperLeNet(
  opts: EmbeddingOptions & { readonly widths?: readonly [number, number, number] } = {},
): tf.LayersModel {
  const [c1, c2, hidden] = opts.widths ?? [32, 64, 256];
  const s = opts.seed;
  return tf.sequential({
    name: "paper_lenet",
    layers: [
      tf.layers.conv2d({
        inputShape: [...(opts.inputShape ?? MNIST_SHAPE)],
        filters: c1,
        kernelSize: 3,
        padding: "same",
        activation: "relu",
        kernelInitializer: init(s, 1),
      }),
      tf.layers.averagePooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.conv2d({
        filters: c2,
        kernelSize: 3,
        padding: "same",
        activation: "relu",
        kernelInitializer: init(s, 2),
      }),
      tf.layers.averagePooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: hidden, activation: "relu", kernelInitializer: init(s, 3) }),
      tf.layers.dense({ units: opts.embeddingDim ?? 256, kernelInitializer: init(s, 4) }),
    ],
  });
}

/**
 * A small CNN for quick runs: conv 8 5×5 stride 2 → ReLU → conv 16 3×3 stride 2 → ReLU →
 * dense 64 → ReLU → dense `embeddingDim` (default 32). Strided convolutions instead of
 * pooling keep the work per step low on software WebGPU.
 *
 * @param opts Input shape, embedding dimension, seed; `widths` = `[conv1, conv2, dense]`.
 * @returns An uncompiled layers model.
 */
export function smallCnn(
  opts: EmbeddingOptions & { readonly widths?: readonly [number, number, number] } = {},
): tf.LayersModel {
  const [c1, c2, hidden] = opts.widths ?? [8, 16, 64];
  const s = opts.seed;
  return tf.sequential({
    name: "small_cnn",
    layers: [
      tf.layers.conv2d({
        inputShape: [...(opts.inputShape ?? MNIST_SHAPE)],
        filters: c1,
        kernelSize: 5,
        strides: 2,
        padding: "same",
        activation: "relu",
        kernelInitializer: init(s, 1),
      }),
      tf.layers.conv2d({
        filters: c2,
        kernelSize: 3,
        strides: 2,
        padding: "same",
        activation: "relu",
        kernelInitializer: init(s, 2),
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: hidden, activation: "relu", kernelInitializer: init(s, 3) }),
      tf.layers.dense({ units: opts.embeddingDim ?? 32, kernelInitializer: init(s, 4) }),
    ],
  });
}

/**
 * A multilayer perceptron on flattened pixels: dense `hidden[i]` → ReLU … → dense
 * `embeddingDim` (default hidden `[256, 256]`, embedding 32).
 *
 * @param opts Input shape, embedding dimension, seed, hidden widths.
 * @returns An uncompiled layers model.
 */
export function mlp(
  opts: EmbeddingOptions & { readonly hidden?: readonly number[] } = {},
): tf.LayersModel {
  const hidden = opts.hidden ?? [256, 256];
  const s = opts.seed;
  return tf.sequential({
    name: "mlp",
    layers: [
      tf.layers.flatten({ inputShape: [...(opts.inputShape ?? MNIST_SHAPE)] }),
      ...hidden.map((units, i) =>
        tf.layers.dense({ units, activation: "relu", kernelInitializer: init(s, i + 1) })
      ),
      tf.layers.dense({ units: opts.embeddingDim ?? 32, kernelInitializer: init(s, 99) }),
    ],
  });
}

/**
 * Hidden widths of the MLP autoencoder that DEC (Xie, Girshick & Farhadi 2016), IDEC and DKM
 * compare on: d–500–500–2000–10, ReLU, a linear 10-d embedding, the decoder mirrored.
 */
export const DEC_MLP_HIDDEN: readonly number[] = [500, 500, 2000];

/**
 * The encoder of DEC's MLP autoencoder: {@link mlp} with hidden widths {@link DEC_MLP_HIDDEN}
 * and a linear embedding of `embeddingDim` (default 10). `exp:otkmeans --preset dec-mlp`
 * builds it with its mirrored decoder (`experiments/otkmeans/network.ts`).
 *
 * @param opts Input shape, embedding dimension (default 10), seed.
 * @returns An uncompiled layers model, 1 665 010 parameters on MNIST.
 */
export function decMlp(opts: EmbeddingOptions = {}): tf.LayersModel {
  return mlp({ ...opts, embeddingDim: opts.embeddingDim ?? 10, hidden: DEC_MLP_HIDDEN });
}

/**
 * The MLP autoencoder of `exp:otkmeans`'s quick preset as one network (for timing): encoder
 * 784-256-256-`embeddingDim` (default 10), decoder `embeddingDim`-256-256-784 with a sigmoid
 * output, reshaped back to the image. 406 682 parameters on MNIST.
 *
 * @param opts Input shape, embedding dimension, seed.
 * @returns An uncompiled layers model mapping images to reconstructions.
 */
export function mlpAutoencoder(opts: EmbeddingOptions = {}): tf.LayersModel {
  const shape = opts.inputShape ?? MNIST_SHAPE;
  const d = shape[0] * shape[1] * shape[2];
  const s = opts.seed;
  const dense = (units: number, i: number, activation?: "relu" | "sigmoid") =>
    tf.layers.dense({ units, activation, kernelInitializer: init(s, i) });
  return tf.sequential({
    name: "mlp_autoencoder",
    layers: [
      tf.layers.flatten({ inputShape: [...shape] }),
      dense(256, 1, "relu"),
      dense(256, 2, "relu"),
      dense(opts.embeddingDim ?? 10, 3),
      dense(256, 4, "relu"),
      dense(256, 5, "relu"),
      dense(d, 6, "sigmoid"),
      tf.layers.reshape({ targetShape: [...shape] }),
    ],
  });
}

/** Options of {@link smallResNet}. */
export interface ResNetOptions extends EmbeddingOptions {
  /** Channels of each stage (the first stage keeps resolution, each later one halves it). */
  readonly widths?: readonly number[];
  /** Basic blocks per stage. */
  readonly blocksPerStage?: number;
}

/**
 * A parametrised ResNet (basic blocks: conv3×3-BN-ReLU-conv3×3-BN + shortcut, ReLU) with the
 * paper's CIFAR-10 change: a 3×3 stride-1 stem and no max-pool, so 32×32 inputs keep their
 * resolution in the first stage. Defaults (widths [16, 32, 64], 1 block per stage) give a
 * small ResNet-8; widths [64, 128, 256, 512] with 2 blocks give ResNet-18. (The paper uses
 * ResNet-50's bottleneck blocks; this is the tractable stand-in.) Ends with global average
 * pooling and a dense embedding layer.
 *
 * @param opts Input shape (default `[32, 32, 3]`), stage widths, blocks per stage, embedding
 *   dimension (default 256), seed.
 * @returns An uncompiled layers model.
 */
export function smallResNet(opts: ResNetOptions = {}): tf.LayersModel {
  const widths = opts.widths ?? [16, 32, 64];
  const blocks = opts.blocksPerStage ?? 1;
  let k = 0;
  const conv = (filters: number, strides: number, size = 3) =>
    tf.layers.conv2d({
      filters,
      kernelSize: size,
      strides,
      padding: "same",
      useBias: false,
      kernelInitializer: init(opts.seed, ++k),
    });
  const input = tf.input({ shape: [...(opts.inputShape ?? [32, 32, 3])] });
  let x = conv(widths[0]!, 1).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  let channels = widths[0]!;
  widths.forEach((w, stage) => {
    for (let b = 0; b < blocks; b++) {
      const strides = stage > 0 && b === 0 ? 2 : 1;
      let y = conv(w, strides).apply(x) as tf.SymbolicTensor;
      y = tf.layers.batchNormalization().apply(y) as tf.SymbolicTensor;
      y = tf.layers.reLU().apply(y) as tf.SymbolicTensor;
      y = conv(w, 1).apply(y) as tf.SymbolicTensor;
      y = tf.layers.batchNormalization().apply(y) as tf.SymbolicTensor;
      let shortcut = x;
      if (strides !== 1 || channels !== w) {
        shortcut = conv(w, strides, 1).apply(x) as tf.SymbolicTensor;
        shortcut = tf.layers.batchNormalization().apply(shortcut) as tf.SymbolicTensor;
      }
      x = tf.layers.add().apply([y, shortcut]) as tf.SymbolicTensor;
      x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
      channels = w;
    }
  });
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({
    units: opts.embeddingDim ?? 256,
    kernelInitializer: init(opts.seed, ++k),
  }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: "small_resnet" });
}

/** The networks selectable by `--model`. */
export const MODEL_CHOICES = ["paper-lenet", "small-cnn", "mlp", "resnet"] as const;
/** A `--model` value. */
export type ModelChoice = typeof MODEL_CHOICES[number];

/**
 * Whether a network has convolutions (what `selectBackend`'s `auto` weighs).
 *
 * @param name One of {@link MODEL_CHOICES}.
 * @returns False for the MLP only.
 */
export function isConvolutional(name: ModelChoice): boolean {
  return name !== "mlp";
}

/**
 * Builds a network by name.
 *
 * @param name One of {@link MODEL_CHOICES}.
 * @param opts Shared options.
 * @returns An uncompiled layers model.
 */
export function buildModel(name: ModelChoice, opts: EmbeddingOptions = {}): tf.LayersModel {
  switch (name) {
    case "paper-lenet":
      return paperLeNet(opts);
    case "small-cnn":
      return smallCnn(opts);
    case "mlp":
      return mlp(opts);
    case "resnet":
      return smallResNet(opts);
  }
}
