// LoginSession: one `npm login` in progress (npm's web login), addressed by its login id. npm
// polls the done URL while the person proves who they are on the login page; what they were
// allowed then waits here (never a token: the Worker mints it when npm collects, so an approval
// nobody collects leaves no credential behind) for at most LOGIN_TTL_MS after the login began,
// and is handed out once. Only the SHA-256 of the done URL's secret is kept, so the login URL
// (which npm prints) is not enough to collect anything.
import { DurableObject } from "cloudflare:workers";
import type { TokenFields } from "../shared/auth/tokens";

const LOGIN_TTL_MS = 10 * 60_000;

interface State {
  doneHash: string;
  expiresAt: number;
  approved?: TokenFields;
}

export type Collected = { state: "pending" } | { state: "approved"; fields: TokenFields } | { state: "unknown" };

export class LoginSession extends DurableObject<Cloudflare.Env> {
  /** Starts the login; false when the id is already in use (ids are random: never, in practice). */
  async open(doneHash: string): Promise<boolean> {
    if (await this.live()) return false;
    const expiresAt = Date.now() + LOGIN_TTL_MS;
    await this.ctx.storage.put<State>("state", { doneHash, expiresAt });
    await this.ctx.storage.setAlarm(expiresAt);
    return true;
  }

  /** Whether the login page may still be used. */
  async pending(): Promise<boolean> {
    const state = await this.live();
    return !!state && state.approved === undefined;
  }

  /** Records what the token npm collects may do; false when the login is gone or already approved. */
  async approve(fields: TokenFields): Promise<boolean> {
    const state = await this.live();
    if (!state || state.approved !== undefined) return false;
    await this.ctx.storage.put<State>("state", { ...state, approved: fields });
    return true;
  }

  /** npm's poll: the approval once (then the session is gone), pending before that. */
  async collect(doneHash: string): Promise<Collected> {
    const state = await this.live();
    if (!state || state.doneHash !== doneHash) return { state: "unknown" };
    if (state.approved === undefined) return { state: "pending" };
    await this.ctx.storage.deleteAll();
    return { state: "approved", fields: state.approved };
  }

  /** The lease ran out: forget the login. */
  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }

  private async live(): Promise<State | null> {
    const state = await this.ctx.storage.get<State>("state");
    return state && state.expiresAt > Date.now() ? state : null;
  }
}
