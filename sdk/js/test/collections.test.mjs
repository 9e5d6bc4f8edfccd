// Collections API: create, view, list, update (add + rename field, data kept),
// truncate, delete, import.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import {
    superuserClient,
    uniqueName,
    CollectionTracker,
    expectError,
    assertErrorShape,
    assertFieldError,
    short,
} from "../lib/helpers.mjs";

describe("collections API", { timeout: 120_000 }, () => {
    let pb;
    let tracker;
    const name = uniqueName("col");
    let col;

    before(async () => {
        pb = await superuserClient();
        tracker = new CollectionTracker(pb);
    });

    after(async () => {
        await tracker.cleanup();
    });

    it("creates a base collection with only the id field added (no created/updated unless sent, as PocketBase's API)", async () => {
        col = await tracker.create({
            name,
            type: "base",
            listRule: "",
            viewRule: "",
            createRule: null,
            updateRule: null,
            deleteRule: null,
            fields: [
                { name: "title", type: "text", required: true, max: 200 },
                { name: "score", type: "number" },
                { name: "temp", type: "text" },
            ],
            indexes: [`CREATE INDEX idx_${name}_score ON ${name} (score)`],
        });

        assert.equal(typeof col.id, "string");
        assert.ok(col.id.length > 0);
        assert.equal(col.name, name);
        assert.equal(col.type, "base");
        assert.equal(col.system, false);
        assert.equal(col.listRule, "");
        assert.equal(col.viewRule, "");
        assert.equal(col.createRule, null);
        assert.equal(col.updateRule, null);
        assert.equal(col.deleteRule, null);

        const byName = Object.fromEntries(col.fields.map((f) => [f.name, f]));
        assert.deepEqual(col.fields.map((f) => f.name), ["id", "title", "score", "temp"]);
        assert.equal(byName.id.type, "text");
        assert.equal(byName.id.system, true);
        assert.equal(byName.title.type, "text");
        assert.equal(byName.title.required, true);
        assert.equal(byName.title.max, 200);
        assert.equal(byName.score.type, "number");

        for (const f of col.fields) {
            for (const key of ["id", "name", "type", "system", "hidden", "presentable", "required"]) {
                assert.ok(key in f, `field ${f.name} lacks "${key}": ${short(f)}`);
            }
            assert.equal(typeof f.id, "string");
            assert.ok(f.id.length > 0, `field ${f.name} has an empty id`);
        }

        assert.ok(Array.isArray(col.indexes));
        assert.equal(col.indexes.length, 1);
        assert.match(col.indexes[0], new RegExp(`idx_${name}_score`));
    });

    it("views a collection by name and by id", async () => {
        const a = await pb.collections.getOne(name);
        const b = await pb.collections.getOne(col.id);
        assert.equal(a.id, col.id);
        assert.equal(b.name, name);
        assert.deepEqual(
            a.fields.map((f) => f.name),
            col.fields.map((f) => f.name),
        );
    });

    it("lists collections including ours and _superusers", async () => {
        const list = await pb.collections.getList(1, 500);
        assert.equal(list.page, 1);
        assert.equal(list.perPage, 500);
        assert.ok(list.totalItems >= 2, `totalItems ${list.totalItems}`);
        assert.equal(list.totalPages, 1);
        const names = list.items.map((c) => c.name);
        assert.ok(names.includes(name), `list lacks ${name}`);
        assert.ok(names.includes("_superusers"), "list lacks _superusers");
        const su = list.items.find((c) => c.name === "_superusers");
        assert.equal(su.type, "auth");
        assert.equal(su.system, true);

        const full = await pb.collections.getFullList();
        assert.ok(full.some((c) => c.id === col.id));

        const filtered = await pb.collections.getList(1, 50, { filter: `name = '${name}'` });
        assert.equal(filtered.totalItems, 1);
        assert.equal(filtered.items[0].id, col.id);
    });

    it("rejects a duplicate collection name with 400", async () => {
        const err = await expectError(
            () => pb.collections.create({ name, type: "base", fields: [] }),
            400,
        );
        assertErrorShape(err, 400);
        assertFieldError(err, "name");
    });

    it("updates a collection: adds a field, renames a field, keeps the data", async () => {
        const recs = pb.collection(name);
        const r1 = await recs.create({ title: "first", score: 1.5, temp: "t" });
        const r2 = await recs.create({ title: "second", score: 2 });

        const current = await pb.collections.getOne(name);
        const fields = current.fields.map((f) =>
            f.name === "title" ? { ...f, name: "headline" } : f,
        );
        fields.push({ name: "extra", type: "bool" });
        const updated = await pb.collections.update(current.id, { fields, listRule: "score > 0" });

        const names = updated.fields.map((f) => f.name);
        assert.ok(names.includes("headline"), short(names));
        assert.ok(names.includes("extra"), short(names));
        assert.ok(!names.includes("title"), short(names));
        assert.equal(updated.listRule, "score > 0");
        const oldTitleField = current.fields.find((f) => f.name === "title");
        const headline = updated.fields.find((f) => f.name === "headline");
        assert.equal(headline.id, oldTitleField.id, "renamed field keeps its id");
        assert.equal(headline.required, true);

        const got1 = await recs.getOne(r1.id);
        assert.equal(got1.headline, "first");
        assert.equal(got1.score, 1.5);
        assert.equal(got1.extra, false);
        assert.ok(!("title" in got1), `old field name still present: ${short(got1)}`);
        const got2 = await recs.getOne(r2.id);
        assert.equal(got2.headline, "second");

        const r3 = await recs.create({ headline: "third", extra: true });
        assert.equal(r3.headline, "third");
        assert.equal(r3.extra, true);

        // the renamed field is still required
        const err = await expectError(() => recs.create({ score: 3 }), 400);
        assertFieldError(err, "headline", "validation_required");

        // remove a field: the data of the others is kept
        assert.equal(got1.temp, "t");
        const cur2 = await pb.collections.getOne(name);
        const upd2 = await pb.collections.update(name, {
            fields: cur2.fields.filter((f) => f.name !== "temp"),
        });
        assert.ok(!upd2.fields.some((f) => f.name === "temp"));
        const got1b = await recs.getOne(r1.id);
        assert.equal(got1b.headline, "first");
        assert.equal(got1b.score, 1.5);
        assert.ok(!("temp" in got1b));
    });

    it("truncates a collection: records gone, collection kept", async () => {
        const recs = pb.collection(name);
        const before = await recs.getList(1, 10);
        assert.ok(before.totalItems >= 3, `expected records before truncate, got ${before.totalItems}`);
        const ok = await pb.collections.truncate(name);
        assert.equal(ok, true);
        const after = await recs.getList(1, 10);
        assert.equal(after.totalItems, 0);
        assert.equal(after.items.length, 0);
        const still = await pb.collections.getOne(name);
        assert.equal(still.id, col.id);
    });

    it("imports collections: creates a new one and updates an existing one", async () => {
        const newName = uniqueName("imp");
        tracker.track(newName);
        const existing = await pb.collections.getOne(name);
        const changed = {
            ...existing,
            fields: [...existing.fields, { name: "imported_note", type: "text" }],
        };
        const ok = await pb.collections.import(
            [
                changed,
                {
                    name: newName,
                    type: "base",
                    listRule: "",
                    fields: [
                        { name: "label", type: "text", required: true },
                        { name: "qty", type: "number" },
                    ],
                },
            ],
            false,
        );
        assert.equal(ok, true);

        const imported = await pb.collections.getOne(newName);
        assert.equal(imported.name, newName);
        assert.equal(imported.type, "base");
        assert.equal(imported.listRule, "");
        const names = imported.fields.map((f) => f.name);
        assert.ok(names.includes("id") && names.includes("label") && names.includes("qty"), short(names));

        const rec = await pb.collection(newName).create({ label: "x", qty: 4 });
        assert.equal(rec.label, "x");
        assert.equal(rec.qty, 4);

        const upd = await pb.collections.getOne(name);
        assert.ok(upd.fields.some((f) => f.name === "imported_note"), "import did not update existing");
        // deleteMissing=false keeps other collections
        await pb.collections.getOne("_superusers");
    });

    it("rejects an invalid import with 400 and changes nothing", async () => {
        const badName = uniqueName("bad");
        tracker.track(badName);
        const err = await expectError(
            () =>
                pb.collections.import(
                    [
                        { name: badName, type: "base", fields: [{ name: "a", type: "text" }] },
                        { name: "", type: "base", fields: [] },
                    ],
                    false,
                ),
            400,
        );
        assertErrorShape(err, 400);
        await expectError(() => pb.collections.getOne(badName), 404);
    });

    it("deletes a collection; it and its records API then answer 404", async () => {
        const ok = await pb.collections.delete(name);
        assert.equal(ok, true);
        const err = await expectError(() => pb.collections.getOne(name), 404);
        assertErrorShape(err, 404);
        await expectError(() => pb.collection(name).getList(1, 1), 404);
        const list = await pb.collections.getFullList();
        assert.ok(!list.some((c) => c.name === name));
    });

    it("answers 404 for an unknown collection", async () => {
        const err = await expectError(() => pb.collections.getOne("no_such_collection_zz"), 404);
        assertErrorShape(err, 404);
        await expectError(() => pb.collections.delete("no_such_collection_zz"), 404);
    });
});
