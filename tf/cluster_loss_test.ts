import assert from "node:assert/strict";
import { constraintsFromLabels } from "../lib/constrained/constrained_forest.ts";
import { partialFyLoss } from "../lib/losses/fy_loss.ts";
import type { Matrix } from "../lib/core/matrix.ts";
import { fillStandardNormal, streamFor } from "../lib/core/random.ts";
import { negSquaredDistances, standardise } from "../lib/core/similarity.ts";
import { tf } from "./deps/tfjs.ts";
import {
  applySgd,
  clusterLoss,
  clusterLossGrads,
  type ClusterLossOptions,
  negSquaredDistancesTf,
  similarityTf,
} from "./cluster_loss.ts";

await tf.setBackend("cpu");

/** A seeded n × d matrix of standard normals, as rows. */
function normalRows(seed: number, n: number, d: number, scale = 1): number[][] {
  const z = fillStandardNormal(streamFor(seed), new Float64Array(n * d));
  return Array.from({ length: n }, (_, i) =>
    Array.from(z.subarray(i * d, (i + 1) * d), (v) =>
      // Round to float32 so the tfjs (float32) and float64 computations start from equal inputs.
      Math.fround(v * scale)));
}

function matMul(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
}

/** The float64 composite θ ↦ ℓ̂(Σ(Xθ)) used for finite differences (same seed each call). */
function lossOfTheta(
  x: number[][],
  opts: ClusterLossOptions,
  labels: (number | null)[],
  seed: number,
): (theta: number[][]) => number {
  const loss = partialFyLoss(opts);
  const c = constraintsFromLabels(labels);
  return (theta) => {
    const s = negSquaredDistances(matMul(x, theta));
    return loss(opts.standardise ? standardise(s) : s, c, seed).loss;
  };
}

function maxAbs(rows: number[][]): number {
  return Math.max(...rows.flat().map(Math.abs));
}

// Tiny linear model V = Xθ: n = 8 points in R³ mapped to R². Labels are partial (two points
// unlabelled) so the constrained solve is non-trivial; ε = 0.5 spreads the 20 perturbed forests.
const X = normalRows(1, 8, 3, 2);
const THETA0 = normalRows(2, 3, 2);
const LABELS = [0, 0, 1, 1, 2, null, 2, null];
const BASE: ClusterLossOptions = { k: 3, epsilon: 0.5, samples: 20, noise: "gaussian" };

async function tfjsGradTheta(opts: ClusterLossOptions, seed: number) {
  const x = tf.tensor2d(X);
  const theta = tf.variable(tf.tensor2d(THETA0));
  const step = clusterLossGrads(opts);
  const { loss, grads, sigma } = await step(() => tf.matMul(x, theta), LABELS, seed, [theta]);
  const g = await grads[theta.name].array() as number[][];
  tf.dispose([x, theta, ...Object.values(grads)]);
  return { loss, g, sigma };
}

Deno.test("negSquaredDistancesTf is exactly symmetric and matches the float64 core", async () => {
  const rows = normalRows(5, 12, 4);
  const v = tf.tensor2d(rows);
  const s = negSquaredDistancesTf(v);
  const got = await s.array() as number[][];
  tf.dispose([v, s]);
  const want = negSquaredDistances(rows);
  for (let i = 0; i < 12; i++) {
    assert.ok(got[i][i] === 0, `diagonal ${i}`); // −0 (from the negation) counts as 0
    for (let j = 0; j < 12; j++) {
      assert.equal(got[i][j], got[j][i]);
      // float32 rounding of a sum of 4 squares: relative error a few ulps (2⁻²⁴ ≈ 6e-8).
      assert.ok(Math.abs(got[i][j] - want.data[i * 12 + j]) <= 1e-6 * (1 + Math.abs(got[i][j])));
    }
  }
});

Deno.test("similarityTf with standardise matches lib/core/similarity.ts standardise", async () => {
  const rows = normalRows(6, 7, 2);
  const v = tf.tensor2d(rows);
  const s = similarityTf(v, true);
  const got = (await s.data()) as Float32Array;
  tf.dispose([v, s]);
  const want = standardise(negSquaredDistances(rows));
  want.data.forEach((w, k) => assert.ok(Math.abs(got[k] - w) < 1e-5, `entry ${k}`));
});

Deno.test("the loss value equals the CPU core's loss at Σ(Xθ) computed independently", async () => {
  const { loss, sigma } = await tfjsGradTheta({ ...BASE, standardise: false }, 3);
  // Wiring: the loss is the core's loss at the Σ the step reports.
  const c = constraintsFromLabels(LABELS);
  assert.equal(loss, partialFyLoss(BASE)(sigma, c, 3).loss);
  // And that Σ is −‖v_i − v_j‖² of v = Xθ, recomputed here in float64 (the step works in
  // float32: relative error a few 1e-7), so the loss at it agrees to the same precision.
  const independent = negSquaredDistances(matMul(X, THETA0));
  for (let u = 0; u < independent.data.length; u++) {
    const w = independent.data[u];
    assert.ok(Math.abs(sigma.data[u] - w) <= 1e-5 * (1 + Math.abs(w)), `Σ entry ${u}`);
  }
  const cpu = partialFyLoss(BASE)(independent, c, 3).loss;
  assert.ok(Math.abs(loss - cpu) <= 1e-4 * (1 + Math.abs(cpu)), `${loss} vs ${cpu}`);
  assert.ok(loss > 0, "the random map should violate the labels");
});

Deno.test("gradient equals the analytic chain rule dℓ/dv_i = −4 Σ_j G_ij (v_i − v_j)", async () => {
  const opts = { ...BASE, standardise: false };
  const seed = 4;
  const x = tf.tensor2d(X);
  const theta = tf.variable(tf.tensor2d(THETA0));
  const prepared = await clusterLoss(opts)(tf.matMul(x, theta) as tf.Tensor2D, LABELS, seed);
  const { grads } = tf.variableGrads(() => prepared.op(tf.matMul(x, theta) as tf.Tensor2D), [
    theta,
  ]);
  const g = await grads[theta.name].array() as number[][];
  tf.dispose([x, theta, ...Object.values(grads)]);
  // Float64 chain rule from the G the CPU returned: dℓ/dV then dℓ/dθ = Xᵀ dℓ/dV.
  const v = matMul(X, THETA0);
  const G: Matrix = prepared.grad;
  const n = v.length;
  const dV = v.map((vi, i) =>
    vi.map((_, a) => {
      let s = 0;
      for (let j = 0; j < n; j++) s += G.data[i * n + j] * (vi[a] - v[j][a]);
      return -4 * s;
    })
  );
  const want = THETA0.map((row, r) =>
    row.map((_, c) => v.reduce((s, _, i) => s + X[i][r] * dV[i][c], 0))
  );
  assert.ok(maxAbs(want) > 0.1, "a vanishing gradient would make this test vacuous");
  const scale = maxAbs(want);
  want.forEach((row, r) =>
    row.forEach((w, c) =>
      assert.ok(Math.abs(g[r][c] - w) <= 1e-4 * scale, `θ[${r}][${c}]: ${g[r][c]} vs ${w}`)
    )
  );
});

for (const standardiseSigma of [false, true]) {
  Deno.test(`gradient matches central finite differences (standardise = ${standardiseSigma})`, async () => {
    const opts = { ...BASE, standardise: standardiseSigma };
    const seed = 7;
    const { g } = await tfjsGradTheta(opts, seed);
    // With a fixed seed ℓ̂ is piecewise linear in Σ and Σ is quadratic in θ, so away from kinks
    // the central difference has no truncation error; float64 with h = 1e-5 keeps the probe far
    // inside one linear piece and the rounding error ≈ 1e-16/1e-5. The tfjs side is float32
    // (relative error ≈ 1e-6 per op), hence the 1e-3 relative tolerance.
    const f = lossOfTheta(X, opts, LABELS, seed);
    const h = 1e-5;
    const fd = THETA0.map((row, r) =>
      row.map((_, c) => {
        const plus = THETA0.map((q) => [...q]), minus = THETA0.map((q) => [...q]);
        plus[r][c] += h;
        minus[r][c] -= h;
        return (f(plus) - f(minus)) / (2 * h);
      })
    );
    const scale = maxAbs(fd);
    assert.ok(scale > 0.01, "a vanishing gradient would make this test vacuous");
    fd.forEach((row, r) =>
      row.forEach((w, c) =>
        assert.ok(
          Math.abs(g[r][c] - w) <= 1e-3 * scale,
          `θ[${r}][${c}]: tfjs ${g[r][c]} vs fd ${w}`,
        )
      )
    );
  });
}

Deno.test("a target of the wrong size is rejected with a message naming it", async () => {
  const v = tf.tensor2d([[0], [1], [2]]);
  await assert.rejects(
    clusterLoss(BASE)(v, [0, 1], 0),
    /^RangeError: Invalid labels: 2 labels for n = 3 embeddings \(one per row\)$/,
  );
  await assert.rejects(
    clusterLoss(BASE)(v, constraintsFromLabels([0, 1]), 0),
    /^RangeError: Invalid target: it covers 2 points but the batch has n = 3 embeddings$/,
  );
  await assert.rejects(
    clusterLoss(BASE)(v, 3 as unknown as number[], 0),
    /^TypeError: Expected target to be constraints or an array of labels, got 3$/,
  );
  v.dispose();
});

Deno.test("embeddings are checked before the loss: the message names the row", async (t) => {
  const x = tf.tensor2d([[0, 0], [0.1, 1], [3, 0], [3.1, 1]]);
  const theta = tf.variable(tf.tensor2d([[1, 0], [0, 1]]));
  const labels = [0, 0, 1, 1];
  const before = tf.memory().numTensors;
  for (const [bad, name] of [[NaN, "NaN"], [Infinity, "Infinity"], [-Infinity, "-Infinity"]]) {
    await t.step(`${name} in row 2`, async () => {
      const rows = [[0, 0], [0.1, 1], [3, bad as number], [3.1, 1]];
      const message = new RegExp(
        `^RangeError: embeddings row 2 holds ${name} \\(did training diverge\\?\\)$`,
      );
      const v = tf.tensor2d(rows);
      await assert.rejects(clusterLoss(BASE)(v, labels, 0), message);
      v.dispose();
      for (const passes of ["one", "two"] as const) {
        const shift = tf.tensor2d(rows.map((r) => r.map((c) => Number.isFinite(c) ? 0 : c)));
        // Xθ + shift: the non-finite entry comes out of the model, as a diverged network's would.
        const step = clusterLossGrads({ ...BASE, passes });
        await assert.rejects(step(() => tf.add(tf.matMul(x, theta), shift), labels, 0), message);
        shift.dispose();
      }
    });
  }
  await t.step("wrong rank, no rows, not a tensor, not a function", async () => {
    const v = tf.tensor1d([0, 1, 2]);
    await assert.rejects(
      clusterLoss(BASE)(v as unknown as tf.Tensor2D, [0, 1, 2], 0),
      /^RangeError: Invalid embeddings of shape \[3\]: expected rank 2 \(n × d\), got rank 1$/,
    );
    const empty = tf.zeros([0, 2]) as tf.Tensor2D;
    await assert.rejects(
      clusterLoss(BASE)(empty, [], 0),
      /^RangeError: Invalid embeddings of shape \[0,2\]: the batch has no rows$/,
    );
    await assert.rejects(
      clusterLoss(BASE)([[0, 1]] as unknown as tf.Tensor2D, [0], 0),
      /^TypeError: Expected embeddings to be a tf.Tensor \(n × d\) of spanclust's tfjs, got array/,
    );
    await assert.rejects(
      clusterLoss(BASE)({ shape: [2, 1] } as unknown as tf.Tensor2D, [0, 1], 0),
      /got a tensor of another tfjs \(shape \[2,1\]\)$/,
    );
    for (const passes of ["one", "two"] as const) {
      const step = clusterLossGrads({ ...BASE, passes });
      const rank3 = () => tf.reshape(tf.matMul(x, theta), [4, 2, 1]) as unknown as tf.Tensor2D;
      await assert.rejects(
        step(rank3, labels, 0),
        /^RangeError: Invalid embeddings of shape \[4,2,1\]: expected rank 2 \(n × d\), got rank 3$/,
      );
      await assert.rejects(
        step(() => tf.matMul(x, theta), [0, 1, 1], 0),
        /^RangeError: Invalid labels: 3 labels for n = 4 embeddings \(one per row\)$/,
      );
      await assert.rejects(
        step(x as unknown as () => tf.Tensor2D, labels, 0),
        /^TypeError: Expected embed to be a function returning the batch's embeddings, got object$/,
      );
    }
    tf.dispose([v, empty]);
  });
  assert.equal(tf.memory().numTensors, before, "a refused step leaves no tensor behind");
  tf.dispose([x, theta]);
});

Deno.test("1000 training steps leave tf.memory().numTensors unchanged", async () => {
  const x = tf.tensor2d(X);
  const theta = tf.variable(tf.tensor2d(THETA0));
  const step = clusterLossGrads({ ...BASE, samples: 4 });
  const embed = () => tf.matMul(x, theta) as tf.Tensor2D;
  const one = async (i: number) => {
    const { loss, grads } = await step(embed, LABELS, i, [theta]);
    applySgd(grads, [theta], 0.01);
    return loss;
  };
  await one(0); // warm-up: any lazily created backend state
  const before = tf.memory().numTensors;
  const losses: number[] = [];
  for (let i = 1; i <= 1000; i++) losses.push(await one(i));
  assert.equal(tf.memory().numTensors, before);
  // Training through clustering works: the late losses are below the early ones.
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(mean(losses.slice(-100)) < mean(losses.slice(0, 100)));
  tf.dispose([x, theta]);
});

Deno.test("one forward pass gives the two-pass loss and gradients bit for bit", async (t) => {
  const { selectBackend } = await import("./backend.ts");
  const { paperLeNet } = await import("../experiments/models.ts");
  const { loadNativeBlas } = await import("./native_blas.ts");
  const engines = loadNativeBlas().ok ? ["openblas", "xnnpack"] as const : ["xnnpack"] as const;
  const labels = [0, 0, 1, 1, 2, null, 2, null, 1, 0, null, 2];
  for (const backend of ["cpu", ...engines] as const) {
    await t.step(backend, async () => {
      if (backend === "cpu") await tf.setBackend("cpu");
      else await selectBackend("wasm", () => {}, { wasmGemm: backend });
      // A narrow paper LeNet: convolutions, pooling and dense layers all in the tape.
      const model = paperLeNet({
        inputShape: [12, 12, 1],
        widths: [4, 6, 16],
        embeddingDim: 5,
        seed: 3,
      });
      const x = tf.randomUniform([12, 12, 12, 1], 0, 1, "float32", 9);
      const embed = () => model.apply(x, { training: true }) as tf.Tensor2D;
      const run = async (passes: "one" | "two") => {
        const r = await clusterLossGrads({ ...BASE, passes })(embed, labels, 5);
        const g = await Promise.all(
          Object.keys(r.grads).sort().map(async (k) => Array.from(await r.grads[k]!.data())),
        );
        tf.dispose(Object.values(r.grads));
        return { loss: r.loss, g, passes: r.passes };
      };
      const one = await run("one"), two = await run("two");
      assert.equal(one.passes, 1);
      assert.equal(two.passes, 2);
      assert.equal(one.loss, two.loss);
      assert.ok(one.loss > 0);
      assert.deepEqual(one.g, two.g);
      assert.ok(one.g.flat().some((v) => v !== 0), "all-zero gradients prove nothing");
      tf.dispose([x]);
      model.dispose();
    });
  }
  await tf.setBackend("cpu");
});
