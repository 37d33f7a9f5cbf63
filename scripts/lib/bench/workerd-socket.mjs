// The user Worker's own workerd socket under `wrangler dev`: what a deployed Worker's requests
// reach (no wrangler proxy in front). wrangler starts that workerd with
// `--socket-addr=entry=127.0.0.1:0`, so its port is read from the listening sockets of that
// process (ss -ltnp) and confirmed with a GET of its health path. Linux only; null when not found.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Processes in process group `pgid` (a wrangler dev started with detached: true). */
function groupMembers(pgid) {
  const out = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // Fields after the command (which is in parentheses and may hold spaces): state ppid pgrp.
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(rest[2]) === pgid) out.push({ pid: Number(name), cmdline: readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0") });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * `http://127.0.0.1:<port>` of the user Worker's workerd in wrangler dev's process group: the
 * listening socket whose `healthPath` answers 200 with a body `looksRight` accepts (pkgedge's
 * /_/health is JSON; a ceiling Worker's is anything).
 */
export async function findWorkerSocket(pgid, healthPath = "/_/health", looksRight = (body) => body.includes("{")) {
  const workers = groupMembers(pgid).filter((p) => p.cmdline.some((a) => a === "--socket-addr=entry=127.0.0.1:0"));
  const listening = execFileSync("ss", ["-ltnpH"], { encoding: "utf8" }).split("\n");
  for (const { pid } of workers) {
    const ports = listening.filter((l) => l.includes(`pid=${pid},`)).map((l) => /127\.0\.0\.1:(\d+)/.exec(l)?.[1]).filter(Boolean);
    for (const port of ports) {
      const url = `http://127.0.0.1:${port}`;
      try {
        const res = await fetch(`${url}${healthPath}`, { signal: AbortSignal.timeout(3000) });
        const body = await res.text();
        if (res.status === 200 && looksRight(body)) return url;
      } catch {
        // not the entry socket
      }
    }
  }
  return null;
}
