// The request URL read by slicing gives exactly what the WHATWG parser gives, for every shape a
// request URL takes (ports, queries, fragments, escapes, scoped npm names, an empty path).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { originOf, rawPathOf } from "../../../shared/http/url";

const CASES = [
  "http://pkgedge.test/npm/react",
  "http://127.0.0.1:8787/npm/@scope%2fname?write=true",
  "https://registry.example.invalid/v2/library/alpine/manifests/latest#frag",
  "http://h/",
  "http://h",
  "http://h:1/a/../b/%2e%2e/c?x=/y#/z",
  "http://h/a?b#c?d",
  "http://h/a#b?c",
];

describe("rawPathOf / originOf", () => {
  it.each(CASES)("%s matches new URL()", (input) => {
    const url = new URL(input).href; // requests arrive serialized like this
    expect(rawPathOf(url)).toBe(new URL(url).pathname);
    expect(originOf(url)).toBe(new URL(url).origin);
  });

  it("matches new URL() for arbitrary paths and queries", () => {
    fc.assert(fc.property(fc.webPath(), fc.webQueryParameters(), fc.webFragments(), (path, query, fragment) => {
      const url = new URL(`http://pkgedge.test:8787${path}?${query}#${fragment}`).href;
      expect(rawPathOf(url)).toBe(new URL(url).pathname);
      expect(originOf(url)).toBe(new URL(url).origin);
    }), { numRuns: 500 });
  });
});
