/**
 * Internal kernels behind `random.ts` and `noise.ts` (not re-exported by `mod.ts`): the seed
 * hashing of the per-sample streams, the ziggurat tables, and whole-buffer fills that run the
 * xoroshiro128+ generator with its state in local variables.
 *
 * The fills are bit-identical to filling from `streamUnchecked(seed, index)` with
 * `fillStandardNormal` / `fillGumbel`: the same generator step as pure-rand's xoroshiro128+
 * `unsafeNext`, the same ziggurat and the same Gumbel transform. Only the per-draw overhead of
 * the generator object (four field loads and stores per 32-bit draw) is gone, which is most of
 * the cost of drawing the noise of a Monte-Carlo estimate.
 *
 * @module
 */

/** The murmur3 32-bit finaliser: a bijection on 32-bit integers with full avalanche. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** JAX-style `fold_in` of `data` into `seed`, on trusted 32-bit integers. */
export function foldInUnchecked(seed: number, data: number): number {
  return mix32(mix32(seed ^ 0x9e3779b9) + Math.imul(data | 0, 0x632be5ab) + 0x7f4a7c15);
}

/**
 * The xoroshiro128+ state of stream `(seed, index)`: four hashes of `foldIn(seed, index)`, in
 * pure-rand's `fromState` order. The all-zero state (the generator's only fixed point) is mapped
 * to a non-zero one.
 *
 * @param seed A 32-bit integer seed (trusted).
 * @param index Stream index (trusted).
 * @returns The four 32-bit state words.
 */
export function streamState(seed: number, index: number): [number, number, number, number] {
  const base = foldInUnchecked(seed, index);
  const s0 = mix32(base + 0x3c6ef372), s1 = mix32(base ^ 0x1b873593);
  const s2 = mix32(base + 0x6a09e667), s3 = mix32(base ^ 0x5be0cd19);
  return (s0 | s1 | s2 | s3) === 0 ? [1, 0, 0, 0] : [s0, s1, s2, s3];
}

/** The part of a random stream the ziggurat's slow path needs. */
interface NextInt {
  unsafeNext(): number;
}

/**
 * A xoroshiro128+ generator, step for step pure-rand's `XoroShiro128Plus` (same state words in
 * the same order, same `unsafeNext`). The state lives in an Int32Array so that the fills below,
 * which run the generator on local copies of the words, read and write it as 32-bit integers;
 * they use this object only to hand the stream to the ziggurat's rare slow path.
 */
class Xoroshiro implements NextInt {
  /** (s01, s00, s11, s10) as in pure-rand's `getState`. */
  readonly state: Int32Array;
  constructor(state: readonly number[]) {
    this.state = Int32Array.from(state);
  }
  unsafeNext(): number {
    const st = this.state, s01 = st[0], s00 = st[1], a1 = st[2] ^ s01, a0 = st[3] ^ s00;
    const out = (s00 + st[3]) | 0;
    st[1] = (s00 << 24) ^ (s01 >>> 8) ^ a0 ^ (a0 << 16);
    st[0] = (s01 << 24) ^ (s00 >>> 8) ^ a1 ^ ((a1 << 16) | (a0 >>> 16));
    st[3] = (a1 << 5) ^ (a0 >>> 27);
    st[2] = (a0 << 5) ^ (a1 >>> 27);
    return out;
  }
}

const TWO_POW_M32 = 2 ** -32;

/** A uniform number in (0, 1) from 32 random bits (midpoint of one of the 2³² cells). */
function uniformOpen01(rng: NextInt): number {
  return ((rng.unsafeNext() >>> 0) + 0.5) * TWO_POW_M32;
}

// ---- Ziggurat (Marsaglia & Tsang 2000, 128 layers) -------------------------------------------
// One 32-bit draw u gives the layer from its 7 top bits and a signed 25-bit abscissa from the
// remaining bits, so the layer and the value are not taken from the same bits (Doornik 2005) and
// the weak lowest bits of xoroshiro128+ only touch the last digits of the value. ~98.8% of draws
// take the fast path: one integer, one compare, one multiply.
const ZIG_LAYERS = 128;
const ZIG_R = 3.442619855899;
const ZIG_V = 9.91256303526217e-3;
const ZIG_SCALE = 2 ** 24; // |signed 25-bit| < 2^24
/** Fast-path bound per layer: |hz| < zigK[iz] accepts hz · zigW[iz]. */
export const zigK: Int32Array = new Int32Array(ZIG_LAYERS);
/** Abscissa scale per layer. */
export const zigW: Float64Array = new Float64Array(ZIG_LAYERS);
const zigF = new Float64Array(ZIG_LAYERS);
{
  let dn = ZIG_R, tn = dn;
  const q = ZIG_V / Math.exp(-0.5 * dn * dn);
  zigK[0] = Math.floor((dn / q) * ZIG_SCALE);
  zigK[1] = 0;
  zigW[0] = q / ZIG_SCALE;
  zigW[ZIG_LAYERS - 1] = dn / ZIG_SCALE;
  zigF[0] = 1;
  zigF[ZIG_LAYERS - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = ZIG_LAYERS - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(ZIG_V / dn + Math.exp(-0.5 * dn * dn)));
    zigK[i + 1] = Math.floor((dn / tn) * ZIG_SCALE);
    tn = dn;
    zigF[i] = Math.exp(-0.5 * dn * dn);
    zigW[i] = dn / ZIG_SCALE;
  }
}

/**
 * The ziggurat's slow path for the draw (hz, iz) that failed the fast test: the tail beyond R
 * or the wedge test, drawing more numbers from `rng` as needed.
 */
export function normalSlow(rng: NextInt, hz: number, iz: number): number {
  for (;;) {
    const x = hz * zigW[iz];
    if (iz === 0) {
      // Base layer: sample the tail beyond R (Marsaglia 1964).
      let tx: number, ty: number;
      do {
        tx = -Math.log(uniformOpen01(rng)) / ZIG_R;
        ty = -Math.log(uniformOpen01(rng));
      } while (ty + ty < tx * tx);
      return hz > 0 ? ZIG_R + tx : -ZIG_R - tx;
    }
    // Wedge: accept under the density.
    if (zigF[iz] + uniformOpen01(rng) * (zigF[iz - 1] - zigF[iz]) < Math.exp(-0.5 * x * x)) {
      return x;
    }
    const u = rng.unsafeNext();
    iz = u >>> 25;
    hz = (u << 7) >> 7;
    if ((hz < 0 ? -hz : hz) < zigK[iz]) return hz * zigW[iz];
  }
}

/**
 * Fills `out` with standard normals from stream `(seed, index)`: the same numbers as
 * `fillStandardNormal(streamUnchecked(seed, index), out)`, faster.
 *
 * @param seed A 32-bit integer seed (trusted).
 * @param index Stream index (trusted).
 * @param out Destination buffer (mutated).
 * @returns `out`.
 */
export function fillStandardNormalFromSeed(
  seed: number,
  index: number,
  out: Float64Array,
): Float64Array {
  const rng = new Xoroshiro(streamState(seed, index)), st = rng.state;
  const layerBound = zigK, layerScale = zigW; // locals: no module-binding loads in the loop
  let s01 = st[0], s00 = st[1], s11 = st[2], s10 = st[3];
  for (let i = 0; i < out.length; i++) {
    // One xoroshiro128+ step (Xoroshiro.unsafeNext with the state in locals).
    const u = (s00 + s10) | 0, a0 = s10 ^ s00, a1 = s11 ^ s01;
    const next00 = (s00 << 24) ^ (s01 >>> 8) ^ a0 ^ (a0 << 16);
    s01 = (s01 << 24) ^ (s00 >>> 8) ^ a1 ^ ((a1 << 16) | (a0 >>> 16));
    s00 = next00;
    s10 = (a1 << 5) ^ (a0 >>> 27);
    s11 = (a0 << 5) ^ (a1 >>> 27);
    const iz = u >>> 25, hz = (u << 7) >> 7;
    // Math.abs rather than a sign test: the sign is a coin flip, a branch on it mispredicts.
    if (Math.abs(hz) < layerBound[iz]) {
      out[i] = hz * layerScale[iz];
      continue;
    }
    // Slow path (~1.2% of draws): continue the same stream through the generator object.
    st[0] = s01;
    st[1] = s00;
    st[2] = s11;
    st[3] = s10;
    out[i] = normalSlow(rng, hz, iz);
    s01 = st[0];
    s00 = st[1];
    s11 = st[2];
    s10 = st[3];
  }
  return out;
}

/**
 * Fills `out` with standard Gumbel draws −log(−log U) from stream `(seed, index)`: the same
 * numbers as `fillGumbel(streamUnchecked(seed, index), out)`, faster.
 *
 * @param seed A 32-bit integer seed (trusted).
 * @param index Stream index (trusted).
 * @param out Destination buffer (mutated).
 * @returns `out`.
 */
export function fillGumbelFromSeed(seed: number, index: number, out: Float64Array): Float64Array {
  const st = new Xoroshiro(streamState(seed, index)).state;
  let s01 = st[0], s00 = st[1], s11 = st[2], s10 = st[3];
  for (let i = 0; i < out.length; i++) {
    const u = (s00 + s10) | 0, a0 = s10 ^ s00, a1 = s11 ^ s01;
    const next00 = (s00 << 24) ^ (s01 >>> 8) ^ a0 ^ (a0 << 16);
    s01 = (s01 << 24) ^ (s00 >>> 8) ^ a1 ^ ((a1 << 16) | (a0 >>> 16));
    s00 = next00;
    s10 = (a1 << 5) ^ (a0 >>> 27);
    s11 = (a0 << 5) ^ (a1 >>> 27);
    out[i] = -Math.log(-Math.log(((u >>> 0) + 0.5) * TWO_POW_M32));
  }
  return out;
}
