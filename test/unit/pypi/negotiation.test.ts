// PEP 691 content negotiation: `?format=` first, then Accept with quality values; no Accept
// means HTML; nothing acceptable means null (the route answers 406).
import { describe, expect, it } from "vitest";
import { negotiate } from "../../../workers/pypi/negotiation";

const JSON_V1 = "application/vnd.pypi.simple.v1+json";
const HTML_V1 = "application/vnd.pypi.simple.v1+html";

describe("negotiate", () => {
  // [Accept, ?format=, Content-Type served or null]
  it.each([
    [undefined, undefined, "text/html"],
    ["", undefined, "text/html"],
    ["*/*", undefined, "text/html"],
    ["application/*", undefined, HTML_V1],
    [JSON_V1, undefined, JSON_V1],
    ["application/vnd.pypi.simple.latest+json", undefined, JSON_V1],
    ["application/vnd.pypi.simple.latest+html", undefined, HTML_V1],
    [`${JSON_V1}, ${HTML_V1};q=0.1, text/html;q=0.01`, undefined, JSON_V1],
    [`${JSON_V1};q=0.5, text/html;q=0.9`, undefined, "text/html"],
    [`${JSON_V1};q=0, */*;q=0.1`, undefined, "text/html"],
    ["TEXT/HTML", undefined, "text/html"],
    ["text/html", JSON_V1, JSON_V1],
    ["application/json", undefined, null],
    ["text/html;q=0", undefined, null],
    [undefined, "application/xml", null],
  ])("Accept %j, format %j -> %j", (accept, format, type) => {
    expect(negotiate(accept, format)?.contentType ?? null).toBe(type);
  });
});
