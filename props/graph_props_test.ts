/**
 * Properties of the sparse-graph solvers: the same mathematics as the dense ones.
 *
 * Oracles: the dense solvers on the complete graph (an independent implementation: Prim on Σ),
 * brute-force enumeration of every (n − k)-edge forest of small graphs, and finite differences.
 */
import assert from "node:assert/strict";
import { fc } from "./deps.ts";
import { fromData, type Matrix } from "../lib/core/matrix.ts";
import {
  DisjointSets,
  forestHierarchy,
  labelsAt,
  maxSpanningForest,
} from "../lib/forest/spanning_forest.ts";
import {
  constrainedSpanningForest,
  constraintsFromLabels,
} from "../lib/constrained/constrained_forest.ts";
import { makePerturbed } from "../lib/perturbed/perturbed.ts";
import { InfeasibleConstraintsError } from "../lib/core/errors.ts";
import { assertGraph, completeGraph, type Graph, graphComponents } from "../lib/graph/graph.ts";
import {
  forestAtOnGraph,
  forestHierarchyOnGraph,
  maxSpanningForestOnGraph,
  unsafeMaxSpanningForestOnGraph,
} from "../lib/forest/spanning_forest_on_graph.ts";
import {
  constrainedSpanningForestOnGraph,
  propagateLabels,
} from "../lib/constrained/constrained_forest_on_graph.ts";
import { makePerturbedOnGraph } from "../lib/perturbed/perturbed_on_graph.ts";
import { fyLossOnGraph, partialFyLossOnGraph } from "../lib/losses/fy_loss_on_graph.ts";
import { GraphCodec } from "../lib/graph/graph_codec.ts";
import { argsortDescending } from "../lib/core/_argsort.ts";
import { samePartition } from "./brute_force.ts";

const RUNS = { seed: 14, numRuns: 150 };
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));

/** Symmetric Σ from upper-triangle values. */
function symmetric(n: number, upper: readonly number[]): Matrix {
  const data = new Float64Array(n * n);
  for (let i = 0, t = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, t++) data[i * n + j] = data[j * n + i] = upper[t];
  }
  return fromData(n, data);
}

/** Σ with distinct weights (continuous grid) or many ties (small integers). */
const sigmaArb = (minN: number, maxN: number, ties: boolean) =>
  fc.integer({ min: minN, max: maxN }).chain((n) => {
    const m = (n * (n - 1)) / 2;
    const values = ties
      ? fc.array(fc.integer({ min: -3, max: 3 }), { minLength: m, maxLength: m })
      : fc.uniqueArray(fc.integer({ min: -1e6, max: 1e6 }), { minLength: m, maxLength: m })
        .map((u) => u.map((v) => v / 1e3));
    return values.map((u) => symmetric(n, u));
  });

/** A random sparse graph on n ≤ 7 points: a random subset of the pairs, shuffled. */
const graphArb = (ties: boolean) =>
  fc.integer({ min: 1, max: 7 }).chain((n) => {
    const pairs: [number, number][] = [];
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs.push([i, j]);
    return fc.shuffledSubarray(pairs, { minLength: 0, maxLength: Math.min(pairs.length, 11) })
      .chain((chosen) =>
        fc.array(
          ties ? fc.integer({ min: -2, max: 2 }) : fc.integer({ min: -1e6, max: 1e6 }),
          { minLength: chosen.length, maxLength: chosen.length },
        ).map((ws): Graph => ({
          n,
          from: Int32Array.from(chosen, (p) => p[0]),
          to: Int32Array.from(chosen, (p) => p[1]),
          weight: Float64Array.from(ws, (w) => (ties ? w : w / 1e3)),
        }))
      );
  });

/** Every (n − k)-edge forest of g, as edge-index lists (brute force). */
function forEachGraphForest(g: Graph, k: number, visit: (edges: number[]) => void): void {
  const need = g.n - k, m = g.from.length, chosen: number[] = [];
  const rec = (start: number) => {
    if (chosen.length === need) {
      const s = new DisjointSets(g.n);
      for (const e of chosen) if (s.union(g.from[e], g.to[e]) === -1) return;
      visit(chosen.slice());
      return;
    }
    for (let e = start; e <= m - (need - chosen.length); e++) {
      chosen.push(e);
      rec(e + 1);
      chosen.pop();
    }
  };
  if (need >= 0) rec(0);
}

const valueOf = (g: Graph, edges: ArrayLike<number>) => {
  let v = 0;
  for (let t = 0; t < edges.length; t++) v += 2 * g.weight[edges[t]];
  return v;
};

/** Labels of the forest `edges` on g's points. */
function treesOf(g: Graph, edges: ArrayLike<number>): Int32Array {
  const s = new DisjointSets(g.n);
  for (let t = 0; t < edges.length; t++) s.union(g.from[edges[t]], g.to[edges[t]]);
  return Int32Array.from({ length: g.n }, (_, i) => s.find(i));
}

/** Every class in one tree, no tree with two classes. */
function respects(trees: Int32Array, labels: readonly (number | null)[]): boolean {
  const treeOfClass = new Map<number, number>(), classOfTree = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (c === null) continue;
    if ((treeOfClass.get(c) ?? trees[i]) !== trees[i]) return false;
    if ((classOfTree.get(trees[i]) ?? c) !== c) return false;
    treeOfClass.set(c, trees[i]);
    classOfTree.set(trees[i], c);
  }
  return true;
}

Deno.test("graph solvers equal the dense solvers on the complete graph", async (t) => {
  await t.step("distinct weights: the same hierarchy, merge for merge", () => {
    fc.assert(
      fc.property(sigmaArb(1, 12, false), (sigma) => {
        const d = forestHierarchy(sigma), g = forestHierarchyOnGraph(completeGraph(sigma));
        assert.deepEqual([...g.left], [...d.left]);
        assert.deepEqual([...g.right], [...d.right]);
        assert.deepEqual([...g.weights], [...d.weights]);
        assert.equal(g.components, 1);
      }),
      RUNS,
    );
  });
  await t.step("ties: the same value and a valid forest at every k", () => {
    fc.assert(
      fc.property(sigmaArb(1, 9, true), (sigma) => {
        const g = completeGraph(sigma), h = forestHierarchyOnGraph(g);
        for (let k = 1; k <= sigma.n; k++) {
          const f = forestAtOnGraph(h, k), d = maxSpanningForest(sigma, k);
          assert.ok(close(f.value, d.value), `k = ${k}: ${f.value} vs ${d.value}`);
          assert.equal(new Set(f.labels).size, k);
          assert.ok(samePartition(f.labels, labelsAt(h, k)));
        }
      }),
      RUNS,
    );
  });
  await t.step("distinct weights: the same partition at every k, from either reader", () => {
    fc.assert(
      fc.property(sigmaArb(1, 10, false), (sigma) => {
        const g = completeGraph(sigma);
        for (let k = 1; k <= sigma.n; k++) {
          const f = maxSpanningForestOnGraph(g, k), d = maxSpanningForest(sigma, k);
          assert.ok(samePartition(f.labels, d.labels));
          assert.deepEqual(f.edges, d.edges);
        }
      }),
      RUNS,
    );
  });
});

Deno.test("matroid optimality on sparse graphs against brute force", async (t) => {
  for (const ties of [false, true]) {
    await t.step(`${ties ? "tied" : "distinct"} weights`, () => {
      fc.assert(
        fc.property(graphArb(ties), (g) => {
          const c = graphComponents(g).count, h = forestHierarchyOnGraph(g);
          assert.equal(h.components, c);
          for (let k = 1; k <= g.n; k++) {
            let best = -Infinity;
            forEachGraphForest(g, k, (edges) => best = Math.max(best, valueOf(g, edges)));
            if (k < c) {
              assert.equal(best, -Infinity); // no k-forest exists
              assert.throws(() => maxSpanningForestOnGraph(g, k), /connected components/);
              assert.throws(() => forestAtOnGraph(h, k), RangeError);
              assert.throws(() => labelsAt(h, k), RangeError);
              continue;
            }
            const f = maxSpanningForestOnGraph(g, k);
            assert.ok(close(f.value, best), `k = ${k}: ${f.value} vs brute force ${best}`);
            assert.ok(close(f.value, valueOf(g, f.edgeIndex)));
            assert.equal(f.edgeIndex.length, g.n - k);
            assert.ok(samePartition(f.labels, treesOf(g, f.edgeIndex)));
            assert.deepEqual([...forestAtOnGraph(h, k).edgeIndex], [...f.edgeIndex]);
          }
        }),
        RUNS,
      );
    });
  }
});

/** Partial labels over ≤ 3 classes, each point labelled with probability `rate`. */
const labelledGraphArb = (full: boolean) =>
  graphArb(false).chain((g) =>
    fc.array(
      full
        ? fc.integer({ min: 0, max: 2 }).map((v): number | null => v)
        : fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }),
      { minLength: g.n, maxLength: g.n },
    ).chain((labels) => fc.integer({ min: 1, max: g.n }).map((k) => ({ g, labels, k })))
  );

Deno.test("constrained forest on graphs against brute force", async (t) => {
  const bruteBest = (g: Graph, k: number, labels: (number | null)[]) => {
    let best = -Infinity;
    forEachGraphForest(g, k, (edges) => {
      if (respects(treesOf(g, edges), labels)) best = Math.max(best, valueOf(g, edges));
    });
    return best;
  };
  await t.step("every point labelled: exact (and infeasible exactly when brute force is)", () => {
    fc.assert(
      fc.property(labelledGraphArb(true), ({ g, labels, k }) => {
        const best = bruteBest(g, k, labels);
        if (best === -Infinity) {
          assert.throws(
            () => constrainedSpanningForestOnGraph(g, k, labels),
            (e: unknown) => e instanceof InfeasibleConstraintsError || e instanceof RangeError,
          );
          return;
        }
        const f = constrainedSpanningForestOnGraph(g, k, labels);
        assert.ok(close(f.value, best), `${f.value} vs brute force ${best}`);
      }),
      RUNS,
    );
  });
  await t.step("partial labels: feasible, k trees, value ≤ the optimum ≤ unconstrained", () => {
    fc.assert(
      fc.property(labelledGraphArb(false), ({ g, labels, k }) => {
        const best = bruteBest(g, k, labels);
        let f;
        try {
          f = constrainedSpanningForestOnGraph(g, k, labels);
        } catch (e) {
          assert.ok(e instanceof InfeasibleConstraintsError || e instanceof RangeError);
          return; // the greedy may give up on feasible partially labelled instances
        }
        assert.ok(best > -Infinity, "the greedy returned a forest on an infeasible instance");
        assert.equal(f.edgeIndex.length, g.n - k);
        assert.ok(respects(treesOf(g, f.edgeIndex), labels));
        assert.ok(f.value <= best + 1e-9);
        assert.ok(f.value <= maxSpanningForestOnGraph(g, k).value + 1e-9);
      }),
      RUNS,
    );
  });
  await t.step("no label: the unconstrained forest", () => {
    fc.assert(
      fc.property(graphArb(true), (g) => {
        const c = graphComponents(g).count, none = new Array(g.n).fill(null);
        for (let k = c; k <= g.n; k++) {
          const f = constrainedSpanningForestOnGraph(g, k, none),
            u = maxSpanningForestOnGraph(g, k);
          assert.deepEqual([...f.edgeIndex].sort(), [...u.edgeIndex].sort());
        }
      }),
      RUNS,
    );
  });
  await t.step("complete graph, every point labelled: the dense constrained solver's value", () => {
    fc.assert(
      fc.property(
        sigmaArb(2, 9, false).chain((sigma) =>
          fc.array(fc.integer({ min: 0, max: 2 }), { minLength: sigma.n, maxLength: sigma.n })
            .map((labels) => ({ sigma, labels }))
        ),
        ({ sigma, labels }) => {
          const k = new Set(labels).size;
          const f = constrainedSpanningForestOnGraph(completeGraph(sigma), k, labels);
          const d = constrainedSpanningForest(sigma, k, constraintsFromLabels(labels));
          assert.ok(close(f.value, d.value));
          assert.ok(samePartition(f.labels, d.labels));
        },
      ),
      RUNS,
    );
  });
});

const OPTS = { epsilon: 0.5, samples: 16, noise: "gaussian" as const };

Deno.test("perturbed forest on the complete graph equals the dense estimator", () => {
  fc.assert(
    fc.property(
      sigmaArb(2, 8, false).chain((s) => fc.integer({ min: 1, max: s.n }).map((k) => ({ s, k }))),
      fc.boolean(),
      ({ s, k }, antithetic) => {
        const opts = { ...OPTS, antithetic };
        const dense = makePerturbed((x) => maxSpanningForest(x, k), opts)(s, 3);
        const sparse = makePerturbedOnGraph((g) => unsafeMaxSpanningForestOnGraph(g, k), opts)(
          completeGraph(s),
          3,
        );
        const n = s.n;
        for (let i = 0, e = 0; i < n; i++) {
          for (let j = i + 1; j < n; j++, e++) {
            assert.equal(sparse.adjacency[e], dense.adjacency.data[i * n + j]);
            assert.equal(sparse.connectivity[e], dense.connectivity.data[i * n + j]);
          }
        }
        assert.ok(close(sparse.value, dense.value));
      },
    ),
    { ...RUNS, numRuns: 60 },
  );
});

/** A connected graph: a random spanning path plus random extra pairs, distinct weights. */
const connectedArb = fc.integer({ min: 3, max: 9 }).chain((n) => {
  const pairs: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = i + 2; j < n; j++) pairs.push([i, j]);
  return fc.tuple(
    fc.subarray(pairs),
    fc.uniqueArray(fc.integer({ min: -1e6, max: 1e6 }), {
      minLength: n - 1 + pairs.length,
      maxLength: n - 1 + pairs.length,
    }),
    fc.integer({ min: 1, max: n }),
    fc.array(fc.option(fc.integer({ min: 0, max: 2 }), { nil: null, freq: 2 }), {
      minLength: n,
      maxLength: n,
    }),
  ).map(([extra, ws, k, labels]) => {
    const all: [number, number][] = [
      ...Array.from({ length: n - 1 }, (_, i) =>
        [i, i + 1] as [
          number,
          number,
        ]),
      ...extra,
    ];
    const g: Graph = {
      n,
      from: Int32Array.from(all, (p) => p[0]),
      to: Int32Array.from(all, (p) => p[1]),
      weight: Float64Array.from(all, (_, e) => ws[e] / 1e5),
    };
    return { g, k, labels };
  });
});

/** Runs f, returning null on an infeasible instance. */
function feasible<T>(f: () => T): T | null {
  try {
    return f();
  } catch (e) {
    if (e instanceof InfeasibleConstraintsError) return null;
    throw e;
  }
}

Deno.test("Proposition 1 on graphs: partial FY loss ≥ 0, 0 without labels, gradient", async (t) => {
  const loss = partialFyLossOnGraph({ ...OPTS, k: 1 });
  await t.step("≥ 0, and exactly 0 with zero gradient when nothing is labelled", () => {
    fc.assert(
      fc.property(connectedArb, ({ g, k, labels }) => {
        const lk = partialFyLossOnGraph({ ...OPTS, k });
        const r = feasible(() => lk(g, labels, 5));
        if (r !== null) assert.ok(r.loss >= 0);
        const none = lk(g, new Array(g.n).fill(null), 5);
        assert.equal(none.loss, 0);
        assert.ok(none.grad.every((v) => v === 0));
      }),
      RUNS,
    );
  });
  await t.step("the gradient is the central finite difference (common random numbers)", () => {
    fc.assert(
      fc.property(connectedArb, ({ g, k, labels }) => {
        const lk = partialFyLossOnGraph({ ...OPTS, k });
        const r = feasible(() => lk(g, labels, 9));
        if (r === null) return;
        const h = 1e-7;
        for (let e = 0; e < g.weight.length; e++) {
          const up = Float64Array.from(g.weight), down = Float64Array.from(g.weight);
          up[e] += h;
          down[e] -= h;
          const fd = (lk({ ...g, weight: up }, labels, 9).loss -
            lk({ ...g, weight: down }, labels, 9).loss) / (2 * h);
          assert.ok(Math.abs(fd - r.grad[e]) < 1e-5, `edge ${e}: fd ${fd} vs grad ${r.grad[e]}`);
        }
      }),
      { ...RUNS, numRuns: 60 },
    );
  });
  void loss;
});

Deno.test("Proposition 2 on graphs: partial loss ≤ FY loss of any target respecting the labels", () => {
  fc.assert(
    fc.property(connectedArb, fc.integer({ min: 0, max: 1000 }), ({ g, k, labels }, s) => {
      // A target in C_k(M_Ω): the constrained forest of other weights on the same edges.
      const other = { ...g, weight: g.weight.map((w, e) => Math.sin(w * 1e3 + e + s)) };
      const y = feasible(() => constrainedSpanningForestOnGraph(other, k, labels));
      if (y === null) return;
      const opts = { ...OPTS, k };
      const r = feasible(() => partialFyLossOnGraph(opts)(g, labels, s));
      if (r === null) return; // the greedy gave up on a perturbed sample
      const partial = r.loss;
      const full = fyLossOnGraph(opts)(g, y.edges, s).loss;
      assert.ok(partial <= full + 1e-9, `${partial} > ${full}`);
    }),
    RUNS,
  );
});

Deno.test("full FY loss on graphs: ≥ 0 and gradient 2(â − 1_Y) by finite differences", () => {
  fc.assert(
    fc.property(connectedArb, ({ g, k }) => {
      const y = maxSpanningForestOnGraph({ ...g, weight: g.weight.map((w) => -w) }, k).edges;
      const f = fyLossOnGraph({ ...OPTS, k });
      const r = f(g, y, 2);
      assert.ok(r.loss >= 0);
      const h = 1e-7;
      for (let e = 0; e < g.weight.length; e++) {
        const up = Float64Array.from(g.weight), down = Float64Array.from(g.weight);
        up[e] += h;
        down[e] -= h;
        const fd = (f({ ...g, weight: up }, y, 2).loss - f({ ...g, weight: down }, y, 2).loss) /
          (2 * h);
        assert.ok(Math.abs(fd - r.grad[e]) < 1e-5, `edge ${e}: fd ${fd} vs grad ${r.grad[e]}`);
      }
    }),
    { ...RUNS, numRuns: 60 },
  );
});

Deno.test("bad graphs are rejected with a typed error naming the edge", () => {
  type Corruption = (
    g: { n: number; from: Int32Array; to: Int32Array; weight: Float64Array },
    e: number,
  ) => RegExp;
  const corruptions: Corruption[] = [
    (g, e) => (g.to[e] = g.n, new RegExp(`edge ${e} = .*endpoints must be in`)),
    (g, e) => (g.from[e] = -1, new RegExp(`edge ${e} = \\(-1,.*endpoints must be in`)),
    (g, e) => (g.from[e] = g.to[e], new RegExp(`edge ${e} = .*self-loop`)),
    (g, e) => (g.weight[e] = NaN, new RegExp(`edge ${e} = .*weight NaN`)),
    (g, e) => (g.weight[e] = -Infinity, new RegExp(`edge ${e} = .*weight -Infinity`)),
    (
      g,
      e,
    ) => ([g.from[e], g.to[e]] = [g.to[e], g.from[e]],
      new RegExp(`edge ${e} = .*from must be < to`)),
  ];
  fc.assert(
    fc.property(
      connectedArb,
      fc.nat(),
      fc.integer({ min: 0, max: corruptions.length - 1 }),
      ({ g }, at, which) => {
        const bad = {
          n: g.n,
          from: g.from.slice(),
          to: g.to.slice(),
          weight: g.weight.slice(),
        };
        const e = at % g.from.length;
        const message = corruptions[which](bad, e);
        assert.throws(
          () => assertGraph("graph", bad),
          (err: unknown) => err instanceof RangeError && message.test(err.message),
        );
        assert.throws(() => forestHierarchyOnGraph(bad), RangeError);
        assert.throws(() => maxSpanningForestOnGraph(bad, g.n), RangeError);
      },
    ),
    RUNS,
  );
  // A duplicate pair (listed again at the end) names both edges.
  fc.assert(
    fc.property(connectedArb, fc.nat(), ({ g }, at) => {
      const e = at % g.from.length, m = g.from.length;
      const dup = {
        n: g.n,
        from: Int32Array.from([...g.from, g.from[e]]),
        to: Int32Array.from([...g.to, g.to[e]]),
        weight: Float64Array.from([...g.weight, 0]),
      };
      assert.throws(
        () => assertGraph("graph", dup),
        new RegExp(`edge ${m} = .*duplicates edge ${e}`),
      );
      assert.equal(GraphCodec.decode(GraphCodec.encode(g))._tag, "Right");
      const json = GraphCodec.encode(dup as Graph);
      assert.equal(GraphCodec.decode(json)._tag, "Left");
    }),
    RUNS,
  );
  assert.throws(() => assertGraph("graph", { n: 2, from: [0], to: [1], weight: [1] }), TypeError);
  assert.throws(
    () =>
      assertGraph("graph", {
        n: 2,
        from: new Int32Array(1),
        to: new Int32Array(2),
        weight: new Float64Array(1),
      }),
    /lengths 1, 2, 1/,
  );
});

Deno.test("argsortDescending is a stable sort by decreasing key (radix and comparator paths)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 9000 }),
      fc.integer({ min: 0, max: 2 ** 31 }),
      fc.boolean(),
      (m, seed, ties) => {
        let x = seed;
        const keys = new Float64Array(m).map(() => {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          const u = x / 2 ** 32;
          return ties ? Math.round(u * 8) - 4 : (u - 0.5) * 10 ** ((x % 600) - 300);
        });
        if (m > 3) keys[0] = -0;
        const order = argsortDescending(keys);
        const reference = Array.from({ length: m }, (_, i) => i).sort((a, b) =>
          keys[b] - keys[a] || a - b
        );
        assert.deepEqual([...order], reference);
      },
    ),
    { seed: 14, numRuns: 30 },
  );
});

Deno.test("propagateLabels: one class per tree, labels kept, the constrained forest when it exists", () => {
  fc.assert(
    fc.property(labelledGraphArb(false), ({ g, labels }) => {
      const { labels: out, forest } = propagateLabels(g, labels);
      const trees = treesOf(g, forest.edgeIndex), comp = graphComponents(g).labels;
      const classOfTree = new Map<number, number | null>();
      for (let i = 0; i < g.n; i++) {
        if (labels[i] !== null) assert.equal(out[i], labels[i]);
        const seen = classOfTree.get(trees[i]);
        if (seen === undefined) classOfTree.set(trees[i], out[i]);
        else assert.equal(out[i], seen); // one class per tree
        // A point is unlabelled only when no label is in its connected component.
        if (out[i] === null) {
          for (let j = 0; j < g.n; j++) if (comp[j] === comp[i]) assert.equal(labels[j], null);
        }
      }
      const classes = new Set(labels.filter((l) => l !== null)).size;
      const c = graphComponents(g).count;
      if (classes > 0 && classes >= c) {
        let f;
        try {
          f = constrainedSpanningForestOnGraph(g, classes, labels);
        } catch {
          return;
        }
        assert.ok(samePartition(f.labels, forest.labels));
      }
    }),
    RUNS,
  );
});
