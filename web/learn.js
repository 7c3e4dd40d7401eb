/**
 * The denoising experiment of `exp:denoise`, step by step, on the public API only (imports
 * from the browser bundle of mod.ts): a linear map θ ∈ R^{d×2} trained by SGD on the partial
 * Fenchel–Young loss of Σ_θ = standardise(−‖x_iθ − x_jθ‖²) (Definition 8), with the target
 * M_Ω given by the labels of a fraction of the training points. The gradient with respect to θ
 * is Xᵀ ∂loss/∂(Xθ), where `partialLossPipeline` returns ∂loss/∂(Xθ) (chained through the
 * standardisation and the squared distances). Runs in the page's Web Worker.
 *
 * @module
 */
import {
  connectivityAccuracy,
  connectivityFromLabels,
  decodePipelineConfig,
  maxSpanningForest,
  negSquaredDistances,
  partialLossPipeline,
} from "./spanclust.js";
import { denoiseData, rng } from "./datasets.js";

/**
 * Xθ.
 *
 * @param {number[][]} x n × d.
 * @param {number[][]} theta d × e.
 * @returns {number[][]} n × e.
 */
export function project(x, theta) {
  return x.map((row) => theta[0].map((_, c) => row.reduce((s, v, r) => s + v * theta[r][c], 0)));
}

/**
 * 1 − connectivity accuracy of the k-forest of the mapped points against the target labels
 * (the paper's validation clustering error).
 *
 * @param {number[][]} mapped Points.
 * @param {ArrayLike<number>} target Target labels.
 * @param {number} k Clusters.
 * @returns {{ error: number, labels: Int32Array }} The error and the predicted labels.
 */
export function clusteringError(mapped, target, k) {
  const labels = maxSpanningForest(negSquaredDistances(mapped), k).labels;
  const error = 1 -
    connectivityAccuracy(
      connectivityFromLabels(labels),
      connectivityFromLabels(Array.from(target)),
    );
  return { error, labels };
}

/**
 * A trainer: `step()` takes one SGD step and returns its record; `record0` describes θ₀.
 *
 * @param {{ seed: number, k?: number, epsilon?: number, samples?: number, lr?: number,
 *   batchSize?: number, labelled?: number }} cfg Settings (defaults: the paper's run with
 *   200 samples; `labelled` = fraction of training points whose label is known).
 * @returns {{ record0: object, step: () => object }} The trainer.
 * @throws {RangeError} On an invalid setting (message from the library's decoder).
 */
export function denoiseTrainer(cfg) {
  const { seed, k = 4, epsilon = 0.1, samples = 200, lr = 0.01, batchSize = 32 } = cfg;
  const labelledFraction = cfg.labelled ?? 0.5;
  const decoded = decodePipelineConfig({ k, epsilon, samples });
  if (decoded._tag === "Left") throw new RangeError(decoded.left.join("; "));
  const pipeline = partialLossPipeline(decoded.right);
  const { train, validation } = denoiseData(seed);
  const n = train.features.length, d = train.features[0].length;
  const r = rng(seed * 7919 + 13);
  const theta = Array.from({ length: d }, () => [r.normal(), r.normal()]);
  // Which training points are labelled: a fixed random subset (partial labels).
  const known = train.blob.map(() => r.uniform() < labelledFraction);
  const indices = Array.from({ length: n }, (_, i) => i);
  let t = 0;
  const evaluate = (loss) => {
    const mapped = project(validation.features, theta);
    const { error, labels } = clusteringError(mapped, validation.blob, k);
    return {
      step: t,
      loss,
      valError: error,
      theta: theta.map((row) => [...row]),
      mapped,
      predicted: Array.from(labels),
      blob: validation.blob,
    };
  };
  const record0 = evaluate(null);
  const step = () => {
    t++;
    for (let i = 0; i < batchSize; i++) {
      const j = i + Math.floor(r.uniform() * (n - i));
      [indices[i], indices[j]] = [indices[j], indices[i]];
    }
    const batch = indices.slice(0, batchSize);
    const xb = batch.map((i) => train.features[i]);
    const labels = batch.map((i) => (known[i] ? train.blob[i] : null));
    const { loss, gradPoints } = pipeline(labels, (seed * 100003 + t) >>> 0)(project(xb, theta));
    // ∂loss/∂θ = Xᵀ ∂loss/∂(Xθ).
    for (let a = 0; a < d; a++) {
      for (let c = 0; c < theta[a].length; c++) {
        let g = 0;
        for (let b = 0; b < batchSize; b++) g += xb[b][a] * gradPoints[b][c];
        theta[a][c] -= lr * g;
      }
    }
    return evaluate(loss);
  };
  return { record0, step };
}
