// pkgedge purge: drop or mark stale cached objects in every region (/_/purge).
import { CliError, list, request } from "./common.mjs";

export const purge = {
  name: "purge",
  usage: "purge [--key <key>]... [--tag <tag>]... [--prefix <prefix>] [--soft]",
  summary: "Purge cached objects by exact cache key, purge tag or key prefix, in every region.\nHard (the default) drops them; --soft marks them stale (served while revalidated).",
  options: {
    key: { type: "string", multiple: true, value: "<key>", help: "a cache key, e.g. npm:packument:left-pad (repeatable, or comma-separated)" },
    tag: { type: "string", multiple: true, value: "<tag>", help: "a purge tag (repeatable, or comma-separated)" },
    prefix: { type: "string", value: "<prefix>", help: "every key starting with this" },
    soft: { type: "boolean", help: "mark stale instead of dropping" },
  },
  examples: ["pkgedge purge --key npm:packument:left-pad", "pkgedge purge --prefix npm:tarball:@acme/ --soft"],
  async run({ values, ctx }) {
    const keys = (values.key ?? []).flatMap(list);
    const tags = (values.tag ?? []).flatMap(list);
    if (keys.length === 0 && tags.length === 0 && !values.prefix) throw new CliError("purge needs --key, --tag or --prefix", { hint: 'see "pkgedge purge --help"' });
    const body = { mode: values.soft ? "soft" : "hard", ...(keys.length ? { keys } : {}), ...(tags.length ? { tags } : {}), ...(values.prefix ? { prefix: values.prefix } : {}) };
    const { data } = await request(ctx, "POST", "/_/purge", { body });
    if (ctx.json) return console.log(JSON.stringify(data));
    const what = [...data.keys, ...data.tags.map((t) => `tag ${t}`), ...(data.prefix !== null ? [`prefix ${data.prefix}`] : [])];
    console.log(`purge ${data.id} (${data.mode}) accepted: ${what.join(", ")}; other regions follow through the invalidation queue`);
  },
};
