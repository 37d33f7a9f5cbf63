// pkgedge warm: pre-populate a region's shields, drawing the server's NDJSON progress (/_/warm).
import { CliError, list, positiveInt, request } from "./common.mjs";

export const warm = {
  name: "warm",
  usage: "warm --region <region> (--from <region> [--top <n>] | --key <key>...) [--no-progress]",
  summary: "Warm a region's shields with another region's most requested keys, or with given cache keys.\nA progress bar on a terminal; plain lines otherwise or with --no-progress. Exits 2 when some keys failed.",
  options: {
    region: { type: "string", value: "<region>", help: "the region to warm" },
    from: { type: "string", value: "<region>", help: "copy this region's most requested keys" },
    top: { type: "string", value: "<n>", help: "how many of them, 1-1000 (default 100)" },
    key: { type: "string", multiple: true, value: "<key>", help: "a cache key to warm (repeatable, or comma-separated)" },
    "no-progress": { type: "boolean", help: "plain progress lines, no bar" },
  },
  examples: ["pkgedge warm --region eu --from us --top 200", "pkgedge warm --region ap --key npm:packument:left-pad"],
  async run({ values, ctx }) {
    const hint = 'see "pkgedge warm --help"';
    if (!values.region) throw new CliError("warm needs --region", { hint });
    const keys = (values.key ?? []).flatMap(list);
    if ((values.from === undefined) === (keys.length === 0)) throw new CliError("warm needs either --from <region> or --key, not both", { hint });
    const top = positiveInt("top", values.top, { max: 1000 });
    if (top !== undefined && values.from === undefined) throw new CliError("--top goes with --from", { hint });
    const body = { region: values.region, ...(values.from ? { from: values.from } : { keys }), ...(top ? { top } : {}) };
    const res = await request(ctx, "POST", "/_/warm", { body, raw: true });
    const bar = !values["no-progress"] && !ctx.json && process.stdout.isTTY;
    let last = null;
    for await (const line of ndjson(res.body)) {
      last = line;
      if (ctx.json) console.log(JSON.stringify(line));
      else if (bar) process.stdout.write(`\r${progressBar(line)}\x1b[K${line.done ? "\n" : ""}`);
      else if (!line.done) console.log(`warm ${values.region}: ${line.completed}/${line.total} (warmed ${line.warmed}, failed ${line.failed})`);
    }
    if (!last?.done) throw new CliError(`the warm stream ended early${last ? ` at ${last.completed}/${last.total}` : ""}`);
    if (ctx.json) return;
    console.log(`warmed ${last.warmed} of ${last.total} in ${values.region}, ${last.failed} failed`);
    for (const f of last.failures ?? []) console.log(`  failed ${f.key}: ${f.reason}`);
    if (last.failed > 0) process.exitCode = 2;
  },
};

/** The bar for one progress line: [#######.......]  42/100  warmed 40  failed 2 */
export function progressBar({ completed, total, warmed, failed }, width = 30) {
  const filled = total === 0 ? width : Math.round((completed / total) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${completed}/${total}  warmed ${warmed}  failed ${failed}`;
}

/** The JSON values of an NDJSON body, one per line as they arrive. */
async function* ndjson(body) {
  const decoder = new TextDecoder();
  let buffered = "";
  try {
    for await (const chunk of body) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const text = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (text) yield JSON.parse(text);
      }
    }
  } catch (err) {
    if (err instanceof SyntaxError) throw new CliError(`the server sent a malformed progress line: ${err.message}`);
    throw new CliError(`the warm stream broke: ${err.cause?.code ?? err.message}`);
  }
  if (buffered.trim()) yield JSON.parse(buffered);
}
