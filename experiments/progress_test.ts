import assert from "node:assert/strict";
import { formatDuration, formatProgressLine, TrainingProgress } from "./progress.ts";

Deno.test("progress reporting", async (t) => {
  await t.step("durations", () => {
    assert.deepEqual(
      [formatDuration(5.4), formatDuration(185), formatDuration(3720), formatDuration(NaN)],
      ["5s", "3m05s", "1h02m", "?"],
    );
  });

  await t.step("quiet mode: a line every logEvery steps and at the end, with rate and ETA", () => {
    const lines: string[] = [];
    let clock = 0;
    const p = new TrainingProgress({
      total: 250,
      startStep: 50, // resumed run
      quiet: true,
      logEvery: 100,
      label: "mnist",
      write: (l) => lines.push(l),
      now: () => clock,
    });
    assert.ok(p.quiet);
    for (let step = 51; step <= 250; step++) {
      clock += 500; // 2 steps/s
      p.update(step, 1 / step);
    }
    p.stop();
    assert.equal(lines.length, 2);
    assert.equal(lines[0], "mnist step 150/250 (60%) | loss 0.006667 | 2.00 steps/s | ETA 50s");
    assert.match(lines[1]!, /^mnist step 250\/250 \(100%\) .* ETA 0s$/);
    assert.equal(p.status.stepsPerSecond, 2);
  });

  await t.step("without a terminal, quiet: false (the flag's default) still prints lines", () => {
    const lines: string[] = [];
    const p = new TrainingProgress({
      total: 4,
      quiet: false,
      terminal: false,
      logEvery: 2,
      write: (l) => lines.push(l),
    });
    assert.ok(p.quiet);
    for (let step = 1; step <= 4; step++) p.update(step, 0.5);
    p.stop();
    assert.deepEqual(lines.map((l) => l.split(" |")[0]), ["step 2/4 (50%)", "step 4/4 (100%)"]);
  });

  await t.step("log lines pass through in quiet mode", () => {
    const lines: string[] = [];
    const p = new TrainingProgress({ total: 10, quiet: true, write: (l) => lines.push(l) });
    p.log("eval: precision 0.97");
    p.stop();
    assert.deepEqual(lines, ["eval: precision 0.97"]);
  });

  await t.step("line format before any throughput is known", () => {
    const line = formatProgressLine({
      step: 0,
      total: 10,
      loss: undefined,
      stepsPerSecond: NaN,
      etaSeconds: NaN,
    });
    assert.equal(line, "step 0/10 (0%) | loss - | ? steps/s | ETA ?");
  });
});
