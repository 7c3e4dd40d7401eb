import assert from "node:assert/strict";
import { PathReporter } from "../deps/fp.ts";
import { GraphCodec } from "./graph_codec.ts";
import { assertGraph, completeGraph, edgeLookup, graph, graphComponents } from "./graph.ts";
import { matrix } from "../core/matrix.ts";

const report = (u: unknown) => PathReporter.report(GraphCodec.decode(u))[0];

Deno.test("GraphCodec: decodes, round-trips, and names what is wrong", () => {
  const json = { n: 4, edges: [[2, 0, -1.5], [1, 3, 2], [0, 1, 0]] };
  const r = GraphCodec.decode(json);
  assert.ok(r._tag === "Right");
  assert.deepEqual([...r.right.from], [0, 1, 0]);
  assert.deepEqual([...r.right.to], [2, 3, 1]);
  assert.deepEqual(GraphCodec.encode(r.right), {
    n: 4,
    edges: [[0, 2, -1.5], [1, 3, 2], [0, 1, 0]],
  });
  assert.ok(GraphCodec.is(r.right));
  assert.ok(!GraphCodec.is({ n: 2, from: [0], to: [1], weight: [1] }));
  assert.match(report([1, 2]), /Expected graph to be an object \{n, edges\}, got array/);
  assert.match(report({ n: 0, edges: [] }), /Invalid graph.n = 0/);
  assert.match(report({ n: 2, edges: "x" }), /Expected graph.edges to be an array/);
  assert.match(report({ n: 2, edges: [[0, 1]] }), /graph.edges\[0\] = array of length 2/);
  assert.match(report({ n: 2, edges: [[0, 1, "1"]] }), /graph.edges\[0\].*three numbers/);
  assert.match(report({ n: 2, edges: [[0, 2, 1]] }), /edge 0 = \(0, 2\): endpoints must be/);
  assert.match(report({ n: 2, edges: [[1, 1, 1]] }), /edge 0 = \(1, 1\): a self-loop/);
  assert.match(report({ n: 2, edges: [[0, 1, 1e400]] }), /edge 0 = \(0, 1\) weight Infinity/);
  assert.match(report({ n: 3, edges: [[0, 1, 1], [2, 0, 1], [1, 0, 3]] }), /edge 2 .* edge 0/);
});

Deno.test("graph helpers: complete graph order, lookup, components, empty graphs", () => {
  const g = completeGraph(matrix([[0, 1, 2, 3], [1, 0, 4, 5], [2, 4, 0, 6], [3, 5, 6, 0]]));
  assert.deepEqual([...g.weight], [1, 2, 3, 4, 5, 6]); // row-major upper triangle
  const find = edgeLookup(g);
  assert.equal(find(3, 2), 5);
  assert.equal(find(2, 2), -1);
  assert.equal(find(0, 9), -1);
  const empty = graph(3, []);
  assertGraph("graph", empty);
  assert.deepEqual(graphComponents(empty), { count: 3, labels: new Int32Array([0, 1, 2]) });
  assert.throws(() => graph(0, []), /Invalid n = 0/);
  assert.throws(() => graph(2, [[0, 1.5, 1]]), /edge 0 = \(0, 1.5\): endpoints must be integers/);
  assert.throws(() => graph(2, [[0, 1, NaN]]), /weight NaN: weights must be finite/);
  assert.throws(() => completeGraph(matrix([[0, 1], [2, 0]])), /not symmetric at \(0, 1\)/);
});
