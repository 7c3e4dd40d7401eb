/**
 * The check behind "same partition as scipy at every k" in docs/benchmarks.md
 * (scripts/bench_compare.ts):
 * it must flag a merge sequence that differs, and accept one that only names the merged
 * clusters by other members or in the other order (as scipy does).
 */
import assert from "node:assert/strict";
import { firstMergeMismatch } from "../scripts/bench_compare.ts";
import { matrix } from "../lib/core/matrix.ts";
import { forestHierarchy } from "../lib/forest/spanning_forest.ts";

Deno.test("bench_compare's partition check", () => {
  // Points on a line at 0, 1, 3, 7, 15: single linkage merges {0,1}, then 3, then 7, then 15.
  const x = [0, 1, 3, 7, 15];
  const h = forestHierarchy(matrix(x.map((a) => x.map((b) => -((a - b) ** 2)))));
  // Same partitions at every k, clusters named by other members and sides swapped.
  const a = Int32Array.from([1, 2, 3, 4]), b = Int32Array.from([0, 0, 1, 0]);
  assert.equal(firstMergeMismatch(h, a, b), -1);
  assert.equal(firstMergeMismatch(h, a, Int32Array.from([0, 0, 0, 0])), -1);
  // Merge 2 joins point 4 instead of point 3: the partitions differ from there on.
  assert.equal(firstMergeMismatch(h, Int32Array.from([1, 2, 4, 3]), b), 2);
  // A merge of two points already together is never a valid step.
  assert.equal(firstMergeMismatch(h, Int32Array.from([1, 1, 3, 4]), b), 1);
});
