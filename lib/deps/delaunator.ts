/**
 * The one place the Delaunay triangulation library is imported from (full, pinned npm specifier
 * so a URL consumer of mod.ts needs no import map). delaunator: MIT, maintained by Mapbox,
 * O(n log n) sweep-hull, float64 robust predicates.
 *
 * @module
 */
export { default as Delaunator } from "npm:delaunator@5.1.0";
