// pkgedge pypi yank|unyank|status|delete: the /_/pypi/projects admin API (PEP 592 yanks, PEP 792
// project status, deletes). Needs the admin secret, or a token that may publish the project
// (quarantine and lifting it need the admin secret).
import { CliError, request } from "./common.mjs";

const STATUSES = ["active", "archived", "deprecated", "quarantined"];
const path = (project, rest = "") => `/_/pypi/projects/${encodeURIComponent(project)}${rest}`;
const what = (version, file) => (file ? { filename: file } : { version });

function selection(name, positionals, values) {
  const [project, version] = positionals;
  if (!version && !values.file) throw new CliError(`${name} needs a version or --file`, { hint: `see "pkgedge ${name} --help"` });
  if (version && values.file) throw new CliError(`${name} takes a version or --file, not both`, { hint: `see "pkgedge ${name} --help"` });
  return { project, sel: what(version, values.file) };
}

export const yank = {
  name: "pypi yank",
  usage: "pypi yank <project> <version> [--reason <text>] | pypi yank <project> --file <filename>",
  summary: "Yank a release (every file of a version) or one file (PEP 592): installers skip it unless pinned.",
  options: {
    file: { type: "string", value: "<filename>", help: "yank this one file instead of a whole version" },
    reason: { type: "string", value: "<text>", help: "why (shown by pip when it installs a pinned yanked release)" },
  },
  positionals: [{ name: "a project", required: true }, { name: "a version" }],
  examples: ["pkgedge pypi yank requests 2.0.0 --reason 'broken on Windows'"],
  async run({ positionals, values, ctx }) {
    const { project, sel } = selection("pypi yank", positionals, values);
    const { data } = await request(ctx, "POST", path(project, "/yank"), { body: { ...sel, ...(values.reason ? { reason: values.reason } : {}) } });
    if (ctx.json) return console.log(JSON.stringify(data));
    console.log(`yanked ${data.files.join(", ")} of ${data.project}`);
  },
};

export const unyank = {
  name: "pypi unyank",
  usage: "pypi unyank <project> <version> | pypi unyank <project> --file <filename>",
  summary: "Undo a yank.",
  options: { file: { type: "string", value: "<filename>", help: "unyank this one file" } },
  positionals: [{ name: "a project", required: true }, { name: "a version" }],
  examples: ["pkgedge pypi unyank requests 2.0.0"],
  async run({ positionals, values, ctx }) {
    const { project, sel } = selection("pypi unyank", positionals, values);
    const { data } = await request(ctx, "POST", path(project, "/unyank"), { body: sel });
    if (ctx.json) return console.log(JSON.stringify(data));
    console.log(`unyanked ${data.files.join(", ")} of ${data.project}`);
  },
};

export const status = {
  name: "pypi status",
  usage: `pypi status <project> <${STATUSES.join("|")}> [--reason <text>]`,
  summary: "Set a project's status (PEP 792). A quarantined project lists and serves no files.",
  options: { reason: { type: "string", value: "<text>", help: "shown with the status on the project page" } },
  positionals: [{ name: "a project", required: true }, { name: "a status", required: true }],
  examples: ["pkgedge pypi status old-lib archived", "pkgedge pypi status evil-lib quarantined --reason 'malware report'"],
  async run({ positionals, values, ctx }) {
    const [project, state] = positionals;
    if (!STATUSES.includes(state)) throw new CliError(`the status must be one of ${STATUSES.join(", ")}, not "${state}"`, { hint: 'see "pkgedge pypi status --help"' });
    const { data } = await request(ctx, "POST", path(project, "/status"), { body: { status: state, ...(values.reason ? { reason: values.reason } : {}) } });
    if (ctx.json) return console.log(JSON.stringify(data));
    console.log(`${data.project} is ${data.status}${data.reason ? ` (${data.reason})` : ""}`);
  },
};

export const remove = {
  name: "pypi delete",
  usage: "pypi delete <project> [<version>] [--file <filename>]",
  summary: "Delete a file, a version or a whole project. Deleted file names can never be uploaded again.",
  options: { file: { type: "string", value: "<filename>", help: "delete this one file" } },
  positionals: [{ name: "a project", required: true }, { name: "a version" }],
  examples: ["pkgedge pypi delete my-lib 1.0.0", "pkgedge pypi delete my-lib --file my_lib-1.0.0-py3-none-any.whl", "pkgedge pypi delete my-lib"],
  async run({ positionals, values, ctx }) {
    const [project, version] = positionals;
    if (version && values.file) throw new CliError("pypi delete takes a version or --file, not both", { hint: 'see "pkgedge pypi delete --help"' });
    const rest = values.file ? `/files/${encodeURIComponent(values.file)}` : version ? `/versions/${encodeURIComponent(version)}` : "";
    const { data } = await request(ctx, "DELETE", path(project, rest));
    if (ctx.json) return console.log(JSON.stringify(data));
    console.log(`deleted ${data.deleted.length} file(s) of ${data.project}${data.deleted.length ? `: ${data.deleted.join(", ")}` : ""}`);
  },
};
