/** The one place the plotting libraries are imported from (headless SVG). @module */
export * as vega from "npm:vega@6.2.0";
export * as vl from "npm:vega-lite@6.4.1";
