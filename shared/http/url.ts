// The parts of a request URL the hot path needs, read from the serialized string without a URL
// parser: workerd hands requests over with `request.url` already serialized by the WHATWG URL
// parser (scheme://host[:port]/path?query#fragment, default ports dropped, dot segments resolved),
// so slicing it gives exactly what `new URL(url).pathname` / `.origin` would.

function pathStart(url: string): number {
  const authority = url.indexOf("://");
  const slash = url.indexOf("/", authority < 0 ? 0 : authority + 3);
  return slash < 0 ? url.length : slash;
}

/** The still percent-encoded path, as `new URL(url).pathname` gives it. */
export function rawPathOf(url: string): string {
  const start = pathStart(url);
  let end = url.length;
  const query = url.indexOf("?", start);
  if (query >= 0) end = query;
  const hash = url.indexOf("#", start);
  if (hash >= 0 && hash < end) end = hash;
  return start >= url.length ? "/" : url.slice(start, end);
}

/** `scheme://host[:port]`, as `new URL(url).origin` gives it for http(s) URLs. */
export function originOf(url: string): string {
  return url.slice(0, pathStart(url));
}
