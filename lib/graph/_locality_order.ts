/**
 * Internal: the order in which the screen of `_gemm_screen.ts` visits the points, chosen so that
 * each block of B consecutive points is compact (a small ball around its centre), which is what
 * lets whole pairs of blocks be skipped.
 *
 * @module
 */

/**
 * Reorders the points so that each block of B consecutive ones is compact: recursive halving of
 * [lo, hi) at a multiple of B from lo, along the segment's principal axis (a few power
 * iterations from the direction of its farthest point), so that every block is a leaf. Pure
 * and deterministic; O(n d log(n / B)).
 */
export function localityOrder(y: Float64Array, n: number, d: number, B: number): Int32Array {
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const proj = new Float64Array(n), mu = new Float64Array(d), v = new Float64Array(d);
  const w = new Float64Array(d);
  const stack = [0, n];
  while (stack.length > 0) {
    const hi = stack.pop()!, lo = stack.pop()!;
    if (hi - lo <= B) continue;
    const mid = lo + B * Math.max(1, Math.round((hi - lo) / (2 * B)));
    mu.fill(0);
    for (let p = lo; p < hi; p++) {
      const o = perm[p] * d;
      for (let t = 0; t < d; t++) mu[t] += y[o + t];
    }
    for (let t = 0; t < d; t++) mu[t] /= hi - lo;
    let far = lo, farD = -1;
    for (let p = lo; p < hi; p++) {
      const o = perm[p] * d;
      let s = 0;
      for (let t = 0; t < d; t++) s += (y[o + t] - mu[t]) ** 2;
      if (s > farD) {
        farD = s;
        far = p;
      }
    }
    for (let t = 0; t < d; t++) v[t] = y[perm[far] * d + t] - mu[t];
    for (let it = 0; it < 4; it++) {
      w.fill(0);
      for (let p = lo; p < hi; p++) {
        const o = perm[p] * d;
        let s = 0;
        for (let t = 0; t < d; t++) s += (y[o + t] - mu[t]) * v[t];
        for (let t = 0; t < d; t++) w[t] += s * (y[o + t] - mu[t]);
      }
      let norm = 0;
      for (let t = 0; t < d; t++) norm += w[t] * w[t];
      if (!(norm > 0)) break;
      norm = Math.sqrt(norm);
      for (let t = 0; t < d; t++) v[t] = w[t] / norm;
    }
    for (let p = lo; p < hi; p++) {
      const o = perm[p] * d;
      let s = 0;
      for (let t = 0; t < d; t++) s += y[o + t] * v[t];
      proj[p] = s;
    }
    select(proj, perm, lo, hi, mid);
    stack.push(lo, mid, mid, hi);
  }
  return perm;
}

/** Quickselect: reorders proj/perm[lo, hi) so that positions < mid hold the smallest. */
function select(proj: Float64Array, perm: Int32Array, lo: number, hi: number, mid: number): void {
  let a = lo, b = hi - 1;
  while (a < b) {
    const pivot = proj[(a + b) >>> 1];
    let i = a, j = b;
    while (i <= j) {
      while (proj[i] < pivot) i++;
      while (proj[j] > pivot) j--;
      if (i <= j) {
        const tp = proj[i], ti = perm[i];
        proj[i] = proj[j];
        perm[i] = perm[j];
        proj[j] = tp;
        perm[j] = ti;
        i++;
        j--;
      }
    }
    if (mid <= j) b = j;
    else if (mid >= i) a = i;
    else return;
  }
}
