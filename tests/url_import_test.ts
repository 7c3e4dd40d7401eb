/**
 * End-to-end check that the package works for a consumer who imports `mod.ts` (and `tf/mod.ts`)
 * by URL, with no access to our deno.json (no import map, no `nodeModulesDir`): every specifier in the graph
 * must be relative or a full pinned `npm:` specifier, which Deno then resolves into its global
 * npm cache.
 *
 * The repository root is served over local HTTP and a consumer script in a temporary
 * directory is run with:
 *   --no-config                 ignore any deno.json / package.json (a URL consumer's view)
 *   --node-modules-dir=none     resolve npm: specifiers into the global DENO_DIR cache
 *   --reload=http://HOST:PORT   re-fetch our modules (a cached copy from an earlier run that
 *                               used the same port would be stale); npm packages stay cached.
 *                               Note: the prefix must not end with "/", or it matches nothing.
 *   --allow-import=HOST:PORT    remote imports from the test server only
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/**
 * Serves `.ts` files under ROOT as application/typescript; everything else is 404. Records
 * the paths it served.
 */
function serveRepository(): {
  server: Deno.HttpServer<Deno.NetAddr>;
  port: number;
  served: Set<string>;
} {
  const served = new Set<string>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    // Refuse anything that could leave the repository (the URL parser already folds "..").
    if (!path.endsWith(".ts") || path.includes("..") || path.includes("\0")) {
      return new Response("Not found", { status: 404 });
    }
    try {
      const body = await Deno.readFile(new URL("." + path, ROOT));
      served.add(path);
      return new Response(body, { headers: { "content-type": "application/typescript" } });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.IsADirectory) {
        return new Response("Not found", { status: 404 });
      }
      throw error;
    }
  });
  return { server, port: server.addr.port, served };
}

/**
 * Serves the repository, runs `script` (a consumer's code, given the server's origin) in a
 * temporary directory without our config, and returns its stdout, stderr and the paths served.
 * Also checks that every `npm:` specifier in the served modules is pinned to an exact version
 * (an unpinned one would load too, but then consumers could get different code).
 */
async function runConsumer(
  script: (origin: string) => string,
  extraFlags: readonly string[] = [],
): Promise<{ stdout: string; stderr: string; origin: string; served: Set<string> }> {
  const { server, port, served } = serveRepository();
  const consumerDir = await Deno.makeTempDir({ prefix: "spanclust_url_consumer_" });
  try {
    const origin = `http://127.0.0.1:${port}`;
    const path = `${consumerDir}/consumer.ts`;
    await Deno.writeTextFile(path, script(origin));
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-config",
        "--node-modules-dir=none",
        `--reload=${origin}`,
        `--allow-import=127.0.0.1:${port}`,
        ...extraFlags,
        path,
      ],
      cwd: consumerDir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, `consumer failed:\n${err}`);
    served.delete("/no_such_file.ts");
    for (const path of served) {
      const source = await Deno.readTextFile(new URL("." + path, ROOT));
      for (const [, specifier] of source.matchAll(/["'](npm:[^"']+)["']/g)) {
        assert.match(specifier, /^npm:(@[\w.-]+\/)?[\w.-]+@\d+\.\d+\.\d+(\/|$)/, `${path}`);
      }
    }
    return { stdout: new TextDecoder().decode(stdout), stderr: err, origin, served };
  } finally {
    await server.shutdown();
    await Deno.remove(consumerDir, { recursive: true });
  }
}

Deno.test("the test server serves TypeScript and refuses the rest", async () => {
  const { server, port } = serveRepository();
  try {
    const origin = `http://127.0.0.1:${port}`;
    const mod = await fetch(`${origin}/mod.ts`);
    assert.equal(mod.status, 200);
    assert.equal(mod.headers.get("content-type"), "application/typescript");
    await mod.body?.cancel();
    for (const missing of ["/deno.json", "/no_such_file.ts", "/lib/"]) {
      const r = await fetch(origin + missing);
      assert.equal(r.status, 404, missing);
      await r.body?.cancel();
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("mod.ts works when imported by URL without our deno.json", async () => {
  const { stdout, stderr, origin, served } = await runConsumer((origin) =>
    `import * as sc from "${origin}/mod.ts";
const forest = sc.maxSpanningForest(sc.matrix([[0, 1], [1, 0]]), 1);
console.log(JSON.stringify({
  maxSpanningForest: typeof sc.maxSpanningForest,
  edges: forest.edges.length,
  exports: Object.keys(sc).sort(),
}));
`
  );
  const result = JSON.parse(stdout);
  assert.equal(result.maxSpanningForest, "function");
  assert.equal(result.edges, 1);
  // The consumer really fetched our modules over HTTP (not some other copy).
  assert.match(stderr, new RegExp(`Download ${origin}/mod.ts`));
  assert.ok(result.exports.includes("matrix"));
  assert.ok(served.has("/mod.ts") && served.has("/lib/core/matrix.ts"));
});

Deno.test("tf/mod.ts works when imported by URL: a model trains on the wasm backend", async () => {
  const { stdout, stderr, origin, served } = await runConsumer(
    (origin) =>
      `import { adjustedRandIndex } from "${origin}/mod.ts";
import { clusterLossGrads, clusterLossGradsOnGraph, selectBackend, tf } from "${origin}/tf/mod.ts";
const info = await selectBackend("wasm", () => {});
const x = tf.randomNormal([12, 4], 0, 1, "float32", 1);
const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2,
  kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }) })] });
const labels = Array.from({ length: 12 }, (_, i) => i % 2);
const opts = { k: 2, epsilon: 0.1, samples: 8, noise: "gaussian" } as const;
const embed = () => model.apply(x) as tf.Tensor2D;
const dense = await clusterLossGrads(opts)(embed, labels, 0);
const graph = await clusterLossGradsOnGraph({ ...opts, neighbours: 3 })(embed, labels, 0);
console.log(JSON.stringify({ backend: info.name, losses: [dense.loss, graph.loss],
  grads: Object.keys(dense.grads).length, ari: adjustedRandIndex(labels, labels) }));
`,
    // tfjs-backend-wasm reads its binary from the npm cache.
    ["--allow-read"],
  );
  const result = JSON.parse(stdout);
  assert.equal(result.backend, "wasm");
  assert.ok(result.losses.every((l: number) => Number.isFinite(l) && l >= 0), stdout);
  assert.equal(result.grads, 2, "kernel and bias");
  assert.equal(result.ari, 1);
  assert.match(stderr, new RegExp(`Download ${origin}/tf/mod.ts`));
  for (const path of ["/tf/mod.ts", "/tf/deps/tfjs.ts", "/tf/_wasm_kernels.ts", "/mod.ts"]) {
    assert.ok(served.has(path), path);
  }
});
