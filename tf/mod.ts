/**
 * spanclust/tf — train your own tfjs model through clustering.
 *
 * The losses of the paper on embeddings V = f_θ(X) computed by a tfjs model, differentiable
 * with respect to θ: the perturbed partial Fenchel–Young loss on the dense similarity
 * Σ = −‖v_i − v_j‖² of a batch ({@link clusterLoss}, {@link clusterLossGrads}), and on a sparse
 * graph of the batch for large batches ({@link clusterLossGradsOnGraph}); and the OT k-means
 * loss of embeddings and learnable centroids ({@link otKMeansLossTf}). Each step checks the
 * embeddings and labels it is given first and names the problem (a NaN row, a wrong length).
 * The entry also exports the `tf` it is built on (tfjs 4.22.0), so that your model and the loss
 * share one tfjs, and {@link selectBackend}, which picks a backend with our CPU kernels.
 *
 * Importing it needs no permission. The wasm backend reads its binaries (`--allow-read`); native
 * BLAS for it is opt-in (`--allow-ffi`, and OpenBLAS installed); nothing else is asked for.
 *
 * @example Train a small model through the clustering loss, then cluster held-out points
 * Three Gaussian blobs in 2-d, seen through a fixed random nonlinear map in 8-d, where single
 * linkage on the raw points fails (ARI ≈ 0); a two-layer network trained on labelled batches
 * maps held-out points to embeddings whose maximum spanning 3-forest finds the blobs.
 * ```ts
 * import { adjustedRandIndex, maxSpanningForest, negSquaredDistances } from "../mod.ts";
 * import { clusterLossGrads, selectBackend, tf } from "./mod.ts";
 *
 * await selectBackend("cpu", () => {});
 * const centres = tf.tensor2d([[0, 0], [3, 0], [1.5, 2.6]]);
 * const map = tf.randomNormal([2, 8], 0, 1, "float32", 1);
 * const blobs = (n: number, seed: number) => {
 *   const labels = Array.from({ length: n }, (_, i) => i % 3);
 *   const z = tf.add(tf.gather(centres, labels), tf.randomNormal([n, 2], 0, 0.4, "float32", seed));
 *   return { x: tf.tanh(tf.matMul(z, map)) as tf.Tensor2D, labels };
 * };
 * const init = (seed: number) => tf.initializers.glorotNormal({ seed });
 * const model = tf.sequential({ layers: [
 *   tf.layers.dense({ inputShape: [8], units: 32, activation: "relu", kernelInitializer: init(1) }),
 *   tf.layers.dense({ units: 2, kernelInitializer: init(2) }),
 * ] });
 * const step = clusterLossGrads({ k: 3, epsilon: 0.1, samples: 20, noise: "gaussian" });
 * const optimizer: tf.Optimizer = tf.train.adam(0.01); // the base type takes grads by name
 * for (let t = 0; t < 100; t++) {
 *   const batch = blobs(48, 100 + t);
 *   const { grads } = await step(() => model.apply(batch.x) as tf.Tensor2D, batch.labels, t);
 *   optimizer.applyGradients(grads);
 *   tf.dispose([batch.x, grads]);
 * }
 * const test = blobs(150, 7);
 * const v = await (model.predict(test.x) as tf.Tensor2D).array();
 * const ari = adjustedRandIndex(maxSpanningForest(negSquaredDistances(v), 3).labels, test.labels);
 * console.log(`held-out ARI ${ari.toFixed(3)}`);
 * if (!(ari > 0.8)) throw new Error(`held-out ARI ${ari} ≤ 0.8`);
 * ```
 *
 * @module
 */

// ## tfjs itself — the one the losses run on

export { tf } from "./_tfjs.ts";

// ## The partial Fenchel–Young loss on embeddings (Definition 8, Proposition 1): dense Σ

export {
  clusterLoss,
  clusterLossGrads,
  type ClusterLossGradsOptions,
  type ClusterLossOptions,
  type ClusterLossStep,
  type ClusterTarget,
  type PreparedClusterLoss,
} from "./cluster_loss.ts";

// ## The same loss on a sparse graph of the batch, for batches of ≈ 1000 points

export {
  clusterLossGradsOnGraph,
  type GraphClusterLossOptions,
  type GraphClusterLossStep,
} from "./graph_cluster_loss.ts";

// ## The OT k-means loss (Genevay et al., 2019) and its baseline without sizes, soft k-means

export {
  otKMeansLossTf,
  pointCentroidLossOp,
  type PreparedOtKMeansLoss,
  type PreparedSoftKMeansLoss,
  prepareOtKMeansLoss,
  prepareSoftKMeansLoss,
  softKMeansLossTf,
} from "./ot_kmeans_loss.ts";

// ## Backends, with our CPU kernels for the wasm backend

export {
  BACKEND_CHOICES,
  type BackendChoice,
  type BackendInfo,
  selectBackend,
  type SelectBackendOptions,
} from "./backend.ts";
export type { WasmGemm, WasmGemmChoice } from "./_wasm_kernels.ts";
