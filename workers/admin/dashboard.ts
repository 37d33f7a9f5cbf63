// /_/dashboard: the metrics as charts, served with a strict Content-Security-Policy that allows
// exactly the page's own inline script and style (by hash) and fetches only from this origin. The
// page is public (./index.ts says why); the data it fetches needs the admin secret or METRICS_TOKEN.
import type { Context } from "hono";
import { DASHBOARD_STYLE, dashboardHtml } from "./dashboard-page";
import { DASHBOARD_SCRIPT } from "./dashboard-script";

async function sha256Base64(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

// The page never changes within a deployment, so hashes (not per-response nonces) fit: the
// page stays cacheable and the policy is the same for every response.
let page: Promise<{ html: string; headers: Record<string, string> }> | undefined;

function build(): Promise<{ html: string; headers: Record<string, string> }> {
  page ??= (async () => {
    const [script, style] = await Promise.all([sha256Base64(DASHBOARD_SCRIPT), sha256Base64(DASHBOARD_STYLE)]);
    const csp = [
      "default-src 'none'",
      `script-src 'sha256-${script}'`,
      `style-src 'sha256-${style}'`,
      // The only requests the page makes are its own /_/metrics?format=json and /_/metrics/top-keys;
      // it submits no form (the sign-in form is handled by the script).
      "connect-src 'self'",
      "img-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; ");
    return {
      html: dashboardHtml(),
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": csp,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        // For browsers that predate frame-ancestors.
        "x-frame-options": "DENY",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        "cache-control": "no-cache",
      },
    };
  })();
  return page;
}

export async function serveDashboard(c: Context): Promise<Response> {
  const { html, headers } = await build();
  // hono runs GET routes for HEAD; the runtime drops the body, but skip building it anyway.
  if (c.req.method === "HEAD") return c.body(null, 200, headers);
  return c.body(html, 200, headers);
}
