/**
 * The one place the seeded PRNG library is imported from (pinned, URL-import safe).
 *
 * @module
 */
export { default as prand } from "npm:pure-rand@7.0.1";
