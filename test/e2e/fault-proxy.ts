// A proxy on loopback in front of a real upstream server, which the test can make slow, refuse
// with a status (429 with Retry-After, 503), or pass through; it counts what it forwarded. The
// faults an upstream registry shows in production, put in front of a real one (as toxiproxy does).
import http from "node:http";
import type { AddressInfo } from "node:net";

export type Fault = { kind: "pass" } | { kind: "delay"; ms: number } | { kind: "status"; status: number; retryAfter?: number };

export interface FaultProxy {
  url: string;
  fault: Fault;
  /** Requests that reached the proxy, as `METHOD /path`, whatever their fate. */
  seen: string[];
  stop(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const proxy: FaultProxy = { url: "", fault: { kind: "pass" }, seen: [], stop: async () => {} };
  const server = http.createServer((req, res) => {
    proxy.seen.push(`${req.method} ${req.url}`);
    const fault = proxy.fault;
    if (fault.kind === "status") {
      res.writeHead(fault.status, { "content-type": "application/json", ...(fault.retryAfter !== undefined ? { "retry-after": String(fault.retryAfter) } : {}) });
      res.end(JSON.stringify({ error: "injected" }));
      req.resume();
      return;
    }
    const forward = () => {
      const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      out.on("error", () => res.destroy());
      req.pipe(out);
    };
    if (fault.kind === "delay") setTimeout(forward, fault.ms);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.stop = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return proxy;
}
