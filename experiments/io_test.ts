import assert from "node:assert/strict";
import {
  appendJsonlAtomic,
  filterJsonlAtomic,
  readJsonl,
  toCsv,
  writeCsvAtomic,
  writeJsonAtomic,
  writeTextAtomic,
} from "./io.ts";

Deno.test("atomic result files", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    await t.step("JSON: creates parents, replaces, leaves no temp files", async () => {
      const path = `${dir}/a/b/config.json`;
      await writeJsonAtomic(path, { x: 1 });
      await writeJsonAtomic(path, { x: 2, y: [1, 2] });
      assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), { x: 2, y: [1, 2] });
      const names = [...Deno.readDirSync(`${dir}/a/b`)].map((e) => e.name);
      assert.deepEqual(names, ["config.json"]);
    });

    await t.step("a failed write leaves the old file intact", async () => {
      const path = `${dir}/keep.json`;
      await writeJsonAtomic(path, { ok: true });
      await assert.rejects(writeJsonAtomic(path, { big: 1n }), TypeError);
      assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), { ok: true });
    });

    await t.step("CSV quoting and missing cells", async () => {
      assert.equal(
        toCsv([{ a: 1, b: 'x,"y"' }, { a: 2, c: true }]),
        'a,b,c\n1,"x,""y""",\n2,,true\n',
      );
      await writeCsvAtomic(`${dir}/m.csv`, [{ step: 1, loss: 0.5 }], ["step", "loss"]);
      assert.equal(await Deno.readTextFile(`${dir}/m.csv`), "step,loss\n1,0.5\n");
    });

    await t.step("JSONL append, read back, filter after a resume", async () => {
      const path = `${dir}/metrics.jsonl`;
      assert.deepEqual(await readJsonl(path), []);
      await appendJsonlAtomic(path, { step: 100 });
      await appendJsonlAtomic(path, { step: 200 }, { step: 300 });
      assert.deepEqual(await readJsonl(path), [{ step: 100 }, { step: 200 }, { step: 300 }]);
      const kept = await filterJsonlAtomic(path, (r) => (r as { step: number }).step <= 200);
      assert.equal(kept, 2);
      assert.deepEqual(await readJsonl(path), [{ step: 100 }, { step: 200 }]);
      await writeTextAtomic(path, '{"step":1}\n{"st');
      await assert.rejects(readJsonl(path), /Invalid JSON on line 2 of .*metrics\.jsonl/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("result files and checkpoint directories honour the umask (not 0600)", async () => {
  // A child with umask 027 writes a file atomically and saves a checkpoint: the modes must be
  // 0666 & ~027 = 0640 and 0777 & ~027 = 0750 (Deno.makeTempFile / makeTempDir gave 0600/0700).
  const dir = await Deno.makeTempDir();
  try {
    const io = new URL("./io.ts", import.meta.url).href;
    const ck = new URL("./checkpoint.ts", import.meta.url).href;
    const tfUrl = new URL("../tf/deps/tfjs.ts", import.meta.url).href;
    const code = `
      const { writeJsonAtomic } = await import(${JSON.stringify(io)});
      const { saveCheckpoint } = await import(${JSON.stringify(ck)});
      const { tf } = await import(${JSON.stringify(tfUrl)});
      await tf.setBackend("cpu");
      await writeJsonAtomic(${JSON.stringify(`${dir}/a.json`)}, { a: 1 });
      const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
      await saveCheckpoint(${JSON.stringify(`${dir}/ck`)}, m, tf.train.adam(0.1), {
        step: 1, rngState: null, extra: {},
      });`;
    const { code: status, stderr } = await new Deno.Command("sh", {
      args: ["-c", `umask 027 && exec "$0" eval "$1"`, Deno.execPath(), code],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(status, 0, new TextDecoder().decode(stderr));
    assert.equal((await Deno.stat(`${dir}/a.json`)).mode! & 0o777, 0o640);
    assert.equal((await Deno.stat(`${dir}/ck/step-0000000001`)).mode! & 0o777, 0o750);
    assert.equal((await Deno.stat(`${dir}/ck/step-0000000001/weights.bin`)).mode! & 0o777, 0o640);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
