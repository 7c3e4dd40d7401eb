/**
 * Fenchel–Young losses of the perturbed k-spanning forest on a sparse graph (Definitions 7–8
 * and Propositions 1–2 of Stewart et al., 2023, with the noise on the edges; see
 * `../perturbed/perturbed_on_graph.ts`). With p_b = w + εz_b the perturbed weights of sample b and
 * F(p) = 2 Σ_{e ∈ A*(p)} p_e:
 *
 *   full:     L̂ = mean_b [ F(p_b) − 2 Σ_{e ∈ Y} p_b,e ],             ∇_w L̂ = 2(â_ε − 1_Y)
 *   partial:  ℓ̂ = mean_b [ F(p_b) − F(p_b; labels) ],                ∇_w ℓ̂ = 2(â_ε − â_ε(labels))
 *
 * Each term is ≥ 0 (Y and the constrained forest are k-forests of the graph), so the estimates
 * are ≥ 0 exactly; sample by sample ℓ̂ ≤ L̂ for every target Y that respects the labels
 * (Proposition 2); with no label the two solves coincide and loss and gradient are exactly 0
 * (Proposition 1). As in `fy_loss.ts`, a term is summed over the symmetric difference of the two
 * edge sets and clamped at 0. The gradient is with respect to the edge weights w (the dense
 * gradient's G_ij + G_ji): chain it through w_e = Σ_ij(x) to train an embedding.
 *
 * The constrained solver is the graph greedy of `../constrained/constrained_forest_on_graph.ts` (exact when every point
 * is labelled; otherwise its value is ≤ the optimum, so ℓ̂ is an upper estimate and the gradient
 * is the exact gradient of what is computed).
 *
 * @module
 */
import { argsortDescending } from "../core/_argsort.ts";
import { assertIntegerInRange, show } from "../core/errors.ts";
import { assertGraph, edgeLookup, type Graph } from "../graph/graph.ts";
import {
  classIds,
  type PartialLabels,
  unsafeConstrainedSpanningForestOnGraph,
} from "../constrained/constrained_forest_on_graph.ts";
import { unsafeMaxSpanningForestOnGraph } from "../forest/spanning_forest_on_graph.ts";
import { forEachGraphPerturbation } from "../perturbed/perturbed_on_graph.ts";
import {
  assertSeed,
  checkPerturbedOptions,
  type PerturbedOptions,
} from "../perturbed/perturbed.ts";
import { DisjointSets } from "../forest/spanning_forest.ts";

/**
 * Options of the graph Fenchel–Young losses: Definition 6's options plus k.
 *
 * @category Losses
 */
export interface GraphFyLossOptions extends PerturbedOptions {
  /** Number of trees k, an integer ≥ 1 (and in [c, n] for the graph it is applied to). */
  readonly k: number;
}

/**
 * A loss value and its gradient with respect to the edge weights.
 *
 * @category Losses
 */
export interface GraphLossAndGradient {
  /** The Monte-Carlo estimate of the loss. */
  readonly loss: number;
  /** ∂loss/∂w_e for each edge e. */
  readonly grad: Float64Array;
}

function checkOptions(opts: GraphFyLossOptions) {
  const perturbed = checkPerturbedOptions(opts);
  assertIntegerInRange("k", opts.k, 1, Number.MAX_SAFE_INTEGER);
  return { perturbed, k: opts.k };
}

/**
 * The edge indices of a target k-forest given as pairs of a graph's points.
 *
 * @param name Argument name used in messages.
 * @param target Pairs [i, j] (any order), or a forest's `edges`.
 * @param g The graph.
 * @param k Expected number of trees.
 * @returns The edge indices, in the target's order.
 * @throws {TypeError} If `target` is not an array of pairs.
 * @throws {RangeError} Naming the pair that is not an edge of `g` or closes a cycle, or if there
 * are not n − k pairs.
 *
 * @example
 * ```ts
 * import { graph } from "../graph/graph.ts";
 * import { targetEdgeIndex } from "./fy_loss_on_graph.ts";
 * import assert from "node:assert/strict";
 * const g = graph(3, [[0, 1, 1], [1, 2, 1]]);
 * assert.deepEqual([...targetEdgeIndex("target", [[2, 1]], g, 2)], [1]);
 * assert.throws(() => targetEdgeIndex("target", [[0, 2]], g, 2), /target\[0\] = \(0, 2\) is not an edge/);
 * ```
 */
export function targetEdgeIndex(
  name: string,
  target: ReadonlyArray<readonly [number, number]>,
  g: Graph,
  k: number,
): Int32Array {
  if (!Array.isArray(target)) {
    throw new TypeError(`Expected ${name} to be an array of pairs [i, j], got ${show(target)}`);
  }
  const find = edgeLookup(g), sets = new DisjointSets(g.n);
  const out = new Int32Array(target.length);
  for (let t = 0; t < target.length; t++) {
    const pair = target[t];
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new TypeError(`Expected ${name}[${t}] to be a pair [i, j], got ${show(pair)}`);
    }
    const e = find(pair[0], pair[1]);
    if (e === -1) {
      throw new RangeError(
        `Invalid ${name}[${t}] = (${show(pair[0])}, ${show(pair[1])}) is not an edge of the graph`,
      );
    }
    if (sets.union(pair[0], pair[1]) === -1) {
      throw new RangeError(
        `Invalid ${name}[${t}] = (${pair[0]}, ${pair[1]}): it closes a cycle (not a forest)`,
      );
    }
    out[t] = e;
  }
  if (target.length !== g.n - k) {
    throw new RangeError(
      `Invalid ${name}: it has ${target.length} edges but a k = ${k} forest on n = ${g.n} points has ${
        g.n - k
      }`,
    );
  }
  return out;
}

/**
 * 2 Σ_{e ∈ plus \ minus} p_e − 2 Σ_{e ∈ minus \ plus} p_e, clamped at 0; `marks` (one per edge)
 * is left all zero.
 */
function edgeGap(
  marks: Int8Array,
  p: Float64Array,
  plus: Int32Array,
  minus: Int32Array,
): number {
  for (let t = 0; t < plus.length; t++) marks[plus[t]] += 1;
  for (let t = 0; t < minus.length; t++) marks[minus[t]] -= 1;
  let gap = 0;
  for (let t = 0; t < plus.length; t++) if (marks[plus[t]] === 1) gap += 2 * p[plus[t]];
  for (let t = 0; t < minus.length; t++) if (marks[minus[t]] === -1) gap -= 2 * p[minus[t]];
  for (let t = 0; t < plus.length; t++) marks[plus[t]] = 0;
  for (let t = 0; t < minus.length; t++) marks[minus[t]] = 0;
  return gap > 0 ? gap : 0;
}

/**
 * The perturbed Fenchel–Young loss against a target k-forest of the graph (Definition 7, noise
 * on the edges): loss ≈ F_ε(w) − ⟨w, Y⟩ ≥ 0, grad = 2(â_ε − 1_Y) per edge.
 *
 * @param opts ε, samples, noise, antithetic, and k.
 * @returns `(graph, target, seed) => { loss, grad }`; `target` lists the forest's pairs.
 * @throws {TypeError | RangeError} On invalid options; the returned function throws on an
 * invalid graph, seed, k for this graph, or a target that is not a k-forest of the graph.
 *
 * @example The target is the only sensible forest: zero loss and gradient
 * ```ts
 * import { graph } from "../graph/graph.ts";
 * import { fyLossOnGraph } from "./fy_loss_on_graph.ts";
 * import assert from "node:assert/strict";
 * const g = graph(4, [[0, 1, -1], [1, 2, -9], [2, 3, -1]]);
 * const { loss, grad } = fyLossOnGraph({ k: 2, epsilon: 0.01, samples: 10, noise: "gaussian" })(
 *   g, [[0, 1], [2, 3]], 1);
 * assert.equal(loss, 0);
 * assert.deepEqual([...grad], [0, 0, 0]);
 * ```
 *
 * @category Losses
 */
export function fyLossOnGraph(
  opts: GraphFyLossOptions,
): (
  g: Graph,
  target: ReadonlyArray<readonly [number, number]>,
  seed: number,
) => GraphLossAndGradient {
  const { perturbed, k } = checkOptions(opts);
  return (g, target, seed) => {
    assertGraph("graph", g);
    assertSeed(seed);
    assertIntegerInRange("k", k, 1, g.n, `for n = ${g.n}`);
    const y = targetEdgeIndex("target", target, g, k);
    const m = g.weight.length, marks = new Int8Array(m), grad = new Float64Array(m);
    let total = 0;
    forEachGraphPerturbation(g, perturbed, seed, ({ graph }) => {
      const free = unsafeMaxSpanningForestOnGraph(graph, k).edgeIndex;
      for (let t = 0; t < free.length; t++) grad[free[t]] += 1;
      total += edgeGap(marks, graph.weight, free, y);
    });
    const B = perturbed.samples;
    for (let e = 0; e < m; e++) grad[e] = (2 * grad[e]) / B;
    for (let t = 0; t < y.length; t++) grad[y[t]] -= 2;
    return { loss: total / B, grad };
  };
}

/**
 * The partial Fenchel–Young loss on a graph (Definition 8, Proposition 1, noise on the edges),
 * with M_Ω from partial labels: loss ≈ F_ε(w) − F_ε(w; labels) ≥ 0 and grad =
 * 2(â_ε − â_ε(labels)), both solves sharing each noise draw. Exactly zero with no label.
 *
 * @param opts ε, samples, noise, antithetic, and k.
 * @returns `(graph, labels, seed) => { loss, grad }`.
 * @throws {TypeError | RangeError} On invalid options; the returned function throws on an
 * invalid graph, labels, seed or k, and `InfeasibleConstraintsError` when the greedy finds no
 * k-forest respecting the labels.
 *
 * @example Labels that disagree with the weights give a positive loss
 * ```ts
 * import { graph } from "../graph/graph.ts";
 * import { partialFyLossOnGraph } from "./fy_loss_on_graph.ts";
 * import assert from "node:assert/strict";
 * const g = graph(4, [[0, 1, -1], [1, 2, -9], [2, 3, -1]]);
 * const { loss, grad } = partialFyLossOnGraph({ k: 2, epsilon: 0.1, samples: 20,
 *   noise: "gaussian" })(g, [0, 1, 1, null], 1);
 * assert.ok(loss > 0);
 * assert.ok(grad[1] < 0); // descent (−grad) raises the weight of edge (1, 2)
 * ```
 *
 * @category Losses
 */
export function partialFyLossOnGraph(
  opts: GraphFyLossOptions,
): (g: Graph, labels: PartialLabels, seed: number) => GraphLossAndGradient {
  const { perturbed, k } = checkOptions(opts);
  return (g, labels, seed) => {
    assertGraph("graph", g);
    assertSeed(seed);
    assertIntegerInRange("k", k, 1, g.n, `for n = ${g.n}`);
    const { ids } = classIds("labels", labels, g.n);
    const m = g.weight.length, marks = new Int8Array(m), grad = new Float64Array(m);
    let total = 0;
    forEachGraphPerturbation(g, perturbed, seed, ({ graph }) => {
      const order = argsortDescending(graph.weight); // one sort for both solves
      const free = unsafeMaxSpanningForestOnGraph(graph, k, order).edgeIndex;
      const bound = unsafeConstrainedSpanningForestOnGraph(graph, k, ids, order).edgeIndex;
      for (let t = 0; t < free.length; t++) grad[free[t]] += 1;
      for (let t = 0; t < bound.length; t++) grad[bound[t]] -= 1;
      total += edgeGap(marks, graph.weight, free, bound);
    });
    const B = perturbed.samples;
    for (let e = 0; e < m; e++) grad[e] = (2 * grad[e]) / B;
    return { loss: total / B, grad };
  };
}
