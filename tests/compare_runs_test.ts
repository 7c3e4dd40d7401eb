import assert from "node:assert/strict";
import { validationCurve } from "../scripts/compare_runs.ts";

Deno.test("compare:runs draws validation records only, and names a metric no record holds", () => {
  const records = [
    { step: 500, split: "val", accNearest: 0.5 },
    { step: 1000, split: "val", accNearest: 0.6 },
    { step: 1000, split: "test", accNearest: 0.9 }, // a test figure is never drawn
    { step: 1500, valPrecision: 0.9 }, // exp:mnist records carry no split: validation
  ];
  assert.deepEqual(validationCurve("ot", records, "accNearest"), [
    { x: 500, y: 0.5, series: "ot" },
    { x: 1000, y: 0.6, series: "ot" },
  ]);
  assert.deepEqual(validationCurve("b", records, "valPrecision"), [{
    x: 1500,
    y: 0.9,
    series: "b",
  }]);
  assert.throws(
    () => validationCurve("b", records, "valAcc"),
    /Invalid --metric valAcc for run b: no validation record holds it \(fields: step, split/,
  );
});
