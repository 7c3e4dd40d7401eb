/**
 * `deno task bench:assign` at toy sizes, as a user runs it: it completes, and wherever
 * scikit-learn is installed our nearest training points are exactly its.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("bench:assign runs end to end and agrees with scikit-learn's nearest neighbours", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "task",
      "-q",
      "bench:assign",
      "--n32",
      "2500",
      "--q32",
      "200",
      "--n2d",
      "4000",
      "--q2d",
      "300",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.match(out, /ours fitClusters \+ save: fit_s [\d.]+, save_s [\d.]+, method knn/);
  assert.match(out, /ours fit \+ index \+ assign: [\d.]+ s/);
  const file = /written (.*\.json)/.exec(out)![1];
  try {
    const sklearn = /scikit-learn KNeighborsClassifier\(1\) fit \+ predict: skipped/.test(out);
    const same = out.match(/same nearest training point: \{"differ":0,/g) ?? [];
    assert.equal(same.length, sklearn ? 0 : 2, out);
  } finally {
    await Deno.remove(file);
  }
});
