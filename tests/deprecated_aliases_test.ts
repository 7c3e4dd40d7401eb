/**
 * The former names of renamed exports are the renamed functions themselves (not wrappers, not
 * a neighbouring function), so code written against the previous version behaves the same.
 */
import { strictEqual } from "node:assert/strict";
import * as api from "../mod.ts";
import * as expert from "../expert.ts";
import * as forestOnGraph from "../lib/forest/spanning_forest_on_graph.ts";
import * as graphLoss from "../tf/graph_cluster_loss.ts";

const renamed: readonly (readonly [string, string])[] = [
  ["graphMaxSpanningForest", "maxSpanningForestOnGraph"],
  ["graphHierarchy", "forestHierarchyOnGraph"],
  ["graphForestAt", "forestAtOnGraph"],
  ["constrainedForestOnGraph", "constrainedSpanningForestOnGraph"],
  ["partialFyLossOfPoints", "partialFyLossOfPointsOnGraph"],
];

/** The unchecked solvers moved to expert.ts, their former names with them. */
const renamedExpert: readonly (readonly [string, string])[] = [
  ["unsafeGraphMaxSpanningForest", "unsafeMaxSpanningForestOnGraph"],
  ["unsafeConstrainedForestOnGraph", "unsafeConstrainedSpanningForestOnGraph"],
];

Deno.test("every former name in mod.ts and expert.ts is the renamed function", () => {
  for (const [entry, pairs] of [[api, renamed], [expert, renamedExpert]] as const) {
    const exports = entry as unknown as Record<string, unknown>;
    for (const [old, current] of pairs) {
      strictEqual(typeof exports[current], "function", current);
      strictEqual(exports[old], exports[current], `${old} is not ${current}`);
    }
  }
});

Deno.test("former names outside mod.ts are the renamed functions", () => {
  strictEqual(forestOnGraph.unsafeGraphHierarchy, forestOnGraph.unsafeForestHierarchyOnGraph);
  strictEqual(graphLoss.graphClusterLossGrads, graphLoss.clusterLossGradsOnGraph);
});
