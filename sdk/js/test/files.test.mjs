// File fields through the SDK: uploads (FormData and plain objects with
// Blobs), downloads with pb.files.getURL, thumbnails, protected files with
// pb.files.getToken, batches with files, and validation errors.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import {
    superuserClient,
    anonClient,
    uniqueName,
    CollectionTracker,
    expectError,
    assertErrorShape,
    assertFieldError,
} from "../lib/helpers.mjs";

// A w×h RGB PNG with a gradient, built by hand (no image library).
function makePNG(w, h) {
    const crcTable = new Int32Array(256).map((_, n) => {
        let c = n;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
        return c;
    });
    const crc32 = (buf) => {
        let c = -1;
        for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
        return (c ^ -1) >>> 0;
    };
    const chunk = (type, data) => {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(data.length);
        const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
        const crc = Buffer.alloc(4);
        crc.writeUInt32BE(crc32(td));
        return Buffer.concat([len, td, crc]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(w, 0);
    ihdr.writeUInt32BE(h, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // RGB
    const raw = Buffer.alloc((w * 3 + 1) * h);
    for (let y = 0; y < h; y++) {
        const row = y * (w * 3 + 1);
        for (let x = 0; x < w; x++) {
            raw[row + 1 + x * 3] = (x * 255) / w;
            raw[row + 2 + x * 3] = (y * 255) / h;
            raw[row + 3 + x * 3] = 128;
        }
    }
    return Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk("IHDR", ihdr),
        chunk("IDAT", deflateSync(raw)),
        chunk("IEND", Buffer.alloc(0)),
    ]);
}

// The dimensions in a PNG's IHDR.
function pngSize(buf) {
    assert.equal(buf.subarray(1, 4).toString("ascii"), "PNG", "not a PNG");
    return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

async function download(url) {
    const res = await fetch(url);
    return { status: res.status, type: res.headers.get("content-type"), body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

describe("files", { timeout: 120_000 }, () => {
    let pb;
    let tracker;
    const name = uniqueName("files");
    let c;
    const png = makePNG(240, 160);

    before(async () => {
        pb = await superuserClient();
        tracker = new CollectionTracker(pb);
        await tracker.create({
            name,
            type: "base",
            listRule: "",
            viewRule: "@request.auth.id != ''",
            createRule: "",
            updateRule: "",
            deleteRule: "",
            fields: [
                { name: "title", type: "text" },
                { name: "doc", type: "file", maxSelect: 1, mimeTypes: ["image/png", "image/jpeg"], thumbs: ["60x40"] },
                { name: "gallery", type: "file", maxSelect: 3 },
                { name: "secret", type: "file", maxSelect: 1, protected: true },
            ],
        });
        c = pb.collection(name);
    });

    after(async () => {
        await tracker.cleanup();
    });

    it("uploads with FormData and downloads the same bytes with getURL", async () => {
        const fd = new FormData();
        fd.append("title", "form");
        fd.append("doc", new Blob([png], { type: "image/png" }), "My Picture.png");
        const r = await c.create(fd);
        assert.match(r.doc, /^my_picture_[a-z0-9]{10}\.png$/);
        const url = pb.files.getURL(r, r.doc);
        assert.ok(url.includes(`/api/files/${r.collectionId}/${r.id}/${r.doc}`), url);
        const got = await download(url);
        assert.equal(got.status, 200);
        assert.equal(got.type, "image/png");
        assert.ok(got.body.equals(png), "downloaded bytes differ");
        assert.equal(got.headers.get("x-content-type-options"), "nosniff");
    });

    it("serves a thumbnail with getURL(..., {thumb})", async () => {
        const r = await c.create({ title: "thumb", doc: new File([png], "t.png", { type: "image/png" }) });
        for (const [thumb, want] of [
            ["100x100", { width: 100, height: 100 }],
            ["60x40", { width: 60, height: 40 }],
            ["33x33", { width: 240, height: 160 }], // not allowed: the original
        ]) {
            const got = await download(pb.files.getURL(r, r.doc, { thumb }));
            assert.equal(got.status, 200, thumb);
            assert.equal(got.type, "image/png", thumb);
            assert.deepEqual(pngSize(got.body), want, thumb);
        }
    });

    it("appends and removes files of a multi-file field", async () => {
        const file = (n) => new File([`content ${n}`], `file ${n}.txt`, { type: "text/plain" });
        let r = await c.create({ title: "multi", gallery: [file("a1"), file("a2")] });
        assert.equal(r.gallery.length, 2);
        r = await c.update(r.id, { "gallery+": file("a3") });
        assert.equal(r.gallery.length, 3);
        assert.match(r.gallery[2], /^file_a3_[a-z0-9]{10}\.txt$/);
        const removed = r.gallery[0];
        r = await c.update(r.id, { "gallery-": [removed] });
        assert.deepEqual(r.gallery.length, 2);
        assert.ok(!r.gallery.includes(removed));
        assert.equal((await download(pb.files.getURL(r, removed))).status, 404);
        const kept = await download(pb.files.getURL(r, r.gallery[1]));
        assert.equal(kept.body.toString(), "content a3");

        const err = await expectError(
            () => c.update(r.id, { "gallery+": [file("b1"), file("b2")] }),
            400,
            "over maxSelect",
        );
        assertFieldError(err, "gallery", "validation_too_many_files");
    });

    it("rejects a file whose content is not an allowed type, whatever its name and Content-Type", async () => {
        const err = await expectError(
            () => c.create({ doc: new File(["<html><script>alert(1)</script></html>"], "x.png", { type: "image/png" }) }),
            400,
        );
        assertErrorShape(err, 400);
        assertFieldError(err, "doc", "validation_invalid_mime_type");
    });

    it("needs a file token for a protected file", async () => {
        const r = await c.create({ title: "secret", secret: new File(["top secret"], "s.txt", { type: "text/plain" }) });
        const plain = await download(pb.files.getURL(r, r.secret));
        assert.equal(plain.status, 404, "protected file without a token");

        const token = await pb.files.getToken();
        assert.ok(token.length > 20);
        const got = await download(pb.files.getURL(r, r.secret, { token }));
        assert.equal(got.status, 200);
        assert.equal(got.body.toString(), "top secret");
        assert.equal(got.headers.get("cache-control"), "private, no-store");

        const guest = anonClient();
        await expectError(() => guest.files.getToken(), 401, "file token for a guest");
    });

    it("sends files in a batch", async () => {
        const batch = pb.createBatch();
        batch.collection(name).create({ title: "b1", doc: new File([png], "batch1.png", { type: "image/png" }) });
        batch.collection(name).create({ title: "b2", gallery: [new File(["g"], "g.txt")] });
        const res = await batch.send();
        assert.equal(res.length, 2);
        assert.equal(res[0].status, 200);
        const rec = res[0].body;
        assert.match(rec.doc, /^batch1_[a-z0-9]{10}\.png$/);
        const got = await download(pb.files.getURL(rec, rec.doc));
        assert.ok(got.body.equals(png));
        assert.equal(res[1].body.gallery.length, 1);
    });

    it("deletes the files of a deleted record", async () => {
        const r = await c.create({ doc: new File([png], "gone.png", { type: "image/png" }) });
        const url = pb.files.getURL(r, r.doc);
        assert.equal((await download(url)).status, 200);
        await c.delete(r.id);
        assert.equal((await download(url)).status, 404);
    });
});
