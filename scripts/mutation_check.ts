/**
 * Mutation check (on demand, not part of `task ok`): applies one-line bugs to `lib/`, one at a
 * time, in a scratch copy of the working tree, runs the tests that cover the mutated module, and
 * prints which mutants survive (the tests still pass). A survivor is a bug the suite would ship.
 *
 *     deno task mutation                      # every mutant
 *     deno task mutation -- --only sf-scale-eps,pf-value-divisor
 *     deno task mutation -- --list            # the mutants, nothing run
 *
 * Each mutant replaces one exact piece of text (which must occur exactly once in its file) and
 * is run with type checking on: a mutant that does not compile is reported as "invalid", not as
 * killed. Exit status 1 if any mutant survives or is invalid, 0 otherwise.
 *
 * Equivalent mutants (no observable change) are deliberately left out: e.g. dropping the
 * constant Σ_i G_M[i][i] from the VJP payoff changes nothing in expectation, and with the
 * leave-one-out baseline nothing at all.
 *
 * @module
 */

interface Mutant {
  /** Short id (module prefix + what the bug is). */
  readonly id: string;
  /** File under lib/. */
  readonly file: string;
  /** Exact text to replace (must occur exactly once). */
  readonly from: string;
  /** The bug. */
  readonly to: string;
  /** Test targets (files or folders, relative to the repository root). */
  readonly tests: readonly string[];
}

const SCORE_TESTS = ["lib/perturbed/score_function.ts", "lib/perturbed/score_function_test.ts"];
const PERTURBED_TESTS = [
  "lib/perturbed/perturbed.ts",
  "lib/perturbed/perturbed_test.ts",
  "lib/perturbed/score_function_test.ts",
  "props/perturbed_props_test.ts",
];
const CONSTRAINED_TESTS = [
  "lib/constrained/constrained_forest.ts",
  "lib/constrained/constrained_forest_test.ts",
  "lib/constrained/constrained_general_test.ts",
  "props/spanning_forest_props_test.ts",
  "props/constrained_fast_props_test.ts",
];
const LOSS_TESTS = [
  "lib/losses/fy_loss.ts",
  "lib/losses/fy_loss_test.ts",
  "props/perturbed_props_test.ts",
];
const FOREST_TESTS = [
  "lib/forest/spanning_forest.ts",
  "lib/forest/spanning_forest_test.ts",
  "props/spanning_forest_props_test.ts",
];

/** The one-line bugs. Each is a plausible slip in the line it edits. */
export const MUTANTS: readonly Mutant[] = [
  // score_function.ts: the estimators' scale, ε, baseline and antithetic handling.
  {
    id: "sf-scale-half",
    file: "lib/perturbed/score_function.ts",
    from: "const scale = factor / (2 * perturbed.epsilon * B);",
    to: "const scale = factor / (perturbed.epsilon * B);",
    tests: SCORE_TESTS,
  },
  {
    id: "sf-scale-eps",
    file: "lib/perturbed/score_function.ts",
    from: "const scale = factor / (2 * perturbed.epsilon * B);",
    to: "const scale = factor / (2 * Math.sqrt(perturbed.epsilon) * B);",
    tests: SCORE_TESTS,
  },
  {
    id: "sf-bias-10pc",
    file: "lib/perturbed/score_function.ts",
    from: "const scale = factor / (2 * perturbed.epsilon * B);",
    to: "const scale = (1.1 * factor) / (2 * perturbed.epsilon * B);",
    tests: SCORE_TESTS,
  },
  {
    id: "sf-loo-factor",
    file: "lib/perturbed/score_function.ts",
    from: "const factor = useBaseline ? B / (B - 1) : 1;\n  const out",
    to: "const factor = 1;\n  const out",
    tests: SCORE_TESTS,
  },
  {
    id: "sf-antithetic-sign",
    file: "lib/perturbed/score_function.ts",
    from: "const gs = g * sign;",
    to: "const gs = g;",
    tests: SCORE_TESTS,
  },

  {
    id: "vjp-connectivity-half",
    file: "lib/perturbed/score_function.ts",
    from: "if (lab[j] === li) s += d[row + j] + d[j * n + i];",
    to: "if (lab[j] === li) s += d[row + j];",
    tests: SCORE_TESTS,
  },
  {
    id: "vjp-adjacency-half",
    file: "lib/perturbed/score_function.ts",
    from: "for (const [i, j] of f.edges) s += ga.data[i * n + j] + ga.data[j * n + i];",
    to: "for (const [i, j] of f.edges) s += ga.data[i * n + j];",
    tests: SCORE_TESTS,
  },
  {
    id: "jvp-connectivity-half",
    file: "lib/perturbed/score_function.ts",
    from: "for (let j = i + 1; j < n; j++) if (lab[j] === li) mWeighted[row + j] += s;",
    to: "for (let j = i + 1; j < n; j++) if (lab[j] === li) mWeighted[row + j] += 0.5 * s;",
    tests: SCORE_TESTS,
  },
  {
    id: "jvp-tangent-full",
    file: "lib/perturbed/score_function.ts",
    from: "t[u] = 0.5 * (tangent.data[i * n + j] + tangent.data[j * n + i]);",
    to: "t[u] = tangent.data[i * n + j] + tangent.data[j * n + i];",
    tests: SCORE_TESTS,
  },
  {
    id: "jvp-antithetic-sign",
    file: "lib/perturbed/score_function.ts",
    from: "      s *= sign;",
    to: "      s *= 1;",
    tests: SCORE_TESTS,
  },
  {
    id: "jvp-loo-factor",
    file: "lib/perturbed/score_function.ts",
    from: "return symmetricMean(weighted, n, (perturbed.epsilon * B) / factor, 0);",
    to: "return symmetricMean(weighted, n, perturbed.epsilon * B, 0);",
    tests: SCORE_TESTS,
  },

  // noise.ts: the score of the Gumbel density.
  {
    id: "noise-gumbel-score",
    file: "lib/core/noise.ts",
    from: "for (let i = 0; i < z.length; i++) out[i] = 1 - Math.exp(-z[i]);",
    to: "for (let i = 0; i < z.length; i++) out[i] = 1 - Math.exp(z[i]);",
    tests: [...SCORE_TESTS, "lib/core/noise.ts", "lib/core/noise_test.ts"],
  },
  // perturbed.ts and its sampling loop (_noise_draws.ts): the pathwise estimator.
  {
    id: "pf-value-divisor",
    file: "lib/perturbed/perturbed.ts",
    from: "value: value / o.samples,",
    to: "value: value / Math.max(1, o.samples - 1),",
    tests: PERTURBED_TESTS,
  },
  {
    id: "pf-connectivity-lower-pairs",
    file: "lib/perturbed/perturbed.ts",
    from: "for (let j = i + 1; j < n; j++) if (labels[j] === li) acc[row + j] += 1;",
    to: "for (let j = i + 2; j < n; j++) if (labels[j] === li) acc[row + j] += 1;",
    tests: PERTURBED_TESTS,
  },
  {
    id: "pf-connectivity-from-adjacency",
    file: "lib/perturbed/perturbed.ts",
    from: "accumulateSameCluster(connectivity, n, forest.labels);",
    to: "accumulateEdges(connectivity, n, forest, 1);",
    tests: PERTURBED_TESTS,
  },
  {
    id: "pf-antithetic-stream",
    file: "lib/perturbed/_noise_draws.ts",
    from: "fillUpperNoise(draws.noise, seed, draws.antithetic ? b >>> 1 : b, z);",
    to: "fillUpperNoise(draws.noise, seed, b, z);",
    tests: PERTURBED_TESTS,
  },
  {
    id: "pf-stream-per-count",
    file: "lib/perturbed/_noise_draws.ts",
    from: "fillUpperNoise(draws.noise, seed, draws.antithetic ? b >>> 1 : b, z);",
    to: "fillUpperNoise(draws.noise, seed + hi, draws.antithetic ? b >>> 1 : b, z);",
    tests: PERTURBED_TESTS,
  },
  {
    id: "pf-chunk-starts-on-pair",
    file: "lib/perturbed/_noise_draws.ts",
    from: "if (sign === 1 || b === lo) {",
    to: "if (sign === 1) {",
    tests: ["lib/perturbed/forest_pool_test.ts"],
  },
  {
    id: "pf-noise-scale",
    file: "lib/perturbed/perturbed.ts",
    from: "out[row + j] = out[j * n + i] = half[u] + scale * z[u];",
    to: "out[row + j] = out[j * n + i] = half[u] + 0.9 * scale * z[u];",
    tests: PERTURBED_TESTS,
  },
  {
    id: "pf-connectivity-divisor",
    file: "lib/perturbed/perturbed.ts",
    from: "connectivity: symmetricMean(connectivity, n, o.samples, 1),",
    to: "connectivity: symmetricMean(connectivity, n, o.samples + 1, 1),",
    tests: PERTURBED_TESTS,
  },
  // constrained_forest.ts: the general (non-label) constrained solver and its oracle.
  {
    id: "cs-drop-second-candidate",
    file: "lib/constrained/constrained_forest.ts",
    from: "if (pruned) candidates.push(pruned);",
    to: "if (pruned && n < 0) candidates.push(pruned);",
    tests: CONSTRAINED_TESTS,
  },
  {
    id: "cs-drop-first-candidate",
    file: "lib/constrained/constrained_forest.ts",
    from: "if (a.sets.count === k) candidates.push(a.edges);",
    to: "if (a.sets.count === k && n < 0) candidates.push(a.edges);",
    tests: CONSTRAINED_TESTS,
  },
  {
    id: "cs-skip-local-search",
    file: "lib/constrained/constrained_forest.ts",
    from: "const refined = refineByMoves(sigma, s, best);",
    to: "const refined = best;",
    tests: CONSTRAINED_TESTS,
  },
  {
    id: "cs-worse-candidate",
    file: "lib/constrained/constrained_forest.ts",
    from: "if (edgeValue(sigma, cand) > edgeValue(sigma, best)) best = cand;",
    to: "if (edgeValue(sigma, cand) < edgeValue(sigma, best)) best = cand;",
    tests: CONSTRAINED_TESTS,
  },
  {
    id: "cs-prune-heaviest",
    file: "lib/constrained/constrained_forest.ts",
    from: "sigma.data[a[0] * n + a[1]] - sigma.data[b[0] * n + b[1]]\n  );",
    to: "sigma.data[b[0] * n + b[1]] - sigma.data[a[0] * n + a[1]]\n  );",
    tests: CONSTRAINED_TESTS,
  },
  {
    id: "cs-move-ignores-conflicts",
    file: "lib/constrained/constrained_forest.ts",
    from: "for (const h of blockGroups[to]) if (s.conflict[g * m + h]) ok = false;",
    to: "for (const h of blockGroups[to]) if (s.conflict[g * m + h] && h < 0) ok = false;",
    tests: CONSTRAINED_TESTS,
  },
  {
    id: "cs-one-sweep",
    file: "lib/constrained/constrained_forest.ts",
    from: "const MAX_SWEEPS = 10;",
    to: "const MAX_SWEEPS = 1;",
    tests: CONSTRAINED_TESTS,
  },
  {
    id: "cs-exact-no-new-block",
    file: "lib/constrained/constrained_forest.ts",
    from: "for (let b = 0; b <= blocks && b < k; b++) {",
    to: "for (let b = 0; b <= blocks && b < k - 1; b++) {",
    tests: CONSTRAINED_TESTS,
  },
  {
    id: "cs-satisfies-must-link",
    file: "lib/constrained/constraint_types.ts",
    from: "if (v === MUST_LINK && labels[i] !== labels[j]) return false;",
    to: "if (v === MUST_LINK && labels[i] !== labels[j] && i < 0) return false;",
    tests: CONSTRAINED_TESTS,
  },
  // The O(n²) label solver's stages (_label_forest.ts, _point_moves.ts).
  {
    id: "lf-no-merge-split",
    file: "lib/constrained/_label_forest.ts",
    from: "this.#mergeSplit = terminals > 0 && allFreeSingletons && k > terminals;",
    to: "this.#mergeSplit = false;",
    tests: CONSTRAINED_TESTS,
  },
  {
    id: "lf-no-point-moves",
    file: "lib/constrained/_point_moves.ts",
    from: "if (movable.length > 0 && blocks > 1) {",
    to: "if (movable.length > 0 && blocks > 1 && n < 0) {",
    tests: CONSTRAINED_TESTS,
  },
  {
    id: "lf-no-internal-moves",
    file: "lib/constrained/_point_moves.ts",
    from: "if (!(restSum - treeSum[from] + gain > eps)) return false;",
    to: "if (!(restSum - treeSum[from] + gain > eps) || n > 0) return false;",
    tests: CONSTRAINED_TESTS,
  },
  {
    id: "lf-one-leaf-sweep",
    file: "lib/constrained/_point_moves.ts",
    from: "const LEAF_MOVE_SWEEPS = 10;",
    to: "const LEAF_MOVE_SWEEPS = 1;",
    tests: CONSTRAINED_TESTS,
  },
  {
    id: "lf-one-round",
    file: "lib/constrained/_label_forest.ts",
    from: "const MOVE_ROUNDS = 4;",
    to: "const MOVE_ROUNDS = 1;",
    tests: CONSTRAINED_TESTS,
  },
  // fy_loss.ts: the losses.
  {
    id: "fy-gap-sign",
    file: "lib/losses/fy_loss.ts",
    from: "for (let t = 0; t < b; t++) gap += -2 * p[cellsMinus[t]];",
    to: "for (let t = 0; t < b; t++) gap += -1 * p[cellsMinus[t]];",
    tests: LOSS_TESTS,
  },
  {
    id: "fy-partial-grad-sign",
    file: "lib/losses/fy_loss.ts",
    from: "addEdges(counts, n, bound, m, -1);\n      total",
    to: "addEdges(counts, n, bound, m, -0.5);\n      total",
    tests: LOSS_TESTS,
  },
  // Controls in modules whose tests were already strong (expected killed).
  {
    id: "prim-stale-key",
    file: "lib/forest/_max_forest.ts",
    from: "key[p] = b0 = w0;",
    to: "key[p] = w0;",
    tests: [...FOREST_TESTS, "lib/forest/_max_forest.ts"],
  },
  {
    id: "prim-list-stale-key",
    file: "lib/forest/_max_forest.ts",
    from: "\n      key[p] = b = w;",
    to: "\n      key[p] = w;",
    tests: [...CONSTRAINED_TESTS, "lib/forest/_max_forest.ts"],
  },
  {
    id: "metrics-nmi-max-normaliser",
    file: "lib/metrics/metrics.ts",
    from: "const normaliser = (entropy(rowSums, n) + entropy(colSums, n)) / 2;",
    to: "const normaliser = Math.max(entropy(rowSums, n), entropy(colSums, n));",
    tests: ["lib/metrics/metrics.ts", "lib/metrics/metrics_test.ts", "props/metrics_props_test.ts"],
  },
  {
    id: "metrics-ari-swapped-margins",
    file: "lib/metrics/metrics.ts",
    from: "return (2 * (tp * tn - fn * fp)) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));",
    to: "return (2 * (tp * tn - fn * fp)) / ((tp + fn) * (fp + tn) + (tp + fp) * (fn + tn));",
    tests: ["lib/metrics/metrics.ts", "lib/metrics/metrics_test.ts", "props/metrics_props_test.ts"],
  },
  {
    id: "similarity-sample-std",
    file: "lib/core/similarity.ts",
    from: "const std = Math.sqrt(squares / data.length);",
    to: "const std = Math.sqrt(squares / (data.length - 1));",
    tests: [
      "lib/core/similarity.ts",
      "lib/core/similarity_test.ts",
      "props/similarity_props_test.ts",
    ],
  },
  {
    id: "sinkhorn-half-log",
    file: "lib/ot/sinkhorn.ts",
    from: "f[i] = -eps * (m + Math.log(s));",
    to: "f[i] = -eps * (m + Math.log(s) / 2);",
    tests: ["lib/ot/sinkhorn.ts", "lib/ot/sinkhorn_test.ts", "props/sinkhorn_props_test.ts"],
  },
  {
    id: "forest-labels-shifted",
    file: "lib/forest/spanning_forest.ts",
    from: "const r = sets.find(i);",
    to: "const r = sets.find(i === 0 ? i : i - 1);",
    tests: FOREST_TESTS,
  },
];

function parseArgs(args: string[]): { only: Set<string> | null; list: boolean } {
  let only: Set<string> | null = null;
  let list = false;
  for (let t = 0; t < args.length; t++) {
    if (args[t] === "--") continue; // `deno task mutation -- …` passes it through
    if (args[t] === "--list") list = true;
    else if (args[t] === "--only") {
      const v = args[++t];
      if (v === undefined) throw new RangeError("Invalid --only: expected a comma-separated list");
      only = new Set(v.split(","));
    } else {throw new RangeError(
        `Invalid argument ${JSON.stringify(args[t])}: use --only or --list`,
      );}
  }
  if (only) {
    for (const id of only) {
      if (!MUTANTS.some((m) => m.id === id)) {
        throw new RangeError(`Invalid --only: no mutant ${id}`);
      }
    }
  }
  return { only, list };
}

async function run(cmd: string, args: string[], cwd: string): Promise<Deno.CommandOutput> {
  return await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
}

/** Copies the tracked and untracked-but-not-ignored files of the repository to a temp folder. */
async function scratchCopy(root: string): Promise<string> {
  const ls = await run("git", ["ls-files", "-co", "--exclude-standard", "-z"], root);
  if (ls.code !== 0) throw new Error("git ls-files failed: " + new TextDecoder().decode(ls.stderr));
  const dir = await Deno.makeTempDir({ prefix: "spanclust_mutation_" });
  for (const rel of new TextDecoder().decode(ls.stdout).split("\0").filter(Boolean)) {
    const target = `${dir}/${rel}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    try {
      await Deno.copyFile(`${root}/${rel}`, target);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e; // deleted in the work tree
    }
  }
  try {
    await Deno.symlink(`${root}/node_modules`, `${dir}/node_modules`);
  } catch { /* no node_modules yet: deno creates one */ }
  return dir;
}

async function main() {
  const { only, list } = parseArgs(Deno.args);
  const chosen = MUTANTS.filter((m) => only === null || only.has(m.id));
  if (list) {
    for (const m of chosen) console.log(`${m.id}\t${m.file}\t${m.to.trim()}`);
    return;
  }
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const deno = Deno.execPath();
  const targets = [...new Set(chosen.flatMap((m) => m.tests))];
  // Fill the repository's node_modules first: the scratch copy links to it.
  const cache = await run(deno, ["cache", ...targets.filter((t) => t.endsWith(".ts"))], root);
  if (cache.code !== 0) throw new Error(new TextDecoder().decode(cache.stderr));
  const dir = await scratchCopy(root);
  const results: { id: string; outcome: string; seconds: number }[] = [];
  try {
    // The unmutated tests must pass, or every "kill" would be meaningless.
    const base = await run(deno, ["test", "-A", "--doc", "--parallel", ...targets], dir);
    if (base.code !== 0) {
      const text = new TextDecoder().decode(base.stdout) + new TextDecoder().decode(base.stderr);
      console.error(text.slice(-4000));
      throw new Error("The unmutated tests fail: fix them before checking mutants");
    }
    for (const m of chosen) {
      const path = `${dir}/${m.file}`;
      const original = await Deno.readTextFile(path);
      const at = original.indexOf(m.from);
      if (at === -1 || original.indexOf(m.from, at + 1) !== -1) {
        results.push({ id: m.id, outcome: "invalid (text not found exactly once)", seconds: 0 });
        continue;
      }
      await Deno.writeTextFile(path, original.replace(m.from, m.to));
      const t0 = performance.now();
      try {
        const out = await run(deno, ["test", "-A", "--doc", "--parallel", ...m.tests], dir);
        const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
        const outcome = out.code === 0
          ? "SURVIVED"
          : /error: TS\d+|Type checking failed|SyntaxError/.test(text)
          ? "invalid (does not compile)"
          : "killed";
        results.push({ id: m.id, outcome, seconds: (performance.now() - t0) / 1000 });
        console.error(`${m.id}: ${outcome}`);
      } finally {
        await Deno.writeTextFile(path, original);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const killed = results.filter((r) => r.outcome === "killed").length;
  console.log("| mutant | outcome | seconds |\n|---|---|---|");
  for (const r of results) console.log(`| ${r.id} | ${r.outcome} | ${r.seconds.toFixed(1)} |`);
  console.log(`\n${killed} / ${results.length} mutants killed`);
  if (killed !== results.length) Deno.exit(1);
}

if (import.meta.main) await main();
