/**
 * Test helpers for Monte-Carlo estimators, independent of the library: a small seeded generator
 * for drawing test instances, and a t statistic over independent replicates.
 *
 * Why replicates. Every estimator of the library returns a mean over B samples. Calling it R
 * times with distinct seeds gives R independent, identically distributed estimates whose sample
 * variance measures the estimator's own Monte-Carlo error, whatever its variance formula says:
 * a tolerance derived from it needs no hand bound that could be too loose to catch a bias. With
 * R ≥ 20 replicates (each a mean of ≥ 4 samples) the statistic below is close to Student's t
 * with R − 1 degrees of freedom.
 *
 * @module
 */

/**
 * mulberry32: a seeded uniform generator on [0, 1), for drawing test instances (not the
 * library's generator, so a bug there cannot hide in the instances).
 *
 * @param seed A 32-bit seed.
 * @returns The generator.
 */
export function testRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mean and variance of the mean of independent replicates. */
export function meanAndVariance(xs: readonly number[]): { mean: number; varOfMean: number } {
  const r = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / r;
  const s2 = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (r - 1);
  return { mean, varOfMean: s2 / r };
}

/**
 * (mean of `xs` − expected) / SE, SE² = sample variance of the mean + `expectedVar` (the
 * variance of `expected` when it is itself an independent estimate, 0 when exact).
 *
 * @param xs Independent replicates of an estimate.
 * @param expected The value they should average to.
 * @param expectedVar Variance of `expected` (0 for an exact value).
 * @returns The statistic, and a message for failed assertions.
 */
export function replicateT(
  xs: readonly number[],
  expected: number,
  expectedVar = 0,
): { t: number; text: string } {
  const { mean, varOfMean } = meanAndVariance(xs);
  const se = Math.sqrt(varOfMean + expectedVar);
  // Degenerate case (every replicate identical, e.g. one forest in every sample): only agreement
  // to rounding passes.
  const t = se > 0
    ? (mean - expected) / se
    : Math.abs(mean - expected) <= 1e-9 * (1 + Math.abs(expected))
    ? 0
    : Infinity;
  return {
    t,
    text: `mean ${mean.toPrecision(6)} vs ${expected.toPrecision(6)} (SE ${
      se.toPrecision(3)
    }, t = ${t.toFixed(2)})`,
  };
}

/** Symmetric n × n data with entries drawn by `draw` on the upper triangle, diagonal `diag`. */
export function symmetricData(n: number, draw: () => number, diag = 0): Float64Array {
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    d[i * n + i] = diag;
    for (let j = i + 1; j < n; j++) d[i * n + j] = d[j * n + i] = draw();
  }
  return d;
}
