// UploadSession: one OCI blob upload in progress (end-4a, end-5, end-6, end-13), addressed by its
// upload id. It keeps the resumable upload state between requests, lets one request at a time
// append (chunks must arrive in order), and its alarm removes whatever an abandoned upload left.
import { DurableObject } from "cloudflare:workers";
import { BlobWriter, ObjectStore, type UploadState } from "../shared/origin";

interface Session {
  repository: string;
  state: UploadState;
  /** Held by the request appending right now; expires so a crashed request cannot wedge it. */
  lease?: { id: string; until: number };
  ttlMs: number;
  lastActive: number;
}

export interface Lease {
  id: string;
  state: UploadState;
}

// A chunk of a few GB at a slow client's pace still fits; after this the lease is presumed dead.
const LEASE_MS = 30 * 60 * 1000;

export class UploadSession extends DurableObject<Cloudflare.Env> {
  private session: Session | null = null;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.session = (await ctx.storage.get<Session>("session")) ?? null;
    });
  }

  async open(repository: string, state: UploadState, ttlSeconds: number): Promise<void> {
    await this.save({ repository, state, ttlMs: ttlSeconds * 1000, lastActive: Date.now() });
  }

  // Answers are values, not exceptions: an unknown upload is an expected outcome, and the edge
  // turns it into the protocol's error.

  /** Bytes received so far (end-13), or null for an unknown upload. */
  status(repository: string): { received: number } | null {
    const session = this.current(repository);
    return session ? { received: session.state.received } : null;
  }

  /** Takes the session for one request; a second concurrent request is refused ("busy"). */
  async begin(repository: string): Promise<Lease | "unknown" | "busy"> {
    const session = this.current(repository);
    if (!session) return "unknown";
    const now = Date.now();
    if (session.lease && session.lease.until > now) return "busy";
    const id = crypto.randomUUID();
    await this.save({ ...session, lease: { id, until: now + LEASE_MS }, lastActive: now });
    return { id, state: session.state };
  }

  /** Stores the state after an append and gives the session back. */
  async commit(leaseId: string, state: UploadState): Promise<boolean> {
    const session = this.leased(leaseId);
    if (!session) return false;
    await this.save({ repository: session.repository, state, ttlMs: session.ttlMs, lastActive: Date.now() });
    return true;
  }

  /** Gives the session back unchanged (the request was refused before it wrote anything). */
  async release(leaseId: string): Promise<void> {
    const session = this.leased(leaseId);
    if (session) await this.save({ repository: session.repository, state: session.state, ttlMs: session.ttlMs, lastActive: Date.now() });
  }

  /** The upload completed: forget it (its data now belongs to the blob). */
  async close(leaseId: string): Promise<void> {
    if (this.leased(leaseId)) await this.forget();
  }

  /** Cancel (DELETE) or failure: deletes every byte the upload wrote; false if it was unknown. */
  async discard(repository?: string): Promise<boolean> {
    const session = repository === undefined ? this.session : this.current(repository);
    if (!session) return false;
    await BlobWriter.discard(new ObjectStore(this.env.BLOBS), session.state);
    await this.forget();
    return true;
  }

  override async alarm(): Promise<void> {
    const session = this.session;
    if (!session) return;
    // Every request re-arms the alarm at last activity + TTL, so firing means idle that long;
    // only a request still appending (a chunk slower than the TTL) postpones the cleanup.
    if (session.lease && session.lease.until > Date.now()) {
      await this.ctx.storage.setAlarm(session.lease.until);
      return;
    }
    await this.discard();
  }

  private current(repository: string): Session | null {
    return this.session?.repository === repository ? this.session : null;
  }

  private leased(leaseId: string): Session | null {
    return this.session?.lease?.id === leaseId ? this.session : null;
  }

  private async save(session: Session): Promise<void> {
    this.session = session;
    await this.ctx.storage.put("session", session);
    await this.ctx.storage.setAlarm(session.lastActive + session.ttlMs);
  }

  private async forget(): Promise<void> {
    this.session = null;
    await this.ctx.storage.deleteAll();
    await this.ctx.storage.deleteAlarm();
  }
}
