/**
 * Test helper: structural checks of rendered SVG documents (see {@link assertWellFormedSvg}).
 *
 * @module
 */
import assert from "node:assert/strict";

/**
 * A small XML well-formedness check for tests (no XML parser ships with Deno): one root
 * `<svg>` element, every start tag closed in order, attribute values quoted, no stray `<`,
 * nothing after the root.
 *
 * @param svg The document.
 * @returns The element names in document order.
 * @throws {AssertionError} If the document is not well-formed.
 *
 * @example
 * ```ts
 * import { assertWellFormedSvg } from "./svg_assert.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(assertWellFormedSvg('<svg><g><path d="M0"/></g></svg>'), ["svg", "g", "path"]);
 * assert.throws(() => assertWellFormedSvg("<svg><g></svg>"));
 * ```
 */
export function assertWellFormedSvg(svg: string): string[] {
  assert.ok(svg.startsWith("<svg"), "document starts with <svg");
  const names: string[] = [];
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < svg.length) {
    const lt = svg.indexOf("<", i);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(svg);
    assert.ok(m, `malformed tag at offset ${lt}: ${svg.slice(lt, lt + 60)}`);
    const [, closing, name, , selfClosing] = m;
    if (closing) {
      assert.equal(stack.pop(), name, `closing </${name}> at offset ${lt} matches its opening`);
    } else {
      names.push(name);
      if (!selfClosing) stack.push(name);
    }
    i = tag.lastIndex;
    if (stack.length === 0) {
      assert.equal(svg.slice(i).trim(), "", "nothing after the root element");
      break;
    }
  }
  assert.equal(stack.length, 0, `unclosed elements: ${stack.join(", ")}`);
  assert.equal(names[0], "svg");
  return names;
}
