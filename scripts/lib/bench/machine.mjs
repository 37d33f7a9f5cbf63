// How busy the machine is: benchmark numbers from a machine shared with other work are noisy,
// so the run records what else was using the CPUs (from /proc/stat, where there is one).
import { readdirSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { loadavg } from "node:os";

/**
 * CPU jiffies used by this process and everything it started (servers, npm), counting
 * children that already exited and were reaped (cutime/cstime).
 */
function ownJiffies() {
  const procs = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // Fields after the parenthesised command name; ppid is the 2nd, utime the 12th.
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      procs.set(Number(name), { ppid: Number(f[1]), cpu: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      // exited meanwhile
    }
  }
  const mine = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, p] of procs) {
      if (!mine.has(pid) && mine.has(p.ppid)) {
        mine.add(pid);
        grew = true;
      }
    }
  }
  let sum = 0;
  for (const pid of mine) sum += procs.get(pid)?.cpu ?? 0;
  return sum;
}

/**
 * CPU milliseconds used so far by the live processes of one process group (a server started
 * detached, e.g. wrangler dev and its workerd), or null off Linux. CPU per request from two
 * readings holds up on a machine shared with other work far better than requests per second.
 */
export function groupCpuMs(pgid) {
  let jiffies = 0;
  try {
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, "utf8");
        // After the command name: pgrp is the 3rd field, utime and stime the 12th and 13th.
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (Number(f[2]) === pgid) jiffies += Number(f[11]) + Number(f[12]);
      } catch {
        // exited meanwhile
      }
    }
  } catch {
    return null;
  }
  // USER_HZ is 100 on every Linux this runs on.
  return jiffies * 10;
}

/** Machine-wide CPU jiffies { busy, total } and this run's own share, or null off Linux. */
export function cpuSnapshot() {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total, own: ownJiffies() };
  } catch {
    return null;
  }
}

/** Share (0..1) of all CPUs busy between two snapshots. */
export function busyShare(a, b) {
  if (!a || !b || b.total === a.total) return null;
  return Math.round(((b.busy - a.busy) / (b.total - a.total)) * 1000) / 1000;
}

/** Share (0..1) of all CPUs used by work that is not this run's, between two snapshots. */
export function otherShare(a, b) {
  if (!a || !b || b.total === a.total) return null;
  const other = (b.busy - a.busy) - (b.own - a.own);
  return Math.max(0, Math.round((other / (b.total - a.total)) * 1000) / 1000);
}

/** CPU busy share over `ms` while this process sleeps: what other work is using the machine. */
export async function backgroundLoad(ms = 2000) {
  const a = cpuSnapshot();
  await new Promise((r) => setTimeout(r, ms));
  return otherShare(a, cpuSnapshot());
}

/** A fixed CPU task (SHA-256 of 64 MiB, best of 3) in ms: compares machine speed across runs. */
export function calibrate() {
  const buf = Buffer.alloc(64 * 1024 * 1024, 7);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = process.hrtime.bigint();
    createHash("sha256").update(buf).digest();
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return Math.round(best);
}

/**
 * Waits up to `waitSeconds` for other work on the machine to calm down (it makes every number
 * noisy), then records in `machine` how busy it was and how fast a fixed CPU task ran.
 */
export async function waitForQuietMachine(machine, waitSeconds, log) {
  const deadline = Date.now() + waitSeconds * 1000;
  machine.backgroundCpuBusy = await backgroundLoad(2000);
  while (machine.backgroundCpuBusy > 0.15 && Date.now() < deadline) {
    log(`machine ${Math.round(machine.backgroundCpuBusy * 100)}% busy with other work; waiting for it to calm down...`);
    machine.backgroundCpuBusy = await backgroundLoad(3000);
  }
  machine.sha256_64MiB_ms = calibrate();
  log(`machine: ${machine.cpus} cores, ${Math.round((machine.backgroundCpuBusy ?? 0) * 100)}% busy before start, ` +
    `sha256(64 MiB) ${machine.sha256_64MiB_ms} ms`);
  if (machine.backgroundCpuBusy > 0.15) log("warning: the machine is busy with other work; expect noisy numbers");
}

/**
 * Runs one benchmark step into `results[key]`, recording a failure instead of stopping the run,
 * and how busy the CPUs were meanwhile (overall and by work outside this benchmark).
 */
export async function measureStep(results, key, title, fn, log) {
  log(title);
  const t0 = Date.now();
  const load0 = loadavg()[0];
  const cpu0 = cpuSnapshot();
  try {
    results[key] = await fn();
  } catch (err) {
    results.failures.push({ step: key, error: err.stack ?? String(err) });
    log(`${key} failed: ${err.stack ?? err}`);
  }
  const cpu1 = cpuSnapshot();
  results.cpuBusyDuring[key] = busyShare(cpu0, cpu1);
  results.otherWorkCpuDuring[key] = otherShare(cpu0, cpu1);
  if (results.loadavg) results.loadavg[key] = { before1m: Math.round(load0 * 100) / 100, after1m: Math.round(loadavg()[0] * 100) / 100 };
  log(`${key} took ${((Date.now() - t0) / 1000).toFixed(1)} s (CPUs ${Math.round((results.cpuBusyDuring[key] ?? 0) * 100)}% busy, ` +
    `${Math.round((results.otherWorkCpuDuring[key] ?? 0) * 100)}% by work outside this benchmark)`);
  for (const [target, error] of Object.entries(results[key]?.errors ?? {})) results.failures.push({ step: key, target, error });
}
