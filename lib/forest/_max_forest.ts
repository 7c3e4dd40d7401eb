/**
 * Internal (not re-exported by `mod.ts`): the dense Prim behind every unconstrained solve, and an
 * allocation-free entry point that writes the edges of A*_k(Σ) into a reused buffer, for the
 * Monte-Carlo loops that solve one perturbed Σ per sample and only need the edges.
 *
 * @module
 */

/** Work arrays of the dense Prim loops: the points outside the tree, their keys and sources. */
export interface PrimWork {
  /** Points outside the tree, in increasing order. */
  readonly rest: Int32Array;
  /** Best similarity from the tree to each listed point. */
  readonly key: Float64Array;
  /** Tree point that achieves the key. */
  readonly from: Int32Array;
}

/**
 * Allocates {@link PrimWork} for n points.
 *
 * @param n Number of points.
 * @returns Fresh work arrays.
 */
export function primWork(n: number): PrimWork {
  return { rest: new Int32Array(n), key: new Float64Array(n), from: new Int32Array(n) };
}

/**
 * Dense Prim for a maximum spanning tree. For every vertex v ≠ 0 writes its tree parent and the
 * weight of edge (v, parent[v]). O(n²) time, no allocation besides `work` when not given.
 *
 * Why it runs near the memory floor: the vertices outside the tree are kept in increasing order in
 * a compact list, together with their keys, so step t reads only the entries of row v that still
 * matter (about n²/2 reads in all, in increasing addresses) and the keys contiguously. The vertex
 * that joins is not removed at once: its key becomes NaN, which both comparisons of the loop
 * skip, and the list is compacted (one stable filter) once a sixteenth of it is dead, which costs
 * O(1) moves per step instead of a block move of half the list (about 20–30 % faster than that
 * at n = 256..4096). Ties are broken towards the smaller vertex index (the live entries stay in
 * index order and are scanned with a strict `>`), so the result is deterministic.
 *
 * @param data Σ, n × n row-major (not checked).
 * @param n Number of points, ≥ 1.
 * @param parent Output: tree parent of each vertex (−1 for vertex 0).
 * @param weight Output: weight of the edge to the parent (entry 0 unused).
 * @param work Work arrays for n points.
 */
export function primMaxSpanningTree(
  data: Float64Array,
  n: number,
  parent: Int32Array,
  weight: Float64Array,
  work: PrimWork = primWork(n),
): void {
  const { rest, key, from } = work;
  for (let p = 0; p < n - 1; p++) {
    rest[p] = p + 1;
    key[p] = -Infinity;
    from[p] = 0;
  }
  parent[0] = -1;
  let size = n - 1, dead = 0, v = 0;
  for (let step = 1; step < n; step++) {
    // Relax the listed keys with row v and select the first largest, in one pass: the loop of
    // relaxAndSelect, inlined and unrolled twice (7–10 % faster).
    const row = v * n;
    let next = -1, nextKey = -Infinity, p = 0;
    for (; p + 1 < size; p += 2) {
      const w0 = data[row + rest[p]], w1 = data[row + rest[p + 1]];
      let b0 = key[p], b1 = key[p + 1];
      if (w0 > b0) {
        key[p] = b0 = w0;
        from[p] = v;
      }
      if (w1 > b1) {
        key[p + 1] = b1 = w1;
        from[p + 1] = v;
      }
      if (b0 > nextKey) {
        nextKey = b0;
        next = p;
      }
      if (b1 > nextKey) {
        nextKey = b1;
        next = p + 1;
      }
    }
    if (p < size) {
      const w = data[row + rest[p]];
      let b = key[p];
      if (w > b) {
        key[p] = b = w;
        from[p] = v;
      }
      if (b > nextKey) next = p;
    }
    // No comparable key (−∞ or NaN in an unchecked Σ): the first live point, so that the result
    // is still a spanning tree.
    if (next === -1) { for (next = 0; key[next] !== key[next]; next++); }
    v = rest[next];
    weight[v] = key[next];
    parent[v] = step === 1 ? 0 : from[next];
    key[next] = NaN; // dead: in the tree
    if (++dead * PRIM_DEAD_FRACTION > size) {
      let kept = 0;
      for (let p = 0; p < size; p++) {
        const b = key[p];
        if (b !== b) continue;
        rest[kept] = rest[p];
        key[kept] = b;
        from[kept] = from[p];
        kept++;
      }
      size = kept;
      dead = 0;
    }
  }
}

/** {@link primMaxSpanningTree} compacts its list once more than 1 / this of it is dead. */
const PRIM_DEAD_FRACTION = 16;

/**
 * One Prim step over the list: relaxes the keys of the first `size` listed points with row `row`
 * of Σ (the row of tree point `v`, recorded as their source when it improves them), and returns
 * the index of the largest key — the first one on ties; 0 when no key is comparable (NaN in an
 * unchecked Σ).
 *
 * @param data Σ, row-major.
 * @param row Offset of the joining point's row in `data`.
 * @param v The point recorded in `from` for improved keys.
 * @param work The list (keys and sources are updated).
 * @param size Number of listed points.
 * @returns The list index of the next point to join.
 */
export function relaxAndSelect(
  data: Float64Array,
  row: number,
  v: number,
  work: PrimWork,
  size: number,
): number {
  const { rest, key, from } = work;
  let next = 0, nextKey = -Infinity;
  for (let p = 0; p < size; p++) {
    const w = data[row + rest[p]];
    let b = key[p];
    if (w > b) {
      key[p] = b = w;
      from[p] = v;
    }
    if (b > nextKey) {
      nextKey = b;
      next = p;
    }
  }
  return next;
}

/**
 * Removes entry `at` from the first `size` entries of the Prim list, keeping the order (a plain
 * loop: faster than three `copyWithin` calls on lists this short).
 *
 * @param work The list.
 * @param at Index of the entry to remove.
 * @param size Number of entries before the removal.
 */
export function removeEntry(work: PrimWork, at: number, size: number): void {
  const { rest, key, from } = work;
  for (let p = at; p < size - 1; p++) {
    rest[p] = rest[p + 1];
    key[p] = key[p + 1];
    from[p] = from[p + 1];
  }
}

/** Reusable buffers of {@link maxForestEdges} for one n. */
export interface MaxForestWork {
  /** Number of points. */
  readonly n: number;
  readonly prim: PrimWork;
  readonly parent: Int32Array;
  readonly weight: Float64Array;
  /** The n − 1 tree weights, sorted (to find the k-forest's lightest kept weight). */
  readonly sorted: Float64Array;
}

/**
 * Allocates {@link MaxForestWork} for n points.
 *
 * @param n Number of points, ≥ 1.
 * @returns Fresh buffers.
 */
export function maxForestWork(n: number): MaxForestWork {
  return {
    n,
    prim: primWork(n),
    parent: new Int32Array(n),
    weight: new Float64Array(n),
    sorted: new Float64Array(n - 1),
  };
}

/**
 * The edges of A*_k(Σ) (the same forest as `unsafeMaxSpanningForest(Σ, k)`) written into
 * `edges` as pairs (i, j), i < j, ordered by their vertex in the Prim tree (not by weight).
 *
 * The forest keeps the n − k heaviest edges of the maximum spanning tree, ties at the lightest
 * kept weight going to the smaller vertex, as the hierarchy's (weight ↓, vertex ↑) order does.
 *
 * @param data Σ, n × n row-major, symmetric and finite (not checked).
 * @param k Number of clusters, an integer in [1, n] (not checked).
 * @param work Buffers for n = `work.n` points.
 * @param edges Output of length ≥ 2(n − k) (mutated).
 */
export function maxForestEdges(
  data: Float64Array,
  k: number,
  work: MaxForestWork,
  edges: Int32Array,
): void {
  const { n, parent, weight, sorted } = work;
  const m = n - k;
  if (m === 0) return;
  primMaxSpanningTree(data, n, parent, weight, work.prim);
  sorted.set(weight.subarray(1, n));
  sorted.sort();
  const threshold = sorted[k - 1]; // the m-th largest tree weight
  let ties = m; // how many edges of weight `threshold` are kept
  for (let v = 1; v < n; v++) if (weight[v] > threshold) ties--;
  for (let v = 1, e = 0; v < n; v++) {
    const w = weight[v];
    if (w === threshold && ties > 0) ties--;
    else if (!(w > threshold)) continue;
    const p = parent[v];
    edges[e++] = p < v ? p : v;
    edges[e++] = p < v ? v : p;
  }
}
