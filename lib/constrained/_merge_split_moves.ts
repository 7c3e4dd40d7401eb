/**
 * Internal (not re-exported by `mod.ts`): the merge/split moves of the label-derived solver of
 * Definition 5 (`_label_forest.ts`), for constraints with unlabelled points and k above the number
 * of classes: join a cluster without labelled points to another cluster, re-span, and cut the
 * lightest tree edge that splits no class. They keep the k clusters and feasibility under M_Ω.
 *
 * The rest of Definitions 4–5: M_Ω in `constraint_types.ts` (Definition 4), its must-link groups
 * in `_constraint_groups.ts`, the tree operations in `_cluster_trees.ts`, the point moves in
 * `_point_moves.ts`, the dense solvers in `constrained_forest.ts`, the graph solver in
 * `constrained_forest_on_graph.ts`.
 *
 * @module
 */
import { DisjointSets } from "../forest/spanning_forest.ts";
import {
  insertionTree,
  numberBlocks,
  spanBlock,
  type TreeBuffers,
  type Work,
} from "./_cluster_trees.ts";

/** Upper bound on the merge/split moves of {@link mergeSplitMoves}, per cluster. */
const MERGE_SPLIT_MOVES_PER_CLUSTER = 4;
/** Candidate merges tried per move when the best-looking one does not pay off. */
const MERGE_SPLIT_TRIES = 3;

/** A partition's clusters spanned by their maximum spanning trees, with removable edges. */
interface SpannedPartition {
  readonly blockOf: Int32Array;
  readonly members: number[][];
  readonly orders: number[][];
  readonly treeSum: Float64Array;
  readonly anchored: Uint8Array;
  /** Per cluster: the lightest tree edge that splits no terminal group (−1: none). */
  readonly cutPoint: Int32Array;
  readonly cutWeight: Float64Array;
  readonly value: number;
}

function spanPartition(
  data: Float64Array,
  n: number,
  sets: DisjointSets,
  group: Int32Array,
  terminal: Uint8Array,
  trees: TreeBuffers,
  inside: Int32Array,
): SpannedPartition {
  const { parent, parentWeight } = trees;
  const blockOf = new Int32Array(n);
  const members = numberBlocks(n, sets, blockOf, new Int32Array(n));
  const k = members.length, orders: number[][] = [], treeSum = new Float64Array(k);
  const anchored = new Uint8Array(k), cutPoint = new Int32Array(k).fill(-1);
  const cutWeight = new Float64Array(k).fill(Infinity);
  let value = 0;
  for (let b = 0; b < k; b++) {
    const ord: number[] = [];
    treeSum[b] = spanBlock(data, n, members[b], ord, trees);
    value += treeSum[b];
    orders.push(ord);
    // Terminal points below each tree edge: the edge is removable iff none or all are below.
    for (const p of ord) inside[p] = terminal[group[p]];
    for (let t = ord.length - 1; t > 0; t--) inside[parent[ord[t]]] += inside[ord[t]];
    const total = inside[ord[0]];
    anchored[b] = total > 0 ? 1 : 0;
    for (let t = 1; t < ord.length; t++) {
      const y = ord[t];
      if ((inside[y] === 0 || inside[y] === total) && parentWeight[y] < cutWeight[b]) {
        cutWeight[b] = parentWeight[y];
        cutPoint[b] = y;
      }
    }
  }
  return { blockOf, members, orders, treeSum, anchored, cutPoint, cutWeight, value };
}

/**
 * Merge/split moves on a feasible partition (label-derived shape: the only multi-point groups are
 * the pairwise cannot-linked terminal groups, at most one per cluster): join a cluster without
 * terminal points to another cluster, re-span, and cut the lightest tree edge that splits no
 * terminal group — kept when the value strictly rises. The number of clusters and feasibility are
 * preserved. This recovers what "run Kruskal past k, then prune back" finds when clusters of
 * unlabelled points exist, including unlabelled points that bridge the parts of a class.
 * Candidates are ranked by an estimate (a singleton's exact insertion gain by
 * {@link insertionTree}, or a cluster's heaviest connecting edge, minus the lightest removable
 * edge elsewhere) and each tried move is checked exactly. Nothing runs when every cluster holds
 * terminal points (e.g. k = number of classes).
 */
export function mergeSplitMoves(
  data: Float64Array,
  n: number,
  k: number,
  start: DisjointSets,
  group: Int32Array,
  terminal: Uint8Array,
  trees: TreeBuffers,
  work: Work,
): DisjointSets {
  const { parent, parentWeight } = trees;
  let sets = start;
  const inside = new Int32Array(n), mv = new Float64Array(n), mTo = new Int32Array(n);
  const span = (s: DisjointSets) => {
    const spanned = spanPartition(data, n, s, group, terminal, trees, inside);
    for (const ms of spanned.members) work.left -= ms.length * ms.length;
    return spanned;
  };
  let current = span(sets);
  for (let move = 0; move < MERGE_SPLIT_MOVES_PER_CLUSTER * k; move++) {
    if (current.anchored.every((a) => a === 1) || work.left <= 0) return sets;
    const { blockOf, members, orders, treeSum, anchored, cutWeight } = current;
    // Lightest and second-lightest removable edges, to exclude one cluster cheaply.
    let cut1 = -1, cut2 = -1;
    for (let b = 0; b < k; b++) {
      if (cut1 === -1 || cutWeight[b] < cutWeight[cut1]) {
        cut2 = cut1;
        cut1 = b;
      } else if (cut2 === -1 || cutWeight[b] < cutWeight[cut2]) cut2 = b;
    }
    const cutWithout = (b: number) => (b === cut1 ? cutWeight[cut2] : cutWeight[cut1]);
    const candidates: { gain: number; a: number; b: number }[] = [];
    for (let a = 0; a < k; a++) {
      if (anchored[a]) continue;
      if (members[a].length === 1) {
        const u = members[a][0];
        for (let b = 0; b < k; b++) {
          if (b === a) continue;
          work.left -= orders[b].length;
          const sum = insertionTree(
            data,
            n,
            u,
            orders[b],
            parent,
            parentWeight,
            mv,
            mTo,
            null,
            null,
          );
          candidates.push({ gain: sum - treeSum[b] - cutWithout(a), a, b });
        }
        continue;
      }
      const link = new Float64Array(k).fill(-Infinity);
      for (const i of members[a]) {
        const row = i * n;
        work.left -= n;
        for (let j = 0; j < n; j++) {
          const w = data[row + j], b = blockOf[j];
          if (w > link[b]) link[b] = w;
        }
      }
      for (let b = 0; b < k; b++) {
        if (b !== a) candidates.push({ gain: link[b] - cutWithout(a), a, b });
      }
    }
    candidates.sort((p, q) => q.gain - p.gain || p.a - q.a || p.b - q.b);
    let improved = false;
    for (let t = 0; t < Math.min(MERGE_SPLIT_TRIES, candidates.length); t++) {
      if (!(candidates[t].gain > 0)) break;
      const { a, b } = candidates[t];
      // Merge a into b, re-span, then cut the lightest removable edge.
      const merged = new DisjointSets(n);
      for (let i = 0; i < n; i++) {
        const c = blockOf[i] === a ? b : blockOf[i];
        merged.union(i, members[c][0]);
      }
      const joined = span(merged);
      let cutBlock = -1;
      for (let c = 0; c < joined.members.length; c++) {
        if (
          joined.cutPoint[c] !== -1 &&
          (cutBlock === -1 || joined.cutWeight[c] < joined.cutWeight[cutBlock])
        ) cutBlock = c;
      }
      if (cutBlock === -1) continue;
      const value = joined.value - joined.cutWeight[cutBlock];
      const eps = 1e-12 * (n + 1) * (Math.abs(value) + Math.abs(current.value));
      if (!(value > current.value + eps)) continue;
      const next = new DisjointSets(n), y = joined.cutPoint[cutBlock];
      for (const ord of joined.orders) {
        for (let s = 1; s < ord.length; s++) {
          if (ord[s] !== y) next.union(ord[s], parent[ord[s]]);
        }
      }
      // `parent` now holds the joined partition's trees: rebuild from the cut forest.
      sets = next;
      current = span(sets);
      improved = true;
      break;
    }
    if (!improved) return sets;
  }
  return sets;
}
