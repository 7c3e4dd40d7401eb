/**
 * The one place fp-ts and io-ts are imported from (full, pinned npm specifiers so a URL
 * consumer of mod.ts needs no import map).
 *
 * @module
 */
export { flow, pipe } from "npm:fp-ts@2.16.11/lib/function.js";
export * as E from "npm:fp-ts@2.16.11/lib/Either.js";
export * as t from "npm:io-ts@2.2.22";
export { PathReporter } from "npm:io-ts@2.2.22/lib/PathReporter.js";
