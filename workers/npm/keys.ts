// Where npm objects live at the origin (R2). The cache objects built from them are in objects.ts.
//
//   npm/<name>/packument.json              the package document (every version's manifest, dist-tags, times)
//   npm/<name>/-/<file>.tgz                one version's tarball
//   upstream/npm/<name>/packument.json     the upstream registry's document, as mirrored (workers/npm/upstream.ts)
//   upstream/npm/<name>/-/<file>.tgz       an upstream tarball, verified against that document's integrity
//
// Upstream copies live apart from hosted content, so a name published here can never be mixed
// with (or overwritten by) what an upstream serves under the same name.

export const packumentObject = (name: string) => `npm/${name}/packument.json`;
export const tarballObject = (name: string, file: string) => `npm/${name}/-/${file}`;
export const upstreamPackumentObject = (name: string) => `upstream/npm/${name}/packument.json`;
export const upstreamTarballObject = (name: string, file: string) => `upstream/npm/${name}/-/${file}`;
