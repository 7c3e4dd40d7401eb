import assert from "node:assert/strict";
import { ConvergenceError } from "../../lib/core/errors.ts";
import {
  fitLogisticProbe,
  fitStandardiser,
  type LogisticProbe,
  predict,
  predictProba,
  probeAccuracy,
} from "./logistic.ts";

// A deterministic data set that Python reproduces bit for bit: a Park–Miller generator
// (every product < 2^53, so exact in doubles), 3 classes labelled 1, 4, 7 with overlapping
// uniform noise, 5 features on different scales (so standardisation matters).
function parkMiller(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16807) % 2147483647) / 2147483647;
}
const CLASSES = [1, 4, 7];
function makeData(n: number, u: () => number): { x: number[][]; y: number[] } {
  const x: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    const row: number[] = [];
    for (let j = 0; j < 5; j++) {
      const center = ((c * 7 + j * 3) % 5) / 2 - 1;
      row.push(center + (u() - 0.5) * 3 * (j + 1) + 10 * j);
    }
    x.push(row), y.push(CLASSES[c]!);
  }
  return { x, y };
}
const rng = parkMiller(20231);
const train = makeData(90, rng);
const test = makeData(60, rng);

// Reference values: /usr/bin/python3 with Debian's python3-sklearn 1.2.1 on the same data
// (the generator above transcribed to Python), `sc = StandardScaler().fit(Xtr)`, then
// `LogisticRegression(C=C, solver="saga", multi_class="multinomial", tol=1e-12,
// max_iter=1000000).fit(sc.transform(Xtr), ytr)` — the reference code's solver — with
// intercepts centred to sum 0 (sklearn's are only defined up to a common shift), values
// rounded to 10 decimals. Its gradient max|∇f|/n at that solution is ≤ 5e-13 (checked in
// numpy). sklearn's solver="lbfgs" stops earlier on scipy's ftol = 64·eps (|∇f|/n ≈ 8e-7 here)
// and differs from the optimum by ≈ 2e-6, which is why the SAGA numbers are the reference.
const SKLEARN = {
  firstRow: [
    -2.0249941705376813,
    8.34595154637748,
    20.86145994945497,
    36.40982731963034,
    38.709701283932525,
  ],
  mean: [
    -0.06363794778643082,
    9.90735644024829,
    19.82620354615752,
    30.24844480351629,
    40.098099205921464,
  ],
  scale: [
    1.1107370926312943,
    1.8367123929274456,
    2.443611432933336,
    3.2167528328146564,
    4.767729118493242,
  ],
  fits: [
    {
      C: 1,
      coef: [
        [-1.2956591768, 0.0648466443, -0.1717285385, -0.0518347473, 0.0256042751],
        [0.1253928654, -0.1985117078, 0.5281004571, -0.1898829989, 0.2260886061],
        [1.1702663114, 0.1336650635, -0.3563719186, 0.2417177462, -0.2516928812],
      ],
      intercept: [-0.0913765416, 0.208646963, -0.1172704214],
      testAccuracy: 0.65,
      trainAccuracy: 0.6444444444444445,
      proba: [
        [0.4042300358, 0.5101418437, 0.0856281205],
        [0.1786809503, 0.3657954251, 0.4555236245],
        [0.0175523155, 0.1130182564, 0.8694294282],
      ],
    },
    {
      C: 0.05,
      coef: [
        [-0.5312299869, 0.0307922164, -0.0811700167, 0.0198017379, -0.0113041369],
        [0.0375880549, -0.0953325535, 0.2877744192, -0.1299430914, 0.1366494553],
        [0.493641932, 0.0645403371, -0.2066044025, 0.1101413535, -0.1253453183],
      ],
      intercept: [-0.0076031728, 0.0436094449, -0.0360062721],
      testAccuracy: 0.7,
      trainAccuracy: 0.6666666666666666,
      proba: [
        [0.3990708736, 0.4199404732, 0.1809886532],
        [0.2697670262, 0.3246934676, 0.4055395062],
        [0.1155092484, 0.2360254303, 0.6484653213],
      ],
    },
  ],
} as const;

function assertClose(
  actual: ArrayLike<number>,
  expected: readonly number[],
  tol: number,
  what: string,
) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i]! - expected[i]!) <= tol,
      `${what}[${i}] = ${actual[i]} differs from ${expected[i]} by more than ${tol}`,
    );
  }
}

Deno.test("logistic probe matches scikit-learn", async (t) => {
  await t.step("the generated data set is the one sklearn saw", () => {
    assert.deepEqual(train.x[0], SKLEARN.firstRow);
  });

  await t.step("standardisation equals StandardScaler's mean_ and scale_", () => {
    const s = fitStandardiser(train.x);
    assertClose(s.mean, SKLEARN.mean, 1e-12, "mean");
    assertClose(s.scale, SKLEARN.scale, 1e-12, "scale");
  });

  for (const ref of SKLEARN.fits) {
    await t.step(`C = ${ref.C}: coefficients, probabilities and accuracies`, () => {
      const probe = fitLogisticProbe(train.x, train.y, { C: ref.C, tol: 1e-10 });
      assert.ok(probe.converged, `converged (gradNorm ${probe.gradNorm})`);
      assert.deepEqual([...probe.classes], CLASSES);
      // Both fits are converged to |∇f|/n ≤ 1e-10; with the objective's curvature here that
      // pins the solution to ~1e-9, and the reference is rounded to 1e-10: 1e-8 is the margin.
      assertClose(probe.weights, ref.coef.flat(), 1e-8, "coef");
      assertClose(probe.intercepts, ref.intercept, 1e-8, "intercept");
      assertClose(predictProba(probe, test.x.slice(0, 3)), ref.proba.flat(), 1e-8, "proba");
      assert.equal(probeAccuracy(probe, test.x, test.y), ref.testAccuracy);
      assert.equal(probeAccuracy(probe, train.x, train.y), ref.trainAccuracy);
    });
  }
});

Deno.test("logistic probe: input forms, purity and reporting", async (t) => {
  await t.step("rows, Float64 and Float32 matrices give the same model", () => {
    const rows = fitLogisticProbe(train.x, train.y);
    const f64 = fitLogisticProbe(
      { rows: 90, cols: 5, data: Float64Array.from(train.x.flat()) },
      train.y,
    );
    assert.deepEqual(f64.weights, rows.weights);
    const f32 = fitLogisticProbe(
      { rows: 90, cols: 5, data: Float32Array.from(train.x.flat()) },
      Int32Array.from(train.y),
    );
    // Float32 input rounds features by ≈ 4e-6 relative; the solution moves by about that.
    assertClose(f32.weights, [...rows.weights], 1e-4, "float32 weights");
  });

  await t.step("inputs are not mutated", () => {
    const data = Float32Array.from(train.x.flat());
    const copy = Float32Array.from(data);
    const labels = Int32Array.from(train.y);
    const probe = fitLogisticProbe({ rows: 90, cols: 5, data }, labels);
    predict(probe, { rows: 90, cols: 5, data });
    assert.deepEqual(data, copy);
    assert.deepEqual([...labels], train.y);
  });

  await t.step("predict returns training label values; ties and unseen labels", () => {
    const probe = fitLogisticProbe(train.x, train.y);
    for (const p of predict(probe, test.x)) assert.ok(CLASSES.includes(p));
    // A label never seen in training can never be predicted: counts as an error.
    assert.equal(probeAccuracy(probe, test.x.slice(0, 2), [9, 9]), 0);
  });

  await t.step("an iteration cap is reported, or thrown with requireConvergence", () => {
    const probe: LogisticProbe = fitLogisticProbe(train.x, train.y, { maxIters: 1, tol: 1e-12 });
    assert.equal(probe.iterations, 1);
    assert.equal(probe.converged, false);
    assert.ok(probe.gradNorm > 1e-12);
    assert.throws(
      () => fitLogisticProbe(train.x, train.y, { maxIters: 1, requireConvergence: true }),
      (e: unknown) => e instanceof ConvergenceError && /did not converge/.test(e.message),
    );
  });

  await t.step("standardise: false fits raw features (a different model)", () => {
    const raw = fitLogisticProbe(train.x, train.y, { standardise: false, tol: 1e-8 });
    assert.ok(raw.converged);
    assert.deepEqual([...raw.mean], [0, 0, 0, 0, 0]);
    assert.deepEqual([...raw.scale], [1, 1, 1, 1, 1]);
  });
});

Deno.test("logistic probe: bad input is a clear error", async (t) => {
  const cases: [string, () => unknown, RegExp][] = [
    ["empty", () => fitLogisticProbe([], []), /at least one row/],
    ["ragged", () => fitLogisticProbe([[1, 2], [3]], [0, 1]), /features\[1\].*length 2/],
    ["NaN", () => fitLogisticProbe([[1, 2], [3, NaN]], [0, 1]), /features\[1\]\[1\] = NaN/],
    [
      "matrix size",
      () => fitLogisticProbe({ rows: 2, cols: 2, data: new Float64Array(3) }, [0, 1]),
      /length 3 but rows × cols = 2 × 2 = 4/,
    ],
    [
      "length mismatch",
      () => fitLogisticProbe([[1], [2]], [0, 1, 1]),
      /3 labels for 2 feature rows/,
    ],
    [
      "label out of range",
      () => fitLogisticProbe([[1], [2]], [0, 10], { numClasses: 10 }),
      /labels\[1\] = 10: labels must be integers in \[0, 9\]/,
    ],
    ["negative label", () => fitLogisticProbe([[1], [2]], [0, -1]), /labels\[1\] = -1/],
    ["fractional label", () => fitLogisticProbe([[1], [2]], [0, 0.5]), /labels\[1\] = 0.5/],
    ["one class", () => fitLogisticProbe([[1], [2]], [3, 3]), /at least two distinct labels/],
    ["C", () => fitLogisticProbe([[1], [2]], [0, 1], { C: 0 }), /Invalid C = 0/],
    ["tol", () => fitLogisticProbe([[1], [2]], [0, 1], { tol: NaN }), /Invalid tol = NaN/],
    [
      "dimension at predict",
      () => predict(fitLogisticProbe([[1], [2]], [0, 1]), [[1, 2]]),
      /dimension 2 but the probe was fitted on dimension 1/,
    ],
  ];
  for (const [name, run, message] of cases) {
    await t.step(name, () => {
      assert.throws(run, (e: unknown) => {
        assert.ok(e instanceof RangeError || e instanceof TypeError, `${name}: ${e}`);
        assert.match((e as Error).message, message);
        return true;
      });
    });
  }
  await t.step("not a matrix", () => {
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => fitLogisticProbe({ rows: 1, cols: 1, data: [1] } as any, [0]),
      TypeError,
    );
  });
});
