// Where npm objects live: R2 keys at the origin, and the opaque cache keys handed to the tiers.

export const packumentObject = (name: string) => `npm/${name}/packument.json`;
export const tarballObject = (name: string, file: string) => `npm/${name}/-/${file}`;

export const packumentCacheKey = (name: string) => `npm:packument:${name}`;
export const tarballCacheKey = (name: string, file: string) => `npm:tarball:${name}/${file}`;

/** L1 key of one rendering of a packument: it depends on the form and the host it names. */
export const packumentVariantKey = (name: string, form: "full" | "abbreviated", origin: string) =>
  `npm:packument:${name}|${form}|${origin}`;
