/** Test-only dependencies (pinned). @module */
export { default as fc } from "npm:fast-check@4.10.2";
