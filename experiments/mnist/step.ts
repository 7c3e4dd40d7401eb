/**
 * One training step of the `exp:mnist` engine, piece by piece: the networks, the optimiser
 * (Adam with coupled ℓ2 weight decay), the learning-rate schedule, the per-step seeds, and the
 * clustering loss of a batch (dense or on its kNN graph). Each is a pure function of the
 * configuration and the step, which is what lets a run resume from a checkpoint and redo the
 * same steps.
 *
 * @module
 */
import { tf } from "../../tf/deps/tfjs.ts";
import { buildModel, type ImageShape } from "../models.ts";
import { clusterLossGrads } from "../../tf/cluster_loss.ts";
import { clusterLossGradsOnGraph, DEFAULT_GRAPH_NEIGHBOURS } from "../../tf/graph_cluster_loss.ts";
import { mixSeed } from "../data/splits.ts";
import type { EngineConfig } from "./engine.ts";

/**
 * Perturbation seed of a training step: a pure function of (run seed, step), so a resumed run
 * draws the same noise.
 *
 * @param seed Run seed.
 * @param step Step.
 * @returns A 32-bit seed.
 */
export function perturbationSeed(seed: number, step: number): number {
  return mixSeed(seed, 0x5eed, step);
}

/** The networks of a run: backbone (embedding) and the trained model (with head for CE). */
export function buildNetworks(
  cfg: EngineConfig,
  shape: ImageShape,
  numClasses: number,
): { backbone: tf.LayersModel; model: tf.LayersModel } {
  const backbone = buildModel(cfg.model, {
    inputShape: shape,
    seed: cfg.seed,
    ...(cfg.embeddingDim === undefined ? {} : { embeddingDim: cfg.embeddingDim }),
  });
  if (cfg.objective === "cluster") return { backbone, model: backbone };
  const head = tf.layers.dense({
    units: numClasses,
    kernelInitializer: tf.initializers.glorotUniform({ seed: cfg.seed + 1000 }),
    name: "ce_head",
  });
  const model = tf.model({
    inputs: backbone.inputs,
    outputs: head.apply(backbone.outputs[0]!) as tf.SymbolicTensor,
    name: "ce_model",
  });
  return { backbone, model };
}

/** Adam with the paper's β = (0.9, 0.999). */
export function makeOptimizer(cfg: EngineConfig): tf.Optimizer {
  return tf.train.adam(cfg.learningRate, 0.9, 0.999);
}

/** A learning-rate schedule name (`--lr-schedule`). */
export type LrSchedule = "constant" | "cosine";

/**
 * The learning rate of step `step` (0-based) of a run of `steps` steps: constant, or
 * lr · ½(1 + cos(π · step / steps)). A pure function of the step, so a resumed run follows the
 * same schedule.
 *
 * @param lr Base learning rate.
 * @param schedule Schedule.
 * @param step Current step.
 * @param steps Total steps.
 * @returns The learning rate.
 *
 * @example
 * ```ts
 * import { learningRateAt } from "./step.ts";
 * if (learningRateAt(1e-3, "cosine", 50, 100) !== 5e-4) throw new Error();
 * ```
 */
export function learningRateAt(
  lr: number,
  schedule: LrSchedule,
  step: number,
  steps: number,
): number {
  return schedule === "constant" ? lr : lr * 0.5 * (1 + Math.cos((Math.PI * step) / steps));
}

/** Applies g + λθ with Adam in the variables' order, then disposes the gradients. */
export function applyUpdate(
  optimizer: tf.Optimizer,
  vars: readonly tf.Variable[],
  grads: tf.NamedTensorMap,
  weightDecay: number,
): void {
  try {
    tf.tidy(() => {
      optimizer.applyGradients(vars.map((v) => {
        const g = grads[v.name];
        if (g === undefined) throw new Error(`No gradient for trainable variable ${v.name}`);
        return { name: v.name, tensor: weightDecay > 0 ? tf.add(g, tf.mul(v, weightDecay)) : g };
      }));
    });
  } finally {
    tf.dispose(Object.values(grads));
  }
}

/**
 * Number of clusters the loss uses on a batch: k, or fewer when the batch's constraints cannot
 * make k clusters. Must-links merge each labelled class into one group, so a fully labelled
 * batch of 64 that misses a class (probability ≈ 10 · 0.9⁶⁴ ≈ 1% on MNIST) has only 9 groups
 * and no 10-forest satisfies M_Ω (Definition 5 is infeasible); its true clustering has 9
 * clusters, so both solves use k = 9 on it. (The reference code's greedy instead silently breaks
 * one must-link.) Groups = distinct labels + unlabelled points.
 *
 * @param k Configured number of clusters.
 * @param labels Batch labels (`null` = unlabelled).
 * @returns min(k, groups).
 */
export function batchClusters(k: number, labels: readonly (number | null)[]): number {
  const classes = new Set<number>();
  let unlabelled = 0;
  for (const l of labels) {
    if (l === null) unlabelled++;
    else classes.add(l);
  }
  return Math.min(k, classes.size + unlabelled);
}

/** What the engine needs from a clustering-loss step, dense or on a graph. */
export type ClusterStep = (
  embed: () => tf.Tensor2D,
  labels: readonly (number | null)[],
  seed: number,
  varList: tf.Variable[],
) => Promise<{ loss: number; grads: tf.NamedTensorMap; lossSeconds: number }>;

/**
 * The cluster-loss step per number of clusters (built once per k): the single place the engine
 * calls the tfjs adapters, `clusterLossGrads` (dense) or `clusterLossGradsOnGraph` (kNN graph).
 * One forward pass per step on backends with synchronous reads (cpu, wasm, tensorflow), two on
 * webgpu.
 */
export function clusterStepFor(cfg: EngineConfig): (k: number) => ClusterStep {
  const byK = new Map<number, ClusterStep>();
  return (k) => {
    let fn = byK.get(k);
    if (fn === undefined) {
      const opts = {
        k,
        epsilon: cfg.epsilon,
        samples: cfg.samples,
        noise: "gaussian",
        standardise: cfg.standardise,
      } as const;
      fn = cfg.lossGraph === "knn"
        ? clusterLossGradsOnGraph({
          ...opts,
          neighbours: cfg.graphNeighbours ?? DEFAULT_GRAPH_NEIGHBOURS,
        })
        : clusterLossGrads(opts);
      byK.set(k, fn);
    }
    return fn;
  };
}
