import assert from "node:assert/strict";
import { completeGraph } from "../lib/graph/graph.ts";
import { fillStandardNormal, streamFor } from "../lib/core/random.ts";
import { negSquaredDistances } from "../lib/core/similarity.ts";
import {
  labelledNeighbourGraph,
  partialFyLossOfPointsOnGraph,
} from "../lib/losses/point_graph_loss.ts";
import { rectToRows } from "../lib/core/rect_matrix.ts";
import { tf } from "./deps/tfjs.ts";
import { clusterLossGrads } from "./cluster_loss.ts";
import { clusterLossGradsOnGraph, type GraphClusterLossOptions } from "./graph_cluster_loss.ts";

await tf.setBackend("cpu");

/** A seeded n × d matrix of float32-representable standard normals (× scale), as rows. */
function normalRows(seed: number, n: number, d: number, scale = 1): number[][] {
  const z = fillStandardNormal(streamFor(seed), new Float64Array(n * d));
  return Array.from(
    { length: n },
    (_, i) => Array.from(z.subarray(i * d, (i + 1) * d), (v) => Math.fround(v * scale)),
  );
}

// A linear model V = Xθ: 24 points in R⁵ mapped to R³, three classes with two mislabelled points.
const N = 24, D_IN = 5, D = 3, K = 3;
const X = normalRows(1, N, D_IN, 2);
const THETA0 = normalRows(2, D_IN, D);
const LABELS = Array.from({ length: N }, (_, i) => i % K);
LABELS[0] = 1;
LABELS[7] = 2;

/** Loss and ∂ℓ/∂θ of a step function on the linear model. */
async function gradTheta(
  step: (
    embed: () => tf.Tensor2D,
    labels: number[],
    seed: number,
    vars: tf.Variable[],
  ) => Promise<{ loss: number; grads: tf.NamedTensorMap; passes: 1 | 2 }>,
  seed: number,
) {
  const x = tf.tensor2d(X);
  const theta = tf.variable(tf.tensor2d(THETA0));
  const r = await step(() => tf.matMul(x, theta), LABELS, seed, [theta]);
  const g = await r.grads[theta.name].array() as number[][];
  tf.dispose([x, theta, ...Object.values(r.grads)]);
  return { loss: r.loss, g: g.flat(), passes: r.passes };
}

/** V = Xθ in float64 (from the float32 inputs). */
function embeddings(): { rows: number; cols: number; data: Float64Array } {
  const data = new Float64Array(N * D);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < D; j++) {
      let s = 0;
      for (let t = 0; t < D_IN; t++) s += X[i][t] * THETA0[t][j];
      data[i * D + j] = s;
    }
  }
  return { rows: N, cols: D, data };
}

function assertClose(got: number[], want: number[], tol: number, what: string) {
  const scale = Math.max(...want.map(Math.abs));
  assert.ok(scale > 1e-3, `${what}: reference gradient too small to compare (${scale})`);
  for (let i = 0; i < got.length; i++) {
    assert.ok(
      Math.abs(got[i] - want[i]) <= tol * scale,
      `${what}[${i}]: ${got[i]} vs ${want[i]} (scale ${scale})`,
    );
  }
}

const BASE = { k: K, epsilon: 0.3, samples: 24, noise: "gaussian" as const };

Deno.test("graph adapter on the complete graph: the dense adapter's loss and ∂ℓ/∂θ", async (t) => {
  for (const standardise of [false, true]) {
    await t.step(`standardise: ${standardise}`, async () => {
      const dense = await gradTheta(clusterLossGrads({ ...BASE, standardise }), 4);
      const graph = await gradTheta(
        clusterLossGradsOnGraph({
          ...BASE,
          standardise,
          // Row-major upper triangle: the dense noise, coordinate for coordinate.
          buildGraph: (points) => completeGraph(negSquaredDistances(rectToRows(points))),
        }),
        4,
      );
      assert.ok(dense.loss > 0.1, `dense loss ${dense.loss} should be clearly positive`);
      // The dense Σ is float32 (tfjs), the graph's weights float64: equal to float32 rounding.
      assert.ok(
        Math.abs(graph.loss - dense.loss) <= 1e-4 * dense.loss,
        `loss ${graph.loss} vs ${dense.loss}`,
      );
      assertClose(graph.g, dense.g, 1e-3, "∂ℓ/∂θ");
    });
  }
});

Deno.test("graph adapter: ∂ℓ/∂θ = Xᵀ G with G the float64 gradient in the embeddings", async () => {
  const opts: GraphClusterLossOptions = { ...BASE, neighbours: 4 };
  const got = await gradTheta(clusterLossGradsOnGraph(opts), 6);
  const v = embeddings();
  const g = labelledNeighbourGraph(v, LABELS, 4);
  const want = partialFyLossOfPointsOnGraph(opts)(v, g, LABELS, 6);
  assert.ok(Math.abs(got.loss - want.loss) <= 1e-4 * want.loss, `${got.loss} vs ${want.loss}`);
  const xtg: number[] = [];
  for (let t = 0; t < D_IN; t++) {
    for (let j = 0; j < D; j++) {
      let s = 0;
      for (let i = 0; i < N; i++) s += X[i][t] * want.grad[i * D + j];
      xtg.push(s);
    }
  }
  assertClose(got.g, xtg, 1e-3, "∂ℓ/∂θ");
});

Deno.test("graph adapter: one pass and two passes give the same step", async () => {
  const opts = { ...BASE, neighbours: 5 };
  const one = await gradTheta(clusterLossGradsOnGraph({ ...opts, passes: "one" }), 8);
  const two = await gradTheta(clusterLossGradsOnGraph({ ...opts, passes: "two" }), 8);
  assert.deepEqual([one.passes, two.passes], [1, 2]);
  assert.equal(one.loss, two.loss);
  assert.deepEqual(one.g, two.g);
});

Deno.test("graph adapter: a few SGD steps lower the loss, no tensor leaks", async () => {
  // Separable classes (class c shifted by 2 along input axis c) seen through a random map.
  const labels = Array.from({ length: N }, (_, i) => i % K);
  const x = tf.tensor2d(X.map((row, i) => row.map((v, t) => v / 2 + (t === labels[i] ? 2 : 0))));
  const theta = tf.variable(tf.tensor2d(THETA0));
  const step = clusterLossGradsOnGraph({ ...BASE, samples: 32, neighbours: 4 });
  const before = tf.memory().numTensors;
  const losses: number[] = [];
  for (let s = 0; s < 30; s++) {
    const r = await step(() => tf.matMul(x, theta), labels, 100, [theta]);
    losses.push(r.loss);
    tf.tidy(() => {
      theta.assign(tf.sub(theta, tf.mul(r.grads[theta.name], 0.2)));
    });
    tf.dispose(Object.values(r.grads));
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, theta]);
  assert.ok(losses.every(Number.isFinite));
  // The noise leaves a floor (ε = 0.3 on standardised weights): compare the last five steps.
  const last = losses.slice(25).reduce((a, b) => a + b) / 5;
  assert.ok(last < 0.6 * losses[0], `loss ${losses[0]} → ${last} (mean of the last 5)`);
});

Deno.test("graph adapter: embeddings and labels are checked first, naming the row", async (t) => {
  const x = tf.tensor2d(X);
  const theta = tf.variable(tf.tensor2d(THETA0));
  const before = tf.memory().numTensors;
  const linear = () => tf.matMul(x, theta) as tf.Tensor2D;
  for (const passes of ["one", "two"] as const) {
    await t.step(`passes: ${passes}`, async () => {
      const step = clusterLossGradsOnGraph({ ...BASE, neighbours: 4, passes });
      for (const [bad, name] of [[NaN, "NaN"], [Infinity, "Infinity"], [-Infinity, "-Infinity"]]) {
        const shift = tf.tensor2d(
          Array.from(
            { length: N },
            (_, i) => Array.from({ length: D }, (_, j) => i === 5 && j === 2 ? bad as number : 0),
          ),
        );
        await assert.rejects(
          step(() => tf.add(linear(), shift), LABELS, 0),
          new RegExp(`^RangeError: embeddings row 5 holds ${name} \\(did training diverge\\?\\)$`),
        );
        shift.dispose();
      }
      await assert.rejects(
        step(linear, LABELS.slice(1), 0),
        /^RangeError: Invalid labels: 23 labels for n = 24 embeddings \(one per row\)$/,
      );
      await assert.rejects(
        step(linear, new Int32Array(25), 0),
        /^RangeError: Invalid labels: 25 labels for n = 24 embeddings \(one per row\)$/,
      );
      await assert.rejects(
        step(linear, "0,1" as unknown as number[], 0),
        /^TypeError: Expected labels to be an array of integers or null \(one per row\), got "0,1"$/,
      );
      await assert.rejects(
        step(() => tf.reshape(linear(), [N * D]) as unknown as tf.Tensor2D, LABELS, 0),
        /^RangeError: Invalid embeddings of shape \[72\]: expected rank 2 \(n × d\), got rank 1$/,
      );
      await assert.rejects(
        step(undefined as unknown as () => tf.Tensor2D, LABELS, 0),
        /^TypeError: Expected embed to be a function returning the batch's embeddings, got undefined$/,
      );
    });
  }
  assert.equal(tf.memory().numTensors, before, "a refused step leaves no tensor behind");
  tf.dispose([x, theta]);
});

Deno.test("graph adapter: bad options and batches are refused, naming the value", async () => {
  assert.throws(
    () => clusterLossGradsOnGraph({ ...BASE, neighbours: 0 }),
    /Invalid neighbours = 0: neighbours must be an integer/,
  );
  assert.throws(
    () => clusterLossGradsOnGraph({ ...BASE, neighbours: 2.5 }),
    /Invalid neighbours = 2.5/,
  );
  assert.throws(
    () => clusterLossGradsOnGraph({ ...BASE, passes: "three" as "one" }),
    /Invalid passes = three/,
  );
  await assert.rejects(
    gradTheta(clusterLossGradsOnGraph({ ...BASE, neighbours: N }), 0),
    /Invalid neighbours = 24: neighbours must be an integer in \[1, 23\] for a batch of n = 24/,
  );
});
