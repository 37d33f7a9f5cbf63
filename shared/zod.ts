// zod's mini build, with the English messages the full build would give: the Worker imports zod
// from here only, as `import * as z from ".../shared/zod"` and by property (z.string), so the
// bundler keeps only what is used. The full build pulled every locale into the bundle (about
// 800 KiB of 1.2 MiB); mini carries none, so its messages would be a bare "Invalid input" without
// the English one configured here.
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";
