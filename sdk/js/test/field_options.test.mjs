// Field options and input coercion: min/max/pattern, onlyInt, required
// (non-zero) semantics, autogeneratePattern, hidden fields, autodate and
// unknown keys ignored, string inputs cast to the field type.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import {
    anonClient,
    superuserClient,
    uniqueName,
    CollectionTracker,
    expectError,
    assertErrorShape,
    assertFieldError,
    short,
    AUTODATES,
} from "../lib/helpers.mjs";

describe("field options", { timeout: 120_000 }, () => {
    let pb;
    let tracker;
    const name = uniqueName("fo");
    let c;

    before(async () => {
        pb = await superuserClient();
        tracker = new CollectionTracker(pb);
        await tracker.create({
            name,
            type: "base",
            listRule: "",
            viewRule: "",
            createRule: "",
            fields: [
                { name: "title", type: "text", min: 2, max: 10 },
                { name: "slug", type: "text", pattern: "^[a-z-]+$" },
                { name: "code", type: "text", autogeneratePattern: "[a-z0-9]{8}" },
                { name: "qty", type: "number", min: 1, max: 100, onlyInt: true },
                { name: "must", type: "number", required: true },
                { name: "agreed", type: "bool" },
                { name: "secret", type: "text", hidden: true },
                { name: "when", type: "date" },
                ...AUTODATES,
            ],
        });
        c = pb.collection(name);
    });

    after(async () => {
        await tracker.cleanup();
    });

    it("enforces text min, max and pattern", async () => {
        for (const [field, body] of [
            ["title", { title: "x", must: 1 }],
            ["title", { title: "much too long title", must: 1 }],
            ["slug", { slug: "Not Valid", must: 1 }],
        ]) {
            const err = await expectError(() => c.create(body), 400, `${field}=${body[field]}`);
            assertErrorShape(err, 400);
            assertFieldError(err, field);
        }
        const ok = await c.create({ title: "ok", slug: "a-b", must: 1 });
        assert.equal(ok.slug, "a-b");
    });

    it("enforces number min, max and onlyInt", async () => {
        for (const qty of [0.5, 101, 2.5]) {
            const err = await expectError(() => c.create({ qty, must: 1 }), 400, `qty=${qty}`);
            assertFieldError(err, "qty");
        }
        const ok = await c.create({ qty: 100, must: 1 });
        assert.equal(ok.qty, 100);
    });

    it("treats a zero number as missing for a required field", async () => {
        const err = await expectError(() => c.create({ must: 0 }), 400);
        assertFieldError(err, "must", "validation_required");
    });

    it("autogenerates text values from autogeneratePattern", async () => {
        const r = await c.create({ must: 1 });
        assert.match(r.code, /^[a-z0-9]{8}$/);
        const r2 = await c.create({ must: 1, code: "given" });
        assert.equal(r2.code, "given");
    });

    it("casts string inputs to the field type", async () => {
        const r = await c.create({ must: "3", qty: "7", agreed: "true", when: "2024-02-03" });
        assert.equal(r.must, 3);
        assert.equal(r.qty, 7);
        assert.equal(r.agreed, true);
        assert.equal(r.when, "2024-02-03 00:00:00.000Z");
    });

    it("ignores client values for autodate fields", async () => {
        const r = await c.create({ must: 1, created: "2000-01-01 00:00:00.000Z" });
        assert.ok(r.created.startsWith(String(new Date().getUTCFullYear())), `created ${r.created}`);
        const u = await c.update(r.id, { updated: "2000-01-01 00:00:00.000Z", must: 2 });
        assert.ok(!u.updated.startsWith("2000"), `updated ${u.updated}`);
    });

    it("accepts a whole record sent back (collectionId, collectionName, expand)", async () => {
        const r = await c.create({ must: 1 }, { expand: "" });
        const back = { ...r, must: 5, expand: {} };
        const u = await c.update(r.id, back);
        assert.equal(u.must, 5);
        assert.equal(u.collectionName, name);
    });

    // Plinth deliberately differs from PocketBase here: a body key that is not
    // a field is a 400 (so a typo is not silently dropped), see docs/decisions.md.
    it("rejects body keys that are not fields of the collection", async () => {
        const err = await expectError(() => c.create({ must: 1, nosuchfield: 5 }), 400, "unknown key on create");
        assert.equal(err.response.data.nosuchfield.code, "validation_unknown_field");
        const r = await c.create({ must: 1 });
        await expectError(() => c.update(r.id, { must: 2, another_unknown: "x" }), 400, "unknown key on update");
    });

    it("hides hidden fields from non-superusers; only superusers see them", async () => {
        const r = await c.create({ must: 1, secret: "s3cr3t" });
        assert.equal(r.secret, "s3cr3t", "the superuser sees hidden fields in the create response");
        assert.equal((await c.getOne(r.id)).secret, "s3cr3t", "the superuser sees hidden fields on view");
        const found = await c.getList(1, 10, { filter: "secret = 's3cr3t'" });
        assert.equal(found.totalItems, 1, "the superuser can filter on hidden fields");
        assert.equal(found.items[0].secret, "s3cr3t");

        const anon = anonClient().collection(name);
        const anonView = await anon.getOne(r.id);
        assert.equal(anonView.must, 1);
        assert.ok(!("secret" in anonView), `hidden field returned on view: ${short(anonView)}`);
        const anonList = await anon.getList(1, 100);
        assert.ok(anonList.items.length > 0);
        assert.ok(anonList.items.every((x) => !("secret" in x)), "hidden field returned in list");
    });

    it("ignores hidden field values sent by non-superusers", async () => {
        const r = await anonClient().collection(name).create({ must: 1, secret: "from-anon" });
        assert.ok(!("secret" in r), `hidden field returned on create: ${short(r)}`);
        const leaked = await c.getList(1, 1, { filter: "secret = 'from-anon'" });
        assert.equal(leaked.totalItems, 0, "a guest cannot write a hidden field");
        const empty = await c.getList(1, 1, { filter: `id = '${r.id}' && secret = ''` });
        assert.equal(empty.totalItems, 1);
    });

    it("rejects an invalid record id", async () => {
        for (const id of ["short", "UPPERCASEIDXXXX", "has space12345x"]) {
            const err = await expectError(() => c.create({ id, must: 1 }), 400, `id ${id}`);
            assertFieldError(err, "id");
        }
    });
});
