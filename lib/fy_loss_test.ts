import assert from "node:assert/strict";
import { fromData, matrix } from "./matrix.ts";
import { constraintsFromLabels, satisfies } from "./constraints.ts";
import { fyLoss, partialFyLoss } from "./fy_loss.ts";
import { maxSpanningForest } from "./spanning_forest.ts";
import { symmetricNoise } from "./noise.ts";

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
});
