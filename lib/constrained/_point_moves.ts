/**
 * Internal (not re-exported by `mod.ts`): phases 2 and 3 of the label-derived solver of
 * Definition 5 (`_label_forest.ts`): re-span every cluster by its maximum spanning tree, then move
 * free singleton points between clusters while that strictly raises ⟨A, Σ⟩.
 *
 * Removing a leaf u from a maximum spanning tree leaves a maximum spanning tree of the rest (u's
 * only edge is its heaviest one), so the loss is that edge's weight; the gain of inserting u into
 * a tree Y is computed exactly in O(|Y|) (`insertionTree` in `_cluster_trees.ts`). One sweep costs
 * O(#free points · n); later sweeps re-examine only clusters that changed. Feasibility under M_Ω
 * is kept by construction: only points without any constraint move.
 *
 * The rest of Definitions 4–5: M_Ω in `constraint_types.ts` (Definition 4), its must-link groups
 * in `_constraint_groups.ts`, the tree operations in `_cluster_trees.ts`, the other move in
 * `_merge_split_moves.ts`, the dense solvers in `constrained_forest.ts`, the graph solver in
 * `constrained_forest_on_graph.ts`.
 *
 * @module
 */
import type { DisjointSets } from "../forest/spanning_forest.ts";
import {
  insertionTree,
  lightestTreeEdge,
  numberBlocks,
  rootTree,
  spanBlock,
  type TreeBuffers,
  treeBuffers,
  type Work,
} from "./_cluster_trees.ts";

/** Upper bound on the sweeps of the leaf-move local search of {@link pointMoves}. */
const LEAF_MOVE_SWEEPS = 10;

/**
 * Whether moving u into the cluster whose tree is `ord` certainly cannot pay for taking u out of
 * its own, which costs `lightest`. Let `reach` be u's heaviest edge into the cluster. When it is
 * no heavier than every tree edge (`treeMin`), inserting u gains exactly `reach` (u joins by that
 * edge and replaces no tree edge); the move cannot pay when, moreover, `reach` is below `lightest`
 * by a margin (relative 1e-12 · (n + 1), as the acceptance test of a move) far larger than the
 * rounding in the computed gain. The exact insertion would then find a gain below `lightest`, so
 * skipping it changes neither whether u moves nor where (a cluster it picks has a larger gain).
 * Reads u's edges into the cluster, stopping early once the test has failed.
 */
function insertionCannotPay(
  data: Float64Array,
  n: number,
  u: number,
  ord: readonly number[],
  treeMin: number,
  treeAbs: number,
  lightest: number,
): boolean {
  const row = u * n, limit = treeMin < lightest ? treeMin : lightest;
  let reach = -Infinity;
  for (let t = 0; t < ord.length; t++) {
    const w = data[row + ord[t]];
    if (!(w <= limit)) return false;
    if (w > reach) reach = w;
  }
  return reach < lightest - 1e-12 * (n + 1) * (treeAbs + Math.abs(reach));
}

/** Work buffers of {@link pointMoves} for n points, reused from one solve to the next. */
export interface MovesWork {
  /** The clusters' trees. */
  readonly trees: TreeBuffers;
  readonly blockOf: Int32Array;
  readonly rootBlock: Int32Array;
  readonly degree: Int32Array;
  /** Per cluster: weight sum, sum of |weights| and lightest edge of its tree (+∞: one point). */
  readonly treeSum: Float64Array;
  readonly treeAbs: Float64Array;
  readonly treeMin: Float64Array;
  /** A tree re-spanned without one point, before it replaces the one in `trees`. */
  readonly scratch: TreeBuffers;
  readonly changed: readonly [Uint8Array, Uint8Array];
}

export function movesWork(n: number): MovesWork {
  return {
    trees: treeBuffers(n),
    blockOf: new Int32Array(n),
    rootBlock: new Int32Array(n),
    degree: new Int32Array(n),
    treeSum: new Float64Array(n),
    treeAbs: new Float64Array(n),
    treeMin: new Float64Array(n),
    scratch: treeBuffers(n),
    changed: [new Uint8Array(n), new Uint8Array(n)],
  };
}

/** The clusters of one call of {@link pointMoves}: each one's tree in root-first order. */
interface Clusters {
  readonly data: Float64Array;
  readonly n: number;
  readonly buffers: MovesWork;
  readonly work: Work;
  readonly blockOrder: number[][];
  /** Scratch of {@link takeOutInternal}: a tree's points but one, and their order re-spanned. */
  readonly rest: number[];
  readonly restOrder: number[];
  /** Scratch of {@link putIn}: the kept edges of an insertion, as (a, b) pairs, and weights. */
  readonly keep: number[];
  readonly keepWeight: number[];
}

/**
 * Spans each cluster of `partition` by its maximum spanning tree, then moves free singleton points
 * between clusters while that strictly raises the value (see `LabelForestSolver`). Writes
 * the final trees' edges as pairs (i < j) into `out` and returns whether any point moved.
 *
 * @param data Σ, n × n row-major.
 * @param n Number of points.
 * @param partition The clusters (feasible).
 * @param movable The free singleton points, which may move.
 * @param buffers Work buffers for n points.
 * @param work The move budget (spent).
 * @param out Output: the n − k edges.
 * @returns Whether any point moved.
 */
export function pointMoves(
  data: Float64Array,
  n: number,
  partition: DisjointSets,
  movable: Int32Array,
  buffers: MovesWork,
  work: Work,
  out: Int32Array,
): boolean {
  const { parent, parentWeight, best, bestFrom } = buffers.trees;
  const { blockOf, degree, treeSum, treeAbs, treeMin } = buffers;
  let movedAny = false;
  const blockOrder = spanClusters(data, n, partition, buffers);
  const blocks = blockOrder.length; // = k
  const c: Clusters = {
    data,
    n,
    buffers,
    work,
    blockOrder,
    rest: [],
    restOrder: [],
    keep: [],
    keepWeight: [],
  };

  // Local search: move free singleton points between clusters.
  if (movable.length > 0 && blocks > 1) {
    // Clusters changed in the previous sweep and in this one (two buffers, swapped per sweep).
    let changedBefore = buffers.changed[0].fill(1, 0, blocks);
    for (let sweep = 0; sweep < LEAF_MOVE_SWEEPS; sweep++) {
      const changedNow = buffers.changed[changedBefore === buffers.changed[0] ? 1 : 0];
      changedNow.fill(0, 0, blocks);
      let moved = false;
      for (const u of movable) {
        if (work.left <= 0) break;
        const from = blockOf[u], ordFrom = blockOrder[from];
        if (ordFrom.length < 2) continue;
        // Removing u costs at least its lightest tree edge (every reconnecting edge is at most
        // as heavy as a u-edge on its tree path, by the cycle property), and exactly its edge
        // when u is a leaf (then the rest of its tree is a maximum spanning tree of the rest).
        let lightest = parent[u] !== -1 ? parentWeight[u] : Infinity;
        if (degree[u] > 1 || parent[u] === -1) {
          work.left -= ordFrom.length;
          for (let t = 1; t < ordFrom.length; t++) {
            const y = ordFrom[t];
            if (parent[y] === u && parentWeight[y] < lightest) lightest = parentWeight[y];
          }
        }
        // The cluster whose tree gains most by taking u in (exact, by vertex insertion).
        const all = sweep === 0 || changedBefore[from] === 1 || changedNow[from] === 1;
        let bestInsert = -Infinity, bestTo = -1;
        for (let to = 0; to < blocks; to++) {
          if (to === from || (!all && !changedBefore[to] && !changedNow[to])) continue;
          work.left -= blockOrder[to].length;
          if (insertionCannotPay(data, n, u, blockOrder[to], treeMin[to], treeAbs[to], lightest)) {
            continue;
          }
          const sum = insertionTree(
            data,
            n,
            u,
            blockOrder[to],
            parent,
            parentWeight,
            best,
            bestFrom,
            null,
            null,
          );
          if (sum - treeSum[to] > bestInsert) {
            bestInsert = sum - treeSum[to];
            bestTo = to;
          }
        }
        if (bestTo === -1) continue;
        const eps = 1e-12 * (n + 1) * (treeAbs[bestTo] + treeAbs[from] + Math.abs(bestInsert));
        if (!(bestInsert - lightest > eps)) continue;
        if (degree[u] === 1) {
          // Remove the leaf u from its tree. Inline, as the scan above: moved into functions,
          // the two made the solve 4–8 % slower at n = 64 (solve alone, min of 27 runs, 2 cores).
          if (parent[u] === -1) {
            const child = ordFrom[1];
            parent[child] = -1;
            degree[child]--;
          } else degree[parent[u]]--;
          ordFrom.splice(ordFrom.indexOf(u), 1);
          treeSum[from] -= lightest;
          treeAbs[from] -= Math.abs(lightest);
          treeMin[from] = lightestTreeEdge(ordFrom, parentWeight);
        } else if (!takeOutInternal(c, u, from, bestInsert, eps)) continue;
        putIn(c, u, bestTo);
        blockOf[u] = bestTo;
        changedNow[from] = changedNow[bestTo] = 1;
        moved = true;
      }
      if (!moved) break;
      movedAny = true;
      if (work.left <= 0) break;
      changedBefore = changedNow;
    }
  }
  let e = 0;
  for (let b = 0; b < blocks; b++) {
    const ord = blockOrder[b];
    for (let t = 1; t < ord.length; t++) {
      const a = ord[t], p = parent[a];
      out[e++] = a < p ? a : p;
      out[e++] = a < p ? p : a;
    }
  }
  return movedAny;
}

/**
 * Numbers the clusters of `partition` and spans each by its maximum spanning tree, filling the
 * trees' parents, degrees, weight sums, sums of |weights| and lightest edges in `buffers`.
 * Returns each cluster's points in root-first order.
 */
function spanClusters(
  data: Float64Array,
  n: number,
  partition: DisjointSets,
  buffers: MovesWork,
): number[][] {
  const { parent, parentWeight } = buffers.trees;
  const { blockOf, rootBlock, degree, treeSum, treeAbs, treeMin } = buffers;
  degree.fill(0);
  const blockMembers = numberBlocks(n, partition, blockOf, rootBlock);
  const blockOrder: number[][] = [];
  for (let b = 0; b < blockMembers.length; b++) {
    const ord: number[] = [];
    treeSum[b] = spanBlock(data, n, blockMembers[b], ord, buffers.trees);
    treeAbs[b] = 0;
    for (let t = 1; t < ord.length; t++) {
      degree[ord[t]]++;
      degree[parent[ord[t]]]++;
      treeAbs[b] += Math.abs(parentWeight[ord[t]]);
    }
    treeMin[b] = lightestTreeEdge(ord, parentWeight);
    blockOrder.push(ord);
  }
  return blockOrder;
}

/**
 * Takes the internal point u out of the tree of cluster `from`, to insert it elsewhere for
 * `gain`: the rest needs its own maximum spanning tree, and the move is kept (true) only if the
 * exact change is above `eps`; otherwise nothing changes (false).
 */
function takeOutInternal(
  c: Clusters,
  u: number,
  from: number,
  gain: number,
  eps: number,
): boolean {
  const { data, n, work } = c, ordFrom = c.blockOrder[from];
  const { parent, parentWeight } = c.buffers.trees;
  const { degree, treeSum, treeAbs, treeMin, scratch } = c.buffers;
  const { rest, restOrder } = c;
  rest.length = 0;
  for (const p of ordFrom) if (p !== u) rest.push(p);
  work.left -= rest.length * rest.length;
  const restSum = spanBlock(data, n, rest, restOrder, scratch);
  if (!(restSum - treeSum[from] + gain > eps)) return false;
  treeSum[from] = restSum;
  treeAbs[from] = 0;
  for (const p of ordFrom) degree[p] = 0;
  ordFrom.length = 0;
  for (const p of restOrder) {
    ordFrom.push(p);
    parent[p] = scratch.parent[p];
    parentWeight[p] = scratch.parentWeight[p];
    if (parent[p] !== -1) {
      degree[p]++;
      degree[parent[p]]++;
      treeAbs[from] += Math.abs(parentWeight[p]);
    }
  }
  treeMin[from] = lightestTreeEdge(ordFrom, parentWeight);
  return true;
}

/** Inserts u into the tree of cluster `to` (its maximum spanning tree with u) and re-roots it. */
function putIn(c: Clusters, u: number, to: number): void {
  const { parent, parentWeight, best, bestFrom } = c.buffers.trees;
  const { degree, treeSum, treeAbs, treeMin } = c.buffers;
  const ordTo = c.blockOrder[to];
  const { keep, keepWeight } = c;
  keep.length = 0;
  keepWeight.length = 0;
  const sum = insertionTree(
    c.data,
    c.n,
    u,
    ordTo,
    parent,
    parentWeight,
    best,
    bestFrom,
    keep,
    keepWeight,
  );
  treeSum[to] = sum;
  treeAbs[to] = 0;
  for (const w of keepWeight) treeAbs[to] += Math.abs(w);
  ordTo.push(u);
  rootTree(ordTo, keep, keepWeight, parent, parentWeight, degree);
  treeMin[to] = lightestTreeEdge(ordTo, parentWeight);
}
