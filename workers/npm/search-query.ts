// The `text=` of `npm search` (GET /-/v1/search): words plus the qualifiers npm's registry
// documents: author:, maintainer:, scope:, keywords: (with `,` for or, `+` for and, `,-` for
// not), is:/not:unstable, is:/not:insecure, boost-exact:; is:/not:deprecated as well.
import { badRequest } from "../../shared/errors";
import type { SearchQuery } from "../../durable-objects/search-index";

const MAX_TEXT = 512;
const MAX_TERMS = 16;

/** The query, or null when it can match nothing (`is:insecure`: pkgedge knows of no advisories). */
export function parseSearchText(text: string): SearchQuery | null {
  if (text.length > MAX_TEXT) throw badRequest(`search text is longer than ${MAX_TEXT} characters`);
  const query: SearchQuery = { terms: [], boostExact: true };
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    const colon = word.indexOf(":");
    const qualifier = colon > 0 ? word.slice(0, colon).toLowerCase() : "";
    const value = colon > 0 ? word.slice(colon + 1) : "";
    switch (qualifier) {
      case "author":
        query.author = value;
        break;
      case "maintainer":
        query.maintainer = value;
        break;
      case "scope":
        query.scope = value.replace(/^@/, "") || "unscoped";
        break;
      case "keywords":
        query.keywords = parseKeywords(value);
        break;
      case "boost-exact":
        query.boostExact = value !== "false";
        break;
      case "is":
      case "not": {
        const wanted = qualifier === "is";
        if (value === "unstable") query.unstable = wanted;
        else if (value === "deprecated") query.deprecated = wanted;
        else if (value === "insecure") {
          if (wanted) return null;
        } else throw badRequest(`unknown search qualifier ${word}: use is: or not: with unstable, insecure or deprecated`);
        break;
      }
      default:
        if (query.terms.length >= MAX_TERMS) throw badRequest(`search text has more than ${MAX_TERMS} words`);
        query.terms.push(word);
    }
  }
  return query;
}

/** `a,b+c,-d`: a or (b and c), and never d, as npm documents the separators. */
function parseKeywords(value: string): NonNullable<SearchQuery["keywords"]> {
  const out: NonNullable<SearchQuery["keywords"]> = { anyOf: [], none: [] };
  for (const part of value.split(",").filter(Boolean)) {
    if (part.startsWith("-")) out.none.push(part.slice(1));
    else out.anyOf.push(part.split("+").filter(Boolean));
  }
  return out;
}
