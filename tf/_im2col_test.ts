import assert from "node:assert/strict";
import { col2im, type ConvGeometry, im2col, patchCols, patchRows } from "./_im2col.ts";

/** A seeded uniform generator in [−0.5, 0.5) (independent of the library's RNG). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** A random geometry with SAME-like or VALID padding, strides and dilations 1–2. */
function randomGeometry(rand: () => number): ConvGeometry {
  const int = (lo: number, hi: number) => lo + Math.floor((rand() + 0.5) * (hi - lo + 1));
  const fh = int(1, 4), fw = int(1, 4), dh = int(1, 2), dw = int(1, 2);
  const sh = int(1, 3), sw = int(1, 3);
  const inHeight = int((fh - 1) * dh + 1, 9), inWidth = int((fw - 1) * dw + 1, 9);
  const top = int(0, fh - 1),
    left = int(0, fw - 1),
    bottom = int(0, fh - 1),
    right = int(0, fw - 1);
  const outHeight = Math.floor((inHeight + top + bottom - (fh - 1) * dh - 1) / sh) + 1;
  const outWidth = Math.floor((inWidth + left + right - (fw - 1) * dw - 1) / sw) + 1;
  return {
    batchSize: int(1, 3),
    inHeight,
    inWidth,
    inChannels: int(1, 12),
    outHeight,
    outWidth,
    outChannels: 1,
    filterHeight: fh,
    filterWidth: fw,
    strideHeight: sh,
    strideWidth: sw,
    dilationHeight: dh,
    dilationWidth: dw,
    padInfo: { top, left },
  };
}

/** The patch-matrix entry by its definition (the oracle; no shared code with im2col). */
function patchEntry(x: Float32Array, g: ConvGeometry, row: number, col: number): number {
  const ox = row % g.outWidth, oy = Math.floor(row / g.outWidth) % g.outHeight;
  const b = Math.floor(row / (g.outWidth * g.outHeight));
  const c = col % g.inChannels, fx = Math.floor(col / g.inChannels) % g.filterWidth;
  const fy = Math.floor(col / (g.inChannels * g.filterWidth));
  const iy = oy * g.strideHeight - g.padInfo.top + fy * g.dilationHeight;
  const ix = ox * g.strideWidth - g.padInfo.left + fx * g.dilationWidth;
  if (iy < 0 || iy >= g.inHeight || ix < 0 || ix >= g.inWidth) return 0;
  return x[((b * g.inHeight + iy) * g.inWidth + ix) * g.inChannels + c]!;
}

Deno.test("im2col writes every patch entry as defined, on shared and separate buffers", () => {
  const rand = lcg(7);
  for (let trial = 0; trial < 60; trial++) {
    const g = randomGeometry(rand);
    const nx = g.batchSize * g.inHeight * g.inWidth * g.inChannels;
    const rows = patchRows(g), cols = patchCols(g);
    // Shared: x and col are views of one buffer (as on the wasm heap), with garbage around.
    const mem = new Float32Array(nx + rows * cols + 8).fill(Number.NaN);
    const x = mem.subarray(3, 3 + nx);
    for (let i = 0; i < nx; i++) x[i] = rand();
    const shared = mem.subarray(3 + nx, 3 + nx + rows * cols);
    const separate = new Float32Array(rows * cols).fill(Number.NaN);
    im2col(x, g, shared);
    im2col(new Float32Array(x), g, separate);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const want = patchEntry(x, g, r, c);
        assert.equal(shared[r * cols + c], want, `trial ${trial}, shared, entry (${r}, ${c})`);
        assert.equal(separate[r * cols + c], want, `trial ${trial}, separate, entry (${r}, ${c})`);
      }
    }
    // Nothing outside the output was written.
    assert.ok(Number.isNaN(mem[3 + nx + rows * cols]!), `trial ${trial}: wrote past col`);
  }
});

Deno.test("col2im is the adjoint of im2col: ⟨im2col(x), P⟩ = ⟨x, col2im(P)⟩", () => {
  const rand = lcg(11);
  for (let trial = 0; trial < 60; trial++) {
    const g = randomGeometry(rand);
    const nx = g.batchSize * g.inHeight * g.inWidth * g.inChannels;
    const n = patchRows(g) * patchCols(g);
    const x = Float32Array.from({ length: nx }, rand), p = Float32Array.from({ length: n }, rand);
    const col = new Float32Array(n), dx = new Float32Array(nx).fill(99); // overwritten
    im2col(x, g, col);
    col2im(p, g, dx);
    let lhs = 0, rhs = 0, scale = 0;
    for (let i = 0; i < n; i++) lhs += col[i]! * p[i]!, scale += Math.abs(col[i]! * p[i]!);
    for (let i = 0; i < nx; i++) rhs += x[i]! * dx[i]!;
    // Both sides sum the same products; dx entries are float32 sums (relative error ≤ n·2⁻²⁴).
    assert.ok(Math.abs(lhs - rhs) <= 1e-5 * (1 + scale), `trial ${trial}: ${lhs} vs ${rhs}`);
  }
});
