/**
 * The public surface of each entry of the package, listed: a name added to or dropped from
 * mod.ts, tf/mod.ts or expert.ts must be added to or dropped from SURFACES here, on purpose.
 * Values are checked by importing the entry; values and types together by `deno doc --json`,
 * which sees the types that the import erases. Also: importing an entry needs no permission,
 * and training through tf/mod.ts needs read access only.
 */
import assert from "node:assert/strict";

/** Each entry's exported names, in code-unit order: values (functions, constants, classes), types. */
const SURFACES: Record<string, { readonly values: string[]; readonly types: string[] }> = {
  "mod.ts": {
    values: [
      "CANNOT_LINK",
      "ConstraintsCodec",
      "ConvergenceError",
      "GraphCodec",
      "InfeasibleConstraintsError",
      "LabelsCodec",
      "MUST_LINK",
      "MatrixCodec",
      "NOISE_NAMES",
      "UNKNOWN",
      "adjustedRandIndex",
      "approximateNeighbours",
      "assignPoints",
      "chooseK",
      "clusterMembership",
      "clusterMembershipVjp",
      "clusterPoints",
      "clusteringAccuracy",
      "completeGraph",
      "connectivityAccuracy",
      "connectivityFromLabels",
      "constrainedForestOnGraph",
      "constrainedSpanningForest",
      "constrainedSpanningForestOnGraph",
      "constraintsFromLabels",
      "constraintsFromMatrix",
      "cosineSimilarity",
      "cutAtMinSize",
      "cutAtThreshold",
      "decodePipelineConfig",
      "delaunayGraph",
      "exactConstrainedSpanningForest",
      "exactNeighbours",
      "fitClusters",
      "fittedClustersFromParts",
      "fittedClustersToParts",
      "forestAt",
      "forestAtOnGraph",
      "forestHierarchy",
      "forestHierarchyOnGraph",
      "fromData",
      "fyLoss",
      "fyLossOnGraph",
      "fyTarget",
      "gaussianSimilarity",
      "graph",
      "graphComponents",
      "graphForestAt",
      "graphHierarchy",
      "graphMaxSpanningForest",
      "joinComponents",
      "kAtThreshold",
      "kMeans",
      "knnGraph",
      "labelledNeighbourGraph",
      "labelsAt",
      "linkageMatrix",
      "makePerturbed",
      "makePerturbedOnGraph",
      "matrix",
      "maxClustersAtMinSize",
      "maxSpanningForest",
      "maxSpanningForestOnGraph",
      "mutualReachability",
      "negSquaredDistances",
      "negSquaredDistancesVjp",
      "neighbourGraph",
      "normalizedMutualInfo",
      "otKMeans",
      "otKMeansLoss",
      "partialFyLoss",
      "partialFyLossOfPoints",
      "partialFyLossOfPointsOnGraph",
      "partialFyLossOnGraph",
      "partialLossPipeline",
      "perturbedJvp",
      "perturbedVjp",
      "propagateLabels",
      "rectFromData",
      "rectMatrix",
      "rectToRows",
      "satisfies",
      "scoreFunctionGradient",
      "sinkhorn",
      "sinkhornCostGradient",
      "softKMeansLoss",
      "squaredEuclideanCost",
      "squaredEuclideanGradients",
      "standardise",
      "standardiseVjp",
      "symmetricNoise",
      "toRows",
      "zeros",
    ],
    types: [
      "AssignPointsOptions",
      "Assignment",
      "ClusterCut",
      "ClusterMethod",
      "ClusterPointsOptions",
      "Codec",
      "Constraints",
      "DecodeContextEntry",
      "DecodeError",
      "DecodeResult",
      "Decoded",
      "Decoder",
      "ExactNeighboursOptions",
      "FitClustersOptions",
      "FitMetric",
      "FittedClusters",
      "FittedClustersArrays",
      "FittedClustersHeader",
      "Forest",
      "FyLossOptions",
      "GemmAbT",
      "Graph",
      "GraphForest",
      "GraphFyLossOptions",
      "GraphHierarchy",
      "GraphJson",
      "GraphLossAndGradient",
      "GraphPerturbedEstimate",
      "GraphSolver",
      "Hierarchy",
      "InnerSinkhornOptions",
      "KChoice",
      "KMeansOptions",
      "KMeansResult",
      "LossAndGradient",
      "Matrix",
      "Membership",
      "MembershipOptions",
      "MembershipWithVjp",
      "MinSizeCut",
      "NeighbourGemm",
      "Neighbours",
      "NnDescentOptions",
      "NoiseName",
      "OtKMeansLossOptions",
      "OtKMeansLossResult",
      "OtKMeansOptions",
      "OtKMeansResult",
      "PartialLabels",
      "PerturbedCotangent",
      "PerturbedEstimate",
      "PerturbedOptions",
      "PerturbedTangent",
      "PipelineConfig",
      "PipelineResult",
      "PointClustering",
      "PointGraphLoss",
      "PointGraphLossOptions",
      "PointsLike",
      "Progress",
      "ProgressCallback",
      "RectMatrix",
      "ScoreFunctionOptions",
      "SinkhornOptions",
      "SinkhornResult",
      "SoftKMeansLossOptions",
      "SoftKMeansLossResult",
      "Solver",
      "SquaredEuclideanGradients",
    ],
  },
  "tf/mod.ts": {
    values: [
      "BACKEND_CHOICES",
      "clusterLoss",
      "clusterLossGrads",
      "clusterLossGradsOnGraph",
      "otKMeansLossTf",
      "pointCentroidLossOp",
      "prepareOtKMeansLoss",
      "prepareSoftKMeansLoss",
      "selectBackend",
      "softKMeansLossTf",
      "tf",
    ],
    types: [
      "BackendChoice",
      "BackendInfo",
      "ClusterLossGradsOptions",
      "ClusterLossOptions",
      "ClusterLossStep",
      "ClusterTarget",
      "GraphClusterLossOptions",
      "GraphClusterLossStep",
      "PreparedClusterLoss",
      "PreparedOtKMeansLoss",
      "PreparedSoftKMeansLoss",
      "SelectBackendOptions",
      "WasmGemm",
      "WasmGemmChoice",
    ],
  },
  "expert.ts": {
    values: [
      "ForestWorkerPool",
      "MembershipWorkerPool",
      "assertGraph",
      "edgeLookup",
      "fillGumbel",
      "fillStandardNormal",
      "foldIn",
      "jsGemm",
      "standardNormal",
      "streamFor",
      "uniformOpen01",
      "unsafeConstrainedForestOnGraph",
      "unsafeConstrainedSpanningForest",
      "unsafeConstrainedSpanningForestOnGraph",
      "unsafeForestHierarchy",
      "unsafeForestHierarchyOnGraph",
      "unsafeGraphMaxSpanningForest",
      "unsafeMaxSpanningForest",
      "unsafeMaxSpanningForestOnGraph",
    ],
    types: [
      "DecodeContextEntry",
      "DecodeError",
      "DecodeResult",
      "Decoder",
      "GemmAbT",
      "NeighbourGemm",
      "PoolEstimateOptions",
      "RandomStream",
    ],
  },
};

/** Internals that used to leak through mod.ts: still importable from their files, in no entry. */
const INTERNALS = [
  "assertAllFinite",
  "runChunk",
  "streamUnchecked",
  "accumulateEdges",
  "show",
  "upperTriangleSize",
  "DisjointSets",
  "forestAdjacencyEdges",
  "checkPerturbedOptions",
];

const ROOT = new URL("../", import.meta.url);
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

for (const [entry, { values, types }] of Object.entries(SURFACES)) {
  Deno.test(`${entry} exports exactly the listed values`, async () => {
    assert.deepEqual(values, [...values].sort(byCodeUnit), "the list is sorted");
    const mod = await import(new URL(entry, ROOT).href);
    assert.deepEqual(Object.keys(mod).sort(byCodeUnit), values);
    for (const n of INTERNALS) assert.ok(!(n in mod), `${n} is internal`);
  });

  Deno.test(`${entry} exports exactly the listed values and types (deno doc)`, async () => {
    assert.deepEqual(types, [...types].sort(byCodeUnit), "the list is sorted");
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["doc", "--json", entry],
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const doc = JSON.parse(new TextDecoder().decode(stdout)) as {
      nodes: Record<string, { symbols: { name: string }[] }>;
    };
    const symbols = Object.values(doc.nodes)[0].symbols;
    // A name that is both a value and a namespace of types (tf) is one symbol.
    const names = [...new Set(symbols.map((s) => s.name))].sort(byCodeUnit);
    const listed = [...new Set([...values, ...types])].sort(byCodeUnit);
    const extra = names.filter((n) => !listed.includes(n));
    const missing = listed.filter((n) => !names.includes(n));
    assert.deepEqual({ extra, missing }, { extra: [], missing: [] });
  });
}

/** Globals an import may add: tfjs keeps its engine on globalThis, our code adds none. */
const ADDED_GLOBALS: Record<string, string[]> = {
  "mod.ts": [],
  "tf/mod.ts": ["_tfGlobals", "_tfengine"],
  "expert.ts": [],
};

/** Runs `code` as a script in a temporary directory with the given flags; returns its output. */
async function runScript(
  code: string,
  flags: string[],
): Promise<{ stdout: string; stderr: string }> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/probe.ts`, code);
    const { code: status, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--quiet", ...flags, `${dir}/probe.ts`],
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = {
      stdout: new TextDecoder().decode(stdout),
      stderr: new TextDecoder().decode(stderr),
    };
    assert.equal(status, 0, out.stderr);
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const [entry, added] of Object.entries(ADDED_GLOBALS)) {
  Deno.test(`importing ${entry} needs no permission and adds no global of ours`, async () => {
    // A child with NO permissions (and no prompt) imports the entry: any file, env, net or FFI
    // access at import time would throw NotCapable. It prints the globals the import added.
    const url = new URL(entry, ROOT).href;
    const { stdout, stderr } = await runScript(
      `const before = new Set(Object.getOwnPropertyNames(globalThis));
      await import(${JSON.stringify(url)});
      // nodeBootstrap: Deno's own npm-compatibility hook, set when any npm: module loads.
      const added = Object.getOwnPropertyNames(globalThis)
        .filter((k) => !before.has(k) && k !== "nodeBootstrap");
      console.log(JSON.stringify(added.sort()));`,
      [],
    );
    assert.equal(stderr, "", "nothing printed on stderr");
    assert.deepEqual(JSON.parse(stdout), added);
  });
}

Deno.test("training through tf/mod.ts needs read access only (no FFI, no env)", async () => {
  // selectBackend("auto") probes every backend: without env permission the webgpu probe must
  // skip, without FFI the wasm kernels must fall back to XNNPACK; both losses then run a step.
  const tf = new URL("tf/mod.ts", ROOT).href;
  const { stdout } = await runScript(
    `import { clusterLossGrads, clusterLossGradsOnGraph, selectBackend, tf } from ${
      JSON.stringify(tf)
    };
    const info = await selectBackend("auto", () => {}, { convolutional: false });
    const x = tf.randomNormal([12, 4], 0, 1, "float32", 1);
    const w = tf.variable(tf.randomNormal([4, 2], 0, 1, "float32", 2));
    const labels = Array.from({ length: 12 }, (_, i) => i % 2);
    const opts = { k: 2, epsilon: 0.1, samples: 8, noise: "gaussian" } as const;
    const dense = await clusterLossGrads(opts)(() => tf.matMul(x, w), labels, 0);
    const graph = await clusterLossGradsOnGraph({ ...opts, neighbours: 3 })(
      () => tf.matMul(x, w), labels, 0);
    console.log(JSON.stringify({ backend: info.name, detail: info.detail, skipped: info.skipped,
      losses: [dense.loss, graph.loss], grads: [dense.grads, graph.grads].map((g) => Object.keys(g).length) }));`,
    ["--allow-read"],
  );
  const result = JSON.parse(stdout);
  assert.equal(result.backend, "wasm");
  assert.match(result.detail, /no FFI permission/);
  // Each backend skipped for a reason of its own (no adapter, a dense network), not for lack of
  // a permission the run did not ask for.
  assert.doesNotMatch(JSON.stringify(result.skipped), /NotCapable|--allow-env|--allow-read/);
  assert.ok(result.losses.every((l: number) => Number.isFinite(l) && l >= 0), stdout);
  assert.deepEqual(result.grads, [1, 1]);
});
