// PEP 503 normalisation, PEP 440 version equality and the wheel/sdist file-name grammars that
// uploads are checked against.
import { describe, expect, it } from "vitest";
import { canonicalVersion, normalizeName, parseDistFile, sameVersion } from "../../../workers/pypi/names";

describe("normalizeName (PEP 503)", () => {
  it.each([
    ["Django", "django"], ["Mixed_Case.Name", "mixed-case-name"], ["a--b__c..d", "a-b-c-d"], ["a-_.b", "a-b"], ["zope.interface", "zope-interface"],
  ])("%s -> %s", (name, normalized) => expect(normalizeName(name)).toBe(normalized));
});

describe("canonicalVersion (PEP 440)", () => {
  // [one spelling, another, equal]
  it.each([
    ["1.0", "1.0.0", true], ["1.0-post1", "1.0.post1", true], ["1.0a1", "1.0.alpha1", true], ["1.0c1", "1.0rc1", true],
    ["v2.0", "2.0", true], ["1.0.dev0", "1.0-dev", true], ["1!2.0", "1!2", true], ["1.0+Local_1", "1.0+local.1", true],
    ["1.0", "1.1", false], ["1.0", "1.0.post0", false], ["1.0a1", "1.0b1", false],
  ])("%s vs %s: %s", (a, b, equal) => expect(sameVersion(a, b)).toBe(equal));
  it.each(["", "one", "1.0-", "1..0", "1.0 2"])("refuses %j", (v) => expect(canonicalVersion(v)).toBeNull());
});

describe("parseDistFile", () => {
  // [file name, what it says, or null for a name that is neither a wheel nor an sdist]
  it.each([
    ["Mixed_Case.Name-1.0-py3-none-any.whl", { type: "bdist_wheel", name: "Mixed_Case.Name", project: "mixed-case-name", version: "1.0" }],
    ["pkg-2.0-1build-cp311-cp311-manylinux_2_17_x86_64.whl", { type: "bdist_wheel", name: "pkg", project: "pkg", version: "2.0" }],
    ["foo_bar-1.0rc1.tar.gz", { type: "sdist", name: "foo_bar", project: "foo-bar", version: "1.0rc1" }],
    ["foo-bar-1.0.tar.gz", { type: "sdist", name: "foo-bar", project: "foo-bar", version: "1.0" }],
    ["pkg-1.0-py3-none.whl", null],
    ["pkg-1.0.zip", null],
    ["pkg-notaversion.tar.gz", null],
    ["../pkg-1.0.tar.gz", null],
    ["-1.0-py3-none-any.whl", null],
  ])("%s", (filename, expected) => expect(parseDistFile(filename)).toEqual(expected));
});
