/**
 * The page's pure modules (web/state.js, web/datasets.js): URL state round trips and rejects
 * bad fields by name; presets are reproducible, fit the view, and the denoising blobs have the
 * paper's means.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import { decodeState, DEFAULTS, encodeState, MAX_POINTS } from "../web/state.js";
import { denoiseData, PAPER_MEANS, preset, PRESETS, rng } from "../web/datasets.js";

const coordinate = fc.integer({ min: -1100, max: 1100 }).map((v) => v / 1000);

const stateArb = fc.integer({ min: 2, max: 30 }).chain((n) =>
  fc.record({
    k: fc.integer({ min: 1, max: n }),
    epsilon: fc.double({ min: 1e-3, max: 100, noNaN: true }),
    samples: fc.integer({ min: 1, max: 5000 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    points: fc.array(fc.tuple(coordinate, coordinate), { minLength: n, maxLength: n }),
    pairs: fc.uniqueArray(
      fc.tuple(fc.integer({ min: 0, max: n - 2 }), fc.integer({ min: 1, max: n - 1 }))
        .filter(([i, j]) => i < j),
      { selector: ([i, j]) => `${i}-${j}`, maxLength: 6 },
    ).chain((ps) =>
      fc.tuple(...ps.map(([i, j]) => fc.constantFrom(0, 1).map((kind) => [i, j, kind])))
    ),
    lr: fc.double({ min: 1e-4, max: 10, noNaN: true }),
    learnSeed: fc.integer({ min: 0, max: 1000 }),
  })
);

Deno.test("URL state: decode(encode(s)) = s, with no problems", () => {
  fc.assert(
    fc.property(stateArb, (s) => {
      const { state, problems } = decodeState(`#${encodeState(s)}`);
      assert.deepEqual(problems, []);
      // Pairs come back grouped by kind (must-links first): compare as sets.
      const key = (p: number[]) => p.join("-");
      assert.deepEqual(new Set(state.pairs.map(key)), new Set(s.pairs.map(key)));
      assert.deepEqual({ ...state, pairs: [] }, { ...s, pairs: [] });
    }),
    { numRuns: 200 },
  );
});

Deno.test("URL state: a bad field takes its default and is reported by name and value", () => {
  const { state, problems } = decodeState("#k=abc&eps=-1&B=2.5&pts=0,0;1,1&ml=0-5,1-1&cl=0-1");
  assert.equal(state.k, DEFAULTS.k);
  assert.equal(state.epsilon, DEFAULTS.epsilon);
  assert.equal(state.samples, DEFAULTS.samples);
  assert.deepEqual(state.points, [[0, 0], [1, 1]]);
  assert.deepEqual(state.pairs, [[0, 1, 0]]);
  assert.equal(problems.length, 5, problems.join("\n"));
  assert.match(problems[0]!, /^Invalid k = "abc"/);
  assert.match(problems[1]!, /^Invalid eps = "-1"/);
  assert.match(problems[2]!, /^Invalid B = "2.5"/);
  assert.match(problems[3]!, /^Invalid ml pair "0-5" in the URL for n = 2/);
  assert.match(problems[4]!, /^Invalid ml pair "1-1"/);
  const many = Array.from({ length: MAX_POINTS + 1 }, () => "0,0").join(";");
  const big = decodeState(`#pts=${many}`);
  assert.deepEqual(big.state.points, []);
  assert.match(big.problems[0]!, /at most 150 points/);
  assert.deepEqual(decodeState("").state, { ...DEFAULTS, points: [], pairs: [] });
});

Deno.test("presets: reproducible from the seed, inside the view, the suggested k", () => {
  for (const name of PRESETS) {
    const a = preset(name, 3), b = preset(name, 3), c = preset(name, 4);
    assert.deepEqual(a, b, name);
    assert.notDeepEqual(a.points, c.points, name);
    assert.ok(a.points.every((p: number[]) => p.every((v) => Math.abs(v) <= 0.9001)), name);
    assert.ok(a.points.length >= 40 && a.points.length <= MAX_POINTS, name);
  }
  assert.deepEqual(PRESETS.map((p: string) => preset(p, 0).k), [2, 2, 3, 4]);
  assert.throws(() => preset("spirals", 0), /Invalid preset = "spirals"/);
});

Deno.test("denoising data: blob means within 4 standard errors of the paper's, noise in [0, 1)", () => {
  const { train, validation } = denoiseData(5);
  for (const split of [train, validation]) {
    assert.equal(split.features.length, 60);
    assert.ok(split.features.every((f: number[]) => f.length === 4));
    assert.ok(split.features.every((f: number[]) => f[2]! >= 0 && f[2]! < 1 && f[3]! < 1));
    PAPER_MEANS.forEach(([mx, my]: number[], c: number) => {
      const pts = split.signal.filter((_: number[], i: number) => split.blob[i] === c);
      assert.equal(pts.length, 15);
      const mean = [0, 1].map((d) => pts.reduce((s: number, p: number[]) => s + p[d]!, 0) / 15);
      // std 0.2, 15 points: standard error 0.052; 4 standard errors ⇒ false alarm < 1e-4.
      assert.ok(Math.abs(mean[0]! - mx!) < 4 * 0.2 / Math.sqrt(15), `blob ${c}: ${mean}`);
      assert.ok(Math.abs(mean[1]! - my!) < 4 * 0.2 / Math.sqrt(15), `blob ${c}: ${mean}`);
    });
  }
  assert.notDeepEqual(train.features, validation.features);
  // The generator: uniform mean and normal variance over 20 000 draws (4 standard errors).
  const r = rng(11);
  const u = Array.from({ length: 20_000 }, () => r.uniform());
  const z = Array.from({ length: 20_000 }, () => r.normal());
  assert.ok(Math.abs(u.reduce((a, b) => a + b) / 2e4 - 0.5) < 4 * Math.sqrt(1 / 12 / 2e4));
  assert.ok(Math.abs(z.reduce((a, b) => a + b * b, 0) / 2e4 - 1) < 4 * Math.sqrt(2 / 2e4));
});
