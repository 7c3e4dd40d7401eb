/**
 * The networks of `exp:otkmeans`: an encoder (the mlp or a named network of
 * `experiments/models.ts`), an optional normalisation of the embedding, the k centroids as a
 * layer, and a decoder for the joint reconstruction term, all in ONE layers model so that one
 * checkpoint holds every trainable tensor. Also the image batches and the embedding of an
 * image set for evaluation.
 *
 * @module
 */
import { tf } from "../../tf/deps/tfjs.ts";
import { buildModel, mlp } from "../models.ts";
import type { MnistLike } from "../data/idx.ts";
import type { OtKMeansConfig } from "./flags.ts";

/** The networks of a run, all trainable weights inside ONE layers model (for checkpoints). */
export interface OtKMeansNet {
  /** images (N,28,28,1) → [z (N,d), squared distances to the centroids (N,k), x̂ (N,784)]. */
  readonly model: tf.LayersModel;
  /** images → z only (the encoder and normalisation layers of `model`, no decoder). */
  readonly embedder: tf.LayersModel;
  /** The centroid table (a layer of `model`; its weight is the k × d centroids). */
  readonly table: CentroidTable;
  readonly k: number;
  readonly d: number;
}

/**
 * A layer holding the k × d centroids as its weight; it maps embeddings to their squared
 * distances to the centroids. Putting the centroids in a layer of the model makes them part
 * of `model.weights` (checkpointed, optimised, restored with it) without a second model.
 */
export class CentroidTable extends tf.layers.Layer {
  static className = "CentroidTable";
  readonly k: number;
  #centroids: tf.LayerVariable | null = null;
  constructor(args: { k: number; seed: number; name?: string }) {
    super({ name: args.name ?? "centroids" });
    this.k = args.k;
    this.seed = args.seed;
  }
  readonly seed: number;
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const d = shape[shape.length - 1]!;
    this.#centroids = this.addWeight(
      "centroids",
      [this.k, d],
      "float32",
      tf.initializers.randomNormal({ stddev: 0.1, seed: this.seed }),
    );
    this.built = true;
  }
  /** The centroid variable (after build). */
  get centroids(): tf.Tensor2D {
    if (this.#centroids === null) throw new Error("CentroidTable used before it was built");
    return this.#centroids.read() as tf.Tensor2D;
  }
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0]!, this.k];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const z = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor2D;
      const c = this.centroids;
      const zz = tf.sum(tf.square(z), 1, true);
      const cc = tf.reshape(tf.sum(tf.square(c), 1), [1, this.k]);
      return tf.relu(tf.sub(tf.add(zz, cc), tf.mul(2, tf.matMul(z, c, false, true))));
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), k: this.k, seed: this.seed };
  }
}
tf.serialization.registerClass(CentroidTable);

/**
 * Builds encoder + decoder + centroid table (centroids N(0, 0.1²), replaced by the OT k-means
 * initialisation before they are used).
 *
 * @param cfg Model, embedding dimension, k, normalisation, seed.
 * @returns The composite model.
 */
export function buildOtKMeansNet(
  cfg: Pick<OtKMeansConfig, "model" | "embeddingDim" | "k" | "normalise" | "seed"> & {
    readonly hidden?: readonly number[];
  },
): OtKMeansNet {
  const hidden = cfg.hidden ?? [256, 256];
  const encoder = cfg.model === "mlp"
    ? mlp({ embeddingDim: cfg.embeddingDim, seed: cfg.seed, hidden })
    : buildModel(cfg.model, { embeddingDim: cfg.embeddingDim, seed: cfg.seed });
  const image = tf.input({ shape: [28, 28, 1], name: "image" });
  let z = encoder.apply(image) as tf.SymbolicTensor;
  if (cfg.normalise === "l2") z = new L2Normalise({}).apply(z) as tf.SymbolicTensor;
  if (cfg.normalise === "batch") z = new BatchStandardise({}).apply(z) as tf.SymbolicTensor;
  const table = new CentroidTable({ k: cfg.k, seed: cfg.seed + 7 });
  const dist = table.apply(z) as tf.SymbolicTensor;
  const decoderWidths = cfg.model === "mlp" ? [...hidden].reverse() : [256];
  let h = z;
  decoderWidths.forEach((units, i) => {
    h = tf.layers.dense({
      units,
      activation: "relu",
      kernelInitializer: tf.initializers.glorotUniform({ seed: cfg.seed + 11 + 100 * i }),
      name: i === 0 ? "decoder_hidden" : `decoder_hidden_${i}`,
    }).apply(h) as tf.SymbolicTensor;
  });
  const recon = tf.layers.dense({
    units: 784,
    activation: "sigmoid",
    kernelInitializer: tf.initializers.glorotUniform({ seed: cfg.seed + 12 }),
    name: "decoder_out",
  }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: image, outputs: [z, dist, recon], name: "otkmeans" });
  // Encoder + normalisation only (shares the layers): embeddings without the decoder's cost.
  const embedder = tf.model({ inputs: image, outputs: z, name: "otkmeans_embedder" });
  return { model, embedder, table, k: cfg.k, d: cfg.embeddingDim };
}

/** z ↦ z / ‖z‖ (row-wise, with a floor on the norm). */
class L2Normalise extends tf.layers.Layer {
  static className = "L2Normalise";
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const norm = tf.sqrt(tf.maximum(tf.sum(tf.square(x), -1, true), 1e-12));
      return tf.div(x, norm);
    });
  }
}
tf.serialization.registerClass(L2Normalise);

/**
 * z ↦ (z − mean) / (std · √d) per dimension over the batch: total variance 1, so shrinking
 * every embedding onto one point (OT k-means loss 0) is impossible; minimising the OT k-means
 * cost then maximises the between-cluster share of a fixed total variance. Statistics are
 * those of the batch at hand (training and evaluation alike; evaluation uses chunks of 1000).
 */
class BatchStandardise extends tf.layers.Layer {
  static className = "BatchStandardise";
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const { mean, variance } = tf.moments(x, 0, true);
      const d = x.shape[x.shape.length - 1]!;
      return tf.div(tf.sub(x, mean), tf.mul(tf.sqrt(tf.add(variance, 1e-5)), Math.sqrt(d)));
    });
  }
}
tf.serialization.registerClass(BatchStandardise);

/** Images `idx` of a split as a (n, 28, 28, 1) tensor in [0, 1]. */
export function imagesTensor(data: MnistLike["train"], idx: ArrayLike<number>): tf.Tensor4D {
  const out = new Float32Array(idx.length * 784);
  for (let j = 0; j < idx.length; j++) {
    const base = idx[j]! * 784;
    for (let p = 0; p < 784; p++) out[j * 784 + p] = data.images[base + p]! / 255;
  }
  return tf.tensor4d(out, [idx.length, 28, 28, 1]);
}

/** Embeddings (rows) and centroids of `idx`, read back to float64, in chunks of 1000. */
export async function embed(
  net: OtKMeansNet,
  data: MnistLike["train"],
  idx: ArrayLike<number>,
): Promise<{ z: Float64Array; centroids: Float64Array }> {
  const z = new Float64Array(idx.length * net.d);
  for (let s = 0; s < idx.length; s += 1000) {
    const part = Array.from({ length: Math.min(1000, idx.length - s) }, (_, j) => idx[s + j]!);
    const x = imagesTensor(data, part);
    const zt = net.embedder.predict(x) as tf.Tensor;
    z.set(await zt.data(), s * net.d);
    tf.dispose([x, zt]);
  }
  return { z, centroids: Float64Array.from(await net.table.centroids.data()) };
}
