// pkgedge audit: the audit log of writes, newest first, with filters and paging (/_/audit).
import { positiveInt, request, table } from "./common.mjs";

export const audit = {
  name: "audit",
  usage: "audit [--action <action>] [--actor <actor>] [--limit <n>] [--cursor <cursor>] [--all]",
  summary: "Show the audit log, newest first. Prints the cursor of the next page when there is one.",
  options: {
    action: { type: "string", value: "<action>", help: "only this action, e.g. npm.publish, purge, token.create" },
    actor: { type: "string", value: "<actor>", help: "only this actor: admin, anonymous, token:<id> or a token's name" },
    limit: { type: "string", value: "<n>", help: "entries per page, 1-500 (default 50)" },
    cursor: { type: "string", value: "<cursor>", help: "the page after a previous answer's cursor" },
    all: { type: "boolean", help: "follow every page" },
  },
  examples: ["pkgedge audit --action token.create --limit 20", "pkgedge audit --actor admin --all --json"],
  async run({ values, ctx }) {
    const limit = positiveInt("limit", values.limit, { max: 500 });
    const entries = [];
    let cursor = values.cursor;
    do {
      const q = new URLSearchParams();
      if (limit) q.set("limit", String(limit));
      if (cursor) q.set("cursor", cursor);
      if (values.action) q.set("action", values.action);
      if (values.actor) q.set("actor", values.actor);
      const { data } = await request(ctx, "GET", `/_/audit?${q}`);
      entries.push(...data.entries);
      cursor = data.cursor;
    } while (values.all && cursor);
    if (ctx.json) return console.log(JSON.stringify({ entries, ...(cursor ? { cursor } : {}) }));
    if (entries.length === 0) console.log("no audit entries");
    else console.log(table(["TIME", "ACTOR", "ACTION", "TARGET", "REGION"], entries.map((e) => [e.at, e.actorName ? `${e.actor} (${e.actorName})` : e.actor, e.action, e.target, e.region])));
    if (cursor) console.log(`more: pkgedge audit --cursor ${cursor}${limit ? ` --limit ${limit}` : ""}${values.action ? ` --action ${values.action}` : ""}${values.actor ? ` --actor ${values.actor}` : ""}`);
  },
};
