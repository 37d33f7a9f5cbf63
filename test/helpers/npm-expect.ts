// Assertions shared by the npm tests: the error format npm prints, and "nothing was stored".
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { baseName } from "../../workers/npm/names";
import type { NpmClient } from "./npm-client";

/**
 * Asserts an npm error answer: the status, a JSON body that is exactly `{"error": "..."}` with a
 * message matching `message` (a string must appear in it), and for a 401 the Bearer challenge.
 */
export async function expectNpmError(res: Response, status: number, message: RegExp | string): Promise<void> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Leave the raw text in place so a failure shows it.
  }
  const error = typeof message === "string" ? expect.stringContaining(message) : expect.stringMatching(message);
  expect({ status: res.status, body }).toEqual({ status, body: { error } });
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  if (status === 401) expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm=/);
}

/** Every R2 key stored for a package (packument, tarballs). */
export async function storedKeys(name: string): Promise<string[]> {
  const listed = await env.BLOBS.list({ prefix: `npm/${name}/` });
  return listed.objects.map((o) => o.key);
}

/** The package was never created: no object in R2, and the registry answers 404 for it. */
export async function expectNoPackage(npm: NpmClient, name: string): Promise<void> {
  expect(await storedKeys(name)).toEqual([]);
  expect((await npm.getPackument(name)).status).toBe(404);
}

/** This version is not there: not in the packument, no tarball served, no tarball in R2. */
export async function expectNoVersion(npm: NpmClient, name: string, version: string): Promise<void> {
  const packument = await npm.getPackument(name);
  if (packument.status === 200) {
    const doc = await packument.json<{ versions: Record<string, unknown>; "dist-tags": Record<string, string> }>();
    expect(Object.keys(doc.versions)).not.toContain(version);
    expect(Object.values(doc["dist-tags"])).not.toContain(version);
  } else {
    expect(packument.status).toBe(404);
  }
  expect((await npm.getTarball(name, version)).status).toBe(404);
  expect(await storedKeys(name)).not.toContain(`npm/${name}/-/${baseName(name)}-${version}.tgz`);
}
