// Record CRUD with every field type, values round-tripped through create, view,
// list and update; defaults of empty fields; validation errors.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import {
    superuserClient,
    uniqueName,
    CollectionTracker,
    expectError,
    assertErrorShape,
    assertFieldError,
    PB_DATE_RE,
    ID_RE,
    short,
    AUTODATES,
} from "../lib/helpers.mjs";

describe("records: every field type", { timeout: 120_000 }, () => {
    let pb;
    let tracker;
    let target; // relation target collection
    let col;
    const targetName = uniqueName("ft_tgt");
    const name = uniqueName("ft");
    let t1, t2, t3;

    before(async () => {
        pb = await superuserClient();
        tracker = new CollectionTracker(pb);
        target = await tracker.create({
            name: targetName,
            type: "base",
            listRule: "",
            viewRule: "",
            fields: [{ name: "label", type: "text" }],
        });
        col = await tracker.create({
            name,
            type: "base",
            fields: [
                { name: "title", type: "text", required: true },
                { name: "count", type: "number" },
                { name: "active", type: "bool" },
                { name: "contact", type: "email" },
                { name: "site", type: "url" },
                { name: "body", type: "editor" },
                { name: "due", type: "date" },
                { name: "stamp", type: "autodate", onCreate: true, onUpdate: true },
                { name: "status", type: "select", values: ["draft", "published", "archived"], maxSelect: 1 },
                { name: "labels", type: "select", values: ["a", "b", "c", "d"], maxSelect: 4 },
                { name: "meta", type: "json" },
                { name: "owner", type: "relation", collectionId: target.id, maxSelect: 1 },
                { name: "friends", type: "relation", collectionId: target.id, maxSelect: 5 },
                { name: "place", type: "geoPoint" },
                { name: "doc", type: "file", maxSelect: 1, maxSize: 1048576 },
                { name: "docs", type: "file", maxSelect: 3, maxSize: 1048576 },
                ...AUTODATES,
            ],
        });
        const tc = pb.collection(targetName);
        t1 = await tc.create({ label: "one" });
        t2 = await tc.create({ label: "two" });
        t3 = await tc.create({ label: "three" });
    });

    after(async () => {
        await tracker.cleanup();
    });

    it("stores the field definitions with their options", async () => {
        const got = await pb.collections.getOne(name);
        const f = Object.fromEntries(got.fields.map((x) => [x.name, x]));
        assert.equal(f.status.type, "select");
        assert.deepEqual(f.status.values, ["draft", "published", "archived"]);
        assert.equal(f.status.maxSelect, 1);
        assert.equal(f.labels.maxSelect, 4);
        assert.equal(f.owner.type, "relation");
        assert.equal(f.owner.collectionId, target.id);
        assert.equal(f.owner.maxSelect, 1);
        assert.equal(f.friends.maxSelect, 5);
        assert.equal(f.place.type, "geoPoint");
        assert.equal(f.doc.type, "file");
        assert.equal(f.doc.maxSelect, 1);
        assert.equal(f.docs.maxSelect, 3);
        assert.equal(f.stamp.type, "autodate");
        assert.equal(f.meta.type, "json");
        assert.equal(f.body.type, "editor");
        assert.equal(f.due.type, "date");
        assert.equal(f.contact.type, "email");
        assert.equal(f.site.type, "url");
        assert.equal(f.active.type, "bool");
        assert.equal(f.count.type, "number");
    });

    const full = () => ({
        title: "Full record",
        count: -12.75,
        active: true,
        contact: "someone@example.com",
        site: "https://example.com/path?q=1",
        body: "<p>Hello <strong>world</strong></p>",
        due: "2024-05-06 07:08:09.123Z",
        status: "published",
        labels: ["c", "a"],
        meta: { a: 1, b: [true, null, "x"], c: { d: "e" }, f: 1.5 },
        owner: t1.id,
        friends: [t3.id, t1.id],
        place: { lon: 23.319941, lat: 42.698334 },
    });

    function assertFull(r, label) {
        const exp = full();
        assert.match(r.id, ID_RE, `${label}: id`);
        assert.equal(r.collectionId, col.id, `${label}: collectionId`);
        assert.equal(r.collectionName, name, `${label}: collectionName`);
        assert.equal(r.title, exp.title);
        assert.equal(r.count, exp.count);
        assert.equal(r.active, true);
        assert.equal(r.contact, exp.contact);
        assert.equal(r.site, exp.site);
        assert.equal(r.body, exp.body);
        assert.equal(r.due, exp.due);
        assert.equal(r.status, "published");
        assert.deepEqual(r.labels, ["c", "a"], `${label}: multi-select keeps order`);
        assert.deepEqual(r.meta, exp.meta);
        assert.equal(r.owner, t1.id);
        assert.deepEqual(r.friends, [t3.id, t1.id], `${label}: multi-relation keeps order`);
        assert.deepEqual(r.place, exp.place);
        assert.equal(r.doc, "");
        assert.deepEqual(r.docs, []);
        assert.match(r.created, PB_DATE_RE, `${label}: created ${r.created}`);
        assert.match(r.updated, PB_DATE_RE, `${label}: updated ${r.updated}`);
        assert.match(r.stamp, PB_DATE_RE, `${label}: stamp ${r.stamp}`);
        assert.ok(!("expand" in r), `${label}: no expand key expected: ${short(r.expand)}`);
    }

    let fullId;

    it("creates a record with every field type and returns the values", async () => {
        const r = await pb.collection(name).create(full());
        assertFull(r, "create");
        const createdMs = Date.parse(r.created.replace(" ", "T"));
        assert.ok(Math.abs(Date.now() - createdMs) < 5 * 60_000, `created ${r.created} is not now`);
        fullId = r.id;
    });

    it("returns the same values on view and in a list", async () => {
        const r = await pb.collection(name).getOne(fullId);
        assertFull(r, "view");
        const list = await pb.collection(name).getList(1, 10, { filter: `id = '${fullId}'` });
        assert.equal(list.items.length, 1);
        assertFull(list.items[0], "list");
    });

    it("fills empty fields with their zero values", async () => {
        const r = await pb.collection(name).create({ title: "empty" });
        assert.equal(r.title, "empty");
        assert.equal(r.count, 0);
        assert.equal(r.active, false);
        assert.equal(r.contact, "");
        assert.equal(r.site, "");
        assert.equal(r.body, "");
        assert.equal(r.due, "");
        assert.equal(r.status, "");
        assert.deepEqual(r.labels, []);
        assert.equal(r.meta, null);
        assert.equal(r.owner, "");
        assert.deepEqual(r.friends, []);
        assert.deepEqual(r.place, { lon: 0, lat: 0 });
        assert.equal(r.doc, "");
        assert.deepEqual(r.docs, []);
        const again = await pb.collection(name).getOne(r.id);
        assert.deepEqual(again, r);
    });

    it("accepts a client-chosen id", async () => {
        const id = "abcdefghij12345";
        const r = await pb.collection(name).create({ id, title: "custom id" });
        assert.equal(r.id, id);
        const got = await pb.collection(name).getOne(id);
        assert.equal(got.title, "custom id");
        await expectError(() => pb.collection(name).create({ id, title: "dup" }), 400, "duplicate id");
    });

    it("updates every field type and round-trips the new values", async () => {
        const before = await pb.collection(name).getOne(fullId);
        await new Promise((r) => setTimeout(r, 20));
        const r = await pb.collection(name).update(fullId, {
            title: "Updated",
            count: 1e6 + 0.5,
            active: false,
            contact: "other@example.org",
            site: "http://example.org",
            body: "<h1>New</h1>",
            due: "2030-12-31T23:59:58.5Z",
            status: "archived",
            labels: ["d"],
            meta: ["list", 2, { k: null }],
            owner: t2.id,
            friends: [t2.id],
            place: { lon: -0.5, lat: 51.25 },
        });
        const check = (x) => {
            assert.equal(x.title, "Updated");
            assert.equal(x.count, 1000000.5);
            assert.equal(x.active, false);
            assert.equal(x.contact, "other@example.org");
            assert.equal(x.site, "http://example.org");
            assert.equal(x.body, "<h1>New</h1>");
            assert.equal(x.due, "2030-12-31 23:59:58.500Z", "ISO input is stored in PocketBase form");
            assert.equal(x.status, "archived");
            assert.deepEqual(x.labels, ["d"]);
            assert.deepEqual(x.meta, ["list", 2, { k: null }]);
            assert.equal(x.owner, t2.id);
            assert.deepEqual(x.friends, [t2.id]);
            assert.deepEqual(x.place, { lon: -0.5, lat: 51.25 });
            assert.equal(x.created, before.created, "created does not change on update");
            assert.ok(x.updated > before.updated, `updated ${x.updated} must be after ${before.updated}`);
            assert.ok(x.stamp > before.stamp, "autodate with onUpdate changes");
        };
        check(r);
        check(await pb.collection(name).getOne(fullId));
    });

    it("a partial update keeps the other fields", async () => {
        const r = await pb.collection(name).update(fullId, { count: 7 });
        assert.equal(r.count, 7);
        assert.equal(r.title, "Updated");
        assert.deepEqual(r.meta, ["list", 2, { k: null }]);
        assert.equal(r.owner, t2.id);
    });

    it("clears values with empty input", async () => {
        const r = await pb.collection(name).update(fullId, {
            contact: "",
            due: "",
            status: "",
            labels: [],
            meta: null,
            owner: "",
            friends: [],
        });
        assert.equal(r.contact, "");
        assert.equal(r.due, "");
        assert.equal(r.status, "");
        assert.deepEqual(r.labels, []);
        assert.equal(r.meta, null);
        assert.equal(r.owner, "");
        assert.deepEqual(r.friends, []);
    });

    it("removes duplicates from multi-select and multi-relation values", async () => {
        const r = await pb.collection(name).create({
            title: "dups",
            labels: ["b", "b", "a", "b"],
            friends: [t2.id, t2.id, t1.id],
        });
        assert.deepEqual(r.labels, ["b", "a"]);
        assert.deepEqual(r.friends, [t2.id, t1.id]);
    });

    it("rejects geo points out of range", async () => {
        for (const place of [{ lon: 181, lat: 0 }, { lon: 0, lat: -91 }]) {
            const err = await expectError(() => pb.collection(name).create({ title: "geo", place }), 400, short(place));
            assertFieldError(err, "place");
        }
    });

    it("rejects a missing required field with validation_required", async () => {
        const err = await expectError(() => pb.collection(name).create({ count: 1 }), 400);
        assertErrorShape(err, 400);
        assertFieldError(err, "title", "validation_required");
        // the SDK exposes the same object as err.data
        assert.equal(err.data.data.title.code, "validation_required");
    });

    it("rejects invalid values per field with 400 and the field named", async () => {
        const c = pb.collection(name);
        const cases = [
            ["contact", { title: "x", contact: "not-an-email" }],
            ["site", { title: "x", site: "not a url" }],
            ["status", { title: "x", status: "nope" }],
            ["labels", { title: "x", labels: ["a", "zzz"] }],
            ["friends", { title: "x", friends: [t1.id, t2.id, t3.id, "a", "b", "c"] }],
        ];
        for (const [field, body] of cases) {
            const err = await expectError(() => c.create(body), 400, `invalid ${field} ${short(body[field])}`);
            assertErrorShape(err, 400);
            assertFieldError(err, field);
        }
        const count = await c.getList(1, 1, { filter: "title = 'x'" });
        assert.equal(count.totalItems, 0, "no invalid record was stored");
    });

    it("deletes a record; then view, update and delete answer 404", async () => {
        const r = await pb.collection(name).create({ title: "to delete" });
        assert.equal(await pb.collection(name).delete(r.id), true);
        const err = await expectError(() => pb.collection(name).getOne(r.id), 404);
        assertErrorShape(err, 404);
        await expectError(() => pb.collection(name).update(r.id, { title: "x" }), 404);
        await expectError(() => pb.collection(name).delete(r.id), 404);
    });
});
