/**
 * The tfjs adapter of the clustering loss on a sparse graph of the batch
 * (`lib/losses/point_graph_loss.ts`): what lets a training step see n ≈ 1024 embeddings, where the dense
 * adapter (`cluster_loss.ts`) builds n × n × d tensors and solves n × n forests.
 *
 * One step, for embeddings V = f_θ(X) (n × d) and the batch's labels:
 *
 * 1. read V from the device (float32 values, computed in float64 from here on);
 * 2. build the graph on the CPU from those values: the exact kNN graph (`neighbours`, default
 *    15), the labels' classes joined inside themselves and the components joined
 *    (`labelledNeighbourGraph`) — the graph depends on V but is held fixed for this step;
 * 3. the perturbed partial Fenchel–Young loss with the labels on that graph (the dense
 *    supervised path's loss, restricted to the edges), weights −‖v_i − v_j‖² standardised by the
 *    moments of all n² pairs like the dense Σ, and its gradient G = ∂ℓ/∂V (n × d), the edge
 *    gradient chained to the embeddings on the CPU (`partialFyLossOfPointsOnGraph`);
 * 4. backward through the surrogate s(V) = ⟨stopGradient(G), V⟩: a `tf.customGrad` op whose
 *    forward value is the loss ℓ and whose backward is dy · G, so ∂s/∂θ = ∂ℓ/∂θ with the graph
 *    and the noise fixed.
 *
 * Unlike the dense adapter, nothing but V and G crosses between tfjs and the CPU (2 n d
 * numbers), and the backward pass needs only a multiplication: no gather, whose gradient
 * (UnsortedSegmentSum) tfjs-backend-wasm lacks. As in the dense adapter, backends whose reads
 * are synchronous (cpu, wasm, tensorflow) run the network once, under the tape; webgpu runs it
 * twice (read asynchronously, then differentiate), so `embed()` must then be deterministic.
 *
 * @module
 */
import type { Graph } from "../lib/graph/graph.ts";
import type { PartialLabels } from "../lib/constrained/constrained_forest_on_graph.ts";
import {
  labelledNeighbourGraph,
  partialFyLossOfPointsOnGraph,
  type PointGraphLoss,
  type PointGraphLossOptions,
} from "../lib/losses/point_graph_loss.ts";
import { rectFromData, type RectMatrix } from "../lib/core/rect_matrix.ts";
import { assertIntegerInRange, show } from "../lib/core/errors.ts";
import {
  assertEmbeddingsTensor,
  assertFiniteRows,
  assertLabelCount,
  variableGradsOfEmbeddings,
} from "./_embeddings.ts";
import { type ClusterLossGradsOptions, onePassChooser } from "./cluster_loss.ts";
import { tf } from "./_tfjs.ts";

/** The default number of neighbours of the training graph. */
export const DEFAULT_GRAPH_NEIGHBOURS = 15;

/**
 * Options of {@link clusterLossGradsOnGraph}: the loss's (k, ε, samples, noise, antithetic,
 * `standardise`), how to run the forward pass, and the graph's.
 *
 * @category Losses on embeddings
 */
export interface GraphClusterLossOptions extends PointGraphLossOptions {
  /** As the dense adapter's: `auto` (default), `one` or `two` forward passes. */
  readonly passes?: ClusterLossGradsOptions["passes"];
  /** Neighbours per point of the kNN graph, an integer ≥ 1 (and < n). Default 15. */
  readonly neighbours?: number;
  /**
   * How the graph of a batch is built from its embeddings (read from the device) and labels;
   * only its edges are used. Default: `labelledNeighbourGraph(points, labels, neighbours)`.
   * Tests pass the complete graph to compare with the dense adapter.
   */
  readonly buildGraph?: (points: RectMatrix, labels: PartialLabels) => Graph;
}

/**
 * One step of the graph loss: the loss, the parameter gradients and what it cost.
 *
 * @category Losses on embeddings
 */
export interface GraphClusterLossStep {
  /** The loss estimate ℓ̂ at this step. */
  readonly loss: number;
  /** ∂ℓ̂/∂θ per variable name; dispose them (or hand them to an optimizer) after use. */
  readonly grads: tf.NamedTensorMap;
  /** The graph of this step, with the weights the loss saw. */
  readonly graph: Graph;
  /** Seconds spent reading V, building the graph and computing the loss and G on the CPU. */
  readonly lossSeconds: number;
  /** Of which building the graph. */
  readonly graphSeconds: number;
  /** Whether the step ran the network once (synchronous read inside the tape) or twice. */
  readonly passes: 1 | 2;
}

/**
 * A scalar op on V with a fixed value and a fixed gradient: forward returns `loss`, backward
 * dy · G. The surrogate of the module doc.
 *
 * @param loss The loss ℓ at the V the gradient was computed at.
 * @param grad G = ∂ℓ/∂V, n × d row-major.
 * @param n Rows of V.
 * @param d Columns of V.
 * @returns V ↦ scalar ℓ with ∂/∂V = G; call it on that same V.
 * @throws {RangeError} From the op, if V is not n × d.
 *
 * @example The gradient is G
 * ```ts
 * import { tf } from "./deps/tfjs.ts";
 * import { fixedGradientOnPoints } from "./graph_cluster_loss.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const op = fixedGradientOnPoints(2, new Float64Array([1, -1]), 2, 1);
 * const v = tf.tensor2d([[0], [3]]);
 * const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => op(x as tf.Tensor2D))(v);
 * assert.equal((await value.data())[0], 2);
 * assert.deepEqual(await grad.array(), [[1], [-1]]);
 * tf.dispose([v, value, grad]);
 * ```
 */
export function fixedGradientOnPoints(
  loss: number,
  grad: Float64Array,
  n: number,
  d: number,
): (v: tf.Tensor2D) => tf.Scalar {
  const g32 = Float32Array.from(grad);
  const op = tf.customGrad((...args: unknown[]) => {
    const v = args[0] as tf.Tensor;
    if (v.shape[0] !== n || v.shape[1] !== d) {
      throw new RangeError(
        `Invalid embeddings shape [${v.shape}]: the loss was computed for ${n} × ${d}`,
      );
    }
    return {
      value: tf.scalar(loss),
      gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.tensor2d(g32, [n, d])),
    };
  });
  return (v) => op(v) as tf.Scalar;
}

/** The embeddings' values as float64 points. */
function pointsOf(values: ArrayLike<number>, n: number, d: number): RectMatrix {
  return rectFromData(n, d, Float64Array.from(values));
}

/**
 * One training step's loss and parameter gradients through the graph loss: the interface of
 * `clusterLossGrads`, for labels (not dense constraints).
 *
 * @param opts k, ε, samples, noise, antithetic, `standardise` (default true), `passes`
 * (default auto), `neighbours` (default 15) or `buildGraph`.
 * @returns `(embed, labels, seed, varList?) => Promise<GraphClusterLossStep>`; `varList`
 * defaults to all trainable variables. The caller owns (and disposes) the returned gradients.
 * @throws {TypeError | RangeError} On invalid options (the message names the option and the
 * value); the returned function rejects, before computing anything, on an `embed` that is not
 * a function, embeddings that are not an n × d tensor or hold a NaN or an infinity (naming the
 * row), labels not of length n; then on a batch of fewer than neighbours + 1 points, an invalid
 * seed, k > n, `passes: "one"` on a backend whose reads are async, and
 * `InfeasibleConstraintsError` when k is below the number of classes in the batch.
 *
 * @example One SGD step on a linear map
 * ```ts
 * import { tf } from "./deps/tfjs.ts";
 * import { applySgd } from "./cluster_loss.ts";
 * import { clusterLossGradsOnGraph } from "./graph_cluster_loss.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * const x = tf.tensor2d([[0, 0], [0.1, 1], [3, 0], [3.1, 1], [0.2, 2], [3.2, 2]]);
 * const theta = tf.variable(tf.tensor2d([[1], [1]]));
 * const step = clusterLossGradsOnGraph({ k: 2, epsilon: 0.1, samples: 10, noise: "gaussian",
 *   neighbours: 2 });
 * const r = await step(() => tf.matMul(x, theta), [0, 0, 1, 1, 0, 1], 0, [theta]);
 * assert.ok(r.loss >= 0);
 * assert.equal(r.passes, 1);
 * applySgd(r.grads, [theta], 0.1);
 * tf.dispose([x, theta]);
 * ```
 *
 * @category Losses on embeddings
 */
export function clusterLossGradsOnGraph(
  opts: GraphClusterLossOptions,
): (
  embed: () => tf.Tensor2D,
  labels: PartialLabels,
  seed: number,
  varList?: tf.Variable[],
) => Promise<GraphClusterLossStep> {
  const onePass = onePassChooser(opts.passes);
  const neighbours = opts.neighbours ?? DEFAULT_GRAPH_NEIGHBOURS;
  assertIntegerInRange("neighbours", neighbours, 1, Number.MAX_SAFE_INTEGER);
  if (opts.buildGraph !== undefined && typeof opts.buildGraph !== "function") {
    throw new TypeError(`Expected buildGraph to be a function, got ${typeof opts.buildGraph}`);
  }
  const buildGraph = opts.buildGraph ??
    ((points: RectMatrix, labels: PartialLabels) =>
      labelledNeighbourGraph(points, labels, neighbours));
  const cpuLoss = partialFyLossOfPointsOnGraph(opts);

  /** Steps 2–3 of the module doc on V's values. */
  const evaluate = (
    values: ArrayLike<number>,
    n: number,
    d: number,
    labels: PartialLabels,
    seed: number,
  ) => {
    const t0 = performance.now();
    assertLabelCount(labels, n);
    assertFiniteRows(values, n, d);
    const points = pointsOf(values, n, d);
    const graph = buildGraph(points, labels);
    const t1 = performance.now();
    const estimate: PointGraphLoss = cpuLoss(points, graph, labels, seed);
    const t2 = performance.now();
    return {
      estimate,
      graph: { n: graph.n, from: graph.from, to: graph.to, weight: estimate.weights },
      graphSeconds: (t1 - t0) / 1000,
      cpuSeconds: (t2 - t0) / 1000,
    };
  };

  return async (embed, labels, seed, varList) => {
    if (typeof embed !== "function") {
      throw new TypeError(
        `Expected embed to be a function returning the batch's embeddings, got ${show(embed)}`,
      );
    }
    if (onePass()) {
      let result: ReturnType<typeof evaluate> | null = null, readSeconds = 0;
      const { value, grads } = variableGradsOfEmbeddings(embed, (v) => {
        assertEmbeddingsTensor(v);
        const [n, d] = v.shape;
        const t0 = performance.now();
        const values = v.dataSync();
        readSeconds = (performance.now() - t0) / 1000;
        result = evaluate(values, n, d, labels, seed);
        return fixedGradientOnPoints(result.estimate.loss, result.estimate.grad, n, d)(v);
      }, varList);
      value.dispose();
      const r = result!;
      return {
        loss: r.estimate.loss,
        grads,
        graph: r.graph,
        lossSeconds: readSeconds + r.cpuSeconds,
        graphSeconds: r.graphSeconds,
        passes: 1,
      };
    }
    const v = tf.tidy(embed);
    let r: ReturnType<typeof evaluate>, n: number, d: number;
    const t0 = performance.now();
    try {
      assertEmbeddingsTensor(v);
      [n, d] = v.shape;
      r = evaluate(await v.data(), n, d, labels, seed);
    } finally {
      tf.dispose(v); // not v.dispose(): embed may have returned something else
    }
    const lossSeconds = (performance.now() - t0) / 1000;
    const op = fixedGradientOnPoints(r.estimate.loss, r.estimate.grad, n, d);
    const { value, grads } = tf.variableGrads(() => op(embed()), varList);
    value.dispose();
    return {
      loss: r.estimate.loss,
      grads,
      graph: r.graph,
      lossSeconds,
      graphSeconds: r.graphSeconds,
      passes: 2,
    };
  };
}

// Former names, kept for one version (CHANGELOG.md): graph variants are named `xOnGraph`.

/** @deprecated Renamed {@link clusterLossGradsOnGraph}; this alias goes in the next version. */
export const graphClusterLossGrads: typeof clusterLossGradsOnGraph = clusterLossGradsOnGraph;
