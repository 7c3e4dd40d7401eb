/**
 * The page's state in its URL fragment, so that a link reproduces what the sender saw:
 * `#k=2&eps=0.1&B=100&seed=0&pts=x,y;x,y&ml=0-3&cl=1-2&lr=0.03&ls=10`. Decoding validates
 * every field; a bad one falls back to its default and is reported by name and value. Pure.
 *
 * @module
 */

/**
 * The page's state: clustering settings, points in [−1.1, 1.1]², pairs `[i, j, kind]` with
 * i < j and kind 1 (must-link) or 0 (cannot-link), and the learning settings.
 *
 * @typedef {{ k: number, epsilon: number, samples: number, seed: number,
 *   points: number[][], pairs: number[][], lr: number, learnSeed: number }} PageState
 */

/** @type {Readonly<PageState>} Defaults of every field. */
export const DEFAULTS = Object.freeze({
  k: 2,
  epsilon: 0.1,
  samples: 100,
  seed: 0,
  points: [],
  pairs: [],
  lr: 0.03,
  learnSeed: 10,
});

/** Largest number of points the page accepts (M*_ε is drawn as an n × n heatmap). */
export const MAX_POINTS = 150;

/**
 * Encodes a state as a URL fragment (without `#`).
 *
 * @param {PageState} s The state.
 * @returns {string} The fragment.
 */
export function encodeState(s) {
  const q = new URLSearchParams();
  q.set("k", String(s.k));
  q.set("eps", String(s.epsilon));
  q.set("B", String(s.samples));
  q.set("seed", String(s.seed));
  q.set("pts", s.points.map((p) => `${p[0]},${p[1]}`).join(";"));
  const pairs = (kind) => s.pairs.filter((p) => p[2] === kind).map((p) => `${p[0]}-${p[1]}`);
  q.set("ml", pairs(1).join(","));
  q.set("cl", pairs(0).join(","));
  q.set("lr", String(s.lr));
  q.set("ls", String(s.learnSeed));
  return q.toString().replaceAll("%2C", ",").replaceAll("%3B", ";");
}

/**
 * Decodes a URL fragment; fields that are absent take their default.
 *
 * @param {string} fragment The fragment (with or without `#`).
 * @returns {{ state: PageState, problems: string[] }} The state and one message per
 *   invalid field (which then took its default).
 */
export function decodeState(fragment) {
  const q = new URLSearchParams(fragment.replace(/^#/, ""));
  const problems = [];
  const num = (key, dflt, ok, what) => {
    const raw = q.get(key);
    if (raw === null || raw === "") return dflt;
    const v = Number(raw);
    if (!ok(v)) {
      problems.push(`Invalid ${key} = ${JSON.stringify(raw)} in the URL: expected ${what}`);
      return dflt;
    }
    return v;
  };
  const int = (v) => Number.isInteger(v);
  const state = {
    k: num("k", DEFAULTS.k, (v) => int(v) && v >= 1 && v <= MAX_POINTS, "an integer ≥ 1"),
    epsilon: num("eps", DEFAULTS.epsilon, (v) => v > 0 && v <= 100, "a number in (0, 100]"),
    samples: num(
      "B",
      DEFAULTS.samples,
      (v) => int(v) && v >= 1 && v <= 5000,
      "an integer in [1, 5000]",
    ),
    seed: num("seed", DEFAULTS.seed, (v) => int(v) && v >= 0 && v < 2 ** 31, "an integer ≥ 0"),
    lr: num("lr", DEFAULTS.lr, (v) => v > 0 && v <= 10, "a number in (0, 10]"),
    learnSeed: num(
      "ls",
      DEFAULTS.learnSeed,
      (v) => int(v) && v >= 0 && v < 2 ** 31,
      "an integer ≥ 0",
    ),
    points: [],
    pairs: [],
  };
  const pts = q.get("pts");
  if (pts) {
    const parsed = pts.split(";").map((p) => p.split(",").map(Number));
    if (
      parsed.length > MAX_POINTS ||
      !parsed.every((p) =>
        p.length === 2 && p.every((v) => Number.isFinite(v) && Math.abs(v) <= 10)
      )
    ) {
      problems.push(
        `Invalid pts in the URL: expected at most ${MAX_POINTS} points "x,y" separated by ";"`,
      );
    } else state.points = parsed;
  }
  const n = state.points.length;
  for (const [key, kind] of [["ml", 1], ["cl", 0]]) {
    const raw = q.get(key);
    if (!raw) continue;
    for (const pair of raw.split(",")) {
      const m = /^(\d+)-(\d+)$/.exec(pair);
      const i = m ? Number(m[1]) : NaN, j = m ? Number(m[2]) : NaN;
      if (!m || i >= n || j >= n || i === j) {
        problems.push(`Invalid ${key} pair ${JSON.stringify(pair)} in the URL for n = ${n} points`);
        continue;
      }
      state.pairs.push([Math.min(i, j), Math.max(i, j), kind]);
    }
  }
  return { state, problems };
}
