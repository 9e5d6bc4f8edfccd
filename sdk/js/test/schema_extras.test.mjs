// Schema changes beyond the basics: collection rename, self relations, indexes
// added later, rule validation, invalid names and field type changes.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import {
    superuserClient,
    uniqueName,
    CollectionTracker,
    expectError,
    assertErrorShape,
    assertFieldError,
} from "../lib/helpers.mjs";

// Collects the `code` values of a nested error object such as
// {fields: {"2": {name: {code, message}}}}.
function nestedCodes(obj) {
    if (!obj || typeof obj !== "object") return [];
    if (typeof obj.code === "string") return [obj.code];
    return Object.values(obj).flatMap(nestedCodes);
}

describe("schema changes", { timeout: 120_000 }, () => {
    let pb;
    let tracker;

    before(async () => {
        pb = await superuserClient();
        tracker = new CollectionTracker(pb);
    });

    after(async () => {
        await tracker.cleanup();
    });

    it("renames a collection and keeps its records", async () => {
        const oldName = uniqueName("sx_old");
        const newName = uniqueName("sx_new");
        const col = await tracker.create({ name: oldName, type: "base", fields: [{ name: "t", type: "text" }] });
        const r = await pb.collection(oldName).create({ t: "kept" });
        const upd = await pb.collections.update(col.id, { name: newName });
        assert.equal(upd.name, newName);
        assert.equal(upd.id, col.id);
        const got = await pb.collection(newName).getOne(r.id);
        assert.equal(got.t, "kept");
        assert.equal(got.collectionName, newName);
        await expectError(() => pb.collection(oldName).getList(1, 1), 404);
        await expectError(() => pb.collections.getOne(oldName), 404);
    });

    it("supports a self relation added after creation, with nested expand", async () => {
        const name = uniqueName("sx_tree");
        const col = await tracker.create({ name, type: "base", fields: [{ name: "label", type: "text" }] });
        const fields = [...col.fields, { name: "parent", type: "relation", collectionId: col.id, maxSelect: 1 }];
        await pb.collections.update(col.id, { fields });
        const c = pb.collection(name);
        const root = await c.create({ label: "root" });
        const mid = await c.create({ label: "mid", parent: root.id });
        const leaf = await c.create({ label: "leaf", parent: mid.id });
        const got = await c.getOne(leaf.id, { expand: "parent.parent" });
        assert.equal(got.expand.parent.label, "mid");
        assert.equal(got.expand.parent.expand.parent.label, "root");
        const kids = await c.getOne(root.id, { expand: `${name}_via_parent` });
        assert.deepEqual(
            kids.expand[`${name}_via_parent`].map((x) => x.label),
            ["mid"],
        );
        const byParent = await c.getFullList({ filter: "parent.label = 'mid'" });
        assert.deepEqual(
            byParent.map((x) => x.id),
            [leaf.id],
        );
    });

    it("enforces a unique index added later, and refuses one that existing data breaks", async () => {
        const name = uniqueName("sx_idx");
        const col = await tracker.create({
            name,
            type: "base",
            fields: [
                { name: "code", type: "text" },
                { name: "dup", type: "text" },
            ],
        });
        const c = pb.collection(name);
        await c.create({ code: "A", dup: "same" });
        await c.create({ code: "B", dup: "same" });

        const upd = await pb.collections.update(col.id, {
            indexes: [`CREATE UNIQUE INDEX idx_${name}_code ON ${name} (code)`],
        });
        assert.equal(upd.indexes.length, 1);
        const err = await expectError(() => c.create({ code: "A" }), 400);
        assertFieldError(err, "code", "validation_not_unique");

        const err2 = await expectError(
            () =>
                pb.collections.update(col.id, {
                    indexes: [
                        `CREATE UNIQUE INDEX idx_${name}_code ON ${name} (code)`,
                        `CREATE UNIQUE INDEX idx_${name}_dup ON ${name} (dup)`,
                    ],
                }),
            400,
        );
        assertErrorShape(err2, 400);
        const after = await pb.collections.getOne(col.id);
        assert.equal(after.indexes.length, 1, "the failed update left the indexes alone");

        // dropping the index lifts the constraint
        await pb.collections.update(col.id, { indexes: [] });
        const again = await c.create({ code: "A" });
        assert.equal(again.code, "A");
    });

    it("validates rules, names and field changes with 400", async () => {
        const err = await expectError(
            () =>
                pb.collections.create({
                    name: uniqueName("sx_rule"),
                    type: "base",
                    listRule: "nosuchfield = 1",
                    fields: [{ name: "t", type: "text" }],
                }),
            400,
        );
        assertErrorShape(err, 400);
        assertFieldError(err, "listRule");

        const err2 = await expectError(
            () => pb.collections.create({ name: "bad name!", type: "base", fields: [] }),
            400,
        );
        assertFieldError(err2, "name");

        const err3 = await expectError(
            () =>
                pb.collections.create({
                    name: uniqueName("sx_dupf"),
                    type: "base",
                    fields: [
                        { name: "t", type: "text" },
                        { name: "t", type: "number" },
                    ],
                }),
            400,
        );
        assert.ok(nestedCodes(err3.response.data.fields).length > 0, "nested field error");

        const name = uniqueName("sx_type");
        const col = await tracker.create({ name, type: "base", fields: [{ name: "t", type: "text" }] });
        const fields = col.fields.map((f) => (f.name === "t" ? { ...f, type: "number" } : f));
        const err4 = await expectError(() => pb.collections.update(col.id, { fields }), 400);
        assert.ok(nestedCodes(err4.response.data.fields).length > 0, "nested field error");
        const still = await pb.collections.getOne(col.id);
        assert.equal(still.fields.find((f) => f.name === "t").type, "text");
    });
});

describe("robustness", { timeout: 120_000 }, () => {
    let pb;
    let tracker;
    const name = uniqueName("rb");
    let c;

    before(async () => {
        pb = await superuserClient();
        tracker = new CollectionTracker(pb);
        await tracker.create({
            name,
            type: "base",
            fields: [
                { name: "t", type: "text", max: 200_000 },
                { name: "n", type: "number" },
                { name: "meta", type: "json", maxSize: 2_000_000 },
            ],
        });
        c = pb.collection(name);
    });

    after(async () => {
        await tracker.cleanup();
    });

    it("round-trips number edge values", async () => {
        for (const n of [9007199254740991, -9007199254740991, 0.1, 1e-7, 123456.789, -0.5, 1.7976931348623157e308]) {
            const r = await c.create({ n });
            assert.equal(r.n, n, `create ${n}`);
            assert.equal((await c.getOne(r.id)).n, n, `view ${n}`);
        }
        const r = await c.getFirstListItem("n = 0.1");
        assert.equal(r.n, 0.1);
    });

    it("round-trips long text and large json", async () => {
        const t = "x".repeat(100_000) + "end";
        const meta = { arr: Array.from({ length: 2000 }, (_, i) => ({ i, s: `v${i}` })) };
        const r = await c.create({ t, meta });
        const got = await c.getOne(r.id);
        assert.equal(got.t.length, t.length);
        assert.equal(got.t, t);
        assert.deepEqual(got.meta, meta);
    });

    it("handles many concurrent writes without errors", async () => {
        const results = await Promise.allSettled(
            Array.from({ length: 40 }, (_, i) => c.create({ t: `conc-${i}`, n: i })),
        );
        const failed = results.filter((r) => r.status === "rejected");
        assert.equal(failed.length, 0, `failed: ${failed.map((f) => f.reason?.status + " " + f.reason?.message).join("; ")}`);
        const list = await c.getList(1, 1, { filter: "t ~ 'conc-'" });
        assert.equal(list.totalItems, 40);

        const ids = results.map((r) => r.value.id);
        const upd = await Promise.allSettled(ids.map((id, i) => c.update(id, { n: i + 1000 })));
        assert.equal(upd.filter((r) => r.status === "rejected").length, 0);
        const reads = await Promise.all(ids.map((id) => c.getOne(id)));
        assert.deepEqual(
            reads.map((r) => r.n),
            ids.map((_, i) => i + 1000),
        );
    });
});
