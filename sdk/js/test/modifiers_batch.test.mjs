// `+`/`-` field modifiers and batch requests (success, upsert, rollback).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import {
    superuserClient,
    uniqueName,
    CollectionTracker,
    expectError,
    assertErrorShape,
    ID_RE,
    sorted,
    short,
} from "../lib/helpers.mjs";

describe("field modifiers", { timeout: 120_000 }, () => {
    let pb;
    let tracker;
    const name = uniqueName("mod");
    let c;

    before(async () => {
        pb = await superuserClient();
        tracker = new CollectionTracker(pb);
        await tracker.create({
            name,
            type: "base",
            fields: [
                { name: "title", type: "text", required: true },
                { name: "views", type: "number" },
                { name: "tags", type: "select", values: ["a", "b", "c", "d", "e"], maxSelect: 5 },
            ],
        });
        c = pb.collection(name);
    });

    after(async () => {
        await tracker.cleanup();
    });

    it("adds to and subtracts from a number with views+ / views-", async () => {
        const r = await c.create({ title: "n", views: 10 });
        let u = await c.update(r.id, { "views+": 5 });
        assert.equal(u.views, 15);
        u = await c.update(r.id, { "views-": 3 });
        assert.equal(u.views, 12);
        u = await c.update(r.id, { "views+": 0.5 });
        assert.equal(u.views, 12.5);
        u = await c.update(r.id, { "views-": 20 });
        assert.equal(u.views, -7.5);
        assert.equal((await c.getOne(r.id)).views, -7.5);
    });

    it("applies a number modifier on create (starting from zero)", async () => {
        const r = await c.create({ title: "n0", "views+": 4 });
        assert.equal(r.views, 4);
    });

    it("appends, prepends and removes multi-select values", async () => {
        const r = await c.create({ title: "t", tags: ["a", "b"] });
        let u = await c.update(r.id, { "tags+": "c" });
        assert.deepEqual(u.tags, ["a", "b", "c"]);
        u = await c.update(r.id, { "tags-": "a" });
        assert.deepEqual(u.tags, ["b", "c"]);
        u = await c.update(r.id, { "+tags": "d" });
        assert.deepEqual(u.tags, ["d", "b", "c"]);
        u = await c.update(r.id, { "tags+": ["e"] });
        assert.deepEqual(u.tags, ["d", "b", "c", "e"]);
        u = await c.update(r.id, { "tags-": ["b", "e"] });
        assert.deepEqual(u.tags, ["d", "c"]);
        assert.deepEqual((await c.getOne(r.id)).tags, ["d", "c"]);
    });

    it("combines several modifiers in one update", async () => {
        const r = await c.create({ title: "m", views: 1, tags: ["a"] });
        const u = await c.update(r.id, { "views+": 2, "tags+": "b", title: "m2" });
        assert.equal(u.views, 3);
        assert.deepEqual(u.tags, ["a", "b"]);
        assert.equal(u.title, "m2");
    });

    it("rejects a modifier result that breaks validation", async () => {
        const r = await c.create({ title: "v", tags: ["a"] });
        await expectError(() => c.update(r.id, { "tags+": "zzz" }), 400);
        assert.deepEqual((await c.getOne(r.id)).tags, ["a"]);
    });
});

describe("batch requests", { timeout: 120_000 }, () => {
    let pb;
    let tracker;
    const name = uniqueName("bat");
    let c;

    before(async () => {
        pb = await superuserClient();
        tracker = new CollectionTracker(pb);
        // PocketBase ships with batch off; turn it on where the settings API exists.
        try {
            await pb.settings.update({ batch: { enabled: true, maxRequests: 50, timeout: 3, maxBodySize: 0 } });
        } catch {
            /* a server without /api/settings must accept batches anyway */
        }
        await tracker.create({
            name,
            type: "base",
            fields: [
                { name: "title", type: "text", required: true },
                { name: "views", type: "number" },
            ],
            indexes: [`CREATE UNIQUE INDEX idx_${name}_title ON ${name} (title)`],
        });
        c = pb.collection(name);
    });

    after(async () => {
        await tracker.cleanup();
    });

    it("runs create, update, delete and upsert in one batch", async () => {
        const keep = await c.create({ title: "keep", views: 1 });
        const gone = await c.create({ title: "gone" });
        const upd = await c.create({ title: "upsert-existing", views: 5 });
        const newId = "batchupsert0001";

        const batch = pb.createBatch();
        batch.collection(name).create({ title: "b1", views: 1 });
        batch.collection(name).create({ title: "b2", "views+": 2 });
        batch.collection(name).update(keep.id, { "views+": 10 });
        batch.collection(name).delete(gone.id);
        batch.collection(name).upsert({ id: newId, title: "upsert-new" });
        batch.collection(name).upsert({ id: upd.id, title: "upsert-updated" });
        const res = await batch.send();

        assert.ok(Array.isArray(res), short(res));
        assert.equal(res.length, 6);
        assert.deepEqual(
            res.map((r) => r.status),
            [200, 200, 200, 204, 200, 200],
            short(res),
        );
        assert.equal(res[0].body.title, "b1");
        assert.match(res[0].body.id, ID_RE);
        assert.equal(res[0].body.collectionName, name);
        assert.equal(res[1].body.views, 2);
        assert.equal(res[2].body.views, 11);
        assert.equal(res[4].body.id, newId);
        assert.equal(res[4].body.title, "upsert-new");
        assert.equal(res[5].body.id, upd.id);
        assert.equal(res[5].body.title, "upsert-updated");
        assert.equal(res[5].body.views, 5, "upsert of an existing record keeps unsent fields");

        const all = await c.getFullList({ sort: "title" });
        assert.deepEqual(
            all.map((r) => r.title),
            ["b1", "b2", "keep", "upsert-new", "upsert-updated"],
        );
        await expectError(() => c.getOne(gone.id), 404);
        assert.equal((await c.getOne(keep.id)).views, 11);
    });

    it("honours fields and expand query parameters of batch sub-requests", async () => {
        const batch = pb.createBatch();
        batch.collection(name).create({ title: "bq-1", views: 4 }, { fields: "id,title" });
        const res = await batch.send();
        assert.equal(res[0].status, 200);
        assert.deepEqual(Object.keys(res[0].body).sort(), ["id", "title"]);
        assert.equal(res[0].body.title, "bq-1");
        await c.delete(res[0].body.id);
    });

    it("rolls back the whole batch when one request fails", async () => {
        const before = await c.getFullList({ sort: "title" });
        const keep = before.find((r) => r.title === "keep");

        const batch = pb.createBatch();
        batch.collection(name).create({ title: "rb-1" });
        batch.collection(name).update(keep.id, { views: 999 });
        batch.collection(name).delete(before.find((r) => r.title === "b1").id);
        batch.collection(name).create({ views: 3 }); // missing required title
        batch.collection(name).create({ title: "rb-2" });
        const err = await expectError(() => batch.send(), 400);
        assertErrorShape(err, 400);

        const after = await c.getFullList({ sort: "title" });
        assert.deepEqual(
            after.map((r) => [r.id, r.title, r.views]),
            before.map((r) => [r.id, r.title, r.views]),
            "nothing of the failed batch is left behind",
        );
    });

    it("names the failed sub-request in the error (data.requests.<index>)", async () => {
        const batch = pb.createBatch();
        batch.collection(name).create({ title: "named-ok" });
        batch.collection(name).create({ views: 1 }); // index 1 fails: title required
        const err = await expectError(() => batch.send(), 400);
        const failed = err.response.data?.requests?.["1"];
        assert.ok(failed, `expected data.requests["1"]: ${short(err.response)}`);
        assert.equal(failed.code, "batch_request_failed");
        assert.equal(typeof failed.message, "string");
        assert.equal(failed.response?.status, 400, short(failed));
        assert.equal(failed.response?.data?.title?.code, "validation_required", short(failed));
        assert.ok(!err.response.data.requests["0"], "only the failing request is named");
    });

    it("upsert without an id creates a record", async () => {
        const batch = pb.createBatch();
        batch.collection(name).upsert({ title: "upsert-noid", views: 2 });
        const res = await batch.send();
        assert.equal(res[0].status, 200);
        assert.match(res[0].body.id, ID_RE);
        assert.equal(res[0].body.title, "upsert-noid");
        await c.delete(res[0].body.id);
    });

    it("rolls back when a later request violates a unique index", async () => {
        const batch = pb.createBatch();
        batch.collection(name).create({ title: "uniq-x" });
        batch.collection(name).create({ title: "uniq-x" });
        await expectError(() => batch.send(), 400);
        const found = await c.getList(1, 10, { filter: "title = 'uniq-x'" });
        assert.equal(found.totalItems, 0);
    });

    it("rolls back when a request targets a missing record", async () => {
        const batch = pb.createBatch();
        batch.collection(name).create({ title: "rb-404" });
        batch.collection(name).delete("nosuchrecord123");
        const err = await expectError(() => batch.send(), 400, "a failed sub-request fails the batch with 400");
        assertErrorShape(err, 400);
        const found = await c.getList(1, 10, { filter: "title = 'rb-404'" });
        assert.equal(found.totalItems, 0);
    });

    it("applies batch requests in order (a later update sees an earlier create)", async () => {
        const id = "batchorder00001";
        const batch = pb.createBatch();
        batch.collection(name).create({ id, title: "ordered", views: 1 });
        batch.collection(name).update(id, { "views+": 1 });
        batch.collection(name).update(id, { "views+": 1 });
        const res = await batch.send();
        assert.equal(res[2].body.views, 3);
        assert.equal((await c.getOne(id)).views, 3);
        assert.deepEqual(sorted(res.map((r) => r.status)), [200, 200, 200]);
    });
});
