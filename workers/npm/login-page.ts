// The page `npm login` sends a person to: one form asking for the admin secret or a pkgedge
// token, then "go back to your terminal". No script at all, styles by hash, posts only to itself.
import type { Context } from "hono";
import { html } from "hono/html";

type Step = "form" | "refused" | "approved" | "expired";

const STYLE = "body{font:16px system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}input{font:inherit;width:100%;margin:.3rem 0 1rem;padding:.4rem}button{font:inherit;padding:.4rem 1.2rem}.error{color:#b00020}";

let styleHash: Promise<string> | undefined;
const hashOf = (text: string) =>
  crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then((d) => btoa(String.fromCharCode(...new Uint8Array(d))));

const STATUS: Record<Step, 200 | 401 | 404> = { form: 200, approved: 200, refused: 401, expired: 404 };

export async function loginPage(c: Context, step: Step): Promise<Response> {
  styleHash ??= hashOf(STYLE);
  const body = {
    form: html`<p>npm is waiting for this login. Prove who you are with the admin secret or a pkgedge token; npm then receives a new token with at most the same rights.</p>`,
    refused: html`<p class="error">That is neither the admin secret nor a valid pkgedge token. Try again.</p>`,
    approved: html`<p>Done. Go back to your terminal: npm has its token.</p>`,
    expired: html`<p>This login has expired or was already used. Run <code>npm login</code> again.</p>`,
  }[step];
  const form = step === "form" || step === "refused"
    ? html`<form method="post">
        <label>Admin secret or pkgedge token<input type="password" name="secret" autocomplete="off" required autofocus></label>
        <label>Name for the new token<input name="name" value="npm login" maxlength="64"></label>
        <button type="submit">Log in</button>
      </form>`
    : "";
  const page = html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pkgedge: npm login</title><style>${STYLE}</style></head>
    <body><h1>pkgedge: npm login</h1>${body}${form}</body></html>`;
  return c.html(page, STATUS[step], {
    "content-security-policy": `default-src 'none'; style-src 'sha256-${await styleHash}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
  });
}
