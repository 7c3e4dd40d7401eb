import assert from "node:assert/strict";
import { fromData, matrix } from "../core/matrix.ts";
import {
  forestAt,
  forestFromEdges,
  forestHierarchy,
  maxSpanningForest,
} from "./spanning_forest.ts";

const dist = [[0, 4, 5], [4, 0, 3], [5, 3, 0]];
const sigma = matrix(dist.map((r) => r.map((d) => -d)));

Deno.test("maxSpanningForest", async (t) => {
  await t.step("reference fixture: D = [[0,4,5],[4,0,3],[5,3,0]]", () => {
    assert.deepEqual(maxSpanningForest(sigma, 3).edges, []);
    assert.deepEqual(maxSpanningForest(sigma, 2).edges, [[1, 2]]);
    assert.deepEqual(maxSpanningForest(sigma, 1).edges, [[1, 2], [0, 1]]);
    assert.equal(maxSpanningForest(sigma, 1).value, -14);
    assert.deepEqual([...maxSpanningForest(sigma, 2).labels], [0, 1, 1]);
  });

  await t.step("n = 1 has the single trivial forest", () => {
    const f = maxSpanningForest(matrix([[5]]), 1);
    assert.equal(f.edges.length, 0);
    assert.deepEqual([...f.connectivity.data], [1]);
  });

  await t.step("does not mutate its input", () => {
    const copy = sigma.data.slice();
    maxSpanningForest(sigma, 2);
    assert.deepEqual(sigma.data, copy);
  });

  await t.step("rejects bad input with messages naming the argument", () => {
    assert.throws(
      () => maxSpanningForest(sigma, 0),
      /Invalid k = 0: k must be an integer in \[1, 3\] for n = 3/,
    );
    assert.throws(() => maxSpanningForest(sigma, 4), RangeError);
    assert.throws(() => maxSpanningForest(sigma, 1.5), RangeError);
    assert.throws(() => maxSpanningForest(sigma, "2" as unknown as number), TypeError);
    assert.throws(() => matrix([]), /n = 0/);
    assert.throws(() => matrix([[0, 1], [1]]), /rows\[1\].*length 1/);
    assert.throws(() => matrix([[0, NaN], [1, 0]]), /rows\[0\]\[1\] = NaN/);
    assert.throws(() => matrix([[0, Infinity], [1, 0]]), /finite/);
    assert.throws(
      () => maxSpanningForest(matrix([[0, 1], [2, 0]]), 1),
      /sigma: not symmetric at \(0, 1\)/,
    );
    assert.throws(
      () => maxSpanningForest({ n: 2, data: new Float64Array(3) }, 1),
      /sigma: data has length 3 but n \* n = 4/,
    );
    assert.throws(() => maxSpanningForest(null as unknown as never, 1), TypeError);
    assert.throws(() => fromData(2, new Float64Array(3)), RangeError);
  });
});

Deno.test("forestHierarchy and forestFromEdges", async (t) => {
  await t.step("hierarchy weights are the merge similarities, heaviest first", () => {
    const h = forestHierarchy(sigma);
    assert.deepEqual([...h.weights], [-3, -4]);
    assert.equal(forestAt(h, 1).value, maxSpanningForest(sigma, 1).value);
  });
  await t.step("forestFromEdges rejects cycles and bad endpoints", () => {
    assert.throws(() => forestFromEdges(sigma, [[0, 1], [1, 2], [0, 2]]), /edges\[2\].*cycle/);
    assert.throws(() => forestFromEdges(sigma, [[0, 3]]), /edges\[0\]/);
    assert.throws(() => forestFromEdges(sigma, [[1, 1]]), /self-loop/);
  });
});

Deno.test("maxSpanningForest(points, k) explains that Σ is expected and how to build it", () => {
  // The usual first try passes the points themselves (it said "Invalid sigma.n = undefined").
  assert.throws(
    () => maxSpanningForest([[0, 0], [1, 1], [5, 5]] as never, 2),
    (e: unknown) =>
      e instanceof TypeError && /got an array of 3 rows/.test(e.message) &&
      /negSquaredDistances\(points\)/.test(e.message) && /matrix\(rows\)/.test(e.message),
  );
});
