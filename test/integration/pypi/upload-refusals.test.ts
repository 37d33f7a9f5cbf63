// Every bad upload to /pypi/legacy/ is refused with PyPI's status (400 with the reason in the
// body, 403 for a missing, bad or insufficient token) and leaves nothing in R2: no file, no
// metadata, no project document, no index marker.
import { beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../../helpers/tokens";
import { workerWith } from "../../helpers/worker";
import { sdist, storedKeys, upload, wheel, wheelName, coreMetadata, type DistSpec, type UploadOptions } from "../../helpers/pypi";

let publisher: string;
let reader: string;
let otherProject: string;

beforeAll(async () => {
  publisher = (await createToken({ scopes: ["read", "publish"] })).token;
  reader = (await createToken({ scopes: ["read"] })).token;
  otherProject = (await createToken({ scopes: ["publish"], packages: ["someone-else"] })).token;
});

const spec = (name: string, extra: Partial<DistSpec> = {}): DistSpec => ({ name, version: "1.0", ...extra });

// [project, what is wrong, the file, upload options, status, what the body must say]
type Case = [string, string, (s: DistSpec) => Uint8Array | Promise<Uint8Array>, (s: DistSpec) => UploadOptions, number, RegExp];
const CASES: Case[] = [
  ["wrong-sha", "sha256_digest that is not the file's", (s) => wheel(s), () => ({ fields: { sha256_digest: "0".repeat(64) } }), 400, /digest supplied does not match.*sha256/],
  ["wrong-blake", "blake2_256_digest that is not the file's", (s) => wheel(s), () => ({ fields: { blake2_256_digest: "0".repeat(64) } }), 400, /digest supplied does not match.*blake2_256/],
  ["no-digest", "no digest at all", (s) => wheel(s), () => ({ fields: { sha256_digest: undefined } }), 400, /sha256_digest or blake2_256_digest/],
  ["wrong-name", "another project's name in the file name", (s) => wheel(s), () => ({ filename: "other_project-1.0-py3-none-any.whl" }), 400, /Start filename .* with the project name/],
  ["wrong-version", "another version in the file name", (s) => wheel(s), () => ({ filename: "wrong_version-2.0-py3-none-any.whl" }), 400, /Version in filename .* should be '1\.0'/],
  ["bad-filename", "a file name that is no wheel or sdist", (s) => wheel(s), () => ({ filename: "bad_filename-1.0.egg" }), 400, /Invalid distribution file name/],
  ["wrong-filetype", "filetype sdist for a wheel", (s) => wheel(s), () => ({ fields: { filetype: "sdist" } }), 400, /filetype "sdist" does not match/],
  ["meta-version", "METADATA naming another version", (s) => wheel(s, { metadata: coreMetadata({ ...s, version: "2.0" }) }), () => ({}), 400, /metadata says version "2\.0"/],
  ["meta-name", "METADATA naming another project", (s) => wheel(s, { metadata: coreMetadata({ ...s, name: "impostor" }) }), () => ({}), 400, /metadata names project "impostor"/],
  ["meta-python", "a form Requires-Python the METADATA lacks", (s) => wheel(s), () => ({ fields: { requires_python: ">=3.9" } }), 400, /Requires-Python ">=3\.9", the file's metadata ""/],
  ["dist-info", "a .dist-info directory named for another version", (s) => wheel(s, { distInfo: "dist_info-9.9.dist-info" }), () => ({}), 400, /dist-info does not match the file name/],
  ["truncated", "a wheel cut short", (s) => wheel(s).subarray(0, wheel(s).length - 30), () => ({}), 400, /not a valid wheel: no end of central directory/],
  ["not-zip", "a wheel that is not a zip archive", () => new TextEncoder().encode("this is not a zip archive at all, just text"), () => ({}), 400, /not a valid wheel/],
  ["empty", "an empty file", () => new Uint8Array(0), () => ({}), 400, /empty/],
  ["sdist-pkg-info", "an sdist whose PKG-INFO names another version", (s) => sdist(s, { metadata: coreMetadata({ ...s, version: "3.0" }) }), () => ({}), 400, /metadata says version "3\.0"/],
  ["sdist-not-gzip", "an sdist that is not gzip", () => new Uint8Array([0x1f, 0x8b, 1, 2, 3, 4, 5]), (s) => ({ filename: `${s.name.replace(/-/g, "_")}-1.0.tar.gz` }), 400, /not a valid sdist/],
  ["no-token", "no token", (s) => wheel(s), () => ({ token: null }), 403, /Invalid or non-existent authentication/],
  ["bad-token", "a token that does not exist", (s) => wheel(s), () => ({ token: `pke_${"x".repeat(40)}` }), 403, /Invalid or non-existent authentication/],
  ["read-only", "a read-only token", (s) => wheel(s), () => ({ token: reader }), 403, /may not publish read-only/],
  ["other-project", "a token for another project", (s) => wheel(s), () => ({ token: otherProject }), 403, /may not publish other-project/],
];

describe("refused uploads store nothing", () => {
  it.each(CASES)("%s: %s", async (project, _what, file, options, status, message) => {
    const s = spec(project);
    const opts = options(s);
    const res = await upload(s, await file(s), { token: publisher, ...opts });
    const body = await res.text();
    expect(res.status, body).toBe(status);
    expect(body).toMatch(message);
    expect(res.headers.get("location")).toBeNull();
    expect(await storedKeys(project)).toEqual([]);
  });

  it("a second upload of one file name answers 400 File already exists and changes nothing", async () => {
    const s = spec("dup-project");
    expect((await upload(s, wheel(s), { token: publisher })).status).toBe(200);
    const before = await storedKeys("dup-project");
    // Other bytes under the same name: refused all the same.
    const again = await upload(s, wheel(s, { metadata: `${coreMetadata(s)}Summary: changed\n` }), { token: publisher });
    expect(again.status).toBe(400);
    expect(await again.text()).toMatch(/File already exists \('dup_project-1\.0-py3-none-any\.whl'\)/);
    expect(await storedKeys("dup-project")).toEqual(before);
  });

  it("a file over PYPI_MAX_UPLOAD_BYTES is refused with 413 while it streams, and nothing stays", async () => {
    const s = spec("too-big");
    const big = wheel(s, { metadata: `${coreMetadata(s)}${"x".repeat(4000)}\n` });
    const fetch = workerWith({ PYPI_MAX_UPLOAD_BYTES: "2000" });
    const res = await upload(s, big, { token: publisher, fetch });
    expect(res.status).toBe(413);
    expect(await res.text()).toMatch(/exceeds 2000 bytes/);
    expect(await storedKeys("too-big")).toEqual([]);
  });

  it("checks the token against the normalised project name", async () => {
    const token = (await createToken({ scopes: ["publish"], packages: ["mixed-case-name"] })).token;
    const s = spec("Mixed_Case.Name");
    const res = await upload(s, wheel(s), { token });
    expect(res.status, await res.text()).toBe(200);
    expect(wheelName(s)).toBe("Mixed_Case_Name-1.0-py3-none-any.whl");
  });
});
