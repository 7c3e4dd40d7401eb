/**
 * Internal (not re-exported by `mod.ts`): the constrained solver of Definition 5 for
 * label-derived M_Ω — every constraint matrix whose conflicting must-link groups form a clique —
 * in O(n²) per Σ without sorting the n² pairs. `constraints.ts` uses it for such inputs, and the
 * partial Fenchel–Young loss calls it directly on each perturbed Σ, writing the edges into a
 * reused buffer.
 *
 * @module
 */
import type { GroupStructure } from "./_constraint_groups.ts";
import { type PrimWork, primWork, relaxAndSelect, removeEntry } from "../forest/_max_forest.ts";
import { DisjointSets } from "../forest/spanning_forest.ts";

/**
 * The groups that carry a cannot-link, when they are pairwise cannot-linked (a clique of the
 * conflict graph: every label-derived M_Ω has this shape, the labelled classes being the clique);
 * null otherwise. The returned flags mark the clique's groups. Cached per group structure.
 *
 * @param s The group structure.
 * @returns One flag per group, or null.
 */
export function terminalClique(s: GroupStructure): Uint8Array | null {
  if (terminalOf.has(s)) return terminalOf.get(s)!;
  const terminal = computeTerminalClique(s);
  terminalOf.set(s, terminal);
  return terminal;
}

const terminalOf = new WeakMap<GroupStructure, Uint8Array | null>();

function computeTerminalClique(s: GroupStructure): Uint8Array | null {
  const m = s.groups, terminal = new Uint8Array(m);
  const members: number[] = [];
  for (let g = 0; g < m; g++) {
    for (let h = 0; h < m; h++) {
      if (s.conflict[g * m + h]) {
        terminal[g] = 1;
        members.push(g);
        break;
      }
    }
  }
  for (const g of members) {
    for (const h of members) if (g !== h && !s.conflict[g * m + h]) return null;
  }
  return terminal;
}

/**
 * Prim over groups of points ("contracted" nodes): the nodes are given as a CSR list of member
 * points; the weight between two nodes is the largest Σ between their members. The first node is
 * the root. Writes, for every other node in the order it joins, the edge (from, to, weight) that
 * attaches it. Same layout as the unconstrained Prim: the points outside the tree are kept in
 * increasing order in a compact list with their keys, so each joining point's row is read only
 * at the points that still matter (about n²/2 reads in all).
 */
function contractedPrim(
  data: Float64Array,
  n: number,
  nodeStart: Int32Array,
  nodePoints: Int32Array,
  nodeOf: Int32Array,
  edgeFrom: Int32Array,
  edgeTo: Int32Array,
  edgeWeight: Float64Array,
  work: PrimWork,
): void {
  const nodes = nodeStart.length - 1;
  const { rest, key, from } = work;
  let size = 0;
  for (let i = 0; i < n; i++) {
    if (nodeOf[i] === 0) continue;
    rest[size] = i;
    key[size] = -Infinity;
    from[size] = nodePoints[0]; // any point of the root: keeps edges valid on unchecked NaN input
    size++;
  }
  let node = 0;
  for (let step = 0; step < nodes - 1; step++) {
    const lo = nodeStart[node], hi = nodeStart[node + 1];
    let next = 0;
    for (let t = lo; t < hi; t++) {
      const v = nodePoints[t], row = v * n;
      if (t < hi - 1) {
        for (let p = 0; p < size; p++) {
          const w = data[row + rest[p]];
          if (w > key[p]) {
            key[p] = w;
            from[p] = v;
          }
        }
        continue;
      }
      // Last member: update and select in the same pass.
      next = relaxAndSelect(data, row, v, work, size);
    }
    const u = rest[next];
    edgeFrom[step] = from[next];
    edgeTo[step] = u;
    edgeWeight[step] = key[next];
    node = nodeOf[u];
    // The joining node leaves the list: one block move for a single point, a filter otherwise.
    if (nodeStart[node + 1] - nodeStart[node] === 1) {
      removeEntry(work, next, size--);
      continue;
    }
    let kept = 0;
    for (let p = 0; p < size; p++) {
      if (nodeOf[rest[p]] === node) continue;
      rest[kept] = rest[p];
      key[kept] = key[p];
      from[kept] = from[p];
      kept++;
    }
    size = kept;
  }
}

/**
 * Maximum spanning tree of the points `members` (dense Prim over the gathered submatrix). Writes
 * the points in the order they join (`order`, root first), and for each point its tree parent
 * (−1 for the root) and the weight of the edge to it. Returns the sum of the edge weights.
 */
function spanBlock(
  data: Float64Array,
  n: number,
  members: readonly number[],
  order: number[],
  parent: Int32Array,
  parentWeight: Float64Array,
  best: Float64Array,
  bestFrom: Int32Array,
): number {
  const size = members.length;
  order.length = 0;
  if (size === 0) return 0;
  for (let a = 0; a < size; a++) best[a] = -Infinity;
  let v = 0, sum = 0;
  best[0] = NaN;
  order.push(members[0]);
  parent[members[0]] = -1;
  parentWeight[members[0]] = 0;
  for (let step = 1; step < size; step++) {
    const row = members[v] * n;
    let next = -1, nextKey = -Infinity;
    for (let a = 0; a < size; a++) {
      const w = data[row + members[a]];
      let b = best[a];
      if (w > b) {
        best[a] = b = w;
        bestFrom[a] = v;
      }
      if (b > nextKey) {
        nextKey = b;
        next = a;
      }
    }
    if (next === -1) {
      next = 0;
      while (best[next] !== best[next]) next++;
      nextKey = best[next];
    }
    best[next] = NaN;
    const p = members[next];
    order.push(p);
    parent[p] = members[bestFrom[next]];
    parentWeight[p] = nextKey;
    sum += nextKey;
    v = next;
  }
  return sum;
}

/** Upper bound on the sweeps of the leaf-move local search of {@link LabelForestSolver}. */
const LEAF_MOVE_SWEEPS = 10;

/**
 * Definition 5 for constraints whose conflicting groups form a clique T (all label-derived M_Ω),
 * in O(n²) time without sorting the n² pairs:
 *
 * 1. The reference greedy (Kruskal with must-link pairs first, cannot-link merges rejected) in
 *    contracted form. Must-link pairs first span every must-link group; with T a clique, two
 *    components conflict iff both hold a group of T, so the rejection rule is exactly "no cycle"
 *    once all of T is identified into one node: Kruskal with rejection = Kruskal on the graph
 *    whose nodes are {∪T} and the free groups (node weight = largest Σ between members). Its
 *    component count is always the original count − (|T| − 1), so stopping at k components is
 *    taking the heaviest (#nodes − k + |T| − 1) edges of that graph's maximum spanning tree —
 *    found by one dense Prim over the points ({@link contractedPrim}), n² reads.
 * 2. Each resulting cluster is re-spanned by its own maximum spanning tree (never worse).
 * 3. Local search: move a free singleton point that is a leaf of its cluster's tree to another
 *    cluster when that strictly raises the value. Removing a leaf u from a maximum spanning tree
 *    leaves a maximum spanning tree of the rest (u's only edge is its heaviest one), so the loss
 *    is that edge's weight; the gain of inserting u into a tree Y is computed exactly in O(|Y|)
 *    by the vertex-insertion recurrence of Chin & Houck (1978): a post-order pass that, for each
 *    tree edge, keeps the heavier of it and the best edge from its subtree towards u. One sweep
 *    costs O(#free points · n); later sweeps re-examine only clusters that changed.
 *
 * Everything that depends only on (M_Ω, k) — the groups' members, the contracted nodes, the
 * movable points — is computed once by the constructor, and the work buffers are kept, so that a
 * Monte-Carlo estimate solving the same constraints for many perturbed Σ does not redo it.
 */
export class LabelForestSolver {
  /** Number of points. */
  readonly n: number;
  /** Number of clusters. */
  readonly k: number;
  readonly #s: GroupStructure;
  readonly #terminal: Uint8Array;
  /** Members of each group of two points or more. */
  readonly #multiGroups: number[][];
  /** Contracted nodes: node 0 = all terminal groups together (if any), then each free group. */
  readonly #nodeOf: Int32Array;
  readonly #nodeStart: Int32Array;
  readonly #nodePoints: Int32Array;
  /** Number of heaviest contracted-tree edges that phase 1 keeps. */
  readonly #take: number;
  /** Whether merge/split moves can apply (clusters without terminal points exist). */
  readonly #mergeSplit: boolean;
  // Work buffers, overwritten by every solve.
  readonly #parent: Int32Array;
  readonly #parentWeight: Float64Array;
  readonly #best: Float64Array;
  readonly #bestFrom: Int32Array;
  readonly #edgeFrom: Int32Array;
  readonly #edgeTo: Int32Array;
  readonly #edgeWeight: Float64Array;
  readonly #byWeight: Int32Array;
  readonly #prim: PrimWork;
  /** The free singleton points, which the local search may move. */
  readonly #movable: Int32Array;
  readonly #moves: MovesWork;

  /**
   * Prepares the solver.
   *
   * @param s Group structure of M_Ω; its conflicting groups must form a clique.
   * @param terminal The clique's groups ({@link terminalClique}).
   * @param k Number of clusters, feasible for `s` (checked by the caller).
   */
  constructor(s: GroupStructure, terminal: Uint8Array, k: number) {
    const n = s.group.length, m = s.groups, group = s.group;
    this.n = n;
    this.k = k;
    this.#s = s;
    this.#terminal = terminal;
    // Members of each group (counting sort by group id).
    const groupStart = new Int32Array(m + 1), groupPoints = new Int32Array(n);
    for (let i = 0; i < n; i++) groupStart[group[i] + 1]++;
    for (let g = 0; g < m; g++) groupStart[g + 1] += groupStart[g];
    {
      const fill = groupStart.slice(0, m);
      for (let i = 0; i < n; i++) groupPoints[fill[group[i]]++] = i;
    }
    let terminals = 0;
    for (let g = 0; g < m; g++) terminals += terminal[g];
    const nodes = m - terminals + (terminals > 0 ? 1 : 0);
    const nodeOf = new Int32Array(n), nodeStart = new Int32Array(nodes + 1);
    const nodePoints = new Int32Array(n);
    {
      const nodeOfGroup = new Int32Array(m);
      let next = terminals > 0 ? 1 : 0;
      for (let g = 0; g < m; g++) nodeOfGroup[g] = terminal[g] ? 0 : next++;
      for (let i = 0; i < n; i++) nodeOf[i] = nodeOfGroup[group[i]];
      for (let i = 0; i < n; i++) nodeStart[nodeOf[i] + 1]++;
      for (let c = 0; c < nodes; c++) nodeStart[c + 1] += nodeStart[c];
      const fill = nodeStart.slice(0, nodes);
      for (let i = 0; i < n; i++) nodePoints[fill[nodeOf[i]]++] = i;
    }
    let allFreeSingletons = true;
    for (let g = 0; g < m; g++) {
      if (!terminal[g] && groupStart[g + 1] - groupStart[g] > 1) allFreeSingletons = false;
    }
    this.#multiGroups = [];
    for (let g = 0; g < m; g++) {
      if (groupStart[g + 1] - groupStart[g] < 2) continue;
      this.#multiGroups.push([...groupPoints.subarray(groupStart[g], groupStart[g + 1])]);
    }
    this.#nodeOf = nodeOf;
    this.#nodeStart = nodeStart;
    this.#nodePoints = nodePoints;
    this.#take = nodes - (terminals > 0 ? k - terminals + 1 : k);
    // Clusters without terminal points exist iff k > |T| (each terminal group anchors its own).
    this.#mergeSplit = terminals > 0 && allFreeSingletons && k > terminals;
    this.#parent = new Int32Array(n);
    this.#parentWeight = new Float64Array(n);
    this.#best = new Float64Array(n);
    this.#bestFrom = new Int32Array(n);
    this.#edgeFrom = new Int32Array(nodes);
    this.#edgeTo = new Int32Array(nodes);
    this.#edgeWeight = new Float64Array(nodes);
    this.#byWeight = new Int32Array(Math.max(0, nodes - 1));
    this.#prim = primWork(n);
    const movable: number[] = [];
    for (let g = 0; g < m; g++) {
      if (!terminal[g] && groupStart[g + 1] - groupStart[g] === 1) {
        movable.push(groupPoints[groupStart[g]]);
      }
    }
    this.#movable = Int32Array.from(movable);
    this.#moves = movesWork(n);
  }

  /**
   * Solves for one Σ: writes the n − k edges of the forest, as pairs (i, j) with i < j, into
   * `edges[0 .. 2(n − k))`.
   *
   * @param data Σ, n × n row-major, symmetric and finite (not checked).
   * @param edges Output buffer of length ≥ 2(n − k) (mutated).
   */
  solve(data: Float64Array, edges: Int32Array): void {
    const n = this.n, k = this.k, group = this.#s.group, terminal = this.#terminal;
    const parent = this.#parent, parentWeight = this.#parentWeight;
    const best = this.#best, bestFrom = this.#bestFrom;
    // Phase 1: join the points of each must-link group, then join along the contracted tree's
    // heaviest edges. Only the partition is kept: phase 2 re-spans every cluster anyway.
    const sets = new DisjointSets(n);
    for (const members of this.#multiGroups) {
      for (let t = 1; t < members.length; t++) sets.union(members[0], members[t]);
    }
    const edgeFrom = this.#edgeFrom, edgeTo = this.#edgeTo, edgeWeight = this.#edgeWeight;
    contractedPrim(
      data,
      n,
      this.#nodeStart,
      this.#nodePoints,
      this.#nodeOf,
      edgeFrom,
      edgeTo,
      edgeWeight,
      this.#prim,
    );
    const byWeight = this.#byWeight;
    for (let t = 0; t < byWeight.length; t++) byWeight[t] = t;
    byWeight.sort((a, b) => edgeWeight[b] - edgeWeight[a] || a - b);
    for (let t = 0; t < this.#take; t++) sets.union(edgeFrom[byWeight[t]], edgeTo[byWeight[t]]);
    // Phases 2 and 3: re-span each cluster and improve by moves.
    const work: Work = { left: Math.max(MIN_MOVE_WORK, MOVE_WORK_PER_ENTRY * n * n) };
    let partition = sets;
    for (let round = 0;; round++) {
      if (this.#mergeSplit) {
        partition = mergeSplitMoves(
          data,
          n,
          k,
          partition,
          group,
          terminal,
          parent,
          parentWeight,
          best,
          bestFrom,
          work,
        );
      }
      const moved = pointMoves(data, n, partition, this.#movable, this.#moves, work, edges);
      // Point moves can open new merge/split moves (and back): alternate while both progress.
      if (!moved || !this.#mergeSplit || round + 1 >= MOVE_ROUNDS || work.left <= 0) return;
      partition = new DisjointSets(n);
      for (let t = 0; t < n - k; t++) partition.union(edges[2 * t], edges[2 * t + 1]);
    }
  }
}

const solverCache = new WeakMap<GroupStructure, Map<number, LabelForestSolver>>();

/**
 * The {@link LabelForestSolver} for (s, k), built on first use and then kept as long as `s` is
 * (group structures are themselves cached per constraint matrix).
 *
 * @param s Group structure; its conflicting groups form the clique `terminal`.
 * @param terminal The clique's groups ({@link terminalClique}).
 * @param k Number of clusters, feasible for `s`.
 * @returns The solver.
 */
export function labelForestSolver(
  s: GroupStructure,
  terminal: Uint8Array,
  k: number,
): LabelForestSolver {
  let byK = solverCache.get(s);
  if (byK === undefined) solverCache.set(s, byK = new Map());
  let solver = byK.get(k);
  if (solver === undefined) byK.set(k, solver = new LabelForestSolver(s, terminal, k));
  return solver;
}

/** Upper bound on the alternations of merge/split moves and point moves in {@link LabelForestSolver}. */
const MOVE_ROUNDS = 4;

/**
 * Work budget of the improvement moves, in entries of Σ visited: MOVE_WORK_PER_ENTRY · n², at
 * least MIN_MOVE_WORK. It keeps the constrained solver O(n²) with a small constant however many
 * moves pay off (e.g. labels unrelated to the geometry); small problems are never cut short.
 * Deterministic: the same input always stops at the same point.
 */
interface Work {
  left: number;
}
const MOVE_WORK_PER_ENTRY = 0.1;
const MIN_MOVE_WORK = 2048;

/** Lightest edge of a tree given in root-first order with parent weights (+∞ for one point). */
function lightestTreeEdge(ord: readonly number[], parentWeight: Float64Array): number {
  let lightest = Infinity;
  for (let t = 1; t < ord.length; t++) {
    if (parentWeight[ord[t]] < lightest) lightest = parentWeight[ord[t]];
  }
  return lightest;
}

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
interface MovesWork {
  readonly parent: Int32Array;
  readonly parentWeight: Float64Array;
  readonly best: Float64Array;
  readonly bestFrom: Int32Array;
  readonly blockOf: Int32Array;
  readonly rootBlock: Int32Array;
  readonly degree: Int32Array;
  /** Per cluster: weight sum, sum of |weights| and lightest edge of its tree (+∞: one point). */
  readonly treeSum: Float64Array;
  readonly treeAbs: Float64Array;
  readonly treeMin: Float64Array;
  readonly scratchParent: Int32Array;
  readonly scratchWeight: Float64Array;
  readonly scratchBest: Float64Array;
  readonly scratchFrom: Int32Array;
  readonly changed: readonly [Uint8Array, Uint8Array];
}

function movesWork(n: number): MovesWork {
  return {
    parent: new Int32Array(n),
    parentWeight: new Float64Array(n),
    best: new Float64Array(n),
    bestFrom: new Int32Array(n),
    blockOf: new Int32Array(n),
    rootBlock: new Int32Array(n),
    degree: new Int32Array(n),
    treeSum: new Float64Array(n),
    treeAbs: new Float64Array(n),
    treeMin: new Float64Array(n),
    scratchParent: new Int32Array(n),
    scratchWeight: new Float64Array(n),
    scratchBest: new Float64Array(n),
    scratchFrom: new Int32Array(n),
    changed: [new Uint8Array(n), new Uint8Array(n)],
  };
}

/**
 * Spans each cluster of `partition` by its maximum spanning tree, then moves free singleton points
 * between clusters while that strictly raises the value (see {@link LabelForestSolver}). Writes
 * the final trees' edges as pairs (i < j) into `out` and returns whether any point moved.
 */
function pointMoves(
  data: Float64Array,
  n: number,
  partition: DisjointSets,
  movable: Int32Array,
  buffers: MovesWork,
  work: Work,
  out: Int32Array,
): boolean {
  const { parent, parentWeight, best, bestFrom, blockOf, rootBlock, degree } = buffers;
  const { treeSum, treeAbs, treeMin } = buffers;
  let movedAny = false;
  // Clusters, each re-spanned by its maximum spanning tree.
  degree.fill(0);
  const blockMembers = numberBlocks(n, partition, blockOf, rootBlock);
  const blocks = blockMembers.length; // = k
  const blockOrder: number[][] = [];
  for (let b = 0; b < blocks; b++) {
    const ord: number[] = [];
    treeSum[b] = spanBlock(data, n, blockMembers[b], ord, parent, parentWeight, best, bestFrom);
    treeAbs[b] = 0;
    for (let t = 1; t < ord.length; t++) {
      degree[ord[t]]++;
      degree[parent[ord[t]]]++;
      treeAbs[b] += Math.abs(parentWeight[ord[t]]);
    }
    treeMin[b] = lightestTreeEdge(ord, parentWeight);
    blockOrder.push(ord);
  }

  // Local search: move free singleton points between clusters.
  if (movable.length > 0 && blocks > 1) {
    const keep: number[] = []; // scratch: kept edges of an insertion, as (a, b) pairs
    const keepWeight: number[] = [];
    const rest: number[] = [], restOrder: number[] = [];
    const { scratchParent, scratchWeight, scratchBest, scratchFrom } = buffers;
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
          // Remove the leaf u from its tree.
          if (parent[u] === -1) {
            const child = ordFrom[1];
            parent[child] = -1;
            degree[child]--;
          } else degree[parent[u]]--;
          ordFrom.splice(ordFrom.indexOf(u), 1);
          treeSum[from] -= lightest;
          treeAbs[from] -= Math.abs(lightest);
          treeMin[from] = lightestTreeEdge(ordFrom, parentWeight);
        } else {
          // Internal point: the rest needs its own maximum spanning tree; keep the move only if
          // the exact gain is positive.
          rest.length = 0;
          for (const p of ordFrom) if (p !== u) rest.push(p);
          work.left -= rest.length * rest.length;
          const restSum = spanBlock(
            data,
            n,
            rest,
            restOrder,
            scratchParent,
            scratchWeight,
            scratchBest,
            scratchFrom,
          );
          if (!(restSum - treeSum[from] + bestInsert > eps)) continue;
          treeSum[from] = restSum;
          treeAbs[from] = 0;
          for (const p of ordFrom) degree[p] = 0;
          ordFrom.length = 0;
          for (const p of restOrder) {
            ordFrom.push(p);
            parent[p] = scratchParent[p];
            parentWeight[p] = scratchWeight[p];
            if (parent[p] !== -1) {
              degree[p]++;
              degree[parent[p]]++;
              treeAbs[from] += Math.abs(parentWeight[p]);
            }
          }
          treeMin[from] = lightestTreeEdge(ordFrom, parentWeight);
        }
        // Insert u into the target tree and re-root it.
        const ordTo = blockOrder[bestTo];
        keep.length = 0;
        keepWeight.length = 0;
        const sum = insertionTree(
          data,
          n,
          u,
          ordTo,
          parent,
          parentWeight,
          best,
          bestFrom,
          keep,
          keepWeight,
        );
        treeSum[bestTo] = sum;
        treeAbs[bestTo] = 0;
        for (const w of keepWeight) treeAbs[bestTo] += Math.abs(w);
        ordTo.push(u);
        rootTree(ordTo, keep, keepWeight, parent, parentWeight, degree);
        treeMin[bestTo] = lightestTreeEdge(ordTo, parentWeight);
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

/** Upper bound on the merge/split moves of {@link mergeSplitMoves}, per cluster. */
const MERGE_SPLIT_MOVES_PER_CLUSTER = 4;
/** Candidate merges tried per move when the best-looking one does not pay off. */
const MERGE_SPLIT_TRIES = 3;

/**
 * Numbers the clusters of a partition 0, 1, … in order of their smallest point.
 *
 * @param n Points.
 * @param sets The partition.
 * @param blockOf Filled: point → cluster number.
 * @param rootBlock Scratch (length ≥ n), overwritten: set root → cluster number, −1 elsewhere.
 * @returns Each cluster's points, increasing.
 */
function numberBlocks(
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
  parent: Int32Array,
  parentWeight: Float64Array,
  best: Float64Array,
  bestFrom: Int32Array,
  inside: Int32Array,
): SpannedPartition {
  const blockOf = new Int32Array(n);
  const members = numberBlocks(n, sets, blockOf, new Int32Array(n));
  const k = members.length, orders: number[][] = [], treeSum = new Float64Array(k);
  const anchored = new Uint8Array(k), cutPoint = new Int32Array(k).fill(-1);
  const cutWeight = new Float64Array(k).fill(Infinity);
  let value = 0;
  for (let b = 0; b < k; b++) {
    const ord: number[] = [];
    treeSum[b] = spanBlock(data, n, members[b], ord, parent, parentWeight, best, bestFrom);
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
function mergeSplitMoves(
  data: Float64Array,
  n: number,
  k: number,
  start: DisjointSets,
  group: Int32Array,
  terminal: Uint8Array,
  parent: Int32Array,
  parentWeight: Float64Array,
  best: Float64Array,
  bestFrom: Int32Array,
  work: Work,
): DisjointSets {
  let sets = start;
  const inside = new Int32Array(n), mv = new Float64Array(n), mTo = new Int32Array(n);
  const span = (s: DisjointSets) => {
    const spanned = spanPartition(
      data,
      n,
      s,
      group,
      terminal,
      parent,
      parentWeight,
      best,
      bestFrom,
      inside,
    );
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

/**
 * Weight of the maximum spanning tree of a tree (points `ord` in an order where every parent
 * precedes its children, root first) plus a new point u joined to all of them, in O(|ord|)
 * (Chin & Houck's vertex insertion). `mv`/`mFrom`/`mTo` hold, per point, the best edge leaving
 * its processed subtree towards u. When `keep` is given, the kept edges are appended to it.
 */
function insertionTree(
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
function rootTree(
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
