import assert from "node:assert/strict";
import { decodeNpy, encodeNpy, readNpy, writeNpyAtomic } from "./npy.ts";
import { DataFormatError } from "./idx.ts";

Deno.test("encodeNpy → decodeNpy round-trips every supported dtype, 1-d and 2-d", () => {
  const arrays = [
    [Float32Array.from([1.5, -2, 3e-8, 4, 5, 6]), [2, 3]],
    [Float64Array.from([Math.PI, -0, 1e300]), [3]],
    [Int32Array.from([-1, 0, 2 ** 31 - 1, 7]), [4, 1]],
    [Uint8Array.from([0, 255, 9]), [3]],
    [new Float32Array(0), [0, 5]],
  ] as const;
  for (const [data, shape] of arrays) {
    const bytes = encodeNpy(data, shape);
    // NumPy's layout: the data starts at a multiple of 64 bytes, the header ends in "\n".
    const start = 10 + (bytes[8]! | (bytes[9]! << 8));
    assert.equal(start % 64, 0);
    assert.equal(bytes[start - 1], 0x0a);
    const back = decodeNpy(bytes, "x.npy");
    assert.deepEqual(back.shape, shape);
    assert.equal(back.data.constructor, data.constructor);
    assert.deepEqual(Array.from(back.data), Array.from(data));
  }
  const labels = encodeNpy(new Uint8Array(2), [2]);
  assert.equal(labels.length, 128 + 2);
  const header = new TextDecoder().decode(labels.subarray(10, 128));
  assert.match(header, /^\{'descr': '\|u1', 'fortran_order': False, 'shape': \(2,\), \} *\n$/);
});

Deno.test("encodeNpy refuses a shape that does not match the data", () => {
  assert.throws(
    () => encodeNpy(new Float32Array(6), [4, 2]),
    /^RangeError: Invalid shape = \(4, 2\): it holds 8 values but the data has 6$/,
  );
  assert.throws(() => encodeNpy(new Float32Array(6), [2, 3.5]), /Invalid shape\[1\] = 3.5/);
});

Deno.test("decodeNpy: malformed files are DataFormatErrors naming the file and the problem", () => {
  const good = encodeNpy(Float32Array.from([1, 2, 3, 4]), [2, 2]);
  const edit = (f: (h: string) => string) => {
    const len = good[8]! | (good[9]! << 8);
    const h = f(new TextDecoder().decode(good.subarray(10, 10 + len)));
    const out = new Uint8Array(good.length);
    out.set(good);
    out.set(new TextEncoder().encode(h.padEnd(len)), 10);
    return out;
  };
  const cases: [Uint8Array, RegExp][] = [
    [good.subarray(0, good.length - 4), /e\.npy: .*needs 16 data bytes, found 12/],
    [Uint8Array.from([1, 2, 3]), /bad magic/],
    [edit((h) => h.replace("False", "True ")), /Fortran order/],
    [edit((h) => h.replace("<f4", ">f4")), /dtype >f4/],
    [edit((h) => h.replace("'shape'", "'shope'")), /lacks descr, fortran_order or shape/],
  ];
  for (const [bytes, pattern] of cases) {
    assert.throws(() => decodeNpy(bytes, "e.npy"), (e: unknown) => {
      assert.ok(e instanceof DataFormatError, String(e));
      assert.match(e.message, /^e\.npy: not a supported \.npy file: /);
      assert.match(e.message, pattern);
      return true;
    });
  }
});

async function numpyAvailable(): Promise<boolean> {
  try {
    const r = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import numpy"],
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "numpy.load reads our files, and we read numpy.save's (skipped without /usr/bin/python3 numpy)",
  ignore: !(await numpyAvailable()),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await writeNpyAtomic(`${dir}/ours.npy`, Float32Array.from([0.5, 1, 2, 3, 4, 5]), [3, 2]);
      const py = `
import sys, numpy as np
a = np.load(sys.argv[1] + "/ours.npy")
assert a.dtype == np.float32 and a.shape == (3, 2) and a[2, 1] == 5 and a[0, 0] == 0.5, (a.dtype, a)
np.save(sys.argv[1] + "/theirs.npy", np.arange(12, dtype="<f8").reshape(4, 3) / 4)
np.save(sys.argv[1] + "/labels.npy", np.array([3, 1, 4], dtype=np.uint8))
`;
      const r = await new Deno.Command("/usr/bin/python3", { args: ["-c", py, dir] }).output();
      assert.ok(r.success, new TextDecoder().decode(r.stderr));
      const theirs = await readNpy(`${dir}/theirs.npy`);
      assert.deepEqual(theirs.shape, [4, 3]);
      assert.ok(theirs.data instanceof Float64Array);
      assert.deepEqual(Array.from(theirs.data), Array.from({ length: 12 }, (_, i) => i / 4));
      const labels = await readNpy(`${dir}/labels.npy`);
      assert.ok(labels.data instanceof Uint8Array);
      assert.deepEqual(Array.from(labels.data), [3, 1, 4]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
