/**
 * The io-ts codec of {@link Graph}: decodes untrusted JSON `{ "n": 3, "edges": [[0, 1, -0.5],
 * …] }` (pairs in any orientation) into a validated graph, once, at the edge; errors name the
 * offending edge. Encodes back to that form (each pair once, smaller endpoint first).
 *
 * @module
 */
import type { Codec } from "../core/codecs.ts";
import { t } from "../deps/fp.ts";
import { show } from "../core/errors.ts";
import { assertGraph, type Graph, graph } from "./graph.ts";

/**
 * The JSON form of a {@link Graph}.
 *
 * @category Graphs of points
 */
export interface GraphJson {
  /** Number of points. */
  n: number;
  /** Edges as [i, j, weight]. */
  edges: [number, number, number][];
}

/**
 * Decodes `{ n, edges: [i, j, weight][] }` into a validated {@link Graph} (see `assertGraph`:
 * endpoints in [0, n), no self-loop, no duplicate pair, finite weights).
 *
 * @example Decoding and a named error
 * ```ts
 * import { GraphCodec } from "./graph_codec.ts";
 * import { PathReporter } from "../deps/fp.ts";
 * import assert from "node:assert/strict";
 * const ok = GraphCodec.decode({ n: 3, edges: [[1, 0, -1], [1, 2, -2]] });
 * assert.ok(ok._tag === "Right" && ok.right.from[0] === 0);
 * const bad = GraphCodec.decode({ n: 3, edges: [[0, 1, 1], [1, 0, 2]] });
 * assert.match(PathReporter.report(bad)[0], /edge 1 = \(0, 1\): it duplicates edge 0/);
 * ```
 *
 * @category Graphs of points
 */
export const GraphCodec: Codec<Graph, GraphJson> = new t.Type<Graph, GraphJson, unknown>(
  "Graph",
  (u): u is Graph => {
    try {
      assertGraph("graph", u);
      return true;
    } catch {
      return false;
    }
  },
  (u, c) => {
    if (typeof u !== "object" || u === null || Array.isArray(u)) {
      return t.failure(u, c, `Expected graph to be an object {n, edges}, got ${show(u)}`);
    }
    const { n, edges } = u as { n?: unknown; edges?: unknown };
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
      return t.failure(n, c, `Invalid graph.n = ${show(n)}: n must be a positive integer`);
    }
    if (!Array.isArray(edges)) {
      return t.failure(
        edges,
        c,
        `Expected graph.edges to be an array of [i, j, weight], got ${show(edges)}`,
      );
    }
    for (let e = 0; e < edges.length; e++) {
      const edge = edges[e];
      if (!Array.isArray(edge) || edge.length !== 3 || edge.some((v) => typeof v !== "number")) {
        return t.failure(
          edge,
          c,
          `Invalid graph.edges[${e}] = ${show(edge)}: expected [i, j, weight] (three numbers)`,
        );
      }
    }
    try {
      return t.success(graph(n, edges as [number, number, number][]));
    } catch (err) {
      return t.failure(edges, c, (err as Error).message);
    }
  },
  (g) => {
    const edges: [number, number, number][] = [];
    for (let e = 0; e < g.from.length; e++) edges.push([g.from[e], g.to[e], g.weight[e]]);
    return { n: g.n, edges };
  },
);
