import assert from "node:assert/strict";
import { assertSimilarity, fromData } from "./matrix.ts";

Deno.test("assertSimilarity rejects every non-finite entry wherever it sits", () => {
  // Regression: the scan once let a NaN through when a finite entry followed it in scan order.
  for (const n of [1, 3, 70, 130]) {
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const [i, j] of [[0, 0], [0, n - 1], [n - 1, 0], [n >> 1, n >> 2], [n - 1, n - 1]]) {
        const data = new Float64Array(n * n);
        for (let t = 0; t < n * n; t++) data[t] = -((Math.floor(t / n) - (t % n)) ** 2);
        data[i * n + j] = bad;
        data[j * n + i] = bad;
        assert.throws(
          () => assertSimilarity("sigma", fromData(n, data)),
          new RegExp(`Invalid sigma\\[${Math.min(i, j) === i ? i : j}\\]\\[.*\\] = ${bad}`),
          `n = ${n}, (${i}, ${j}) = ${bad}`,
        );
      }
    }
  }
});

Deno.test("assertSimilarity: symmetry up to 1e-9 of the largest |entry|, naming the pair", () => {
  const n = 100, data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) data[i * n + j] = -1e6 * (i - j) ** 2;
  const scale = 1e6 * 99 ** 2;
  data[3 * n + 77] += 1e-10 * scale; // within tolerance
  assertSimilarity("sigma", fromData(n, data));
  data[77 * n + 3] -= 1e-8 * scale; // beyond it
  assert.throws(() => assertSimilarity("sigma", fromData(n, data)), /not symmetric at \(3, 77\)/);
});

Deno.test("assertSimilarity at n = 2051: defects in the last, ragged tile and the scale pass", () => {
  const n = 2051, data = new Float64Array(n * n); // 2051 = 128 × 16 + 3: a ragged last tile
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) data[i * n + j] = -((i - j) ** 2);
  const sigma = fromData(n, data);
  assertSimilarity("sigma", sigma);
  const tol = 1e-9 * (n - 1) ** 2;
  for (const [i, j] of [[1, 2050], [2049, 2048], [130, 1500]]) {
    const saved = data[i * n + j];
    data[i * n + j] += 0.9 * tol; // within tolerance: accepted (through the scale pass)
    assertSimilarity("sigma", sigma);
    data[i * n + j] = saved + 1.1 * tol;
    const [a, b] = [Math.min(i, j), Math.max(i, j)];
    assert.throws(
      () => assertSimilarity("sigma", sigma),
      new RegExp(`not symmetric at \\(${a}, ${b}\\)`),
    );
    data[i * n + j] = Infinity;
    assert.throws(
      () => assertSimilarity("sigma", sigma),
      new RegExp(`sigma\\[${i}\\]\\[${j}\\] = Infinity`),
    );
    data[i * n + j] = saved;
  }
  data[2050 * n + 2050] = NaN; // the very last diagonal entry
  assert.throws(() => assertSimilarity("sigma", sigma), /sigma\[2050\]\[2050\] = NaN/);
});
