/**
 * Internal (not re-exported by `mod.ts`): the constrained solver of Definition 5 for
 * label-derived M_Ω — every constraint matrix whose conflicting must-link groups form a clique —
 * in O(n²) per Σ without sorting the n² pairs. `constrained_forest.ts` uses it for such inputs,
 * and the partial Fenchel–Young loss (`../losses/fy_loss.ts`) calls it directly on each perturbed
 * Σ, writing the edges into a reused buffer.
 *
 * Its phases (see {@link LabelForestSolver}): the contracted greedy ({@link contractedPrim},
 * here), then the improvement moves — point moves in `_point_moves.ts`, merge/split moves in
 * `_merge_split_moves.ts` — on the trees of `_cluster_trees.ts`.
 *
 * The rest of Definitions 4–5: M_Ω in `constraint_types.ts` (Definition 4), its must-link groups
 * and the feasibility checks in `_constraint_groups.ts`, the dense solvers and the exact oracle in
 * `constrained_forest.ts`, the graph solver in `constrained_forest_on_graph.ts`.
 *
 * @module
 */
import type { GroupStructure } from "./_constraint_groups.ts";
import { type PrimWork, primWork, relaxAndSelect, removeEntry } from "../forest/_max_forest.ts";
import { DisjointSets } from "../forest/spanning_forest.ts";
import { moveBudget, type TreeBuffers, treeBuffers, type Work } from "./_cluster_trees.ts";
import { mergeSplitMoves } from "./_merge_split_moves.ts";
import { type MovesWork, movesWork, pointMoves } from "./_point_moves.ts";

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
 * 3. Local search (`_point_moves.ts`): move a free singleton point that is a leaf of its
 *    cluster's tree to another cluster when that strictly raises the value. Removing a leaf u
 *    from a maximum spanning tree leaves a maximum spanning tree of the rest (u's only edge is its
 *    heaviest one), so the loss is that edge's weight; the gain of inserting u into a tree Y is
 *    computed exactly in O(|Y|) by the vertex-insertion recurrence of Chin & Houck (1978): a
 *    post-order pass that, for each tree edge, keeps the heavier of it and the best edge from its
 *    subtree towards u (`_cluster_trees.ts`). One sweep costs O(#free points · n); later sweeps
 *    re-examine only clusters that changed. When clusters without labelled points exist, rounds
 *    of merge/split moves (`_merge_split_moves.ts`) alternate with the point moves.
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
  readonly #trees: TreeBuffers;
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
    this.#trees = treeBuffers(n);
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
    const work: Work = moveBudget(n);
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
          this.#trees,
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
