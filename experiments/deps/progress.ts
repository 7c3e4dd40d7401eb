// deno-lint-ignore-file no-import-prefix -- pinned npm specifiers live only in deps files (contract)
/** The one place the terminal progress-bar library is imported from (pinned). @module */
// @ts-types="npm:@types/cli-progress@3.11.6"
import cliProgress from "npm:cli-progress@3.12.0";
export { cliProgress };
