// The INVALIDATIONS queue consumer: applies each batch of invalidation events in every region.
// A failure retries the whole batch, which is safe because applying an event twice is harmless.
import { loadConfig } from "../shared/config";
import type { InvalidationEvent } from "../shared/tiers";
import { deliverEverywhere } from "../shared/tiers/invalidation";

export async function consumeInvalidations(batch: MessageBatch<InvalidationEvent>, env: Cloudflare.Env): Promise<void> {
  const config = loadConfig(env);
  const missed = await deliverEverywhere(env, config, batch.messages.map((m) => m.body));
  if (missed.length > 0) throw new Error(`invalidation batch not applied in ${missed.join(", ")}; retried`);
  batch.ackAll();
}
