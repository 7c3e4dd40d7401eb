/**
 * Linear-probe fit time at the paper's size (1000 hold-out embeddings of dimension 256,
 * 10 classes) and smaller dimensions, for the semi-supervised grid.
 *
 * @module
 */
import { fitLogisticProbe } from "../experiments/probe/logistic.ts";

function embeddings(n: number, d: number, seed: number) {
  let s = seed;
  const u = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const centers = Array.from({ length: 10 }, () => Array.from({ length: d }, () => u() - 0.5));
  const data = new Float32Array(n * d);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) data[i * d + j] = Math.max(0, centers[labels[i]!]![j]! + u() - 0.5);
  }
  return { features: { rows: n, cols: d, data }, labels };
}

for (const d of [32, 64, 256]) {
  const { features, labels } = embeddings(1000, d, 17);
  Deno.bench({
    name: `fitLogisticProbe n = 1000, d = ${d}, K = 10`,
    group: "probe",
    baseline: d === 256,
    fn: () => {
      fitLogisticProbe(features, labels);
    },
  });
}
