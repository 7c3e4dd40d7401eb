/**
 * The interactive page (`deno task web`) in a real browser: Debian's Chromium driven by
 * puppeteer-core, on the page's own server handler. It places points by clicking, checks the
 * rendered clusters against the geometry, marks a must-link and checks the constrained forest,
 * the loss and the direction of the gradient arrows, reloads the shared URL, runs "learn" and
 * checks the validation error goes down. Screenshots and the main thread's long tasks (the
 * performance API's `longtask` entries, reported, not asserted) go to results/web/.
 * Skipped, with a message, when /usr/bin/chromium is absent (`scripts/setup.sh` installs it).
 */
import assert from "node:assert/strict";
import puppeteer from "npm:puppeteer-core@25.16.0";
import { GENERATED, webHandler } from "../experiments/web/main.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const CHROMIUM = "/usr/bin/chromium";
const OUT = `${ROOT}results/web`;
const haveChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!haveChromium) {
  console.log(
    `web_browser_test: skipped — ${CHROMIUM} is absent (apt-get install -y chromium, or ` +
      "scripts/setup.sh)",
  );
}

/** Builds the two bundles exactly as `deno task web` does. */
async function bundle(): Promise<void> {
  for (const command of Object.values(GENERATED)) {
    const args = command.split(" ").slice(1);
    const r = await new Deno.Command(Deno.execPath(), {
      args: [args[0]!, "-q", ...args.slice(1)],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(r.code, 0, `${command}: ${new TextDecoder().decode(r.stderr)}`);
  }
}

interface LongTask {
  readonly start: number;
  readonly duration: number;
}

function summarise(tasks: readonly LongTask[]) {
  const d = tasks.map((t) => t.duration);
  return {
    count: d.length,
    totalMs: Math.round(d.reduce((a, b) => a + b, 0)),
    maxMs: Math.round(Math.max(0, ...d)),
  };
}

Deno.test({
  name: "web page in Chromium: click points, must-link, loss and arrows, shared URL, learn",
  ignore: !haveChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await bundle();
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, webHandler());
    const base = `http://127.0.0.1:${server.addr.port}/`;
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--headless=new"],
    });
    try {
      await Deno.mkdir(OUT, { recursive: true });
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 1000 });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      await page.evaluateOnNewDocument(() => {
        const w = globalThis as unknown as { __longtasks: LongTask[] };
        w.__longtasks = [];
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) {
            w.__longtasks.push({ start: e.startTime, duration: e.duration });
          }
        }).observe({ type: "longtask", buffered: true });
      });
      await page.goto(`${base}#k=3&seed=1`);
      await page.waitForFunction(() =>
        (globalThis as unknown as { __spanclust?: { ready: boolean } }).__spanclust?.ready
      );
      const readyAt = await page.evaluate(() => performance.now());

      // Three groups of three points, placed by clicking in data coordinates [−1.1, 1.1]².
      const box = (await (await page.$("#plot"))!.boundingBox())!;
      const click = (x: number, y: number) =>
        page.mouse.click(box.x + (x + 1.1) / 2.2 * box.width, box.y + (1.1 - y) / 2.2 * box.height);
      const centres = [[-0.7, -0.3], [0, 0.7], [0.7, -0.3]];
      const offsets = [[0, 0], [0.08, 0.05], [-0.05, 0.08]];
      await click(centres[0]![0]!, centres[0]![1]!);
      assert.equal(
        await page.$eval("#message", (e) => e.textContent),
        "Place at least two points.",
      );
      for (const [cx, cy] of centres) {
        for (const [dx, dy] of offsets) {
          if (cx !== centres[0]![0] || dx !== 0) await click(cx! + dx!, cy! + dy!);
        }
      }
      const analysed = async (atLeast: number) =>
        await page.waitForFunction(
          (n: number) =>
            (globalThis as unknown as { __spanclust: { analyses: number } }).__spanclust
              .analyses >= n,
          { timeout: 20_000 },
          atLeast,
        );
      const clustersOf = (svg: string) =>
        page.$$eval(
          `${svg} circle.pt`,
          (cs) => cs.map((c) => Number(c.getAttribute("data-cluster"))),
        );
      await analysed(1);
      const labels = await clustersOf("#plot");
      assert.equal(labels.length, 9, "nine points rendered");
      // The oracle is the geometry: each group is one cluster, three distinct clusters.
      for (let g = 0; g < 3; g++) {
        assert.equal(new Set(labels.slice(3 * g, 3 * g + 3)).size, 1, `group ${g}: ${labels}`);
      }
      assert.equal(new Set(labels).size, 3, `three clusters: ${labels}`);
      assert.match(await page.$eval("#clusters", (e) => e.textContent ?? ""), /^3 clusters$/);
      assert.equal(await page.$eval("#loss", (e) => e.textContent ?? ""), "– (mark a pair)");

      // Must-link point 0 (left group) with point 6 (right group).
      const before = await page.evaluate(() =>
        (globalThis as unknown as { __spanclust: { analyses: number } }).__spanclust.analyses
      );
      await page.click("#mode-ml");
      const circle = async (i: number) => {
        const b = (await (await page.$(`#plot circle[data-i="${i}"]`))!.boundingBox())!;
        await page.mouse.click(b.x + b.width / 2, b.y + b.height / 2);
      };
      await circle(0);
      await circle(6);
      await analysed(before + 1);
      assert.equal((await page.$$("#plot line.must-link")).length, 1);
      const constrained = await clustersOf("#cplot");
      assert.equal(constrained[0], constrained[6], `must-linked points together: ${constrained}`);
      assert.equal(new Set(constrained).size, 3, `k = 3 clusters: ${constrained}`);
      const loss = Number(await page.$eval("#loss", (e) => e.textContent ?? ""));
      // The must-link contradicts the geometry: the constrained forest is strictly worse.
      assert.ok(Number.isFinite(loss) && loss > 0, `loss shown and positive: ${loss}`);
      // Arrows are −∂loss/∂x_i: the left group's, summed, point towards the right group.
      const arrows = await page.$$eval("#cplot line.arrow", (ls) =>
        ls.map((l) => ({
          i: Number(l.getAttribute("data-i")),
          dx: Number(l.getAttribute("x2")) - Number(l.getAttribute("x1")),
        })));
      assert.ok(arrows.length > 0, "gradient arrows drawn");
      const pull = arrows.filter((a) => a.i < 3).reduce((s, a) => s + a.dx, 0);
      assert.ok(pull > 0, `left group pulled right (screen x): ${JSON.stringify(arrows)}`);
      await page.screenshot({ path: `${OUT}/forest.png` });

      // The URL carries the state: a fresh page shows the same clusters and pair.
      const shared = page.url();
      assert.match(shared, /ml=0-6/);
      const again = await browser.newPage();
      await again.setViewport({ width: 1280, height: 800 });
      await again.goto(shared);
      await again.waitForFunction(() =>
        (globalThis as unknown as { __spanclust: { analyses: number } }).__spanclust
          .analyses >= 1
      );
      assert.deepEqual(
        await again.$$eval(
          "#cplot circle.pt",
          (cs) => cs.map((c) => Number(c.getAttribute("data-cluster"))),
        ),
        constrained,
      );
      assert.equal(await again.$eval("#loss", (e) => e.textContent), String(loss.toFixed(4)));
      // M*_ε is drawn: one cell per pair of points.
      const cells = (n: number) =>
        again.waitForFunction(
          `document.querySelectorAll("#heatmap g.mark-rect.role-mark > path").length === ${n}`,
          { timeout: 10_000 },
        );
      await cells(81);
      // ε = 0.02 (the heatmap of the moons is then two clear blocks), then a preset: the moons alternate between the two moons (even, odd index), which the
      // 2-forest must separate.
      await again.$eval("#eps", (e) => {
        (e as unknown as { value: string }).value = "0.02";
        e.dispatchEvent(new Event("change"));
      });
      await again.click('button[data-preset="moons"]');
      await again.waitForFunction(() =>
        (globalThis as unknown as { __spanclust: { analyses: number } }).__spanclust
          .analyses >= 3
      );
      const moons = await again.$$eval(
        "#plot circle.pt",
        (cs) => cs.map((c) => Number(c.getAttribute("data-cluster"))),
      );
      assert.equal(moons.length, 40);
      assert.deepEqual(new Set(moons.filter((_, i) => i % 2 === 0)).size, 1, `${moons}`);
      assert.notEqual(moons[0], moons[1], `${moons}`);
      assert.match(await again.$eval("#clusters", (e) => e.textContent ?? ""), /^2 clusters$/);
      await cells(1600);
      // A cannot-link between the two ends of one moon (indices 0 and 38, t = 0 and t = π).
      await again.click("#mode-cl");
      for (const i of [0, 38]) {
        const b = (await (await again.$(`#plot circle[data-i="${i}"]`))!.boundingBox())!;
        await again.mouse.click(b.x + b.width / 2, b.y + b.height / 2);
      }
      await again.waitForFunction(() =>
        (globalThis as unknown as { __spanclust: { analyses: number } }).__spanclust
          .analyses >= 4
      );
      const apart = await again.$$eval(
        "#cplot circle.pt",
        (cs) => cs.map((c) => Number(c.getAttribute("data-cluster"))),
      );
      assert.notEqual(apart[0], apart[38], `cannot-link respected: ${apart}`);
      assert.ok(Number(await again.$eval("#loss", (e) => e.textContent ?? "")) > 0);
      await cells(1600);
      const main = (await (await again.$("main"))!.boundingBox())!;
      await again.screenshot({
        path: `${OUT}/readme.png`,
        clip: { x: 0, y: 0, width: main.x + main.width + 12, height: main.y + main.height + 8 },
      });
      await again.close();

      // Learn: 25 SGD steps of the denoising experiment in the worker.
      const steps = 60;
      await page.$eval(
        "#steps",
        (e, v) => ((e as unknown as { value: string }).value = v),
        String(steps),
      );
      const learnStart = await page.evaluate(() => performance.now());
      await page.click("#learn");
      await page.waitForFunction(
        (n: number) =>
          (globalThis as unknown as { __spanclust: { learn: unknown[] } }).__spanclust.learn
            .length > n,
        { timeout: 40_000 },
        steps,
      );
      await page.waitForFunction(
        `/ \\(done\\)$/.test(document.getElementById("learn-status").textContent)`,
      );
      const learnEnd = await page.evaluate(() => performance.now());
      const curve = await page.evaluate(() =>
        (globalThis as unknown as {
          __spanclust: {
            learn: { step: number; loss: number | null; valError: number; ms: number | null }[];
          };
        }).__spanclust.learn
      );
      assert.deepEqual(curve.map((r) => r.step), Array.from({ length: steps + 1 }, (_, i) => i));
      const first = curve[0]!.valError, last = curve[steps]!.valError;
      assert.ok(first > 0.2, `the initial map mixes the blobs: error ${first}`);
      assert.ok(last < first, `validation error went down: ${first} → ${last}`);
      assert.ok(
        curve.slice(1).every((r) => r.loss !== null && Number.isFinite(r.loss) && r.loss >= 0),
      );
      await page.screenshot({ path: `${OUT}/learn.png`, fullPage: true });
      assert.deepEqual(errors, [], "no errors in the page");

      const tasks = await page.evaluate(() =>
        (globalThis as unknown as { __longtasks: LongTask[] }).__longtasks
      );
      const within = (a: number, b: number) => tasks.filter((t) => t.start >= a && t.start < b);
      const stepMs = curve.slice(1).map((r) => r.ms!).sort((a, b) => a - b);
      const report = {
        note: "main-thread long tasks (> 50 ms) seen by PerformanceObserver('longtask'); " +
          "a benchmark, not an assertion",
        pageLoad: { ...summarise(within(0, readyAt)), wallMs: Math.round(readyAt) },
        clicking: summarise(within(readyAt, learnStart)),
        whileLearning: {
          ...summarise(within(learnStart, learnEnd)),
          wallMs: Math.round(learnEnd - learnStart),
          steps,
        },
        workerStepMedianMs: Math.round(stepMs[stepMs.length >> 1]! * 10) / 10,
        validationError: { first, last },
        chromium: await browser.version(),
      };
      await Deno.writeTextFile(`${OUT}/longtasks.json.tmp`, JSON.stringify(report, null, 2));
      await Deno.rename(`${OUT}/longtasks.json.tmp`, `${OUT}/longtasks.json`);
      console.log(`web page long tasks: ${JSON.stringify(report)}`);
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});
