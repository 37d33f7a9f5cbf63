// bodyLimit(): a declared Content-Length over the route's limit is a 413 before the handler runs;
// the first limit a request meets decides, so a route's own limit wins over a later default.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { Config } from "../../../shared/config";
import { jsonError } from "../../../workers/errors";
import { bodyLimit } from "../../../workers/middleware/body-limit";

const app = new Hono();
app.onError(jsonError);
app.use(async function config(c, next) {
  c.set("config", { maxPublishBytes: 100, maxRequestBodyBytes: 10 } as Config);
  await next();
});
app.put("/big", bodyLimit((config) => config.maxPublishBytes));
app.put("/upload", bodyLimit(() => "streamed"));
app.use(bodyLimit((config) => config.maxRequestBodyBytes));
app.put("*", (c) => c.text(`read ${c.get("bodyLimit")}`));

const put = (path: string, size: number, declare = true) =>
  app.request(path, { method: "PUT", body: "x".repeat(size), headers: declare ? { "content-length": String(size) } : {} });

describe("bodyLimit", () => {
  it("refuses a declared length over the limit before the handler, naming both", async () => {
    const res = await put("/small", 11);
    expect([res.status, await res.json()]).toEqual([413, { error: "request body of 11 bytes exceeds the limit of 10 bytes for this route" }]);
  });

  it("lets the route's own limit, registered first, decide over the default", async () => {
    expect([(await put("/big", 100)).status, await (await put("/big", 100)).text()]).toEqual([200, "read 100"]);
    expect((await put("/big", 101)).status).toBe(413);
  });

  it("lets a streamed route bound its own body", async () => {
    expect((await put("/upload", 1000)).status).toBe(200);
  });

  it("leaves a body without Content-Length to the route's reader", async () => {
    expect((await put("/small", 11, false)).status).toBe(200);
  });
});
