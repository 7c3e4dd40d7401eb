/**
 * Internal (not re-exported by `mod.ts`): a stable argsort of float64 keys by decreasing value,
 * the O(m) step that lets Kruskal run on millions of edges. A comparator sort of an index array
 * calls back into JavaScript m log m times (≈ 1.5 s for 3·10⁶ Delaunay edges); the LSD radix sort
 * below makes four passes of 16-bit digits over the keys' bit patterns instead.
 *
 * @module
 */

/** Below this length a comparator sort beats the radix passes (65 536 buckets each). */
const RADIX_MIN = 4096;

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
 * import { argsortDescending } from "./argsort.ts";
 * if (argsortDescending(new Float64Array([1, 3, 1, 2])).join() !== "1,3,0,2") throw new Error();
 * ```
 */
export function argsortDescending(keys: Float64Array): Int32Array {
  const m = keys.length, order = new Int32Array(m);
  for (let i = 0; i < m; i++) order[i] = i;
  if (m < RADIX_MIN) return order.sort((a, b) => keys[b] - keys[a] || a - b);
  // Map each double to a 64-bit unsigned integer (hi, lo) that increases as the double
  // decreases: flip the sign bit of non-negatives, all bits of negatives, then complement.
  const f = new Float64Array(1), u = new Uint32Array(f.buffer);
  const hiWord = LITTLE_ENDIAN ? 1 : 0, loWord = 1 - hiWord;
  const hi = new Uint32Array(m), lo = new Uint32Array(m);
  for (let i = 0; i < m; i++) {
    f[0] = keys[i] === 0 ? 0 : keys[i];
    let h = u[hiWord], l = u[loWord];
    if (h & 0x80000000) {
      h = ~h;
      l = ~l;
    } else h ^= 0x80000000;
    hi[i] = ~h;
    lo[i] = ~l;
  }
  // Keys travel with the indices, so every pass reads sequentially.
  let src = order, dst = new Int32Array(m);
  let srcLo = lo, srcHi = hi, dstLo = new Uint32Array(m), dstHi = new Uint32Array(m);
  const count = new Int32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const shift = (pass & 1) * 16, useLo = pass < 2;
    const words = useLo ? srcLo : srcHi;
    count.fill(0);
    for (let i = 0; i < m; i++) count[(words[i] >>> shift) & 0xffff]++;
    if (count[(words[0] >>> shift) & 0xffff] === m) continue; // one digit: nothing to do
    for (let d = 0, sum = 0; d < 65536; d++) {
      const c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < m; i++) {
      const at = count[(words[i] >>> shift) & 0xffff]++;
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
