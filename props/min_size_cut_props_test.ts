/**
 * Properties of `cutAtMinSize` (lib/forest/hierarchy.ts) against a brute-force oracle written from its
 * definition, independently of the union–find implementation: the tree edges are removed one
 * at a time, weakest (last merge) first, the components recomputed by breadth-first search each
 * time, and a removal is a genuine split iff both components of its endpoints hold ≥ minSize
 * points. The cut removes the first k − c genuine splits; the clusters are the BFS components
 * of the remaining edges. Inputs: hierarchies of random point sets (many ties), of random sparse
 * graphs (disconnected ones included), and random trees in random merge orders.
 */
import assert from "node:assert/strict";
import { fc } from "./deps.ts";
import { cutAtMinSize, maxClustersAtMinSize } from "../lib/forest/hierarchy.ts";
import { forestHierarchy, type Hierarchy, labelsAt } from "../lib/forest/spanning_forest.ts";
import { negSquaredDistances } from "../lib/core/similarity.ts";
import { forestHierarchyOnGraph } from "../lib/forest/spanning_forest_on_graph.ts";
import type { Graph } from "../lib/graph/graph.ts";

const RUNS = { seed: 14, numRuns: 300 };

/** Components of the graph (n points, `edges`) by BFS, numbered by first appearance. */
function components(n: number, edges: readonly (readonly [number, number])[]): number[] {
  const adj: number[][] = Array.from({ length: n }, () => []);
  for (const [a, b] of edges) {
    adj[a]!.push(b);
    adj[b]!.push(a);
  }
  const label = new Array<number>(n).fill(-1);
  let next = 0;
  for (let s = 0; s < n; s++) {
    if (label[s] !== -1) continue;
    const queue = [s];
    label[s] = next;
    while (queue.length > 0) {
      const v = queue.shift()!;
      for (const w of adj[v]!) {
        if (label[w] === -1) {
          label[w] = next;
          queue.push(w);
        }
      }
    }
    next++;
  }
  return label;
}

const count = (labels: readonly number[], l: number) => labels.filter((x) => x === l).length;

type Oracle =
  | { readonly error: "minSize" | "k" | "available"; readonly available?: number }
  | {
    readonly labels: number[];
    readonly sizes: number[];
    readonly splits: number[];
    readonly available: number;
  };

/** The definition, executed literally (see the module doc). */
function oracle(h: Hierarchy, k: number, minSize: number): Oracle {
  const n = h.n, m = h.left.length, c = n - m;
  const edges = Array.from({ length: m }, (_, t) => [h.left[t]!, h.right[t]!] as const);
  const whole = components(n, edges);
  for (let l = 0; l < c; l++) if (count(whole, l) < minSize) return { error: "minSize" };
  const genuine: number[] = [];
  for (let t = m - 1; t >= 0; t--) {
    const parts = components(n, edges.slice(0, t)); // every edge from t on removed
    const a = count(parts, parts[h.left[t]!]!), b = count(parts, parts[h.right[t]!]!);
    if (Math.min(a, b) >= minSize) genuine.push(t);
  }
  const available = c + genuine.length;
  if (k < c) return { error: "k", available };
  if (k > available) return { error: "available", available };
  const splits = genuine.slice(0, k - c);
  const labels = components(n, edges.filter((_, t) => !splits.includes(t)));
  const sizes = Array.from({ length: k }, (_, l) => count(labels, l));
  return { labels, sizes, splits, available };
}

/** Checks cutAtMinSize and maxClustersAtMinSize against the oracle for one input. */
function agrees(h: Hierarchy, k: number, minSize: number): void {
  const want = oracle(h, k, minSize);
  if ("error" in want) {
    const pattern = want.error === "minSize"
      ? /^Invalid minSize = \d+: the hierarchy's graph has a connected component of only/
      : want.error === "k"
      ? /^Invalid k = \d+: k must be an integer in/
      : new RegExp(
        `^Invalid k = ${k}: with minSize = ${minSize} the hierarchy has only ${want.available} clusters of at least ${minSize} points`,
      );
    assert.throws(() => cutAtMinSize(h, k, minSize), (e: unknown) => {
      assert.ok(e instanceof RangeError, String(e));
      assert.match(e.message, pattern);
      return true;
    });
    if (want.error === "minSize") {
      assert.throws(() => maxClustersAtMinSize(h, minSize), /Invalid minSize/);
    } else assert.equal(maxClustersAtMinSize(h, minSize), want.available);
    return;
  }
  const got = cutAtMinSize(h, k, minSize);
  assert.deepEqual([...got.labels], want.labels);
  assert.deepEqual([...got.sizes], want.sizes);
  assert.deepEqual([...got.splits], want.splits);
  assert.equal(maxClustersAtMinSize(h, minSize), want.available);
  // The contract, checked directly too: k clusters, each of ≥ minSize points.
  assert.equal(got.sizes.length, k);
  for (const s of got.sizes) assert.ok(s >= minSize, `cluster of ${s} < ${minSize}`);
}

/** n ≤ 12 points on a small integer grid (many tied distances), or on a fine one. */
const pointsArb = fc.integer({ min: 1, max: 12 }).chain((n) =>
  fc.oneof(
    fc.array(fc.tuple(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -3, max: 3 })), {
      minLength: n,
      maxLength: n,
    }),
    fc.array(fc.tuple(fc.integer({ min: -1e4, max: 1e4 }), fc.integer({ min: -1e4, max: 1e4 })), {
      minLength: n,
      maxLength: n,
    }),
  )
).map((pts) => forestHierarchy(negSquaredDistances(pts)));

/** A random sparse graph on n ≤ 10 points (often disconnected), its hierarchy. */
const graphArb = fc.integer({ min: 1, max: 10 }).chain((n) => {
  const pairs: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs.push([i, j]);
  return fc.shuffledSubarray(pairs, { minLength: 0, maxLength: Math.min(pairs.length, 14) })
    .chain((chosen) =>
      fc.array(fc.integer({ min: -3, max: 3 }), {
        minLength: chosen.length,
        maxLength: chosen.length,
      }).map((ws): Graph => ({
        n,
        from: Int32Array.from(chosen, (p) => p[0]),
        to: Int32Array.from(chosen, (p) => p[1]),
        weight: Float64Array.from(ws),
      }))
    )
    .map(forestHierarchyOnGraph);
});

/**
 * A random tree on n ≤ 14 points (point i > 0 hangs from a random earlier point, then the
 * points are relabelled at random) whose n − 1 edges are merged in a random order, with equal
 * or decreasing weights: every merge order, not only those a similarity produces.
 */
const treeArb = fc.integer({ min: 1, max: 14 }).chain((n) =>
  fc.tuple(
    fc.array(fc.nat(), { minLength: n, maxLength: n }),
    fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: n, maxLength: n }),
    fc.shuffledSubarray(Array.from({ length: n - 1 }, (_, t) => t), {
      minLength: n - 1,
      maxLength: n - 1,
    }),
    fc.boolean(),
  ).map(([up, name, order, tied]): Hierarchy => {
    const left = new Int32Array(n - 1), right = new Int32Array(n - 1);
    order.forEach((e, t) => {
      const a = name[e + 1]!, b = name[up[e + 1]! % (e + 1)]!;
      left[t] = Math.min(a, b);
      right[t] = Math.max(a, b);
    });
    const weights = Float64Array.from({ length: n - 1 }, (_, t) => (tied ? 0 : -t));
    return { n, left, right, weights };
  })
);

const withKAndMinSize = (h: fc.Arbitrary<Hierarchy>) =>
  h.chain((x) =>
    fc.tuple(fc.constant(x), fc.integer({ min: 1, max: x.n }), fc.integer({ min: 1, max: x.n }))
  );

Deno.test("cutAtMinSize equals the brute-force oracle", async (t) => {
  await t.step("on hierarchies of random point sets", () => {
    fc.assert(fc.property(withKAndMinSize(pointsArb), ([h, k, s]) => agrees(h, k, s)), RUNS);
  });
  await t.step("on hierarchies of random sparse graphs (disconnected included)", () => {
    fc.assert(fc.property(withKAndMinSize(graphArb), ([h, k, s]) => agrees(h, k, s)), RUNS);
  });
  await t.step("on random trees merged in random orders (tied weights included)", () => {
    fc.assert(fc.property(withKAndMinSize(treeArb), ([h, k, s]) => agrees(h, k, s)), RUNS);
  });
});

Deno.test("cutAtMinSize: minSize 1 is labelsAt, and k + 1 refines k", () => {
  fc.assert(
    fc.property(
      fc.oneof(pointsArb, graphArb, treeArb).chain((h) =>
        fc.tuple(
          fc.constant(h),
          fc.integer({ min: h.n - h.left.length, max: h.n }),
          fc.integer({ min: 1, max: h.n }),
        )
      ),
      ([h, k, minSize]) => {
        assert.deepEqual(cutAtMinSize(h, k, 1).labels, labelsAt(h, k));
        const most = (() => {
          try {
            return maxClustersAtMinSize(h, minSize);
          } catch {
            return 0; // a component smaller than minSize: no cut at all
          }
        })();
        if (k + 1 > most) return;
        // Splits are taken weakest first, so the cut at k + 1 undoes one merge more.
        const coarse = cutAtMinSize(h, k, minSize), fine = cutAtMinSize(h, k + 1, minSize);
        assert.deepEqual([...fine.splits.slice(0, -1)], [...coarse.splits]);
        const parent = new Map<number, number>();
        fine.labels.forEach((l, i) => {
          assert.equal(parent.get(l) ?? coarse.labels[i], coarse.labels[i]);
          parent.set(l, coarse.labels[i]!);
        });
      },
    ),
    RUNS,
  );
});
