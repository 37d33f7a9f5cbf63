// Where npm objects live at the origin (R2). The cache objects built from them are in objects.ts.
//
//   npm/<name>/packument.json     the package document (every version's manifest, dist-tags, times)
//   npm/<name>/-/<file>.tgz       one version's tarball

export const packumentObject = (name: string) => `npm/${name}/packument.json`;
export const tarballObject = (name: string, file: string) => `npm/${name}/-/${file}`;
