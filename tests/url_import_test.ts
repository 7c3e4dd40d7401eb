/**
 * End-to-end check that the package works for a consumer who imports `mod.ts` by URL, with no
 * access to our deno.json (no import map, no `nodeModulesDir`): every specifier in the graph
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

Deno.test("mod.ts works when imported by URL without our deno.json", async () => {
  const { server, port, served } = serveRepository();
  const consumerDir = await Deno.makeTempDir({ prefix: "spanclust_url_consumer_" });
  try {
    const origin = `http://127.0.0.1:${port}`;
    // Sanity-check the server itself: TypeScript with the right type, 404 for the rest.
    const mod = await fetch(`${origin}/mod.ts`);
    assert.equal(mod.status, 200);
    assert.equal(mod.headers.get("content-type"), "application/typescript");
    await mod.body?.cancel();
    for (const missing of ["/deno.json", "/no_such_file.ts", "/lib/"]) {
      const r = await fetch(origin + missing);
      assert.equal(r.status, 404, missing);
      await r.body?.cancel();
    }

    const script = `${consumerDir}/consumer.ts`;
    await Deno.writeTextFile(
      script,
      `import * as sc from "${origin}/mod.ts";
const forest = sc.maxSpanningForest(sc.matrix([[0, 1], [1, 0]]), 1);
console.log(JSON.stringify({
  maxSpanningForest: typeof sc.maxSpanningForest,
  edges: forest.edges.length,
  exports: Object.keys(sc).sort(),
}));
`,
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-config",
        "--node-modules-dir=none",
        `--reload=${origin}`,
        `--allow-import=127.0.0.1:${port}`,
        script,
      ],
      cwd: consumerDir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, `consumer failed:\n${err}`);
    const result = JSON.parse(new TextDecoder().decode(stdout));
    assert.equal(result.maxSpanningForest, "function");
    assert.equal(result.edges, 1);
    // The consumer really fetched our modules over HTTP (not some other copy).
    assert.match(err, new RegExp(`Download ${origin}/mod.ts`));
    assert.ok(result.exports.includes("matrix"));
    served.delete("/no_such_file.ts");
    assert.ok(served.has("/mod.ts") && served.has("/lib/core/matrix.ts"));

    // Every npm: specifier the consumer's graph contains is pinned to an exact version
    // (an unpinned one would load too, but then consumers could get different code).
    for (const path of served) {
      const source = await Deno.readTextFile(new URL("." + path, ROOT));
      for (const [, specifier] of source.matchAll(/["'](npm:[^"']+)["']/g)) {
        assert.match(specifier, /^npm:(@[\w.-]+\/)?[\w.-]+@\d+\.\d+\.\d+(\/|$)/, `${path}`);
      }
    }
  } finally {
    await server.shutdown();
    await Deno.remove(consumerDir, { recursive: true });
  }
});
