// end-7 vs end-9: a tag PUT of a manifest racing a DELETE of that manifest by digest. Whatever
// the interleaving, a tag never points at a manifest that is gone: every tag in tags/list pulls.
import { describe, expect, it } from "vitest";
import { OciClient, publisher, randomImage } from "../../helpers/oci";

const TRIALS = 25;

describe("a manifest DELETE racing a tag PUT of the same manifest", () => {
  it(`leaves no tag that answers MANIFEST_UNKNOWN (${TRIALS} trials)`, async () => {
    const oci = await publisher();
    const anonymous = new OciClient();
    const dangling: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const name = `race/tag-delete-${trial}`;
      const image = await randomImage();
      await oci.pushImage(name, "base", image);
      // Stagger the two by a few event-loop turns so every interleaving gets its turn.
      const wait = (n: number) => new Promise((r) => setTimeout(r, n));
      const [put, del] = await Promise.all([
        (async () => {
          await wait(trial % 5);
          return oci.putManifest(name, `t${trial}`, image.manifest);
        })(),
        (async () => {
          await wait((trial * 3) % 7);
          return oci.deleteManifest(name, image.manifest.digest);
        })(),
      ]);
      expect([201, 404]).toContain(put.status);
      expect([202, 404]).toContain(del.status);
      const { tags } = await (await anonymous.tags(name)).json<{ tags: string[] }>();
      for (const tag of tags) {
        const res = await anonymous.getManifest(name, tag);
        await res.body?.cancel();
        if (res.status !== 200) dangling.push(`${name}:${tag} -> ${res.status}`);
      }
    }
    expect(dangling).toEqual([]);
  }, 120_000);
});
