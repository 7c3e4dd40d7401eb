/**
 * Internal (not re-exported by `mod.ts`): a stable argsort of float64 keys by decreasing value,
 * the O(m) step that lets Kruskal run on millions of edges. A comparator sort of an index array
 * calls back into JavaScript m log m times (≈ 1.5 s for 3·10⁶ Delaunay edges); the LSD radix sort
 * below makes six passes of 11-bit digits over the keys' bit patterns instead.
 *
 * @module
 */

/** Below this length {@link argsortByMerging} beats the radix passes. */
const RADIX_MIN = 1024;
const DIGIT_BITS = 11, RADIX = 1 << DIGIT_BITS, MASK = RADIX - 1;

/** Bits [shift, shift + 11) of the 64-bit key (hi, lo). */
function digit(lo: number, hi: number, shift: number): number {
  if (shift + DIGIT_BITS <= 32) return (lo >>> shift) & MASK;
  if (shift >= 32) return (hi >>> (shift - 32)) & MASK;
  return ((lo >>> shift) | (hi << (32 - shift))) & MASK;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Indices 0..m−1 ordered by decreasing `keys[i]`, equal keys in increasing index order (stable).
 * −0 and +0 are equal. Keys must not be NaN (not checked).
 *
 * @param keys The values to sort by (not mutated).
 * @returns The permutation.
 *
 * @example
 * ```ts
 * import { argsortDescending } from "./_argsort.ts";
 * if (argsortDescending(new Float64Array([1, 3, 1, 2])).join() !== "1,3,0,2") throw new Error();
 * ```
 */
export function argsortDescending(keys: Float64Array): Int32Array {
  const m = keys.length;
  if (m < RADIX_MIN) return argsortByMerging(keys);
  const order = new Int32Array(m);
  for (let i = 0; i < m; i++) order[i] = i;
  // Map each double to a 64-bit unsigned integer (hi, lo) that increases as the double
  // decreases: flip the sign bit of non-negatives, all bits of negatives, then complement.
  const u = new Uint32Array(keys.buffer, keys.byteOffset, 2 * m);
  const hiWord = LITTLE_ENDIAN ? 1 : 0, loWord = 1 - hiWord;
  const hi = new Uint32Array(m), lo = new Uint32Array(m);
  for (let i = 0; i < m; i++) {
    let h = u[2 * i + hiWord], l = u[2 * i + loWord];
    if (h === 0x80000000 && l === 0) h = 0; // −0 sorts as +0
    if (h & 0x80000000) {
      h = ~h;
      l = ~l;
    } else h ^= 0x80000000;
    hi[i] = ~h;
    lo[i] = ~l;
  }
  // Keys travel with the indices, so every pass reads sequentially. Six passes of 11-bit
  // digits: the 2048 counters stay in L1 (16-bit digits need 256 KB of counters, which
  // dominates below ~10⁵ keys).
  let src = order, dst = new Int32Array(m);
  let srcLo = lo, srcHi = hi, dstLo = new Uint32Array(m), dstHi = new Uint32Array(m);
  const count = new Int32Array(RADIX);
  for (let shift = 0; shift < 64; shift += DIGIT_BITS) {
    count.fill(0);
    for (let i = 0; i < m; i++) count[digit(srcLo[i], srcHi[i], shift)]++;
    if (count[digit(srcLo[0], srcHi[0], shift)] === m) continue; // one digit: nothing to do
    for (let d = 0, sum = 0; d < RADIX; d++) {
      const c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < m; i++) {
      const at = count[digit(srcLo[i], srcHi[i], shift)]++;
      dst[at] = src[i];
      dstLo[at] = srcLo[i];
      dstHi[at] = srcHi[i];
    }
    [src, dst] = [dst, src];
    [srcLo, dstLo] = [dstLo, srcLo];
    [srcHi, dstHi] = [dstHi, srcHi];
  }
  return src;
}

/** Length of the runs that {@link argsortByMerging} sorts by insertion before merging. */
const RUN = 8;

/**
 * The same permutation for short arrays, without comparator callbacks (a comparator sort of the
 * indices took 5× as long at m = 255, the hierarchy of 256 points): insertion sort of runs of 8,
 * then bottom-up merges that take from the right run only on a strictly larger key, so that equal
 * keys (−0 and +0 included) keep their index order.
 */
function argsortByMerging(keys: Float64Array): Int32Array {
  const m = keys.length;
  let src = new Int32Array(m), dst = new Int32Array(m);
  for (let i = 0; i < m; i++) src[i] = i;
  for (let start = 0; start < m; start += RUN) {
    const end = Math.min(m, start + RUN);
    for (let i = start + 1; i < end; i++) {
      const x = src[i], key = keys[x];
      let j = i - 1;
      for (; j >= start && keys[src[j]] < key; j--) src[j + 1] = src[j];
      src[j + 1] = x;
    }
  }
  for (let width = RUN; width < m; width *= 2) {
    for (let start = 0; start < m; start += 2 * width) {
      const mid = Math.min(m, start + width), end = Math.min(m, start + 2 * width);
      let i = start, j = mid, out = start;
      while (i < mid && j < end) dst[out++] = keys[src[j]] > keys[src[i]] ? src[j++] : src[i++];
      while (i < mid) dst[out++] = src[i++];
      while (j < end) dst[out++] = src[j++];
    }
    [src, dst] = [dst, src];
  }
  return src;
}
