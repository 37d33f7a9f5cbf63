// What a publish body must agree on: strict semver versions, the URL's package name, and version
// keys that match their manifests. A refused publish stores nothing.
import { beforeAll, describe, it } from "vitest";
import { attachmentOf, manifestOf, publishBody, type Attachment } from "../../helpers/npm-body";
import { NpmClient } from "../../helpers/npm-client";
import { expectNoPackage, expectNpmError } from "../../helpers/npm-expect";
import { createToken } from "../../helpers/tokens";

describe("publish manifests", () => {
  let npm: NpmClient;
  beforeAll(async () => {
    npm = new NpmClient().as((await createToken({ scopes: ["publish"] })).token);
  });

  it.each(["1.0", "v1.0.0", "latest", "1.0.0-", ">=1", "1.0.0 ", "01.0.0"])("refuses version %j", async (version) => {
    const name = `bad-version-${crypto.randomUUID().slice(0, 8)}`;
    await expectNpmError(await npm.publish(name, version), 400, `invalid version "${version}": not a semver version`);
    await expectNoPackage(npm, name);
  });

  it("refuses a body naming another package than the URL", async () => {
    const body = await publishBody("other-package", "1.0.0");
    await expectNpmError(await npm.putPackument("url-package", body), 400, /body names package "other-package" but the URL names "url-package"/);
    await expectNoPackage(npm, "url-package");
    await expectNoPackage(npm, "other-package");
  });

  it("refuses a version manifest naming another package", async () => {
    const body = await publishBody("manifest-name", "1.0.0");
    manifestOf(body).name = "someone-else";
    await expectNpmError(await npm.putPackument("manifest-name", body), 400, /version 1\.0\.0 names package "someone-else"/);
    await expectNoPackage(npm, "manifest-name");
  });

  it("refuses a version key that differs from the manifest's version", async () => {
    const body = await publishBody("key-mismatch", "1.0.0");
    manifestOf(body).version = "2.0.0";
    await expectNpmError(await npm.putPackument("key-mismatch", body), 400, /version key 1\.0\.0 does not match manifest version "2\.0\.0"/);
    await expectNoPackage(npm, "key-mismatch");
  });

  it("refuses a body without versions, or with an attachment without data", async () => {
    const { versions: _v, ...noVersions } = await publishBody("incomplete", "1.0.0");
    await expectNpmError(await npm.putPackument("incomplete", { ...noVersions, _attachments: { x: {} } }), 400, /no versions/);
    const body = await publishBody("incomplete", "1.0.0");
    delete (attachmentOf(body) as Partial<Attachment>).data;
    await expectNpmError(await npm.putPackument("incomplete", body), 400, /no tarball attached for incomplete@1\.0\.0/);
    await expectNoPackage(npm, "incomplete");
  });

  it("refuses a dist-tag that is a range, or that names no version in the body", async () => {
    const ranged = await publishBody("tagged", "1.0.0", { tag: "1.x" });
    await expectNpmError(await npm.putPackument("tagged", ranged), 400, /invalid dist-tag "1\.x"/);
    const dangling = await publishBody("tagged", "1.0.0");
    dangling["dist-tags"].beta = "3.0.0";
    await expectNpmError(await npm.putPackument("tagged", dangling), 400, /dist-tag beta points at 3\.0\.0/);
    await expectNoPackage(npm, "tagged");
  });
});
