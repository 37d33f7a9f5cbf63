// PyPI's name rules: PEP 503 project-name normalisation, PEP 440 version comparison, and the
// wheel (PEP 427/491) and sdist (PEP 625) file-name grammars an upload is checked against.
import { badRequest } from "../../shared/errors";

// PEP 508 names: ASCII letters and digits, with `.`, `_` and `-` inside (case-insensitive).
const PROJECT_NAME = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

/** PEP 503: lowercase, every run of `-`, `_` and `.` becomes one `-`. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}

export function isValidProjectName(name: string): boolean {
  return name.length <= 200 && PROJECT_NAME.test(name);
}

export function assertProjectName(name: string): void {
  if (!isValidProjectName(name)) throw badRequest(`"${name}" is not a valid project name: letters, digits, and . _ - inside`);
}

// PEP 440's public grammar, as `packaging.version.VERSION_PATTERN` writes it.
const VERSION = new RegExp(
  "^\\s*v?(?:(?:(\\d+)!)?(\\d+(?:\\.\\d+)*)" +
  "(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\\d+)?)?" +
  "(?:-(\\d+)|[-_.]?(post|rev|r)[-_.]?(\\d+)?)?" +
  "(?:[-_.]?(dev)[-_.]?(\\d+)?)?)(?:\\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\\s*$",
  "i",
);

const PRE: Record<string, string> = { a: "a", alpha: "a", b: "b", beta: "b", c: "rc", rc: "rc", pre: "rc", preview: "rc" };

/**
 * The canonical form of a PEP 440 version (as `packaging.utils.canonicalize_version` gives it:
 * trailing `.0`s of the release dropped), or null when it is not one. Two spellings of one
 * version (`1.0`, `1.0.0`, `1.0-post1`, `1.0.post1`) have the same canonical form.
 */
export function canonicalVersion(version: string): string | null {
  const m = VERSION.exec(version);
  if (!m) return null;
  const [, epoch, release, preL, preN, postImplicit, postL, postN, devL, devN, local] = m;
  const parts = release!.split(".").map((n) => String(Number(n)));
  while (parts.length > 1 && parts[parts.length - 1] === "0") parts.pop();
  let out = epoch && Number(epoch) !== 0 ? `${Number(epoch)}!` : "";
  out += parts.join(".");
  if (preL) out += `${PRE[preL.toLowerCase()]}${Number(preN ?? 0)}`;
  if (postImplicit !== undefined) out += `.post${Number(postImplicit)}`;
  else if (postL) out += `.post${Number(postN ?? 0)}`;
  if (devL) out += `.dev${Number(devN ?? 0)}`;
  if (local) out += `+${local.toLowerCase().replace(/[-_]/g, ".")}`;
  return out;
}

export function sameVersion(a: string, b: string): boolean {
  const ca = canonicalVersion(a);
  return ca !== null && ca === canonicalVersion(b);
}

export type PackageType = "bdist_wheel" | "sdist";

export interface DistFile {
  type: PackageType;
  /** The distribution name as the file spells it (`foo_bar`), and normalised (`foo-bar`). */
  name: string;
  project: string;
  version: string;
}

// PEP 427: {distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl,
// where the distribution and version have `-` escaped to `_` and the build tag starts with a digit.
const WHEEL = /^([^-]+)-([^-]+)(?:-(\d[^-]*))?-([^-]+)-([^-]+)-([^-]+)\.whl$/;
// PEP 625: {name}-{version}.tar.gz with the name's `-` escaped; the version is the last `-` part.
const SDIST = /^(.+)-([^-]+)\.tar\.gz$/;

/** What a distribution's file name says, or null when it follows neither grammar. */
export function parseDistFile(filename: string): DistFile | null {
  if (filename.length > 255 || /[/\\\u0000-\u001f]/.test(filename)) return null;
  let m = WHEEL.exec(filename);
  if (m) {
    if (!isValidProjectName(m[1]!) || canonicalVersion(m[2]!) === null) return null;
    return { type: "bdist_wheel", name: m[1]!, project: normalizeName(m[1]!), version: m[2]! };
  }
  m = SDIST.exec(filename);
  if (m) {
    if (!isValidProjectName(m[1]!) || canonicalVersion(m[2]!) === null) return null;
    return { type: "sdist", name: m[1]!, project: normalizeName(m[1]!), version: m[2]! };
  }
  return null;
}
