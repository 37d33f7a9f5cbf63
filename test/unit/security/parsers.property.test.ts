// Property tests of every parser and name validator, fed random and hostile strings (fast-check):
// each either accepts a value that is safe to put in a storage key and URL, or throws a
// RegistryError with a 4xx status and, for OCI, the spec's code. Nothing else ever escapes.
import fc from "fast-check";
import semver from "semver";
import { describe, expect, it } from "vitest";
import { RegistryError } from "../../../shared/errors";
import { assertPackageName, assertTagName, assertVersion, tarballFile, versionFromTarball } from "../../../workers/npm/names";
import { parseContentRange, parseDigest, parseReference, parseRepositoryName } from "../../../workers/oci/names";
import { pathProblem } from "../../../workers/middleware/request-filter";
import { redact } from "../../../workers/audit";

const RUNS = { numRuns: 400 };

// Pieces attackers reach for: traversal, separators, encodings, controls, look-alikes, overlong.
const HOSTILE = fc.constantFrom(
  "..", ".", "/", "\\", "%2f", "%2F", "%2e%2e", "%252f", "%00", "\u0000", "\n", "\r\n", "\t", " ", "@", ":", "%",
  "\u202e", "\u2024\u2024", "\uff0e\uff0e", "\ufe52", "\u2215", "../", "..\\", "%c0%ae", "~", "*", "'", "(", "sha256:", "a".repeat(300),
);
/** Strings built from hostile pieces and arbitrary unicode, a mix of both. */
const hostileString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.array(fc.oneof(HOSTILE, fc.string({ maxLength: 8 }), fc.constantFrom("a", "b", "-", "_", "0")), { maxLength: 12 }).map((parts) => parts.join("")),
);

/** Runs `parse`; returns "ok" or the RegistryError it threw (any other throw fails the test). */
function outcome(parse: () => unknown): "ok" | RegistryError {
  try {
    parse();
    return "ok";
  } catch (err) {
    expect(err).toBeInstanceOf(RegistryError);
    const e = err as RegistryError;
    expect(e.status).toBeGreaterThanOrEqual(400);
    expect(e.status).toBeLessThan(500);
    return e;
  }
}

const noTraversal = (s: string) => !s.split("/").some((seg) => seg === "." || seg === "..") && !/[\\\u0000-\u001f\u007f%]/.test(s);

describe("npm names and versions", () => {
  it("package names: accepted ones are URL-safe storage keys; the rest are 400s", () => {
    fc.assert(fc.property(fc.oneof(hostileString, hostileString.map((s) => `@${s}/${s}`)), (name) => {
      const r = outcome(() => assertPackageName(name));
      if (r !== "ok") {
        expect(r.status).toBe(400);
        return;
      }
      expect(name.length).toBeLessThanOrEqual(214);
      expect(name).toBe(name.toLowerCase());
      expect(noTraversal(name)).toBe(true);
      const parts = name.startsWith("@") ? name.slice(1).split("/") : [name];
      expect(parts.length).toBeLessThanOrEqual(2);
      for (const part of parts) expect(encodeURIComponent(part)).toBe(part);
    }), RUNS);
  });

  it("versions: accepted exactly when semver says the string is a version", () => {
    fc.assert(fc.property(fc.oneof(hostileString, fc.tuple(fc.nat(), fc.nat(), fc.nat(), hostileString).map(([a, b, c, pre]) => `${a}.${b}.${c}-${pre}`)), (v) => {
      const r = outcome(() => assertVersion(v));
      expect(r === "ok").toBe(semver.valid(v) === v);
      if (r === "ok") expect(v).toMatch(/^[0-9A-Za-z.+-]+$/);
      if (r === "ok") expect(v).not.toContain("..");
    }), RUNS);
  });

  it("tarball file names: a version is read back only from `<base>-<version>.tgz`", () => {
    fc.assert(fc.property(fc.constantFrom("left-pad", "@acme/left-pad", "a"), fc.oneof(hostileString, hostileString.map((s) => `left-pad-${s}.tgz`)), (name, file) => {
      const version = versionFromTarball(name, file);
      if (version === null) return;
      expect(semver.valid(version)).toBe(version);
      expect(tarballFile(name, version)).toBe(file);
      expect(noTraversal(file)).toBe(true);
    }), RUNS);
  });

  it("dist-tags: accepted ones are plain words that are not versions or ranges", () => {
    fc.assert(fc.property(hostileString, (tag) => {
      const r = outcome(() => assertTagName(tag));
      if (r !== "ok") {
        expect(r.status).toBe(400);
        return;
      }
      expect(tag).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
      expect(semver.validRange(tag)).toBeNull();
    }), RUNS);
  });
});

describe("OCI names, digests, references, Content-Range", () => {
  const component = fc.stringMatching(/^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/).filter((s) => s.length <= 30);

  it("repository names: the spec's grammar, or 400 NAME_INVALID", () => {
    fc.assert(fc.property(fc.oneof(hostileString, fc.array(fc.oneof(component, HOSTILE), { minLength: 1, maxLength: 5 }).map((p) => p.join("/"))), (name) => {
      const r = outcome(() => parseRepositoryName(name));
      if (r !== "ok") {
        expect([r.status, r.protocolCode]).toEqual([400, "NAME_INVALID"]);
        return;
      }
      expect(name.length).toBeLessThanOrEqual(255);
      expect(name).toMatch(/^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/);
      expect(noTraversal(name)).toBe(true);
    }), RUNS);
  });

  it("repository names: every name the grammar builds is accepted", () => {
    fc.assert(fc.property(fc.array(component, { minLength: 1, maxLength: 4 }).map((p) => p.join("/")), (name) => {
      expect(parseRepositoryName(name)).toBe(name);
    }), RUNS);
  });

  it("digests: sha256 and 64 lowercase hex only, or 400 DIGEST_INVALID", () => {
    const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
    fc.assert(fc.property(fc.oneof(hostileString, hex64.map((h) => `sha256:${h}`), hostileString.map((s) => `sha256:${s}`), hex64.map((h) => `sha512:${h}`), hex64.map((h) => `SHA256:${h.toUpperCase()}`)), (d) => {
      const r = outcome(() => parseDigest(d));
      if (r !== "ok") {
        expect([r.status, r.protocolCode]).toEqual([400, "DIGEST_INVALID"]);
        return;
      }
      expect(d).toMatch(/^sha256:[0-9a-f]{64}$/);
    }), RUNS);
  });

  it("references: a tag of the spec's grammar or a valid digest, else a 400", () => {
    fc.assert(fc.property(fc.oneof(hostileString, fc.stringMatching(/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,140}$/)), (ref) => {
      const r = outcome(() => parseReference(ref));
      if (r !== "ok") {
        expect(r.status).toBe(400);
        expect(["MANIFEST_INVALID", "DIGEST_INVALID"]).toContain(r.protocolCode);
        return;
      }
      expect(ref).toMatch(/^(?:[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}|sha256:[0-9a-f]{64})$/);
      expect(noTraversal(ref)).toBe(true);
    }), RUNS);
  });

  it("Content-Range: two safe integers start <= end, or 416 BLOB_UPLOAD_INVALID", () => {
    const ranged = fc.tuple(fc.oneof(fc.nat(), fc.maxSafeNat(), fc.integer()), fc.oneof(fc.nat(), fc.maxSafeNat(), fc.integer())).map(([a, b]) => `${a}-${b}`);
    fc.assert(fc.property(fc.oneof(hostileString, ranged, hostileString.map((s) => `bytes=${s}`)), (header) => {
      const r = outcome(() => parseContentRange(header));
      if (r !== "ok") {
        expect([r.status, r.protocolCode]).toEqual([416, "BLOB_UPLOAD_INVALID"]);
        return;
      }
      const { start, end } = parseContentRange(header);
      expect(Number.isSafeInteger(start) && Number.isSafeInteger(end)).toBe(true);
      expect(0 <= start && start <= end).toBe(true);
    }), RUNS);
  });

  it("Content-Range: every well-formed range reads back as sent", () => {
    fc.assert(fc.property(fc.nat(), fc.nat(), (a, b) => {
      const [start, end] = a <= b ? [a, b] : [b, a];
      expect(parseContentRange(`${start}-${end}`)).toEqual({ start, end });
    }), RUNS);
  });
});

describe("the request filter's path check", () => {
  const segment = fc.oneof(fc.string({ maxLength: 12 }), HOSTILE, fc.constantFrom("@acme%2fpkg", "-", "v2", "blobs", "uploads"));

  it.each(["npm", "oci", "admin"] as const)("in %s paths, what it lets through decodes to no traversal, control character or extra slash", (protocol) => {
    fc.assert(fc.property(fc.array(segment, { maxLength: 6 }), (segments) => {
      // What a URL parser would hand the Worker: each segment percent-encoded as a client may.
      const raw = `/${segments.map((s) => s.replace(/[^A-Za-z0-9._~%@!$&'()*+,;=:-]/g, (ch) => encodeURIComponent(ch))).join("/")}`;
      if (pathProblem(protocol, raw) !== null) return;
      for (const seg of raw.split("/")) {
        const once = decodeURIComponent(seg);
        expect(once === "." || once === "..").toBe(false);
        expect(once).not.toMatch(/[\\\u0000-\u001f\u007f]/);
        expect(once).not.toMatch(/%[0-9a-f]{2}/i);
        if (once.includes("/")) {
          expect(protocol).toBe("npm");
          expect(once.startsWith("@") && once.split("/").length === 2).toBe(true);
          expect(once.split("/").some((p) => p === "." || p === ".." || p === "@..")).toBe(false);
        }
      }
    }), RUNS);
  });

  it("passes every path of plain segments", () => {
    fc.assert(fc.property(fc.array(fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,20}$/), { maxLength: 6 }), (segments) => {
      expect(pathProblem("oci", `/${segments.join("/")}`)).toBeNull();
    }), RUNS);
  });
});

describe("audit redaction", () => {
  const CREDENTIAL_KEYS = ["token", "password", "authorization", "Authorization", "cookie", "secret", "_authToken", "access_token"];

  it("replaces whatever a credential field holds, at any depth, and leaves every other value as it was", () => {
    const detail = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: "small" }, fc.string(), fc.stringMatching(/^pke_[A-Za-z0-9]{12,40}$/), fc.integer(), tie("object"), tie("array")),
      object: fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(...CREDENTIAL_KEYS)), tie("value"), { maxKeys: 4 }),
      array: fc.array(tie("value"), { maxLength: 4 }),
    })).object;
    /** The same walk done naively: what redact must produce. */
    const expected = (v: unknown): unknown => {
      if (v === null || typeof v !== "object") return v;
      if (Array.isArray(v)) return v.map(expected);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, CREDENTIAL_KEYS.includes(k) ? "[redacted]" : expected(x)]));
    };
    fc.assert(fc.property(detail, (d) => {
      expect(JSON.parse(JSON.stringify(redact(d)))).toEqual(JSON.parse(JSON.stringify(expected(d))));
    }), { numRuns: 200 });
  });

  it("keeps names that merely look like tokens", () => {
    expect(redact({ name: "pke_release2024", packages: ["pke_release2024", "eyJhbGciOi.x.y"], headers: { authorization: "Bearer pke_x", "x-note": "Bearer abcdefgh" } })).toEqual({
      name: "pke_release2024",
      packages: ["pke_release2024", "eyJhbGciOi.x.y"],
      headers: { authorization: "[redacted]", "x-note": "Bearer abcdefgh" },
    });
  });
});
