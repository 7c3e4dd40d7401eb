/**
 * `deno task web`: serves the interactive page in `web/` (points, forests, M*_ε, the partial
 * Fenchel–Young loss and live learning, all on the browser bundle of mod.ts) on the loopback
 * address. The task bundles `mod.ts` → `web/spanclust.js` and the plotting libraries →
 * `web/vega.js` first (both generated, git-ignored); this file only serves `web/`, read-only.
 *
 * Usage: `deno task web [--port 8000] [--host 127.0.0.1]`, then open the printed address.
 *
 * @module
 */
import { type Command, flag, parseOrExit, runMain, UsageError } from "../cli/flags.ts";

/** The page's directory (absolute path, with a trailing slash). */
export const WEB_ROOT: string = new URL("../../web/", import.meta.url).pathname;

/** The generated files the page needs, and the command that makes each. */
export const GENERATED: Readonly<Record<string, string>> = {
  "spanclust.js": "deno bundle --platform browser mod.ts -o web/spanclust.js",
  "vega.js": "deno bundle --platform browser --minify experiments/deps/plot.ts -o web/vega.js",
};

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  png: "image/png",
  svg: "image/svg+xml",
};

/** Flags of `web`. */
export const webFlags = {
  port: flag.int("TCP port to listen on (0: any free port)", 8000, 0, 65535),
  host: flag.string(
    "Address to listen on; the task may listen only on the loopback address (127.0.0.1, " +
      "localhost)",
    "127.0.0.1",
  ),
} as const;

/** `web`. */
export const webCommand: Command<typeof webFlags> = {
  name: "web",
  summary: "Serve the interactive page (web/) on the loopback address: place points, see the " +
    "spanning forest, M*_ε, the constrained forest and the partial FY loss, and learn live.",
  flags: webFlags,
};

/**
 * A request handler serving the files of `root` (GET/HEAD only; `/` is `index.html`); paths
 * that leave `root`, hidden files and unknown types are 404.
 *
 * @param root Directory to serve, with a trailing slash.
 * @returns The handler.
 */
export function webHandler(root: string = WEB_ROOT): (req: Request) => Promise<Response> {
  return async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed", { status: 405 });
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url).pathname);
    } catch {
      return new Response("bad path", { status: 400 });
    }
    if (path === "/") path = "/index.html";
    const name = path.slice(1);
    const type = CONTENT_TYPES[name.split(".").pop() ?? ""];
    if (
      type === undefined || name.split("/").some((part) => part === ".." || part.startsWith(".")) ||
      name.includes("\\") || name.includes("\0")
    ) {
      return new Response("not found", { status: 404 });
    }
    try {
      const body = await Deno.readFile(root + name);
      return new Response(req.method === "HEAD" ? null : body, {
        headers: { "content-type": type, "cache-control": "no-store" },
      });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        const hint = GENERATED[name];
        return new Response(
          hint ? `web/${name} is generated: run \`${hint}\` (deno task web does)` : "not found",
          { status: 404 },
        );
      }
      throw e;
    }
  };
}

/**
 * Checks the generated bundles are there, then serves until interrupted.
 *
 * @param argv Arguments.
 * @returns When the server stops.
 * @throws {UsageError} If the address is not one this process may listen on.
 * @throws {Error} If a bundle is missing (naming the command that makes it).
 */
export async function main(argv: readonly string[]): Promise<void> {
  const config = parseOrExit(webCommand, argv);
  const where = `${config.host}:${config.port === 0 ? 8000 : config.port}`;
  const net = await Deno.permissions.query({ name: "net", host: where });
  if (net.state !== "granted") {
    throw new UsageError(
      `--host ${config.host}: deno task web may listen only on the loopback address ` +
        `(127.0.0.1, localhost); to serve elsewhere, run \`deno run --allow-read=web ` +
        `--allow-net=${config.host} experiments/web/main.ts --host ${config.host}\``,
    );
  }
  for (const [name, command] of Object.entries(GENERATED)) {
    try {
      await Deno.stat(WEB_ROOT + name);
    } catch {
      throw new Error(`web/${name} is missing: run \`${command}\` first (deno task web does)`);
    }
  }
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen({ hostname, port }) {
      console.log(`spanclust page: http://${hostname}:${port}/  (Ctrl-C to stop)`);
    },
  }, webHandler());
  await server.finished;
}

if (import.meta.main) runMain(() => main(Deno.args));
