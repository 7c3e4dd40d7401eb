import assert from "node:assert/strict";
import { exactNeighbours, type NeighbourGemm } from "../lib/graph/exact_neighbours.ts";
import { rectFromData } from "../lib/core/rect_matrix.ts";
import { type NativeGemmProbe, nativeNeighbourGemm } from "./native_gemm.ts";

const f64: NativeGemmProbe = nativeNeighbourGemm("float64", 2);
const f32: NativeGemmProbe = nativeNeighbourGemm("float32");
const why = f64.ok ? "" : ` (skipped: ${f64.why})`;

/** Reproducible uniform numbers (LCG). */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

Deno.test({
  name: `OpenBLAS dgemm and sgemm give the neighbours of the pure-TypeScript product${why}`,
  ignore: !f64.ok || !f32.ok,
  fn() {
    if (!f64.ok || !f32.ok) return;
    assert.match(f64.detail, /dgemm/);
    assert.match(f32.detail, /sgemm/);
    for (const [n, d, k, blockSize] of [[1000, 32, 15, 96], [777, 7, 9, 256], [300, 64, 5, 1000]]) {
      const u = uniform(n + d), c = 6;
      const centres = Array.from({ length: c }, () => Array.from({ length: d }, () => 8 * u()));
      const x = new Float64Array(n * d);
      for (let i = 0; i < n; i++) {
        for (let t = 0; t < d; t++) x[i * d + t] = 1e3 + centres[i % c][t] + u();
      }
      // Integer copies of some points: exact ties.
      for (let i = 0; i < n; i += 10) {
        for (let t = 0; t < d; t++) x[i * d + t] = Math.round(x[i * d + t]);
      }
      const p = rectFromData(n, d, x);
      const want = exactNeighbours(p, k, { blockSize });
      const products: [string, NeighbourGemm][] = [[f64.detail, f64.gemm], [f32.detail, f32.gemm]];
      for (const [detail, gemm] of products) {
        const got = exactNeighbours(p, k, { blockSize, gemm });
        assert.deepEqual(got.index, want.index, `${detail}, n = ${n}, d = ${d}`);
        assert.deepEqual(got.distance2, want.distance2, `${detail}, n = ${n}, d = ${d}`);
      }
    }
  },
});

Deno.test("nativeNeighbourGemm: a bad precision or thread count is a RangeError naming it", () => {
  assert.throws(() => nativeNeighbourGemm("float64", 0), /^RangeError: Invalid threads = 0/);
  assert.throws(
    () => nativeNeighbourGemm("float16" as "float32"),
    /^RangeError: Invalid precision = "float16"/,
  );
});
