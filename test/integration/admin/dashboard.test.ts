// /_/dashboard: a self-contained HTML page of the metrics, under a CSP that admits exactly its
// own inline script and style, with the other security headers and no secret in it.
import { describe, expect, it } from "vitest";
import { metricsJson } from "../../helpers/metrics";
import { ADMIN_SECRET, bearer, createToken } from "../../helpers/tokens";
import { worker } from "../../helpers/worker";

async function sha256Base64(text: string): Promise<string> {
  return Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).toString("base64");
}

/** The CSP as directive -> sources. */
function parseCsp(header: string): Record<string, string[]> {
  return Object.fromEntries(header.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...sources]) => [name!, sources]));
}

describe("/_/dashboard", () => {
  it("serves HTML with the security headers", async () => {
    const res = await worker("/_/dashboard");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    const csp = parseCsp(res.headers.get("content-security-policy")!);
    expect(csp["default-src"]).toEqual(["'none'"]);
    expect(csp["frame-ancestors"]).toEqual(["'none'"]);
    expect(csp["connect-src"]).toEqual(["'self'"]);
    expect(csp["base-uri"]).toEqual(["'none'"]);
    for (const sources of Object.values(csp)) {
      expect(sources.join(" ")).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:|data:/);
    }
    await res.text();
  });

  it("admits exactly its own inline script and style by hash, and loads nothing from elsewhere", async () => {
    const res = await worker("/_/dashboard");
    const csp = parseCsp(res.headers.get("content-security-policy")!);
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    const styles = [...html.matchAll(/<style\b([^>]*)>([\s\S]*?)<\/style>/g)];
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    // A browser runs an inline block only if its exact text hashes to a listed source.
    expect(csp["script-src"]).toEqual([`'sha256-${await sha256Base64(scripts[0]![2]!)}'`]);
    expect(csp["style-src"]).toEqual([`'sha256-${await sha256Base64(styles[0]![2]!)}'`]);
    // No external resources, inline handlers or style attributes (the CSP would block them).
    expect(html).not.toMatch(/\b(?:src|srcset)\s*=/i);
    expect(html).not.toMatch(/<link\b|<iframe\b|<object\b|<embed\b/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
    expect(html).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    const urls = [...html.matchAll(/https?:\/\/[^\s"'<>]+/g)].map((m) => m[0]);
    expect(urls).toEqual(["http://www.w3.org/2000/svg"]);
    // It reads the metrics this Worker serves, relative to /_/.
    expect(scripts[0]![2]).toContain('fetch("metrics?format=json"');
    expect(scripts[0]![2]).toMatch(/createElementNS\(NS, name\)/);
  });

  it("charts what /_/metrics?format=json serves", async () => {
    expect((await worker("/npm/-/ping", { headers: { "x-pkgedge-region": "eu-west" } })).status).toBe(200);
    const metrics = await metricsJson();
    // The families the page draws exist with the labels it groups by.
    const requests = metrics.pkgedge_requests_total!.samples;
    expect(requests.some((s) => s.labels.region === "eu-west" && s.labels.protocol === "npm" && s.labels.tier && s.labels.status)).toBe(true);
    expect(metrics.pkgedge_request_duration_ms!.samples[0]).toMatchObject({ count: expect.any(Number), buckets: expect.any(Object) });
    const html = await (await worker("/_/dashboard")).text();
    const families = ["pkgedge_requests_total", "pkgedge_request_duration_ms", "pkgedge_origin_fetches_total", "pkgedge_coalesced_total",
      "pkgedge_stale_served_total", "pkgedge_negative_hits_total", "pkgedge_invalidation_lag_ms", "pkgedge_prefetch_total",
      "pkgedge_rate_limited_total", "pkgedge_upstream_requests_total"];
    for (const family of families) {
      expect(html).toContain(`"${family}"`);
    }
  });

  it("is served to anyone, and its script sends the operator's secret only as a Bearer header, kept for the tab", async () => {
    const html = await (await worker("/_/dashboard")).text();
    expect(html).toMatch(/<form id="signin"[^>]*>[\s\S]*type="password"/);
    const script = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)][0]![1]!;
    expect(script).toContain('authorization: "Bearer " + token');
    expect(script).toContain("sessionStorage");
    expect(script).not.toMatch(/localStorage|document\.cookie|[?&]token=/);
    expect(script).toContain('credentials: "omit"');
  });

  it("holds no secret, whoever asks", async () => {
    const { token } = await createToken({ scopes: ["admin"] });
    for (const headers of [{}, bearer(ADMIN_SECRET), bearer(token)]) {
      const res = await worker("/_/dashboard", { headers });
      const text = await res.text() + JSON.stringify([...res.headers]);
      expect(text).not.toContain(ADMIN_SECRET);
      expect(text).not.toContain(token);
      expect(text).not.toMatch(/pke_[A-Za-z0-9]{8,}/);
    }
  });

  it("answers HEAD with the headers and no body", async () => {
    const res = await worker("/_/dashboard", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toMatch(/script-src 'sha256-/);
    expect(await res.text()).toBe("");
  });
});
