/**
 * The Monte-Carlo loop of `clusterMembership` over one contiguous range of samples: pure, the
 * same request gives bit-identical results in any thread (the worker pool and the
 * single-threaded path both run it, on the same fixed chunks).
 *
 * Sample b perturbs every edge of the fitted graph, w + sign·ε z_b (z_b = the noise sample b of
 * the estimate's seed over the m edges, as `forEachGraphPerturbation`), builds the perturbed
 * hierarchy once, and then, for each point p (inserted alone):
 *
 * - a new point x gets its edges to its nearest training points y_j with similarities
 *   s_j + sign·ε ζ_{p,b,j}, ζ drawn from the stream of (seed, p) at index b;
 * - the model's cut is solved on the perturbed graph plus x: R = x's tree;
 * - the vote w = argmax_c |R ∩ C_c| over the fitted clusters C_c (ties to the lowest c), −1
 *   when R holds no training point.
 *
 * How R is found without re-solving n + 1 points per point (c_L = the components after the
 * first L merges of the perturbed hierarchy H, shared by every point of the sample):
 *
 * - threshold θ: R = {x} ∪ the components of H at θ of the y_j with perturbed s_j ≥ θ;
 * - k clusters: Kruskal on n + 1 points stops after n + 1 − k accepted merges, and the union of
 *   H's merges with x's edges contains that forest (an edge outside H closes a cycle of
 *   heavier edges). Starting from c_L, L = max(0, n − k − m), with x already joined to the
 *   D components of its edges heavier than H's merge L − 1 (accepted count L + D ≤ n − k), the
 *   remaining merges of H and of x are replayed in weight order on a union–find over the few
 *   components involved (≤ 8m + 8) until n + 1 − k are accepted: O(m log m) per point;
 * - k clusters of ≥ minSize: the whole hierarchy of the n + 1 points and its condensed-tree cut
 *   (as `cutAtMinSize`; if the perturbed hierarchy has fewer clusters of ≥ minSize than k, as
 *   many as it has): O(n) per point.
 *
 * Training points (no edges of their own) use the same definition on the perturbed training
 * graph: R = the point's tree.
 *
 * With a cotangent γ (per point, per cluster and outlier), the chunk also sums, for the
 * score-function gradient with respect to x's edge similarities, Σ_b sign·γ_{w_b} ∇ν(ζ_b),
 * Σ_b sign·∇ν(ζ_b) and Σ_b γ_{w_b} (the antithetic partner's noise is −ζ, and ∇ν(−ζ) = −∇ν(ζ)
 * for Gaussian noise).
 *
 * @module
 */
import { fillUpperNoise, noiseScore } from "../core/noise.ts";
import type { ChunkAnswer, NoiseChunk } from "../core/_worker_pool.ts";
import { foldIn } from "../core/random.ts";
import type { Hierarchy } from "../forest/spanning_forest.ts";
import { unsafeForestHierarchyOnGraph } from "../forest/spanning_forest_on_graph.ts";

/** The stream tag of the per-point noise: (seed, tag) then the point index. */
const POINT_STREAM = 0x6d656d62;

/** Cut kinds, as numbers (structured-clone friendly). */
export const CUT_K = 0, CUT_THRESHOLD = 1, CUT_MIN_SIZE = 2;

/** One chunk of samples of a membership estimate. */
export interface MembershipChunkRequest extends NoiseChunk {
  /** Training points and the fitted graph's edges and similarities. */
  readonly n: number;
  readonly from: Int32Array;
  readonly to: Int32Array;
  readonly weight: Float64Array;
  /** Fitted cluster of each training point, and the number of clusters K. */
  readonly labels: Int32Array;
  readonly clusters: number;
  /** The cut: {@link CUT_K}, {@link CUT_THRESHOLD} or {@link CUT_MIN_SIZE}, with its values. */
  readonly cut: number;
  readonly k: number;
  readonly threshold: number;
  readonly minSize: number;
  /** Number of points estimated. */
  readonly points: number;
  /** Edges per new point, and their training endpoints and similarities (points × m); null:
   * the points are the training points themselves. */
  readonly m: number;
  readonly neighbour: Int32Array | null;
  readonly similarity: Float64Array | null;
  /** points × (K + 1) cotangent (last column: outlier), or null for no gradient. */
  readonly cotangent: Float64Array | null;
}

/** The chunk's sums. */
export interface MembershipChunkResult extends ChunkAnswer {
  /** points × (K + 1): samples whose vote was each cluster (last column: no training point). */
  readonly counts: Float64Array;
  /** points × m: Σ_b sign γ_{w_b} ∇ν(ζ_b), or empty without a cotangent. */
  readonly weighted: Float64Array;
  /** points × m: Σ_b sign ∇ν(ζ_b), or empty. */
  readonly plain: Float64Array;
  /** points: Σ_b γ_{w_b}, or empty. */
  readonly payoff: Float64Array;
}

/** Union–find over a typed array (path halving), with sizes. */
function find(parent: Int32Array, x: number): number {
  while (parent[x] !== x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

/** Joins the sets of a and b; returns false when they were one already. */
function union(parent: Int32Array, size: Int32Array, a: number, b: number): boolean {
  let ra = find(parent, a), rb = find(parent, b);
  if (ra === rb) return false;
  if (size[ra] < size[rb]) [ra, rb] = [rb, ra];
  parent[rb] = ra;
  size[ra] += size[rb];
  return true;
}

/**
 * The components of a partition of the n training points: a dense id per point (`comp`), and
 * per component its cluster counts (CSR: `start`, `cluster`, `count`) and its vote (`winner`:
 * the most frequent fitted cluster, ties to the lowest).
 */
class Level {
  readonly comp: Int32Array;
  start = new Int32Array(1);
  cluster = new Int32Array(0);
  count = new Int32Array(0);
  winner = new Int32Array(0);
  readonly #parent: Int32Array;
  readonly #size: Int32Array;
  readonly #scratch: Int32Array;
  readonly #acc: Int32Array;
  constructor(n: number, clusters: number) {
    this.comp = new Int32Array(n);
    this.#parent = new Int32Array(n);
    this.#size = new Int32Array(n);
    this.#scratch = new Int32Array(n);
    this.#acc = new Int32Array(clusters);
  }
  /** The components after the first `count` merges of h. */
  build(h: Hierarchy, count: number, labels: Int32Array): void {
    const n = this.comp.length, parent = this.#parent, size = this.#size;
    for (let i = 0; i < n; i++) {
      parent[i] = i;
      size[i] = 1;
    }
    for (let t = 0; t < count; t++) union(parent, size, h.left[t], h.right[t]);
    this.finish(parent, labels);
  }
  /** The components of a union–find over the n points (its arrays are read, and compressed). */
  finish(parent: Int32Array, labels: Int32Array): void {
    const n = this.comp.length, id = this.#scratch;
    id.fill(-1);
    let c = 0;
    for (let i = 0; i < n; i++) {
      const root = find(parent, i);
      if (id[root] === -1) id[root] = c++;
      this.comp[i] = id[root];
    }
    if (this.start.length < c + 1) {
      this.start = new Int32Array(c + 1);
      this.winner = new Int32Array(c);
    }
    if (this.cluster.length < n) {
      this.cluster = new Int32Array(n);
      this.count = new Int32Array(n);
    }
    const start = this.start;
    start.fill(0, 0, c + 1);
    for (let i = 0; i < n; i++) start[this.comp[i] + 1]++;
    for (let a = 0; a < c; a++) start[a + 1] += start[a];
    // Points by component (scratch), then per component its (cluster, count) pairs.
    const fill = this.#size, byComp = this.#scratch;
    for (let a = 0; a < c; a++) fill[a] = start[a];
    for (let i = 0; i < n; i++) byComp[fill[this.comp[i]]++] = i;
    const acc = this.#acc;
    let w = 0;
    for (let a = 0; a < c; a++) {
      const lo = start[a], hi = start[a + 1];
      start[a] = w;
      let best = -1;
      for (let s = lo; s < hi; s++) acc[labels[byComp[s]]]++;
      for (let s = lo; s < hi; s++) {
        const l = labels[byComp[s]];
        if (acc[l] === 0) continue;
        this.cluster[w] = l;
        this.count[w++] = acc[l];
        if (best === -1 || acc[l] > acc[best] || (acc[l] === acc[best] && l < best)) best = l;
        acc[l] = 0;
      }
      this.winner[a] = best;
    }
    start[c] = w;
  }
}

/**
 * Runs one chunk (module doc). Pure: the same request gives bit-identical results anywhere.
 *
 * One function of about 240 lines rather than several: every buffer (the local union–find, the
 * condensed-tree arrays, the per-cluster tallies) is allocated once per chunk and shared by the
 * per-cut votes, which are inner functions of 20–50 lines (`vote`, `kCutVote`, `minSizeVote`);
 * the sample loop at the end is what runs them.
 *
 * @param r The chunk.
 * @returns Its sums.
 *
 * @example Two training pairs far apart: each point votes for its own pair
 * ```ts
 * import { CUT_K, runMembershipChunk } from "./_membership_chunk.ts";
 * const r = runMembershipChunk({
 *   id: 0, n: 4, from: new Int32Array([0, 1, 2]), to: new Int32Array([1, 2, 3]),
 *   weight: new Float64Array([-1, -100, -1]), labels: new Int32Array([0, 0, 1, 1]),
 *   clusters: 2, cut: CUT_K, k: 2, threshold: 0, minSize: 1, points: 4, m: 0,
 *   neighbour: null, similarity: null, cotangent: null, epsilon: 0.1, noise: "gaussian",
 *   antithetic: false, seed: 0, lo: 0, hi: 5,
 * });
 * if (r.counts.join() !== "5,0,0,5,0,0,0,5,0,0,5,0") throw new Error();
 * ```
 */
export function runMembershipChunk(r: MembershipChunkRequest): MembershipChunkResult {
  const { n, clusters: K, labels, m, points: q, neighbour, similarity, cotangent } = r;
  const edges = r.from.length;
  const zg = new Float64Array(edges), pw = new Float64Array(edges);
  const g = { n, from: r.from, to: r.to, weight: pw };
  const counts = new Float64Array(q * (K + 1));
  const grad = cotangent !== null;
  const weighted = new Float64Array(grad ? q * m : 0), plain = new Float64Array(grad ? q * m : 0);
  const payoff = new Float64Array(grad ? q : 0);
  const training = neighbour === null;
  const pointSeed = new Int32Array(training ? 0 : q);
  if (!training) {
    const tag = foldIn(r.seed, POINT_STREAM);
    for (let p = 0; p < q; p++) pointSeed[p] = foldIn(tag, p);
  }
  const zx = new Float64Array(m), score = new Float64Array(m), pws = new Float64Array(m);
  const ord = new Int32Array(m);
  const level = new Level(n, K);
  const acc = new Int32Array(K), touched = new Int32Array(K);
  // Local union–find of the k cut: node 0 is x, then the components it meets.
  const cap = 8 * m + 8;
  const localParent = new Int32Array(cap), localSize = new Int32Array(cap);
  const localComp = new Int32Array(cap), stamp = new Int32Array(n), node = new Int32Array(n);
  let epoch = 0;
  stamp.fill(-1);
  // The condensed-tree cut of n + 1 points (min-size cuts).
  const big = r.cut === CUT_MIN_SIZE ? n + 1 : 0;
  const mParent = new Int32Array(big), mSize = new Int32Array(big);
  const kParent = new Int32Array(big), kSize = new Int32Array(big);
  const mLeft = new Int32Array(big), mRight = new Int32Array(big), genuine = new Uint8Array(big);

  /** The vote of the components listed in localComp[0..count): argmax of the summed counts. */
  const vote = (lv: Level, comps: Int32Array, count: number): number => {
    let t = 0;
    for (let a = 0; a < count; a++) {
      const c = comps[a];
      for (let s = lv.start[c]; s < lv.start[c + 1]; s++) {
        const l = lv.cluster[s];
        if (acc[l] === 0) touched[t++] = l;
        acc[l] += lv.count[s];
      }
    }
    let best = -1;
    for (let a = 0; a < t; a++) {
      const l = touched[a];
      if (best === -1 || acc[l] > acc[best] || (acc[l] === acc[best] && l < best)) best = l;
    }
    for (let a = 0; a < t; a++) acc[touched[a]] = 0;
    return best;
  };
  /** Local node of component c in the current epoch (created on first use). */
  let nodes = 0;
  const nodeOf = (c: number): number => {
    if (stamp[c] !== epoch) {
      stamp[c] = epoch;
      node[c] = nodes;
      localParent[nodes] = nodes;
      localSize[nodes] = 1;
      localComp[nodes] = c;
      nodes++;
    }
    return node[c];
  };
  /**
   * The condensed-tree cut of the merges (mLeft, mRight)[0..count) on N points: labels of the
   * components into mParent's roots; returns the root of point `of`.
   */
  const minSizeRoot = (N: number, count: number, of: number): number => {
    for (let i = 0; i < N; i++) {
      mParent[i] = i;
      mSize[i] = 1;
    }
    let genuineCount = 0;
    for (let t = 0; t < count; t++) {
      const a = find(mParent, mLeft[t]), b = find(mParent, mRight[t]);
      genuine[t] = Math.min(mSize[a], mSize[b]) >= r.minSize ? 1 : 0;
      genuineCount += genuine[t];
      union(mParent, mSize, a, b);
    }
    let undo = Math.min(r.k - (N - count), genuineCount);
    for (let t = count - 1; t >= 0 && undo > 0; t--) {
      if (genuine[t] === 1) {
        genuine[t] = 2;
        undo--;
      }
    }
    for (let i = 0; i < N; i++) {
      mParent[i] = i;
      mSize[i] = 1;
    }
    for (let t = 0; t < count; t++) {
      if (genuine[t] !== 2) union(mParent, mSize, mLeft[t], mRight[t]);
    }
    return find(mParent, of);
  };

  /** The k cut of the n + 1 points (module doc), replayed from level L. */
  const kCutVote = (h: Hierarchy, merges: number, L: number, base: number): number => {
    const target = n + 1 - r.k, comp = level.comp;
    const heavier = L > 0 ? h.weights[L - 1] : Infinity;
    // Node 0 is x: a slot with no component.
    localParent[0] = 0;
    localSize[0] = 1;
    localComp[0] = -1;
    nodes = 1;
    let accepted = L, j = 0, t = L;
    for (; j < m && pws[ord[j]] > heavier; j++) {
      if (union(localParent, localSize, 0, nodeOf(comp[neighbour![base + ord[j]]]))) accepted++;
    }
    while (accepted < target && (t < merges || j < m)) {
      const wt = t < merges ? h.weights[t] : -Infinity;
      const wx = j < m ? pws[ord[j]] : -Infinity;
      if (t < merges && wt >= wx) {
        const a = nodeOf(comp[h.left[t]]), c = nodeOf(comp[h.right[t]]);
        if (union(localParent, localSize, a, c)) accepted++;
        t++;
      } else {
        if (union(localParent, localSize, 0, nodeOf(comp[neighbour![base + ord[j]]]))) {
          accepted++;
        }
        j++;
      }
    }
    const root = find(localParent, 0);
    let count = 0;
    for (let a = 1; a < nodes; a++) {
      if (find(localParent, a) === root) localComp[count++] = localComp[a];
    }
    return vote(level, localComp, count);
  };

  /** The condensed-tree cut of the n + 1 points: Kruskal on H's merges and x's edges. */
  const minSizeVote = (h: Hierarchy, merges: number, base: number): number => {
    for (let i = 0; i <= n; i++) {
      kParent[i] = i;
      kSize[i] = 1;
    }
    let count = 0, t = 0, j = 0;
    while (t < merges || j < m) {
      const wt = t < merges ? h.weights[t] : -Infinity;
      const wx = j < m ? pws[ord[j]] : -Infinity;
      let a: number, c: number;
      if (t < merges && wt >= wx) {
        a = h.left[t];
        c = h.right[t];
        t++;
      } else {
        a = n;
        c = neighbour![base + ord[j]];
        j++;
      }
      if (union(kParent, kSize, a, c)) {
        mLeft[count] = a;
        mRight[count++] = c;
      }
    }
    const root = minSizeRoot(n + 1, count, n);
    let t2 = 0;
    for (let i = 0; i < n; i++) {
      if (find(mParent, i) !== root) continue;
      const l = labels[i];
      if (acc[l] === 0) touched[t2++] = l;
      acc[l]++;
    }
    let best = -1;
    for (let a = 0; a < t2; a++) {
      const l = touched[a];
      if (best === -1 || acc[l] > acc[best] || (acc[l] === acc[best] && l < best)) best = l;
    }
    for (let a = 0; a < t2; a++) acc[touched[a]] = 0;
    return best;
  };

  for (let b = r.lo; b < r.hi; b++) {
    const sign = r.antithetic && (b & 1) === 1 ? -1 : 1, index = r.antithetic ? b >>> 1 : b;
    if (sign === 1 || b === r.lo) fillUpperNoise(r.noise, r.seed, index, zg);
    const scale = sign * r.epsilon;
    for (let e = 0; e < edges; e++) pw[e] = r.weight[e] + scale * zg[e];
    const h = unsafeForestHierarchyOnGraph(g), merges = h.left.length;
    let atLevel = 0;
    if (r.cut === CUT_THRESHOLD) {
      while (atLevel < merges && h.weights[atLevel] >= r.threshold) atLevel++;
    } else atLevel = Math.max(0, n - r.k);
    if (training) {
      if (r.cut === CUT_MIN_SIZE) {
        mLeft.set(h.left);
        mRight.set(h.right);
        minSizeRoot(n, merges, 0);
        level.finish(mParent, labels);
      } else level.build(h, atLevel, labels);
      for (let i = 0; i < n; i++) counts[i * (K + 1) + level.winner[level.comp[i]]]++;
      continue;
    }
    const L = r.cut === CUT_K ? Math.max(0, Math.min(merges, n - r.k - m)) : 0;
    if (r.cut === CUT_THRESHOLD) level.build(h, atLevel, labels);
    else if (r.cut === CUT_K) level.build(h, L, labels);
    for (let p = 0; p < q; p++) {
      fillUpperNoise(r.noise, pointSeed[p], index, zx);
      const base = p * m;
      for (let j = 0; j < m; j++) pws[j] = similarity![base + j] + scale * zx[j];
      let w: number;
      epoch++;
      nodes = 0;
      if (r.cut === CUT_THRESHOLD) {
        for (let j = 0; j < m; j++) {
          if (pws[j] >= r.threshold) nodeOf(level.comp[neighbour![base + j]]);
        }
        w = vote(level, localComp, nodes);
      } else {
        for (let j = 0; j < m; j++) ord[j] = j;
        // Insertion sort, heaviest first (m is small).
        for (let j = 1; j < m; j++) {
          const v = ord[j];
          let t = j;
          while (t > 0 && pws[ord[t - 1]] < pws[v]) {
            ord[t] = ord[t - 1];
            t--;
          }
          ord[t] = v;
        }
        if (r.cut === CUT_K) w = kCutVote(h, merges, L, base);
        else w = minSizeVote(h, merges, base);
      }
      counts[p * (K + 1) + (w < 0 ? K : w)]++;
      if (grad) {
        const gamma = cotangent![p * (K + 1) + (w < 0 ? K : w)];
        noiseScore(r.noise, zx, score);
        for (let j = 0; j < m; j++) {
          weighted[base + j] += sign * gamma * score[j];
          plain[base + j] += sign * score[j];
        }
        payoff[p] += gamma;
      }
    }
  }
  return { id: r.id, counts, weighted, plain, payoff };
}
