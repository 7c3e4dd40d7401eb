import assert from "node:assert/strict";
import { listenForStop, SAME_SIGNAL_MS } from "./interrupt.ts";
import { inOwnProcess, OWN_PROCESS } from "./train/testdata/own_process.ts";

const TWICE = "listenForStop: one Ctrl-C delivered twice (terminal + deno task) is one request";

Deno.test({
  name: `${TWICE} (in a process of its own)`,
  ignore: Deno.build.os === "windows" || OWN_PROCESS,
  fn: () => inOwnProcess(import.meta.url, TWICE),
});

Deno.test({
  name: TWICE,
  ignore: Deno.build.os === "windows" || !OWN_PROCESS,
  fn: async () => {
    const seen: string[] = [];
    const stop = listenForStop((s) => seen.push(s));
    try {
      // Both deliveries of one interrupt, a few milliseconds apart (SIGTERM: the test runner
      // itself answers SIGINT; the handler treats both signals alike). Before the fix the second one
      // took the "user insists" path, which exits the process (and so this test run) at once.
      Deno.kill(Deno.pid, "SIGTERM");
      await new Promise((r) => setTimeout(r, 20));
      Deno.kill(Deno.pid, "SIGTERM");
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(stop.signal, "SIGTERM");
      assert.deepEqual(seen, ["SIGTERM"]);
      assert.ok(SAME_SIGNAL_MS >= 500, "the window must cover a forwarded signal");
    } finally {
      stop.close();
    }
  },
});
