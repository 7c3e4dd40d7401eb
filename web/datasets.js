/**
 * The page's data: preset point sets (sklearn's `make_moons` / `make_circles` / `make_blobs`
 * constructions) and the synthetic denoising task of `exp:denoise` (paper §4, Figure 3 right),
 * drawn from a small seeded generator so that a URL reproduces them exactly. Pure: no DOM.
 *
 * @module
 */

/** The blob means of the paper's denoising run (as `experiments/denoise/data.ts`). */
export const PAPER_MEANS = [[0.976, 4.304], [2.055, 0.898], [-1.527, 2.918], [-1.248, 7.835]];

/** Preset names, in the order the page shows them. */
export const PRESETS = ["moons", "circles", "blobs", "denoise"];

/**
 * A seeded uniform generator on [0, 1) (mulberry32) with a Box–Muller normal.
 *
 * @param {number} seed 32-bit integer seed.
 * @returns {{ uniform(): number, normal(): number }} The generator.
 */
export function rng(seed) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => {
    const u = 1 - uniform(), v = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return { uniform, normal };
}

/**
 * Rescales 2-D points into the page's square [−1, 1]² (keeping the aspect ratio), margin 10 %.
 *
 * @param {number[][]} points The points.
 * @returns {number[][]} The rescaled points, 3 decimals.
 */
export function fitToView(points) {
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const cx = (Math.max(...xs) + Math.min(...xs)) / 2, cy = (Math.max(...ys) + Math.min(...ys)) / 2;
  const half = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) / 2;
  const s = half > 0 ? 0.9 / half : 1;
  return points.map((p) => [round3((p[0] - cx) * s), round3((p[1] - cy) * s)]);
}

function round3(v) {
  return Math.round(v * 1000) / 1000;
}

/**
 * A preset point set in [−1, 1]² with its suggested k.
 *
 * @param {string} name One of {@link PRESETS}.
 * @param {number} seed Seed.
 * @returns {{ points: number[][], k: number }} The points and k.
 * @throws {RangeError} On an unknown name.
 */
export function preset(name, seed) {
  const r = rng(seed);
  const pts = [];
  if (name === "moons") {
    const m = 20;
    for (let i = 0; i < m; i++) {
      const t = Math.PI * i / (m - 1);
      pts.push([Math.cos(t) + 0.05 * r.normal(), Math.sin(t) + 0.05 * r.normal()]);
      pts.push([1 - Math.cos(t) + 0.05 * r.normal(), 0.5 - Math.sin(t) + 0.05 * r.normal()]);
    }
    return { points: fitToView(pts), k: 2 };
  }
  if (name === "circles") {
    const m = 24;
    for (let i = 0; i < m; i++) {
      const t = 2 * Math.PI * i / m;
      pts.push([Math.cos(t) + 0.03 * r.normal(), Math.sin(t) + 0.03 * r.normal()]);
      pts.push([0.4 * Math.cos(t) + 0.03 * r.normal(), 0.4 * Math.sin(t) + 0.03 * r.normal()]);
    }
    return { points: fitToView(pts), k: 2 };
  }
  if (name === "blobs") {
    const centres = [[-5, -4], [0, 5], [5, -3]];
    for (const [cx, cy] of centres) {
      for (let i = 0; i < 15; i++) pts.push([cx + 1.2 * r.normal(), cy + 1.2 * r.normal()]);
    }
    return { points: fitToView(pts), k: 3 };
  }
  if (name === "denoise") {
    return { points: fitToView(denoiseData(seed).train.signal), k: 4 };
  }
  throw new RangeError(`Invalid preset = ${JSON.stringify(name)}: expected one of ${PRESETS}`);
}

/**
 * The denoising task: 4 Gaussian blobs (the paper's means, std 0.2, `pointsPerCluster` each)
 * in the first two features, `noiseColumns` iid U[0, 1] features appended; a training and a
 * validation set drawn independently. `blob` is each point's generating blob (the target).
 *
 * @param {number} seed Seed.
 * @param {{ pointsPerCluster?: number, std?: number, noiseColumns?: number }} [opts] Sizes.
 * @returns {{ train: Split, validation: Split }} Both sets, each `{ signal, features, blob }`.
 */
export function denoiseData(seed, opts = {}) {
  const { pointsPerCluster = 15, std = 0.2, noiseColumns = 2 } = opts;
  const draw = (r) => {
    const signal = [], features = [], blob = [];
    PAPER_MEANS.forEach(([mx, my], c) => {
      for (let p = 0; p < pointsPerCluster; p++) {
        const s = [mx + std * r.normal(), my + std * r.normal()];
        signal.push(s);
        features.push([...s, ...Array.from({ length: noiseColumns }, () => r.uniform())]);
        blob.push(c);
      }
    });
    return { signal, features, blob };
  };
  return { train: draw(rng(seed * 2 + 1)), validation: draw(rng(seed * 2 + 2)) };
}
/** @typedef {{ signal: number[][], features: number[][], blob: number[] }} Split */
