/**
 * Side by side, in one run on this machine: our sparse single linkage against the compositions
 * a Python user would write at data-set scale.
 *
 * 1. 2-d, n = 10⁶ uniform points: `clusterPoints(…, { method: "delaunay" })` (points → labels
 *    and the whole hierarchy) against scipy's Delaunay + csgraph.minimum_spanning_tree (the MST
 *    only, before any labelling); the two trees must have the same total length.
 * 2. 2-d, n = 20 000: our partitions against scipy's `linkage(pdist(X), "single")` + `cut_tree`
 *    at several k (must be equal: distances are continuous, no ties).
 * 3. 32-d Gaussian mixture, n = 70 000, k = 15: our kNN graph + forest — the exact search by
 *    blocked matrix products (`exactNeighbours`) with OpenBLAS dgemm on one thread (the
 *    default of `native_gemm.ts`) and on all cores, and with the pure-TypeScript product, and
 *    NN-descent — against pynndescent's graph
 *    alone (Debian python3-pynndescent via /usr/bin/python3, n_jobs = 1), with recall against
 *    exact neighbours of the same 200 sampled points for all.
 *
 *     deno run -A scripts/graph_compare.ts [--n2d 1000000] [--nlink 20000] [--nknn 70000]
 *
 * (`deno task bench:graph` grants --allow-ffi for OpenBLAS; without it, or without the library,
 * the OpenBLAS rows are skipped with the reason.)
 *
 * A missing scipy or pynndescent is reported and that comparison skipped. The figures are
 * printed and written to results/graph_compare/<time>.json (a new file per run).
 */
import { clusterPoints } from "../lib/graph/cluster_points.ts";
import { approximateNeighbours } from "../lib/graph/nn_descent.ts";
import {
  exactNeighbours,
  joinComponents,
  neighbourGraph,
  type Neighbours,
} from "../lib/graph/point_graphs.ts";
import { nativeNeighbourGemm } from "../experiments/native_gemm.ts";
import { unsafeForestHierarchyOnGraph } from "../lib/forest/spanning_forest_on_graph.ts";
import { labelsAt } from "../lib/forest/spanning_forest.ts";
import { rectFromData } from "../lib/core/rect_matrix.ts";
import { standardNormal, streamFor, uniformOpen01 } from "../lib/core/random.ts";
import { samePartition } from "../props/brute_force.ts";
import { sizeFlag } from "./_args.ts";
import { writeReport } from "./_report.ts";

const N2D = sizeFlag("--n2d", 1_000_000),
  NLINK = sizeFlag("--nlink", 20_000),
  NKNN = sizeFlag("--nknn", 70_000);
const here = (f: string) => new URL(f, import.meta.url).pathname;
const dir = await Deno.makeTempDir({ prefix: "spanclust_graph_cmp_" });
const report: Record<string, unknown> = { machine: `${navigator.hardwareConcurrency} cores` };

function uniformPoints(n: number, seed: number): Float64Array {
  const rng = streamFor(seed), x = new Float64Array(2 * n);
  for (let t = 0; t < x.length; t++) x[t] = uniformOpen01(rng);
  return x;
}

async function python(
  exe: string,
  args: string[],
): Promise<Record<string, number | string> | string> {
  try {
    const out = await new Deno.Command(exe, { args, stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
    if (out.code === 3 || !out.success) {
      return `${exe} failed (${out.code}): ${
        text || new TextDecoder().decode(out.stderr).slice(-300)
      }`;
    }
    const parsed = JSON.parse(text);
    return parsed.skipped ?? parsed.missing ?? parsed;
  } catch (e) {
    return `${exe} unavailable: ${(e as Error).message}`;
  }
}

const fmt = (s: number) => `${s.toFixed(2)} s`;

// 1. 10⁶ 2-d points.
{
  const x = uniformPoints(N2D, 14), path = `${dir}/u2d.f64`;
  await Deno.writeFile(path, new Uint8Array(x.buffer));
  const scipy = await python("python3", [
    here("../python/graph_scipy.py"),
    "mst",
    path,
    String(N2D),
  ]);
  const t0 = performance.now();
  const r = clusterPoints(rectFromData(N2D, 2, x), 10, { method: "delaunay" });
  const ours = (performance.now() - t0) / 1e3;
  let length = 0;
  for (const w of r.hierarchy.weights) length += Math.sqrt(-w);
  const row: Record<string, unknown> = { n: N2D, ours_s: ours, ours_mst_length: length };
  console.log(`\n2-d single linkage, n = ${N2D} uniform points`);
  console.log(`  ours (clusterPoints, delaunay: points → labels + hierarchy): ${fmt(ours)}`);
  if (typeof scipy === "string") console.log(`  scipy: skipped — ${scipy}`);
  else {
    Object.assign(row, { scipy });
    const total = scipy.total_s as number;
    console.log(
      `  scipy Delaunay + minimum_spanning_tree: ${fmt(total)} (Delaunay ${
        fmt(scipy.delaunay_s as number)
      }, edges ${fmt(scipy.edges_s as number)}, MST ${fmt(scipy.mst_s as number)})`,
    );
    const rel = Math.abs(length - (scipy.mst_length as number)) / (scipy.mst_length as number);
    console.log(
      `  ratio ours / scipy: ${(ours / total).toFixed(3)}; same MST length: ${
        rel < 1e-9
      } (rel. diff ${rel.toExponential(1)})`,
    );
    row.ratio = ours / total;
    row.same_mst_length = rel < 1e-9;
  }
  report.delaunay = row;
}

// 2. Partitions against scipy linkage.
{
  const ks = [2, 10, 100, 1000, NLINK - 1];
  const x = uniformPoints(NLINK, 15), path = `${dir}/link.f64`, out = `${dir}/link.i32`;
  await Deno.writeFile(path, new Uint8Array(x.buffer));
  const scipy = await python("python3", [
    here("../python/graph_scipy.py"),
    "linkage",
    path,
    String(NLINK),
    "2",
    ks.join(","),
    out,
  ]);
  const r = clusterPoints(rectFromData(NLINK, 2, x), 1, { method: "delaunay" });
  console.log(`\nPartitions against scipy linkage(pdist, "single") + cut_tree, n = ${NLINK}`);
  if (typeof scipy === "string") console.log(`  skipped — ${scipy}`);
  else {
    const labels = new Int32Array((await Deno.readFile(out)).buffer);
    const equal = ks.map((k, t) =>
      samePartition(labelsAt(r.hierarchy, k), labels.subarray(t * NLINK, (t + 1) * NLINK))
    );
    ks.forEach((k, t) => console.log(`  k = ${k}: same partition ${equal[t]}`));
    report.linkage = { n: NLINK, ks, equal, scipy_linkage_s: scipy.linkage_s };
  }
}

// 3. kNN graph of 70 000 × 32-d embeddings.
{
  const d = 32, k = 15, n = NKNN, rng = streamFor(16);
  const centres = Array.from(
    { length: 10 },
    () => Array.from({ length: d }, () => 3 * standardNormal(rng)),
  );
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) x[i * d + t] = centres[i % 10][t] + standardNormal(rng);
  }
  const path = `${dir}/knn.f64`;
  await Deno.writeFile(path, new Uint8Array(x.buffer));
  const pynn = await python("/usr/bin/python3", [
    here("../python/knn_pynndescent.py"),
    path,
    String(n),
    String(d),
    String(k),
  ]);
  const points = rectFromData(n, d, x);
  // Recall on 200 sampled points against exact neighbours (sorting all n distances).
  const sample = Array.from({ length: 200 }, (_, q) => (q * 7919) % n);
  const exact = sample.map((i) => {
    const ds = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += (x[i * d + t] - x[j * d + t]) ** 2;
      ds[j] = j === i ? Infinity : s;
    }
    return new Set(Array.from(ds.keys()).sort((a, b) => ds[a] - ds[b]).slice(0, k));
  });
  const recall = (index: Int32Array) => {
    let hits = 0;
    sample.forEach((i, q) => {
      for (let t = 0; t < k; t++) if (exact[q].has(index[i * k + t])) hits++;
    });
    return hits / (sample.length * k);
  };
  /** A kNN search, then the graph, joined, and the whole hierarchy: seconds and recall. */
  const graphAndForest = (search: () => Neighbours) => {
    const t0 = performance.now();
    const nb = search();
    const knn = (performance.now() - t0) / 1e3;
    const g = joinComponents(neighbourGraph(nb), points);
    const h = unsafeForestHierarchyOnGraph(g);
    const all = (performance.now() - t0) / 1e3;
    return {
      nb,
      knn,
      all,
      recall: recall(nb.index),
      edges: g.from.length,
      components: h.components,
    };
  };
  console.log(`\nkNN graph, n = ${n}, d = ${d}, k = ${k} (Gaussian mixture, 10 centres)`);
  const row: Record<string, unknown> = { n, d, k };
  const exactRows: [string, string, () => Neighbours][] = [];
  const cores = navigator.hardwareConcurrency;
  for (const threads of [1, cores]) {
    const native = nativeNeighbourGemm("float64", threads);
    if (!native.ok) {
      console.log(`  ours exact with OpenBLAS: skipped — ${native.why}`);
      row.openblas = `skipped: ${native.why}`;
      break;
    }
    const label = `exact, OpenBLAS dgemm (${threads} thread${threads === 1 ? "" : "s"})`;
    exactRows.push([
      label,
      threads === 1 ? "exact_openblas" : "exact_openblas_all_cores",
      () => exactNeighbours(points, k, { gemm: native.gemm }),
    ]);
    row.openblas = native.detail.replace(/ on \d+ threads?$/, "");
    if (cores === 1) break;
  }
  exactRows.push(["exact, pure-TypeScript product", "exact_js", () => exactNeighbours(points, k)]);
  let reference: Neighbours | undefined;
  for (const [label, key, search] of exactRows) {
    const r = graphAndForest(search);
    const same = reference === undefined ||
      (r.nb.index.every((v, t) => v === reference!.index[t]) &&
        r.nb.distance2.every((v, t) => v === reference!.distance2[t]));
    reference ??= r.nb;
    console.log(
      `  ours ${label}: kNN ${fmt(r.knn)}; + graph + joinComponents + hierarchy: ${
        fmt(r.all)
      }; recall ${r.recall.toFixed(3)}${same ? "" : " — LISTS DIFFER from the first exact run"}`,
    );
    Object.assign(row, {
      [`${key}_knn_s`]: r.knn,
      [`${key}_knn_and_forest_s`]: r.all,
      [`${key}_recall`]: r.recall,
      [`${key}_same_lists`]: same,
    });
  }
  const nnd = graphAndForest(() => approximateNeighbours(points, { k, seed: 0 }));
  const tAll = nnd.all;
  Object.assign(row, {
    ours_knn_s: nnd.knn,
    ours_knn_and_forest_s: nnd.all,
    ours_recall: nnd.recall,
    edges: nnd.edges,
    components_after_join: nnd.components,
  });
  console.log(
    `  ours NN-descent: ${fmt(nnd.knn)}; + graph + joinComponents + hierarchy: ${
      fmt(nnd.all)
    }; recall ${nnd.recall.toFixed(3)}`,
  );
  const firstExact = exactRows.length > 0
    ? row[`${exactRows[0][1]}_knn_and_forest_s`] as number
    : NaN;
  if (typeof pynn === "string") console.log(`  pynndescent: skipped — ${pynn}`);
  else {
    const index = new Int32Array((await Deno.readFile(`${path}.pynn.i32`)).buffer);
    const pr = recall(index), ps = pynn.seconds as number, warm = pynn.warm_seconds as number;
    console.log(
      `  pynndescent graph alone: ${fmt(ps)} first build in a fresh process (numba compiles), ${
        fmt(warm)
      } second build; recall ${pr.toFixed(3)}`,
    );
    console.log(
      `  ratio ours exact (${exactRows[0][0]}; graph + forest) / pynndescent (graph): ${
        (firstExact / ps).toFixed(3)
      } first, ${(firstExact / warm).toFixed(3)} second`,
    );
    console.log(
      `  ratio ours NN-descent (graph + forest) / pynndescent (graph): ${
        (tAll / ps).toFixed(3)
      } first, ${(tAll / warm).toFixed(3)} second`,
    );
    Object.assign(row, {
      pynndescent_s: ps,
      pynndescent_warm_s: warm,
      pynndescent_recall: pr,
      ratio: tAll / ps,
      ratio_warm: tAll / warm,
      ratio_exact: firstExact / ps,
      ratio_exact_warm: firstExact / warm,
    });
  }
  report.knn = row;
}

await Deno.remove(dir, { recursive: true });
console.log(`\nwritten ${await writeReport("graph_compare", report)}`);
