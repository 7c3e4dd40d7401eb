import assert from "node:assert/strict";
import { fromData, matrix } from "../core/matrix.ts";
import {
  constrainedSpanningForest,
  constraintsFromLabels,
  satisfies,
} from "../constrained/constrained_forest.ts";
import { fyLoss, fyTarget, partialFyLoss } from "./fy_loss.ts";
import { connectivityFromLabels } from "../metrics/metrics.ts";
import { negSquaredDistances } from "../core/similarity.ts";
import { maxSpanningForest } from "../forest/spanning_forest.ts";
import { symmetricNoise } from "../core/noise.ts";
import { symmetricData, testRng } from "../../props/mc_stats.ts";

const opts = { k: 2, epsilon: 0.1, samples: 10, noise: "gaussian" as const };
const sigma = matrix([[0, 1, -1, -2], [1, 0, -1, -2], [-1, -1, 0, 3], [-2, -2, 3, 0]]);

Deno.test("fyLoss", async (t) => {
  await t.step("bad options name the option", () => {
    assert.throws(() => fyLoss({ ...opts, epsilon: 0 }), /Invalid epsilon = 0/);
    assert.throws(() => fyLoss({ ...opts, epsilon: NaN }), /Invalid epsilon = NaN/);
    assert.throws(() => fyLoss({ ...opts, epsilon: Infinity }), /Invalid epsilon = Infinity/);
    assert.throws(() => fyLoss({ ...opts, samples: 0 }), /Invalid samples = 0/);
    assert.throws(() => fyLoss({ ...opts, samples: 1.5 }), /Invalid samples = 1.5/);
    // @ts-expect-error: an unknown noise name is a runtime error too
    assert.throws(() => fyLoss({ ...opts, noise: "cauchy" }), /Invalid noise = "cauchy"/);
    assert.throws(() => fyLoss({ ...opts, noise: "gumbel", antithetic: true }), /antithetic/);
    assert.throws(() => fyLoss({ ...opts, samples: 3, antithetic: true }), /Invalid samples = 3/);
    assert.throws(() => fyLoss({ ...opts, k: 0 }), /Invalid k = 0/);
  });
  await t.step("bad targets name the target", () => {
    const loss = fyLoss(opts);
    assert.throws(() => loss(sigma, matrix([[0, 1], [1, 0]]), 0), /Invalid target: it is 2 × 2/);
    const tree = maxSpanningForest(sigma, 1).adjacency; // 3 edges, but k = 2 needs 2
    assert.throws(() => loss(sigma, tree, 0), /Invalid target: it has 3 edges/);
    const cycle = matrix([[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]]);
    assert.throws(() => fyLoss({ ...opts, k: 1 })(sigma, cycle, 0), /closes a cycle/);
    const half = matrix([[0, 0.5, 0, 0], [0.5, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]);
    assert.throws(() => loss(sigma, half, 0), /Invalid target\[0\]\[1\] = 0.5/);
    assert.throws(() => loss(sigma, maxSpanningForest(sigma, 2).adjacency, 0.5), /Invalid seed/);
  });
  await t.step("gradient is Â_ε − Y and the loss is ≥ 0 for a wrong target", () => {
    const wrong = matrix([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]]);
    const { loss, grad } = fyLoss(opts)(sigma, wrong, 3);
    assert.ok(loss > 0);
    assert.equal(grad.data[1 * 4 + 2], -1); // never chosen, in the target
    assert.equal(grad.data[2 * 4 + 3], 1); // always chosen, not in the target
  });
});

Deno.test("partialFyLoss", async (t) => {
  await t.step("constraints of the wrong size are rejected", () => {
    assert.throws(
      () => partialFyLoss(opts)(sigma, constraintsFromLabels([0, 1]), 0),
      /Invalid constraints/,
    );
  });
  await t.step("labels agreeing with Σ cost nothing", () => {
    const { loss, grad } = partialFyLoss(opts)(sigma, constraintsFromLabels([0, 0, 1, 1]), 0);
    assert.equal(loss, 0);
    assert.ok(grad.data.every((g) => g === 0));
  });
  await t.step("example: learn Σ from partial labels with plain gradient descent", () => {
    // README example. Random Σ on 6 points; labels say {0, 1} and {3, 4}; 2 and 5 unlabelled.
    const n = 6, k = 2;
    const labels = [0, 0, null, 1, 1, null];
    const constraints = constraintsFromLabels(labels);
    const loss = partialFyLoss({ k, epsilon: 0.5, samples: 50, noise: "gaussian" });
    let sigma = symmetricNoise("gaussian", n, 1); // random start
    const first = loss(sigma, constraints, 0).loss;
    for (let step = 0; step < 100; step++) {
      const { grad } = loss(sigma, constraints, step); // fresh noise each step
      sigma = fromData(n, sigma.data.map((v, i) => v - 0.2 * grad.data[i]));
    }
    assert.ok(loss(sigma, constraints, 999).loss < 0.1 * first);
    assert.ok(satisfies(constraints, maxSpanningForest(sigma, k).labels));
  });
  await t.step(
    "README identity with unlabelled points: F_ε − F̃_ε and A_ε − Ã_ε of the fast solver (CRN)",
    () => {
      // The loss is the mean over the documented draws Σ_b = Σ + εZ_b of F(Σ_b) − F̃(Σ_b; M_Ω),
      // F̃ the fast constrained solver's value (possibly sub-optimal), recomputed here solve by
      // solve; and it is ≥ the exact partial loss (same draws) ≥ 0.
      const rand = testRng(515);
      for (let c = 0; c < 12; c++) {
        const n = 5 + Math.floor(rand() * 4);
        const labels = Array.from(
          { length: n },
          () => (rand() < 0.5 ? null : Math.floor(rand() * 3)),
        );
        const classes = new Set(labels.filter((l) => l !== null)).size;
        const free = labels.filter((l) => l === null).length;
        const k = Math.max(1, classes) + Math.floor(rand() * (free + 1));
        if (k > n) continue;
        const epsilon = Math.exp(Math.log(0.05) + rand() * Math.log(60));
        const s = fromData(n, symmetricData(n, () => 4 * rand() - 2));
        const cons = constraintsFromLabels(labels), B = 20, seed = 300 + c;
        const o = { k, epsilon, samples: B, noise: "gaussian" as const };
        const fast = partialFyLoss(o)(s, cons, seed);
        const exact = partialFyLoss({ ...o, constrainedSolver: "exact" })(s, cons, seed);
        let loss = 0;
        const grad = new Float64Array(n * n);
        for (let b = 0; b < B; b++) {
          const z = symmetricNoise("gaussian", n, seed, b).data;
          const p = fromData(n, s.data.map((v, u) => v + epsilon * z[u]));
          const free = maxSpanningForest(p, k), bound = constrainedSpanningForest(p, k, cons);
          loss += Math.max(0, free.value - bound.value) / B;
          for (const [i, j] of free.edges) grad[i * n + j] = grad[j * n + i] += 1 / B;
          for (const [i, j] of bound.edges) grad[i * n + j] = grad[j * n + i] -= 1 / B;
        }
        const what = `labels ${JSON.stringify(labels)}, k = ${k}, ε = ${epsilon}`;
        assert.ok(Math.abs(fast.loss - loss) <= 1e-9 * (1 + Math.abs(loss)), what);
        for (let u = 0; u < n * n; u++) {
          assert.ok(Math.abs(fast.grad.data[u] - grad[u]) < 1e-12, what);
        }
        assert.ok(exact.loss >= 0 && fast.loss >= exact.loss - 1e-9 * (1 + exact.loss), what);
      }
    },
  );
});

Deno.test("fyTarget: the best forest with the label classes as trees (brute force)", () => {
  // 6 points, classes {0,1,2} and {3,4,5}: the best Y spans each class by its maximum
  // spanning tree. Oracle: every spanning tree of a 3-point class is a pair of its 3 edges.
  const pts = [[0, 0], [1, 0.3], [2.2, 0], [10, 1], [10.5, 2], [12, 1.2]];
  const sigma = negSquaredDistances(pts);
  const labels = [0, 0, 0, 1, 1, 1];
  const { target, k } = fyTarget(sigma, labels);
  assert.equal(k, 2);
  const s = (i: number, j: number) => sigma.data[i * 6 + j]!;
  let best = 0;
  for (const cls of [[0, 1, 2], [3, 4, 5]]) {
    const [a, b, c] = cls as [number, number, number];
    best += Math.max(s(a, b) + s(b, c), s(a, b) + s(a, c), s(a, c) + s(b, c));
  }
  let value = 0, edges = 0;
  for (let i = 0; i < 6; i++) {
    for (let j = i + 1; j < 6; j++) {
      if (target.data[i * 6 + j] === 1) {
        assert.equal(labels[i], labels[j], `edge (${i}, ${j}) crosses classes`);
        value += s(i, j);
        edges++;
      }
    }
  }
  assert.equal(edges, 4);
  assert.ok(Math.abs(value - best) < 1e-12);
  // fyLoss takes it; the connectivity matrix users first try gets a pointer to fyTarget.
  const loss = fyLoss({ k, epsilon: 0.1, samples: 10, noise: "gaussian" });
  assert.ok(loss(sigma, target, 0).loss >= 0);
  assert.throws(
    () => loss(sigma, connectivityFromLabels(labels), 0),
    /looks like a connectivity matrix.*fyTarget\(sigma, labels\)/,
  );
  assert.throws(() => fyTarget(sigma, [0, 0, 1]), /3 labels for sigma of n = 6/);
});
