/**
 * im2col / col2im for NHWC convolutions: a 2-d convolution as one matrix product.
 *
 * With the patch matrix P (one row per output pixel (b, oy, ox), one column per filter tap and
 * input channel (fy, fx, c), zero where the tap falls in the padding) and the filter W of shape
 * [fh, fw, cin, cout] read as a (fh·fw·cin) × cout matrix:
 *
 *   y = P · W                      (forward, P: (B·oh·ow) × (fh·fw·cin))
 *   ∂L/∂W = Pᵀ · dy                (filter gradient)
 *   ∂L/∂x = col2im(dy · Wᵀ)        (input gradient: scatter-add of the patch gradients)
 *
 * because y[b,oy,ox,o] = Σ_{fy,fx,c} x[b, oy·sh − pt + fy·dh, ox·sw − pl + fx·dw, c] · W[fy,fx,c,o].
 * The same identity is what tfjs's cpu backend computes tap by tap; the tests compare the two.
 *
 * @module
 */

/** The geometry of one NHWC convolution (the fields of tfjs's `Conv2DInfo` that matter). */
export interface ConvGeometry {
  readonly batchSize: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly outChannels: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  /** Padding above and left of the input (SAME, VALID or explicit, already resolved). */
  readonly padInfo: { readonly top: number; readonly left: number };
}

/** Rows of the patch matrix: one per output pixel. */
export function patchRows(g: ConvGeometry): number {
  return g.batchSize * g.outHeight * g.outWidth;
}

/** Columns of the patch matrix: one per filter tap and input channel. */
export function patchCols(g: ConvGeometry): number {
  return g.filterHeight * g.filterWidth * g.inChannels;
}

/**
 * True when the patch matrix is the input itself (1 × 1 filter, stride 1, no padding), so
 * im2col and col2im are copies that can be skipped.
 */
export function isPointwise(g: ConvGeometry): boolean {
  return g.filterHeight === 1 && g.filterWidth === 1 && g.strideHeight === 1 &&
    g.strideWidth === 1 && g.padInfo.top === 0 && g.padInfo.left === 0 &&
    g.outHeight === g.inHeight && g.outWidth === g.inWidth;
}

/**
 * Writes the patch matrix of `x` (NHWC, densely packed) into `col` (row-major,
 * {@link patchRows} × {@link patchCols}); taps in the padding are written as 0.
 *
 * With dilation 1 the taps fx = 0 … fw − 1 of one filter row read adjacent pixels, so each
 * (output pixel, filter row) is one contiguous run of fw·cin values in both arrays: a run of
 * 32 values or more is copied with `copyWithin` when `x` and `col` share a buffer (the wasm
 * heap), else with `set` (measured: 2.1 ms instead of 3.7 ms for the paper LeNet's second
 * layer at batch 64); shorter runs element by element.
 *
 * @param x The input, B·H·W·C values.
 * @param g The convolution's geometry.
 * @param col Output, at least rows × cols values (overwritten).
 */
export function im2col(x: Float32Array, g: ConvGeometry, col: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const { filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW } = g;
  const { dilationHeight: DH, dilationWidth: DW } = g;
  const PT = g.padInfo.top, PL = g.padInfo.left;
  const shared = x.buffer === col.buffer ? new Float32Array(x.buffer) : null;
  const xBase = x.byteOffset >> 2, cBase = col.byteOffset >> 2;
  const run = FW * C;
  // Short runs (few channels) copy faster element by element than through copyWithin / set.
  const byRuns = DW === 1 && run >= 32;
  let r = 0;
  for (let b = 0; b < g.batchSize; b++) {
    const xb = b * H * W * C;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const x0 = ox * SW - PL;
        for (let fy = 0; fy < FH; fy++) {
          const iy = oy * SH - PT + fy * DH;
          if (iy < 0 || iy >= H) {
            col.fill(0, r, r + run);
            r += run;
            continue;
          }
          const rowStart = xb + iy * W * C;
          if (byRuns) {
            // Taps fx with 0 ≤ x0 + fx < W are one run; the rest are padding.
            const lo = Math.min(FW, Math.max(0, -x0)), hi = Math.max(lo, Math.min(FW, W - x0));
            if (lo > 0) col.fill(0, r, r + lo * C);
            if (hi > lo) {
              const s = rowStart + (x0 + lo) * C, d = r + lo * C, n = (hi - lo) * C;
              if (shared !== null) shared.copyWithin(cBase + d, xBase + s, xBase + s + n);
              else col.set(x.subarray(s, s + n), d);
            }
            if (hi < FW) col.fill(0, r + hi * C, r + run);
            r += run;
            continue;
          }
          for (let fx = 0; fx < FW; fx++) {
            const ix = x0 + fx * DW;
            if (ix >= 0 && ix < W) {
              let s = rowStart + ix * C;
              for (let c = 0; c < C; c++) col[r++] = x[s++]!;
            } else {
              for (let c = 0; c < C; c++) col[r++] = 0;
            }
          }
        }
      }
    }
  }
}

/**
 * The adjoint of {@link im2col}: adds every patch-matrix entry back onto the input position it
 * was read from (padding taps are dropped). `dx` is overwritten, not accumulated into.
 *
 * @param col Patch-matrix gradient, rows × cols values.
 * @param g The convolution's geometry.
 * @param dx Output, B·H·W·C values (overwritten).
 */
export function col2im(col: Float32Array, g: ConvGeometry, dx: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const { filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW } = g;
  const { dilationHeight: DH, dilationWidth: DW } = g;
  const PT = g.padInfo.top, PL = g.padInfo.left;
  dx.fill(0, 0, g.batchSize * H * W * C);
  let r = 0;
  for (let b = 0; b < g.batchSize; b++) {
    const xb = b * H * W * C;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        for (let fy = 0; fy < FH; fy++) {
          const iy = oy * SH - PT + fy * DH;
          const rowInside = iy >= 0 && iy < H;
          for (let fx = 0; fx < FW; fx++) {
            const ix = ox * SW - PL + fx * DW;
            if (rowInside && ix >= 0 && ix < W) {
              let s = xb + (iy * W + ix) * C;
              for (let c = 0; c < C; c++) dx[s++] += col[r++];
            } else {
              r += C;
            }
          }
        }
      }
    }
  }
}
