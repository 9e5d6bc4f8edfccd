// Error shapes and API rules: 400 validation, unique index, 404 unknown
// record/collection, 403 for anonymous callers on `null` rules, `""` rules open
// to everyone, superuser auth.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import {
    anonClient,
    superuserClient,
    uniqueName,
    CollectionTracker,
    expectError,
    catchError,
    assertErrorShape,
    assertFieldError,
    SU_EMAIL,
    SU_PASS,
    short,
} from "../lib/helpers.mjs";

describe("superuser auth", { timeout: 60_000 }, () => {
    it("authWithPassword fills the auth store with a superuser token", async () => {
        const pb = anonClient();
        const res = await pb.collection("_superusers").authWithPassword(SU_EMAIL, SU_PASS);
        assert.equal(typeof res.token, "string");
        assert.equal(res.token.split(".").length, 3, "token is a JWT");
        assert.equal(res.record.email, SU_EMAIL);
        assert.equal(res.record.collectionName, "_superusers");
        assert.ok(!("password" in res.record) && !("tokenKey" in res.record), short(res.record));
        assert.equal(pb.authStore.isValid, true);
        assert.equal(pb.authStore.isSuperuser, true);
        assert.equal(pb.authStore.record.id, res.record.id);
    });

    it("a wrong password answers 400", async () => {
        const pb = anonClient();
        const err = await expectError(
            () => pb.collection("_superusers").authWithPassword(SU_EMAIL, SU_PASS + "x"),
            400,
        );
        assertErrorShape(err, 400);
        assert.equal(pb.authStore.isValid, false);
    });
});

describe("errors and rules", { timeout: 120_000 }, () => {
    let su;
    let anon;
    let tracker;
    const locked = uniqueName("er_locked");
    const open = uniqueName("er_open");
    const uniq = uniqueName("er_uniq");
    let lockedRec;

    before(async () => {
        su = await superuserClient();
        anon = anonClient();
        tracker = new CollectionTracker(su);
        await tracker.create({
            name: locked,
            type: "base",
            listRule: null,
            viewRule: null,
            createRule: null,
            updateRule: null,
            deleteRule: null,
            fields: [{ name: "title", type: "text" }],
        });
        await tracker.create({
            name: open,
            type: "base",
            listRule: "",
            viewRule: "",
            createRule: "",
            updateRule: "",
            deleteRule: "",
            fields: [
                { name: "title", type: "text", required: true },
                { name: "n", type: "number" },
            ],
        });
        await tracker.create({
            name: uniq,
            type: "base",
            listRule: "",
            fields: [
                { name: "slug", type: "text", required: true },
                { name: "other", type: "text" },
            ],
            indexes: [`CREATE UNIQUE INDEX idx_${uniq}_slug ON ${uniq} (slug)`],
        });
        lockedRec = await su.collection(locked).create({ title: "secret" });
    });

    after(async () => {
        await tracker.cleanup();
    });

    it("anonymous list/create on a null rule answer 403", async () => {
        let err = await expectError(() => anon.collection(locked).getList(1, 10), 403, "list");
        assertErrorShape(err, 403);
        err = await expectError(() => anon.collection(locked).create({ title: "x" }), 403, "create");
        assertErrorShape(err, 403);
        const all = await su.collection(locked).getFullList();
        assert.deepEqual(
            all.map((r) => r.title),
            ["secret"],
        );
    });

    it("anonymous view on a null rule is refused (403 in PocketBase, 404 in the Plinth brief)", async () => {
        const err = await catchError(() => anon.collection(locked).getOne(lockedRec.id), "view");
        assert.ok([403, 404].includes(err.status), `view: ${err.status} ${short(err.response)}`);
        assertErrorShape(err, err.status);
        assert.ok(!JSON.stringify(err.response).includes("secret"), "the record must not leak");
    });

    it("anonymous update/delete on a null rule are refused and change nothing", async () => {
        const e1 = await catchError(() => anon.collection(locked).update(lockedRec.id, { title: "x" }), "update");
        assert.ok([403, 404].includes(e1.status), `update: ${e1.status}`);
        const e2 = await catchError(() => anon.collection(locked).delete(lockedRec.id), "delete");
        assert.ok([403, 404].includes(e2.status), `delete: ${e2.status}`);
        assert.equal((await su.collection(locked).getOne(lockedRec.id)).title, "secret");
    });

    it("the superuser passes null rules", async () => {
        const list = await su.collection(locked).getList(1, 10);
        assert.equal(list.totalItems, 1);
        const one = await su.collection(locked).getOne(lockedRec.id);
        assert.equal(one.title, "secret");
    });

    it("empty-string rules let anonymous callers do everything", async () => {
        const c = anon.collection(open);
        const r = await c.create({ title: "anon", n: 1 });
        assert.equal(r.title, "anon");
        const list = await c.getList(1, 10);
        assert.equal(list.totalItems, 1);
        assert.equal(list.items[0].id, r.id);
        assert.equal((await c.getOne(r.id)).n, 1);
        assert.equal((await c.update(r.id, { n: 2 })).n, 2);
        assert.equal(await c.delete(r.id), true);
        await expectError(() => c.getOne(r.id), 404);
    });

    it("a filter rule limits what anonymous callers see", async () => {
        const col = await su.collections.getOne(open);
        await su.collections.update(col.id, { listRule: "n > 5", viewRule: "n > 5" });
        try {
            const low = await su.collection(open).create({ title: "low", n: 1 });
            const high = await su.collection(open).create({ title: "high", n: 9 });
            const list = await anon.collection(open).getList(1, 10);
            assert.deepEqual(
                list.items.map((x) => x.title),
                ["high"],
            );
            assert.equal(list.totalItems, 1);
            await expectError(() => anon.collection(open).getOne(low.id), 404);
            assert.equal((await anon.collection(open).getOne(high.id)).title, "high");
            assert.equal((await su.collection(open).getList(1, 10)).totalItems, 2);
            await su.collection(open).delete(low.id);
            await su.collection(open).delete(high.id);
        } finally {
            await su.collections.update(col.id, { listRule: "", viewRule: "" });
        }
    });

    it("400 validation error has the PocketBase shape", async () => {
        const err = await expectError(() => anon.collection(open).create({ n: 5 }), 400);
        assertErrorShape(err, 400);
        assertFieldError(err, "title", "validation_required");
        assert.deepEqual(Object.keys(err.response.data), ["title"], short(err.response.data));
    });

    it("a unique index violation answers 400 with the field's code", async () => {
        const c = su.collection(uniq);
        const first = await c.create({ slug: "same", other: "1" });
        const err = await expectError(() => c.create({ slug: "same", other: "2" }), 400);
        assertErrorShape(err, 400);
        assertFieldError(err, "slug", "validation_not_unique");

        const second = await c.create({ slug: "different" });
        const err2 = await expectError(() => c.update(second.id, { slug: "same" }), 400);
        assertFieldError(err2, "slug", "validation_not_unique");

        const all = await c.getFullList({ sort: "slug" });
        assert.deepEqual(
            all.map((r) => r.slug),
            ["different", "same"],
        );
        assert.equal(all[1].id, first.id);
    });

    it("unknown record answers 404 with the PocketBase shape", async () => {
        const err = await expectError(() => su.collection(open).getOne("nosuchrecord123"), 404);
        assertErrorShape(err, 404);
        assert.deepEqual(err.response.data, {});
        await expectError(() => su.collection(open).update("nosuchrecord123", { title: "x" }), 404);
        await expectError(() => su.collection(open).delete("nosuchrecord123"), 404);
    });

    it("unknown collection answers 404 on the records API", async () => {
        for (const pb of [su, anon]) {
            const err = await expectError(() => pb.collection("no_such_coll_zz").getList(1, 5), 404);
            assertErrorShape(err, 404);
            await expectError(() => pb.collection("no_such_coll_zz").getOne("abcdefghijklmno"), 404);
            await expectError(() => pb.collection("no_such_coll_zz").create({ a: 1 }), 404);
        }
    });

    it("a bad filter answers 400 with the PocketBase shape", async () => {
        for (const pb of [su, anon]) {
            const err = await expectError(() => pb.collection(open).getList(1, 5, { filter: "title ~~ ((" }), 400);
            assertErrorShape(err, 400);
        }
    });

    it("the collections API answers 401 to guests and to an invalid token", async () => {
        const err = await expectError(() => anon.collections.getList(1, 5), 401, "guest");
        assertErrorShape(err, 401);
        const bogus = anonClient();
        bogus.authStore.save("not.a.token", null);
        await expectError(() => bogus.collections.getList(1, 5), 401, "invalid token");
    });

    it("an invalid token on a public endpoint is treated as a guest", async () => {
        const bogus = anonClient();
        bogus.authStore.save("not.a.token", null);
        const list = await bogus.collection(open).getList(1, 5);
        assert.equal(list.page, 1);
        await expectError(() => bogus.collection(locked).getList(1, 5), 403);
    });

    it("health answers 200 with the expected body", async () => {
        const h = await anon.health.check();
        assert.deepEqual(h, { code: 200, message: "API is healthy.", data: {} });
    });
});
