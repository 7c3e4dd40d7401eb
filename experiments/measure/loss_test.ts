import assert from "node:assert/strict";
import { E } from "../../lib/deps/fp.ts";
import { parseFlags } from "../cli/flags.ts";
import { clusteredEmbeddings, main, measureLossCommand } from "./loss.ts";

Deno.test("measure:loss times the dense and the graph loss on tiny batches", async () => {
  const rows = await main([
    ...["--backend", "cpu", "--dim", "4", "--samples", "2", "--classes", "3", "--reps", "1"],
    ...["--dense-sizes", "12", "--graph-sizes", "20", "--neighbours", "3"],
  ]);
  assert.deepEqual(rows.map((r) => [r.loss, r.n]), [["dense", 12], ["graph", 20]]);
  for (const r of rows) {
    assert.equal(r.error, undefined);
    assert.ok(r.median > 0 && r.cpu > 0 && r.cpu <= r.median, JSON.stringify(r));
  }
  assert.ok(rows[1].graph! > 0 && rows[1].edges! >= 20 - 1);
});

Deno.test("measure:loss: embeddings and flag checks", () => {
  const { data, labels } = clusteredEmbeddings(30, 4, 3, true, 1);
  assert.equal(data.length, 120);
  assert.deepEqual([...labels].sort(), Array.from({ length: 30 }, (_, i) => i % 3).sort());
  const error = (argv: string[]) => {
    const r = parseFlags(measureLossCommand, argv);
    return E.isLeft(r) ? r.left : "";
  };
  assert.match(error(["--graph-sizes", "15"]), /--graph-sizes 15 is not above --neighbours 15/);
  assert.match(error(["--dense-sizes", "4"]), /--dense-sizes 4 is below --classes 10/);
});
