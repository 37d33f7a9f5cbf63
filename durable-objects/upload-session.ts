// UploadSession: one OCI blob upload in progress (end-4a, end-5, end-6, end-13), addressed by its
// upload id. It keeps the resumable upload state between requests, lets one request at a time
// append (chunks must arrive in order), and its alarm removes whatever an abandoned upload left.
//
// Finishing moves ownership of the data object from the session to the blob, and a crash may
// stop it half-way, so the finish is a small protocol this object serializes:
//   1. prepare(): the session records "committing <digest>" before any byte becomes a blob;
//   2. the request completes the data object (only after the digest was checked);
//   3. finalize(): links it (RepositoryStore.commitBlob) and forgets the session, in one step
//      no other call of this object can interleave with.
// A session found committing by anyone else (a retried PUT, a DELETE, the alarm) once the
// finishing request is gone is resolved, never simply discarded: a data object that exists
// holds verified bytes once its size is the upload's, so the commit is completed; otherwise it
// is rolled back. Nothing
// that discards an upload can therefore delete bytes a blob link points at.
import { DurableObject } from "cloudflare:workers";
import { BlobWriter, ObjectStore, PART_BYTES, type UploadState } from "../shared/origin";
import { openUploadObject } from "../workers/oci/keys";
import { RepositoryStore } from "../workers/oci/storage";

interface Session {
  repository: string;
  state: UploadState;
  /** Held by the request appending right now; expires so a crashed request cannot wedge it. */
  lease?: { id: string; until: number; incarnation: string };
  ttlMs: number;
  lastActive: number;
  /** Set by prepare(): the digest this upload is becoming. */
  committing?: string;
}

export interface Lease {
  id: string;
  state: UploadState;
}

/** What begin() answers for a session a crashed finish left: it was completed or rolled back. */
export interface Resolved {
  resolved: "committed" | "rolled-back";
  digest: string;
}

// A chunk of a few GB at a slow client's pace still fits; after this the lease is presumed dead.
const LEASE_MS = 30 * 60 * 1000;
// Completing a multipart upload and writing two links takes seconds; a finish lease older than
// this belongs to a request that died.
const FINISH_LEASE_MS = 60 * 1000;

export class UploadSession extends DurableObject<Cloudflare.Env> {
  private session: Session | null = null;
  // Leases are held by requests outside this object; a finish lease taken before this object
  // was last reset (a crash, an eviction) cannot be one whose request still answers for it.
  private readonly incarnation = crypto.randomUUID();

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.session = (await ctx.storage.get<Session>("session")) ?? null;
    });
  }

  async open(repository: string, state: UploadState, ttlSeconds: number): Promise<void> {
    await this.save({ repository, state, ttlMs: ttlSeconds * 1000, lastActive: Date.now() });
  }

  /** Opens a session already leased to the caller (a monolithic upload large enough for parts). */
  async openLeased(repository: string, state: UploadState, ttlSeconds: number): Promise<string> {
    const id = crypto.randomUUID();
    const now = Date.now();
    await this.save({ repository, state, ttlMs: ttlSeconds * 1000, lastActive: now, lease: { id, until: now + LEASE_MS, incarnation: this.incarnation } });
    if (state.multipartId) await this.markOpen(state);
    return id;
  }

  // Answers are values, not exceptions: an unknown upload is an expected outcome, and the edge
  // turns it into the protocol's error.

  /** Bytes received so far (end-13), or null for an unknown upload. */
  async status(repository: string): Promise<{ received: number } | null> {
    const session = await this.settled(repository);
    return session && !("resolved" in session) ? { received: session.state.received } : null;
  }

  /** Takes the session for one request; a second concurrent request is refused ("busy"). */
  async begin(repository: string): Promise<Lease | Resolved | "unknown" | "busy"> {
    const session = await this.settled(repository);
    if (!session) return "unknown";
    if ("resolved" in session) return session;
    const now = Date.now();
    if (this.leaseLive(session)) return "busy";
    const id = crypto.randomUUID();
    await this.save({ ...session, lease: { id, until: now + LEASE_MS, incarnation: this.incarnation }, lastActive: now });
    return { id, state: session.state };
  }

  /** Stores the state after an append and gives the session back. */
  async commit(leaseId: string, state: UploadState): Promise<boolean> {
    const session = this.leased(leaseId);
    if (!session) return false;
    await this.save({ repository: session.repository, state, ttlMs: session.ttlMs, lastActive: Date.now() });
    return true;
  }

  /**
   * Records a multipart upload the moment R2 creates it, so that a request dying in the middle
   * of a chunk still leaves the alarm able to abort it (and the metrics able to count it).
   */
  async recordMultipart(leaseId: string, multipartId: string): Promise<boolean> {
    const session = this.leased(leaseId);
    if (!session) return false;
    // Only the id: the rest of the state stays what the last completed request left.
    const state = { ...session.state, multipartId };
    await this.save({ ...session, state, lastActive: Date.now() });
    await this.markOpen(state);
    return true;
  }

  /** Gives the session back unchanged (the request was refused before it wrote anything). */
  async release(leaseId: string): Promise<void> {
    const session = this.leased(leaseId);
    if (session) await this.save({ repository: session.repository, state: session.state, ttlMs: session.ttlMs, lastActive: Date.now() });
  }

  /** Step 1 of a finish: the upload, with every byte received, is becoming blob `digest`. */
  async prepare(leaseId: string, digest: string, state: UploadState): Promise<boolean> {
    const session = this.leased(leaseId);
    if (!session) return false;
    const now = Date.now();
    await this.save({ ...session, state, committing: digest, lastActive: now, lease: { id: leaseId, until: now + FINISH_LEASE_MS, incarnation: this.incarnation } });
    return true;
  }

  /**
   * Step 3: the data object is complete and verified; link it and forget the session. False
   * when the lease was lost (the session was resolved meanwhile): the caller must not assume
   * its bytes became the blob.
   */
  async finalize(leaseId: string): Promise<boolean> {
    return this.ctx.blockConcurrencyWhile(async () => {
      const session = this.leased(leaseId);
      if (!session?.committing) return false;
      await this.repositories().commitBlob(session.repository, session.committing, session.state.key);
      await this.forget();
      return true;
    });
  }

  /**
   * A whole finish in one call, for a PUT without a last chunk of an upload smaller than one
   * part or streamed whole (what skopeo and docker send after one PATCH): its data object
   * already holds every byte, so this object checks the digest itself (the digest of a whole
   * one, else the saved hash state plus the last partial block), records it (prepare), links
   * the blob and closes (finalize) without the request
   * coming back between the steps: two round trips fewer. The same steps in the same order as
   * the three-call finish, so a crash anywhere leaves what that one leaves. "resume": not such an
   * upload; the caller finishes it the long way.
   */
  async finishWhole(repository: string, digest: string): Promise<"committed" | "resume" | "unknown" | "busy" | Resolved | { mismatch: string }> {
    const session = await this.settled(repository);
    if (!session) return "unknown";
    if ("resolved" in session) return session;
    // An empty upload has no data object yet: the long way writes it.
    const { state } = session;
    if (!state.whole && (state.multipartId || state.received === 0 || state.received >= PART_BYTES)) return "resume";
    return this.ctx.blockConcurrencyWhile(async () => {
      const current = this.current(repository);
      if (!current) return "unknown";
      if (this.leaseLive(current) || current.committing) return "busy";
      const store = this.store();
      // A whole one needs only its size checked (resume does): its digest is in the state.
      const writer = await BlobWriter.resume(store, current.state, {}, { noMoreBytes: true }).catch(() => null);
      if (!writer) return "resume";
      const actual = writer.digest();
      if (actual !== digest) {
        await BlobWriter.discard(store, current.state);
        await this.forget();
        return { mismatch: actual };
      }
      const now = Date.now();
      await this.save({ ...current, committing: digest, lastActive: now, lease: { id: crypto.randomUUID(), until: now + FINISH_LEASE_MS, incarnation: this.incarnation } });
      await this.repositories().commitBlob(repository, digest, current.state.key);
      await this.forget();
      return "committed";
    });
  }

  /**
   * Cancel (DELETE) or failure: deletes every byte the upload wrote; false if it was unknown.
   * A session in the middle of a finish is resolved instead (see the header); while its
   * finishing request may still be alive, only that request (`leaseId`) may do it.
   */
  async discard(repository?: string, leaseId?: string): Promise<boolean | "busy"> {
    return this.ctx.blockConcurrencyWhile(async () => {
      const session = repository === undefined ? this.session : this.current(repository);
      if (!session) return false;
      if (session.committing) {
        if (this.leaseLive(session) && session.lease?.id !== leaseId) return "busy";
        await this.resolve(session);
        return true;
      }
      await BlobWriter.discard(this.store(), session.state);
      await this.forget();
      return true;
    });
  }

  override async alarm(): Promise<void> {
    const session = this.session;
    if (!session) return;
    // Every request re-arms the alarm at last activity + TTL, so firing means idle that long;
    // only a request still appending (a chunk slower than the TTL) postpones the cleanup.
    if (this.leaseLive(session)) {
      await this.ctx.storage.setAlarm(session.lease!.until);
      return;
    }
    await this.discard();
  }

  /** The session, after resolving one a crashed finish left (answered as `Resolved`). */
  private async settled(repository: string): Promise<Session | Resolved | null> {
    const session = this.current(repository);
    if (!session?.committing || this.leaseLive(session)) return session;
    return this.ctx.blockConcurrencyWhile(async () => {
      const again = this.current(repository);
      if (!again?.committing || this.leaseLive(again)) return again;
      return this.resolve(again);
    });
  }

  /** Completes or rolls back an interrupted finish (callers hold blockConcurrencyWhile). */
  private async resolve(session: Session): Promise<Resolved> {
    const digest = session.committing!;
    const store = this.store();
    // Before a finish the data object holds at most a prefix of the upload (a small upload keeps
    // its bytes there between chunks); the digest was checked over all of them before prepare(),
    // so the object is the blob exactly when it holds every byte.
    if ((await store.size(session.state.key)) === session.state.received) {
      await this.repositories().commitBlob(session.repository, digest, session.state.key);
      await BlobWriter.dropTail(store, session.state);
      await this.forget();
      return { resolved: "committed", digest };
    }
    await BlobWriter.discard(store, session.state);
    await this.forget();
    return { resolved: "rolled-back", digest };
  }

  private leaseLive(session: Session): boolean {
    const lease = session.lease;
    if (!lease || lease.until <= Date.now()) return false;
    return !session.committing || lease.incarnation === this.incarnation;
  }

  private current(repository: string): Session | null {
    return this.session?.repository === repository ? this.session : null;
  }

  private leased(leaseId: string): Session | null {
    return this.session?.lease?.id === leaseId ? this.session : null;
  }

  private store(): ObjectStore {
    return new ObjectStore(this.env.BLOBS);
  }

  private repositories(): RepositoryStore {
    return new RepositoryStore(this.store());
  }

  /** An R2 marker per open multipart upload: what `pkgedge_oci_open_uploads` counts. */
  private async markOpen(state: UploadState): Promise<void> {
    await this.store().write(openUploadObject(state.key), "", { contentType: "text/plain", metadata: { multipart: state.multipartId ?? "" } });
  }

  // The state and its alarm are written together: storage calls made without an await between
  // them commit as one atomic batch, so this costs one write, not two in a row.
  private async save(session: Session): Promise<void> {
    this.session = session;
    const idleUntil = session.lastActive + session.ttlMs;
    await Promise.all([
      this.ctx.storage.put("session", session),
      // A finish in progress is looked at again as soon as its lease runs out.
      this.ctx.storage.setAlarm(session.committing && session.lease ? Math.min(idleUntil, session.lease.until) : idleUntil),
    ]);
  }

  private async forget(): Promise<void> {
    const state = this.session?.state;
    this.session = null;
    await Promise.all([
      state?.multipartId ? this.store().delete(openUploadObject(state.key)) : null,
      this.ctx.storage.deleteAll(),
      this.ctx.storage.deleteAlarm(),
    ]);
  }
}
