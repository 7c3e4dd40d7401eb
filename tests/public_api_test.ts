/**
 * The public surface of mod.ts, listed: a name added to or dropped from mod.ts must be added
 * to or dropped from PUBLIC_VALUES here, on purpose. (Types are erased at run time; `deno doc
 * --lint mod.ts` checks that every exported symbol, types included, is documented.)
 */
import assert from "node:assert/strict";

/** Every value mod.ts exports, alphabetically. Extend this list when the API grows. */
const PUBLIC_VALUES = [
  "CANNOT_LINK",
  "ConstraintsCodec",
  "ConvergenceError",
  "ForestWorkerPool",
  "GraphCodec",
  "InfeasibleConstraintsError",
  "LabelsCodec",
  "MUST_LINK",
  "MatrixCodec",
  "MembershipWorkerPool",
  "NOISE_NAMES",
  "UNKNOWN",
  "adjustedRandIndex",
  "approximateNeighbours",
  "assertGraph",
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
  "constraintsFromLabels",
  "constraintsFromMatrix",
  "cosineSimilarity",
  "cutAtMinSize",
  "cutAtThreshold",
  "decodePipelineConfig",
  "delaunayGraph",
  "edgeLookup",
  "exactConstrainedSpanningForest",
  "exactNeighbours",
  "fitClusters",
  "fittedClustersFromParts",
  "fittedClustersToParts",
  "forestAt",
  "forestHierarchy",
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
  "jsGemm",
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
  "mutualReachability",
  "negSquaredDistances",
  "negSquaredDistancesVjp",
  "neighbourGraph",
  "normalizedMutualInfo",
  "otKMeans",
  "otKMeansLoss",
  "partialFyLoss",
  "partialFyLossOnGraph",
  "partialFyLossOfPoints",
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
  "squaredEuclideanCost",
  "squaredEuclideanGradients",
  "standardise",
  "standardiseVjp",
  "symmetricNoise",
  "toRows",
  "unsafeConstrainedForestOnGraph",
  "unsafeConstrainedSpanningForest",
  "unsafeForestHierarchy",
  "unsafeGraphMaxSpanningForest",
  "unsafeMaxSpanningForest",
  "zeros",
];

/** Internals that used to leak through mod.ts: still importable from their files, not here. */
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

Deno.test("mod.ts exports exactly the listed public surface", async () => {
  const mod = await import("../mod.ts");
  const names = Object.keys(mod).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const listed = [...PUBLIC_VALUES].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const extra = names.filter((n) => !listed.includes(n));
  const missing = listed.filter((n) => !names.includes(n));
  assert.deepEqual({ extra, missing }, { extra: [], missing: [] });
  for (const n of INTERNALS) assert.ok(!(n in mod), `${n} is internal`);
});

Deno.test("importing mod.ts needs no permission and has no side effect", async () => {
  // A child with NO permissions (and no prompt) imports mod.ts: any file, env, net or FFI
  // access at import time would throw NotCapable. It prints the globals the import added.
  const url = new URL("../mod.ts", import.meta.url).href;
  const code = `
    const before = new Set(Object.getOwnPropertyNames(globalThis));
    await import(${JSON.stringify(url)});
    // nodeBootstrap: Deno's own npm-compatibility hook, set when any npm: module (fp-ts) loads.
    const added = Object.getOwnPropertyNames(globalThis)
      .filter((k) => !before.has(k) && k !== "nodeBootstrap");
    console.log(JSON.stringify(added));`;
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/probe.ts`, code);
    const { code: status, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--quiet", `${dir}/probe.ts`],
      cwd: new URL("..", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(status, 0, err);
    assert.equal(err, "", "nothing printed on stderr");
    assert.equal(new TextDecoder().decode(stdout).trim(), "[]", "no global added");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
