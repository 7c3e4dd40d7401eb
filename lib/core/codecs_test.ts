import assert from "node:assert/strict";
import { ConstraintsCodec, LabelsCodec, MatrixCodec } from "./codecs.ts";
import { E, PathReporter, t } from "../deps/fp.ts";
import { type Matrix, toRows } from "./matrix.ts";

/** The single PathReporter message of a failed decode. */
function errorOf(result: E.Either<unknown, unknown>): string {
  assert.ok(E.isLeft(result), "expected the decode to fail");
  const messages = PathReporter.report(result as never);
  assert.equal(messages.length, 1);
  return messages[0];
}

Deno.test("MatrixCodec", async (t) => {
  await t.step("decodes a square JSON matrix, copying it into a Float64Array", () => {
    const json = JSON.parse("[[0, -1.5], [-1.5, 0]]");
    const r = MatrixCodec.decode(json);
    assert.ok(E.isRight(r));
    assert.equal(r.right.n, 2);
    assert.ok(r.right.data instanceof Float64Array);
    assert.deepEqual(toRows(r.right), [[0, -1.5], [-1.5, 0]]);
    assert.ok(MatrixCodec.is(r.right));
    assert.deepEqual(MatrixCodec.encode(r.right), json);
  });
  await t.step("asymmetric matrices are accepted (symmetry is the solvers' check)", () => {
    assert.ok(E.isRight(MatrixCodec.decode([[0, 1], [2, 0]])));
  });
  await t.step("rejects with readable, positioned messages", () => {
    const cases: [unknown, RegExp][] = [
      [{}, /Expected matrix to be an array of rows, got object/],
      [[], /Invalid matrix: it has no rows/],
      [[1, 2], /Expected matrix\[0\] to be an array, got 1/],
      [[[0, 1], [1]], /Invalid matrix\[1\]: it has length 1 but the matrix needs 2 columns/],
      [[[0, 1]], /Invalid matrix\[0\]: it has length 2 but the matrix needs 1 columns/],
      [[[0, "1"], [1, 0]], /Invalid matrix\[0\]\[1\] = "1": entries must be finite numbers/],
      [[[0, null], [1, 0]], /matrix\[0\]\[1\] = null/],
      [[[0, 1], [Infinity, 0]], /matrix\[1\]\[0\] = Infinity/],
      [[[NaN]], /matrix\[0\]\[0\] = NaN/],
    ];
    for (const [input, message] of cases) assert.match(errorOf(MatrixCodec.decode(input)), message);
  });
  await t.step("is() rejects non-matrices", () => {
    assert.equal(MatrixCodec.is([[0]]), false);
    assert.equal(MatrixCodec.is({ n: 2, data: new Float64Array(3) }), false);
  });
});

Deno.test("ConstraintsCodec", async (t) => {
  await t.step("maps 1 / 0 / null to 1 / 0 / -1 and a null diagonal to 1", () => {
    const json = [[null, 1, 0], [1, 1, null], [0, null, null]];
    const r = ConstraintsCodec.decode(json);
    assert.ok(E.isRight(r));
    assert.equal(r.right.n, 3);
    assert.ok(r.right.data instanceof Int8Array);
    assert.deepEqual(Array.from(r.right.data), [1, 1, 0, 1, 1, -1, 0, -1, 1]);
    assert.ok(ConstraintsCodec.is(r.right));
    assert.deepEqual(ConstraintsCodec.encode(r.right), [[1, 1, 0], [1, 1, null], [0, null, 1]]);
  });
  await t.step("rejects with readable, positioned messages", () => {
    const cases: [unknown, RegExp][] = [
      ["x", /Expected constraints to be an array of rows, got "x"/],
      [[], /Invalid constraints: it has no rows/],
      [[[1, 1], [1]], /Invalid constraints\[1\]: it has length 1/],
      [[[1, 2], [2, 1]], /Invalid constraints\[0\]\[1\] = 2: entries must be 0 \(cannot-link\)/],
      [[[1, true], [true, 1]], /constraints\[0\]\[1\] = boolean/],
      [[[1, 1], [1, 0]], /Invalid constraints\[1\]\[1\] = 0: a diagonal entry must be 1 or null/],
      [[[1, 1], [0, 1]], /constraints\[1\]\[0\] = 0: it differs from constraints\[0\]\[1\] = 1/],
      [
        [[1, null], [1, 1]],
        /constraints\[1\]\[0\] = 1: it differs from constraints\[0\]\[1\] = null/,
      ],
    ];
    for (const [input, message] of cases) {
      assert.match(errorOf(ConstraintsCodec.decode(input)), message);
    }
  });
});

Deno.test("LabelsCodec", async (t) => {
  await t.step("decodes integers and nulls into a fresh array", () => {
    const json = [2, null, -7, 2];
    const r = LabelsCodec.decode(json);
    assert.ok(E.isRight(r));
    assert.deepEqual(r.right, [2, null, -7, 2]);
    assert.notEqual(r.right, json);
    assert.deepEqual(LabelsCodec.encode(r.right), json);
    assert.ok(LabelsCodec.is(r.right));
  });
  await t.step("rejects with readable, positioned messages", () => {
    const cases: [unknown, RegExp][] = [
      [null, /Expected labels to be an array of integers or null, got null/],
      [[], /Invalid labels: it is empty/],
      [[0, 0.5], /Invalid labels\[1\] = 0.5: a label must be an integer, or null if unknown/],
      [[0, "a"], /labels\[1\] = "a"/],
      [[undefined], /labels\[0\] = undefined/],
      [[2 ** 60], /labels\[0\] = 1152921504606847000/],
    ];
    for (const [input, message] of cases) assert.match(errorOf(LabelsCodec.decode(input)), message);
    assert.equal(LabelsCodec.is([]), false);
  });
});

Deno.test("codecs compose with io-ts combinators (through the documented cast)", () => {
  const Config = t.type({
    sigma: MatrixCodec as unknown as t.Type<Matrix, number[][], unknown>,
    labels: LabelsCodec as unknown as t.Type<(number | null)[], (number | null)[], unknown>,
  });
  assert.ok(E.isRight(Config.decode({ sigma: [[0]], labels: [null] })));
  assert.match(errorOf(Config.decode({ sigma: [[0]], labels: [0.5] })), /labels\[0\] = 0.5/);
});
