/**
 * Whole-data-set clustering and transductive labelling on MNIST, with the sparse-graph API:
 *
 * 1. Features: pixels / 255 projected to 64-d by a seeded Gaussian random projection (stands
 *    in for a trained embedding; distances are preserved up to ≈ 1/√64).
 * 2. The 15-NN graph (exact on the 10 000 test images; NN-descent with `--all`, 70 000 images).
 * 3. Data-set-level clustering at k = 10: single linkage and HDBSCAN's mutual reachability
 *    (minSamples 10), with ACC / NMI / ARI against the digit labels.
 * 4. Transductive labelling: 1 % of the labels (seeded draw), `propagateLabels` on the same graph,
 *    accuracy on the other 99 %, next to scikit-learn's `LabelSpreading(kernel="knn",
 *    n_neighbors=15)` on the same features (Debian python3-sklearn via /usr/bin/python3;
 *    skipped with a message when absent).
 *
 *     deno run -A scripts/transductive_mnist.ts [--all] [--fraction 0.01]
 *
 * Prints a table and writes results/transductive/<time>.json (a new file per run).
 */
import { loadMnist } from "../experiments/data/idx.ts";
import { standardNormal, streamFor, uniformOpen01 } from "../lib/random.ts";
import { rectFromData } from "../lib/rect_matrix.ts";
import {
  exactNeighbours,
  joinComponents,
  mutualReachability,
  neighbourGraph,
  type Neighbours,
} from "../lib/point_graphs.ts";
import { approximateNeighbours } from "../lib/nn_descent.ts";
import { graphForestAt, unsafeGraphHierarchy } from "../lib/graph_forest.ts";
import { propagateLabels } from "../lib/graph_constrained.ts";
import { adjustedRandIndex, clusteringAccuracy, normalizedMutualInfo } from "../lib/metrics.ts";

const all = Deno.args.includes("--all");
const fi = Deno.args.indexOf("--fraction");
const fraction = fi === -1 ? 0.01 : Number(Deno.args[fi + 1]);
if (!(fraction > 0 && fraction < 1)) {
  console.error(`Invalid --fraction = ${Deno.args[fi + 1]}: a number in (0, 1) is needed`);
  Deno.exit(2);
}
const D = 64, K = 15;
const mnist = await loadMnist();
const sets = all ? [mnist.train, mnist.test] : [mnist.test];
const n = sets.reduce((s, x) => s + x.n, 0), pixels = mnist.test.rows * mnist.test.cols;
const truth = new Int32Array(n);
const x = new Float64Array(n * D);
{
  const rng = streamFor(14), proj = new Float64Array(pixels * D);
  for (let t = 0; t < proj.length; t++) proj[t] = standardNormal(rng) / Math.sqrt(D);
  let i = 0;
  for (const s of sets) {
    for (let r = 0; r < s.n; r++, i++) {
      truth[i] = s.labels[r];
      const row = x.subarray(i * D, i * D + D);
      for (let p = 0; p < pixels; p++) {
        const v = s.images[r * pixels + p];
        if (v === 0) continue;
        const w = v / 255, base = p * D;
        for (let t = 0; t < D; t++) row[t] += w * proj[base + t];
      }
    }
  }
}
const points = rectFromData(n, D, x);
const t0 = performance.now();
const nb: Neighbours = all
  ? approximateNeighbours(points, { k: K, seed: 0 })
  : exactNeighbours(points, K);
const tGraph = (performance.now() - t0) / 1e3;
const knn = neighbourGraph(nb);
const report: Record<string, unknown> = { n, features: `random projection to ${D}-d`, k: K };
console.log(
  `MNIST ${all ? "train + test" : "test"}: n = ${n}, ${K}-NN graph (${
    all ? "NN-descent" : "exact"
  }) in ${tGraph.toFixed(1)} s, ${knn.from.length} edges`,
);

// Data-set-level clustering at k = 10.
for (
  const [name, g] of [
    ["single linkage", joinComponents(knn, points)],
    [
      "mutual reachability (minSamples 10)",
      joinComponents(mutualReachability(knn, nb, 10), points),
    ],
  ] as const
) {
  const labels = graphForestAt(unsafeGraphHierarchy(g), 10).labels;
  const row = {
    acc: clusteringAccuracy(labels, truth),
    nmi: normalizedMutualInfo(labels, truth),
    ari: adjustedRandIndex(labels, truth),
    largest: Math.max(
      ...Array.from({ length: 10 }, (_, c) => labels.filter((l) => l === c).length),
    ),
  };
  report[name] = row;
  console.log(
    `  ${name}, k = 10: ACC ${row.acc.toFixed(3)}, NMI ${row.nmi.toFixed(3)}, ARI ${
      row.ari.toFixed(3)
    } (largest cluster ${row.largest} points)`,
  );
}

// Transductive labelling with a seeded `fraction` of the labels.
const rng = streamFor(15);
const given: (number | null)[] = Array.from(
  truth,
  (l) => (uniformOpen01(rng) < fraction ? l : null),
);
const known = given.filter((l) => l !== null).length;
const t1 = performance.now();
const { labels: predicted } = propagateLabels(joinComponents(knn, points), given);
const tProp = (performance.now() - t1) / 1e3;
let right = 0, rest = 0;
for (let i = 0; i < n; i++) {
  if (given[i] !== null) continue;
  rest++;
  if (predicted[i] === truth[i]) right++;
}
const ours = right / rest;
console.log(
  `  transductive, ${known} labels (${(100 * fraction).toFixed(1)} %): propagateLabels accuracy ${
    ours.toFixed(3)
  } on the other ${rest} (${tProp.toFixed(2)} s after the graph)`,
);
report.transductive = { labelled: known, accuracy: ours, seconds_after_graph: tProp };

// scikit-learn's label spreading on the same features.
const dir = await Deno.makeTempDir({ prefix: "spanclust_transductive_" });
await Deno.writeFile(`${dir}/x.f64`, new Uint8Array(x.buffer));
await Deno.writeFile(
  `${dir}/y.i32`,
  new Uint8Array(Int32Array.from(given, (l) => (l === null ? -1 : l)).buffer),
);
const py = `
import json, sys, time
import numpy as np
try:
    from sklearn.semi_supervised import LabelSpreading
except ImportError:
    print(json.dumps({"skipped": "scikit-learn is not installed (Debian: apt install python3-sklearn)"})); sys.exit(0)
d = sys.argv[1]; n = int(sys.argv[2]); dim = int(sys.argv[3])
x = np.fromfile(d + "/x.f64", dtype="<f8").reshape(n, dim); y = np.fromfile(d + "/y.i32", dtype="<i4")
t = time.perf_counter(); m = LabelSpreading(kernel="knn", n_neighbors=15, max_iter=100).fit(x, y)
s = time.perf_counter() - t
print(json.dumps({"seconds": s, "pred": m.transduction_.astype(int).tolist()}))
`;
let sk: { seconds?: number; pred?: number[]; skipped?: string };
try {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", py, dir, String(n), String(D)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  sk = out.success && text
    ? JSON.parse(text)
    : { skipped: `python failed: ${new TextDecoder().decode(out.stderr).slice(-300)}` };
} catch (e) {
  sk = { skipped: `/usr/bin/python3 unavailable: ${(e as Error).message}` };
}
await Deno.remove(dir, { recursive: true });
if (sk.pred) {
  let r = 0;
  for (let i = 0; i < n; i++) if (given[i] === null && sk.pred[i] === truth[i]) r++;
  console.log(
    `  scikit-learn LabelSpreading(knn, 15): accuracy ${(r / rest).toFixed(3)} (${
      sk.seconds!.toFixed(2)
    } s incl. its own kNN)`,
  );
  report.label_spreading = { accuracy: r / rest, seconds: sk.seconds };
} else {
  console.log(`  scikit-learn: skipped — ${sk.skipped}`);
}

const outDir = new URL("../results/transductive/", import.meta.url);
await Deno.mkdir(outDir, { recursive: true });
const stamp = new Date().toISOString().replaceAll(":", "-");
const tmp = new URL(`.${stamp}.json.tmp`, outDir), file = new URL(`${stamp}.json`, outDir);
await Deno.writeTextFile(tmp, JSON.stringify(report, null, 2) + "\n");
await Deno.rename(tmp, file);
console.log(`written ${file.pathname}`);
