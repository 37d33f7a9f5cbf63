// SearchIndex: full-text search over hosted npm packages (`npm search`), one SQLite FTS5 index
// per deployment. Searches are rare next to installs (a person typing, not a CI fleet), so one
// object is enough and keeps ranking exact; the edge filters results by what the caller may
// read, and writes keep the index current as part of every publish, deprecation and unpublish.
import { DurableObject } from "cloudflare:workers";

/** What the index keeps of a package: its latest version's searchable facts. */
export interface PackageSummary {
  name: string;
  /** The scope without `@`, or "unscoped" (as npm's registry answers). */
  scope: string;
  version: string;
  description: string;
  keywords: string[];
  /** ISO time of the latest version's publish. */
  date: string;
  maintainers: Array<{ username: string; email?: string }>;
  publisher?: { username: string; email?: string };
  author?: { name: string; email?: string };
  links: { homepage?: string; repository?: string; bugs?: string };
  deprecated: boolean;
  /** The latest version is below 1.0.0 (npm's `is:unstable`). */
  unstable: boolean;
}

/** A parsed `text=` query (workers/npm/search-query.ts builds it). */
export interface SearchQuery {
  terms: string[];
  scope?: string;
  author?: string;
  maintainer?: string;
  /** keywords:a,b+c,-d: one of the `anyOf` groups with all its keywords, and none of `none`. */
  keywords?: { anyOf: string[][]; none: string[] };
  unstable?: boolean;
  deprecated?: boolean;
  boostExact: boolean;
}

export interface SearchHit {
  name: string;
  /** Relevance, higher is better (bm25 negated; 0 when the query has no words). */
  relevance: number;
}

// Most candidates one search considers before the edge filters them by the caller's access.
const MAX_CANDIDATES = 5_000;

const MIGRATIONS = [
  `CREATE TABLE packages (
     name TEXT PRIMARY KEY,
     summary TEXT NOT NULL,   -- PackageSummary as JSON
     scope TEXT NOT NULL,
     keywords TEXT NOT NULL,  -- JSON array
     people TEXT NOT NULL,    -- JSON array of maintainer and author names
     author TEXT NOT NULL,
     deprecated INTEGER NOT NULL,
     unstable INTEGER NOT NULL
   );
   -- The default unicode61 tokenizer splits names on - / @ . so "left-pad" is found by "pad".
   CREATE VIRTUAL TABLE docs USING fts5(name, description, keywords, people);`,
];

export class SearchIndex extends DurableObject<Cloudflare.Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY)");
    const applied = this.sql.exec<{ id: number }>("SELECT COALESCE(MAX(id), -1) AS id FROM _migrations").one().id;
    MIGRATIONS.forEach((statement, id) => {
      if (id <= applied) return;
      this.sql.exec(statement);
      this.sql.exec("INSERT INTO _migrations (id) VALUES (?)", id);
    });
  }

  /** Adds or replaces a package's entry. */
  upsert(summary: PackageSummary): void {
    const people = [...summary.maintainers.map((m) => m.username), ...(summary.author ? [summary.author.name] : []), ...(summary.publisher ? [summary.publisher.username] : [])];
    this.ctx.storage.transactionSync(() => {
      this.remove(summary.name);
      this.sql.exec(
        `INSERT INTO packages (name, summary, scope, keywords, people, author, deprecated, unstable) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        summary.name, JSON.stringify(summary), summary.scope, JSON.stringify(summary.keywords), JSON.stringify(people),
        summary.author?.name ?? summary.publisher?.username ?? "", summary.deprecated ? 1 : 0, summary.unstable ? 1 : 0);
      const rowid = this.sql.exec<{ id: number }>("SELECT rowid AS id FROM packages WHERE name = ?", summary.name).one().id;
      this.sql.exec("INSERT INTO docs (rowid, name, description, keywords, people) VALUES (?, ?, ?, ?, ?)",
        rowid, summary.name, summary.description, summary.keywords.join(" "), people.join(" "));
    });
  }

  /** Drops a package (unpublished). */
  remove(name: string): void {
    const row = this.sql.exec<{ id: number }>("SELECT rowid AS id FROM packages WHERE name = ?", name).toArray()[0];
    if (!row) return;
    this.sql.exec("DELETE FROM docs WHERE rowid = ?", row.id);
    this.sql.exec("DELETE FROM packages WHERE rowid = ?", row.id);
  }

  /** Ranked names matching `query`: an exact name first (unless boost-exact:false), then bm25. */
  search(query: SearchQuery): SearchHit[] {
    const where: string[] = [];
    const args: unknown[] = [];
    let from = "packages p";
    let rank = "0";
    if (query.terms.length > 0) {
      from = "docs JOIN packages p ON p.rowid = docs.rowid";
      where.push("docs MATCH ?");
      // Each word as a quoted prefix: "lef" finds left-pad; quotes keep FTS5 syntax out of user text.
      args.push(query.terms.map((t) => `"${t.replace(/"/g, '""')}"*`).join(" "));
      // Column weights: a word in the name counts most, then keywords, description, people.
      rank = "bm25(docs, 10.0, 2.0, 4.0, 1.0)";
    }
    if (query.scope !== undefined) {
      where.push("p.scope = ?");
      args.push(query.scope);
    }
    if (query.maintainer !== undefined) {
      where.push("EXISTS (SELECT 1 FROM json_each(p.people) WHERE value = ?)");
      args.push(query.maintainer);
    }
    if (query.author !== undefined) {
      where.push("p.author = ?");
      args.push(query.author);
    }
    // Has one of `count` keywords (bound as arguments).
    const keywordIn = (count: number) => `EXISTS (SELECT 1 FROM json_each(p.keywords) WHERE value IN (${Array(count).fill("?").join(",")}))`;
    const groups = (query.keywords?.anyOf ?? []).filter((g) => g.length > 0);
    if (groups.length) {
      where.push(`(${groups.map((g) => `(${g.map(() => keywordIn(1)).join(" AND ")})`).join(" OR ")})`);
      args.push(...groups.flat());
    }
    if (query.keywords?.none.length) {
      where.push(`NOT ${keywordIn(query.keywords.none.length)}`);
      args.push(...query.keywords.none);
    }
    if (query.unstable !== undefined) where.push(`p.unstable = ${query.unstable ? 1 : 0}`);
    if (query.deprecated !== undefined) where.push(`p.deprecated = ${query.deprecated ? 1 : 0}`);
    const exact = query.boostExact && query.terms.length > 0 ? "(p.name = ?) DESC, " : "";
    const order = `${exact}rank ASC, p.name ASC`;
    const exactArgs = exact ? [query.terms.join(" ")] : [];
    return this.sql
      .exec<{ name: string; rank: number }>(
        `SELECT p.name AS name, ${rank} AS rank FROM ${from} ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY ${order} LIMIT ${MAX_CANDIDATES}`,
        ...args, ...exactArgs)
      .toArray()
      .map((r) => ({ name: r.name, relevance: -r.rank }));
  }

  /** The stored summaries of these packages, in the order asked. */
  summaries(names: string[]): PackageSummary[] {
    const out: PackageSummary[] = [];
    for (const name of names) {
      const row = this.sql.exec<{ summary: string }>("SELECT summary FROM packages WHERE name = ?", name).toArray()[0];
      if (row) out.push(JSON.parse(row.summary) as PackageSummary);
    }
    return out;
  }
}
