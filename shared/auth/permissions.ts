// Who may do what to which package: scopes plus optional package-name patterns per token.
import type { Scope, TokenRecord } from "../origin";
import type { Grant } from "./grants";

export type Principal =
  | { kind: "anonymous" }
  | { kind: "admin" }
  | { kind: "token"; token: TokenRecord }
  /** A short-lived grant from the OCI token endpoint: only the repositories and actions it names. */
  | { kind: "grant"; grant: Grant };

/** `*` matches any run of characters, `/` included, so `team/*` covers `team/app/api`. */
export function matchesPattern(pattern: string, name: string): boolean {
  if (pattern === "*") return true;
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return re.test(name);
}

function hasScope(token: TokenRecord, scope: Scope): boolean {
  if (token.scopes.includes("admin")) return true;
  // Publishing implies reading what you publish.
  if (scope === "read" && token.scopes.includes("publish")) return true;
  return token.scopes.includes(scope);
}

export type Decision = "allow" | "unauthenticated" | "forbidden";

/** Decides one action on one package name. `anonymousRead` lets reads through without a token. */
export function authorize(principal: Principal, scope: Scope, name: string | null, anonymousRead: boolean): Decision {
  if (principal.kind === "admin") return "allow";
  // Reads open to everyone stay open to a token whose package list does not cover the name.
  if (scope === "read" && anonymousRead) return "allow";
  if (principal.kind === "anonymous") return "unauthenticated";
  if (principal.kind === "grant") {
    // Repository names are user-chosen: never read one through the prototype chain.
    const actions = name !== null && Object.hasOwn(principal.grant.access, name) ? principal.grant.access[name]! : [];
    const needed = scope === "read" ? "pull" : "push";
    return actions.includes(needed) || actions.includes("*") ? "allow" : "forbidden";
  }
  const { token } = principal;
  if (!hasScope(token, scope)) return "forbidden";
  // An empty list matches nothing (never "every name"): only an absent list covers every name.
  if (name !== null && token.packages !== undefined && !token.scopes.includes("admin")) {
    if (!token.packages.some((p) => matchesPattern(p, name))) return "forbidden";
  }
  return "allow";
}

/** The admin secret, or a pkgedge token with the admin scope (a grant never is). */
export function isAdmin(principal: Principal): boolean {
  return principal.kind === "admin" || (principal.kind === "token" && principal.token.scopes.includes("admin"));
}

export function principalName(principal: Principal): string {
  switch (principal.kind) {
    case "admin":
      return "admin";
    case "anonymous":
      return "anonymous";
    case "token":
      return principal.token.name;
    case "grant":
      return principal.grant.subject;
  }
}
