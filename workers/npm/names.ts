// npm package names, versions and tarball file names, validated by npm's own rules.
import semver from "semver";
import validate from "validate-npm-package-name";
import { RegistryError } from "../../shared/errors";

/** Throws unless `name` may be published today (npm's rules: lowercase, <= 214 chars, URL-safe...). */
export function assertPackageName(name: string): void {
  const result = validate(name);
  if (!result.validForNewPackages) {
    const reasons = [...(result.errors ?? []), ...(result.warnings ?? [])];
    throw new RegistryError("BAD_REQUEST", `invalid package name "${truncate(name)}": ${reasons.join("; ")}`);
  }
}

/** Throws unless `version` is a strict semver version (no ranges, no leading "v"). */
export function assertVersion(version: string): void {
  if (typeof version !== "string" || semver.valid(version) !== version) {
    throw new RegistryError("BAD_REQUEST", `invalid version "${truncate(String(version))}": not a semver version`);
  }
}

/** The part of a name used in tarball file names: `@scope/pkg` -> `pkg`. */
export function baseName(name: string): string {
  return name.startsWith("@") ? name.slice(name.indexOf("/") + 1) : name;
}

export function tarballFile(name: string, version: string): string {
  return `${baseName(name)}-${version}.tgz`;
}

/** The version a tarball file name stands for, or null when it is not `<base>-<semver>.tgz`. */
export function versionFromTarball(name: string, file: string): string | null {
  const prefix = `${baseName(name)}-`;
  if (!file.startsWith(prefix) || !file.endsWith(".tgz")) return null;
  const version = file.slice(prefix.length, -".tgz".length);
  return semver.valid(version) === version ? version : null;
}

/** npm refuses dist-tags that parse as a semver range (they would shadow versions). */
export function assertTagName(tag: string): void {
  if (!tag || tag.length > 128 || /[^A-Za-z0-9._-]/.test(tag) || semver.validRange(tag) !== null) {
    throw new RegistryError("BAD_REQUEST", `invalid dist-tag "${truncate(tag)}": tags must not be versions or ranges`);
  }
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
