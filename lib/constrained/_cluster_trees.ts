/**
 * Internal (not re-exported by `mod.ts`): maximum spanning trees of clusters and their exact
 * edits, the toolbox of the label-derived solver of Definition 5 (`_label_forest.ts`) and its
 * improvement moves (`_point_moves.ts`, `_merge_split_moves.ts`).
 *
 * Definition 5 asks for the best partition into k clusters that respects M_Ω, each cluster
 * spanned by its maximum spanning tree; these are the tree operations its moves need: span a
 * cluster ({@link spanBlock}), insert one point into a spanned cluster exactly in O(|cluster|)
 * (Chin & Houck's vertex insertion, {@link insertionTree}), re-root a tree given by its edges
 * ({@link rootTree}), and the work budget every move draws from ({@link moveBudget}).
 *
 * The rest of Definitions 4–5: the constraint type M_Ω and its builders in
 * `constraint_types.ts` (Definition 4), the must-link groups and feasibility checks in
 * `_constraint_groups.ts`, the dense solvers in `constrained_forest.ts`, the graph solver in
 * `constrained_forest_on_graph.ts`.
 *
 * @module
 */
import type { DisjointSets } from "../forest/spanning_forest.ts";
import { type PrimWork, primWork, relaxAndSelect, removeEntry } from "../forest/_max_forest.ts";

/** Per-point arrays of spanned trees: each point's parent and edge weight, and scratch. */
export interface TreeBuffers {
  /** Tree parent of each point (−1 for a root). */
  readonly parent: Int32Array;
  /** Weight of the edge from each point to its parent. */
  readonly parentWeight: Float64Array;
  /** Scratch of {@link insertionTree} (its `mv` and `mTo`), indexed by point. */
  readonly best: Float64Array;
  readonly bestFrom: Int32Array;
  /** The Prim list of {@link spanBlock}. */
  readonly prim: PrimWork;
}

/**
 * Allocates {@link TreeBuffers} for n points.
 *
 * @param n Number of points.
 * @returns Fresh buffers.
 */
export function treeBuffers(n: number): TreeBuffers {
  return {
    parent: new Int32Array(n),
    parentWeight: new Float64Array(n),
    best: new Float64Array(n),
    bestFrom: new Int32Array(n),
    prim: primWork(n),
  };
}

/**
 * Maximum spanning tree of the points `members` by dense Prim over their rows, with the list of
 * the unconstrained solver (`relaxAndSelect`: ties to the earliest member). Writes the points in
 * the order they join (`order`, root first), and for each point its tree parent (−1 for the
 * root) and the weight of the edge to it into `trees`. Returns the sum of the edge weights.
 */
export function spanBlock(
  data: Float64Array,
  n: number,
  members: readonly number[],
  order: number[],
  trees: TreeBuffers,
): number {
  const { parent, parentWeight, prim } = trees, { rest, key, from } = prim;
  let size = members.length - 1, sum = 0;
  order.length = 0;
  if (size === -1) return 0;
  const root = members[0];
  for (let a = 0; a < size; a++) {
    rest[a] = members[a + 1];
    key[a] = -Infinity;
    from[a] = root;
  }
  order.push(root);
  parent[root] = -1;
  parentWeight[root] = 0;
  for (let v = root; size > 0;) {
    const next = relaxAndSelect(data, v * n, v, prim, size);
    v = rest[next];
    order.push(v);
    parent[v] = from[next];
    parentWeight[v] = key[next];
    sum += key[next];
    removeEntry(prim, next, size--);
  }
  return sum;
}

/**
 * Work budget of the improvement moves, in entries of Σ visited: MOVE_WORK_PER_ENTRY · n², at
 * least MIN_MOVE_WORK. It keeps the constrained solver O(n²) with a small constant however many
 * moves pay off (e.g. labels unrelated to the geometry); small problems are never cut short.
 * Deterministic: the same input always stops at the same point.
 */
export interface Work {
  /** Entries of Σ that the moves may still visit; they stop once it is ≤ 0. */
  left: number;
}
const MOVE_WORK_PER_ENTRY = 0.1;
const MIN_MOVE_WORK = 2048;

/**
 * A fresh {@link Work} budget for n points: MOVE_WORK_PER_ENTRY · n², at least MIN_MOVE_WORK.
 *
 * @param n Number of points.
 * @returns The budget.
 */
export function moveBudget(n: number): Work {
  return { left: Math.max(MIN_MOVE_WORK, MOVE_WORK_PER_ENTRY * n * n) };
}

/** Lightest edge of a tree given in root-first order with parent weights (+∞ for one point). */
export function lightestTreeEdge(ord: readonly number[], parentWeight: Float64Array): number {
  let lightest = Infinity;
  for (let t = 1; t < ord.length; t++) {
    if (parentWeight[ord[t]] < lightest) lightest = parentWeight[ord[t]];
  }
  return lightest;
}

/**
 * Numbers the clusters of a partition 0, 1, … in order of their smallest point.
 *
 * @param n Points.
 * @param sets The partition.
 * @param blockOf Filled: point → cluster number.
 * @param rootBlock Scratch (length ≥ n), overwritten: set root → cluster number, −1 elsewhere.
 * @returns Each cluster's points, increasing.
 */
export function numberBlocks(
  n: number,
  sets: DisjointSets,
  blockOf: Int32Array,
  rootBlock: Int32Array,
): number[][] {
  rootBlock.fill(-1);
  const members: number[][] = [];
  for (let i = 0; i < n; i++) {
    const r = sets.find(i);
    if (rootBlock[r] === -1) {
      rootBlock[r] = members.length;
      members.push([]);
    }
    blockOf[i] = rootBlock[r];
    members[rootBlock[r]].push(i);
  }
  return members;
}

/**
 * Weight of the maximum spanning tree of a tree (points `ord` in an order where every parent
 * precedes its children, root first) plus a new point u joined to all of them, in O(|ord|)
 * (Chin & Houck's vertex insertion). `mv`/`mFrom`/`mTo` hold, per point, the best edge leaving
 * its processed subtree towards u. When `keep` is given, the kept edges are appended to it.
 */
export function insertionTree(
  data: Float64Array,
  n: number,
  u: number,
  ord: readonly number[],
  parent: Int32Array,
  parentWeight: Float64Array,
  mv: Float64Array,
  mTo: Int32Array,
  keep: number[] | null,
  keepWeight: number[] | null,
): number {
  const row = u * n, size = ord.length;
  // Candidate edge of point y: (u, mTo[y]) when mTo[y] >= 0, else the tree edge (−mTo[y]−1, parent).
  for (let t = 0; t < size; t++) {
    const y = ord[t];
    mv[y] = data[row + y];
    mTo[y] = y;
  }
  let sum = 0;
  for (let t = size - 1; t > 0; t--) {
    const y = ord[t], p = parent[y], tw = parentWeight[y], cand = mv[y];
    if (cand > tw) {
      sum += cand;
      if (keep) pushEdge(keep, keepWeight!, u, mTo[y], parent, cand);
      if (tw > mv[p]) {
        mv[p] = tw;
        mTo[p] = -y - 1;
      }
    } else {
      sum += tw;
      if (keep) {
        keep.push(y, p);
        keepWeight!.push(tw);
      }
      if (cand > mv[p]) {
        mv[p] = cand;
        mTo[p] = mTo[y];
      }
    }
  }
  const root = ord[0];
  sum += mv[root];
  if (keep) pushEdge(keep, keepWeight!, u, mTo[root], parent, mv[root]);
  return sum;
}

/** Appends the candidate edge encoded in `code` (see {@link insertionTree}). */
function pushEdge(
  keep: number[],
  keepWeight: number[],
  u: number,
  code: number,
  parent: Int32Array,
  w: number,
): void {
  if (code >= 0) keep.push(u, code);
  else keep.push(-code - 1, parent[-code - 1]);
  keepWeight.push(w);
}

/**
 * Re-roots a tree given by its edge list at `ord[0]`: rewrites `ord` in breadth-first order and
 * the parent pointers, edge weights and degrees of its points.
 */
export function rootTree(
  ord: number[],
  edges: readonly number[],
  weights: readonly number[],
  parent: Int32Array,
  parentWeight: Float64Array,
  degree: Int32Array,
): void {
  const adjacency = new Map<number, number[]>();
  for (const p of ord) {
    adjacency.set(p, []);
    degree[p] = 0;
  }
  for (let e = 0; e < weights.length; e++) {
    const a = edges[2 * e], b = edges[2 * e + 1];
    adjacency.get(a)!.push(b, e);
    adjacency.get(b)!.push(a, e);
    degree[a]++;
    degree[b]++;
  }
  const root = ord[0];
  parent[root] = -1;
  parentWeight[root] = 0;
  ord.length = 0;
  ord.push(root);
  for (let q = 0; q < ord.length; q++) {
    const a = ord[q], list = adjacency.get(a)!;
    for (let t = 0; t < list.length; t += 2) {
      const b = list[t];
      if (b === parent[a]) continue;
      parent[b] = a;
      parentWeight[b] = weights[list[t + 1]];
      ord.push(b);
    }
  }
}
