// Reading request bodies with a hard size limit, enforced while streaming so an oversize or
// lying Content-Length never makes the isolate hold more than `limit` bytes.
import { RegistryError } from "../errors";

export async function readBodyLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    throw new RegistryError("TOO_LARGE", `request body of ${declared} bytes exceeds the limit of ${limit} bytes`);
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new RegistryError("TOO_LARGE", `request body exceeds the limit of ${limit} bytes`);
    }
    chunks.push(value);
  }
  if (declared !== null && Number(declared) !== total) {
    throw new RegistryError("BAD_REQUEST", `request body was truncated: got ${total} of ${declared} bytes`);
  }
  return concatBytes(chunks, total);
}

/** The chunks as one array (`total` is their summed length). */
export function concatBytes(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** Nesting no registry document needs: deeper ones are refused before anything recurses over them. */
export const MAX_JSON_DEPTH = 64;

/**
 * True when `value` nests arrays/objects deeper than `max`. Walks with its own stack: the
 * recursive code that would otherwise meet the value first (JSON.stringify, structured clone)
 * overflows the call stack on deep input and turns a client error into a 500.
 */
export function tooDeep(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
  }
  return false;
}

export async function readJsonLimited<T = unknown>(request: Request, limit: number): Promise<T> {
  const bytes = await readBodyLimited(request, limit);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new RegistryError("BAD_REQUEST", "request body is not valid JSON");
  }
  if (tooDeep(value)) throw new RegistryError("BAD_REQUEST", `request body nests deeper than ${MAX_JSON_DEPTH} levels`);
  return value as T;
}
