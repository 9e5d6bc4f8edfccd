// Wire-level details the SDK relies on: Authorization header forms, multipart
// bodies (plain form values and @jsonPayload), token claims, superuser record
// visibility, malformed bodies, unknown routes.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import {
    URL as BASE,
    anonClient,
    superuserClient,
    uniqueName,
    CollectionTracker,
    expectError,
    assertErrorShape,
    SU_EMAIL,
    short,
} from "../lib/helpers.mjs";

function payload(token) {
    return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}

describe("wire details", { timeout: 120_000 }, () => {
    let pb;
    let tracker;
    const name = uniqueName("wire");
    let rec;

    before(async () => {
        pb = await superuserClient();
        tracker = new CollectionTracker(pb);
        await tracker.create({
            name,
            type: "base",
            listRule: null,
            viewRule: null,
            createRule: null,
            fields: [
                { name: "title", type: "text", required: true },
                { name: "n", type: "number" },
                { name: "flag", type: "bool" },
                { name: "tags", type: "select", values: ["a", "b", "c"], maxSelect: 3 },
                { name: "meta", type: "json" },
            ],
        });
        rec = await pb.collection(name).create({ title: "hidden", n: 1 });
    });

    after(async () => {
        await tracker.cleanup();
    });

    it("the superuser token carries the claims the SDK reads", async () => {
        const p = payload(pb.authStore.token);
        assert.equal(p.type, "auth");
        assert.equal(p.collectionId, "pbc_3142635823");
        assert.equal(p.id, pb.authStore.record.id);
        assert.equal(typeof p.exp, "number");
        assert.ok(p.exp > Date.now() / 1000 + 60, "token must not be about to expire");
        assert.equal(p.refreshable, true);
    });

    it("authRefresh returns a fresh token for the same superuser", async () => {
        const res = await pb.collection("_superusers").authRefresh();
        assert.equal(typeof res.token, "string");
        assert.equal(res.record.id, pb.authStore.record.id);
        assert.equal(res.record.email, SU_EMAIL);
        assert.equal(pb.authStore.isSuperuser, true);
        const list = await pb.collection(name).getList(1, 1);
        assert.equal(list.totalItems, 1, "refreshed token works");
    });

    it("accepts 'Authorization: <token>' and 'Authorization: Bearer <token>'", async () => {
        const url = `${BASE}/api/collections/${name}/records`;
        for (const auth of [pb.authStore.token, `Bearer ${pb.authStore.token}`]) {
            const res = await fetch(url, { headers: { Authorization: auth } });
            assert.equal(res.status, 200, `with ${auth.slice(0, 10)}...`);
            const body = await res.json();
            assert.equal(body.totalItems, 1);
            assert.equal(body.items[0].title, "hidden");
        }
        const anon = await fetch(url);
        assert.equal(anon.status, 403);
    });

    it("answers JSON with a JSON content type", async () => {
        const res = await fetch(`${BASE}/api/collections/${name}/records/${rec.id}`, {
            headers: { Authorization: pb.authStore.token },
        });
        assert.equal(res.status, 200);
        assert.match(res.headers.get("content-type") || "", /application\/json/);
    });

    it("superuser records never expose password, passwordHash or tokenKey", async () => {
        const all = await pb.collection("_superusers").getFullList();
        const me = all.find((r) => r.email === SU_EMAIL);
        assert.ok(me, `superuser ${SU_EMAIL} not listed`);
        for (const r of all) {
            for (const k of ["password", "passwordHash", "tokenKey"]) {
                assert.ok(!(k in r), `${k} leaked: ${short(r)}`);
            }
        }
        assert.equal(typeof me.emailVisibility, "boolean");
        assert.equal(typeof me.verified, "boolean");
        await expectError(() => anonClient().collection("_superusers").getList(1, 1), 403);
    });

    it("creates from multipart plain form values", async () => {
        const fd = new FormData();
        fd.append("title", "form");
        fd.append("n", "5.5");
        fd.append("flag", "true");
        fd.append("tags", "a");
        fd.append("tags", "c");
        fd.append("meta", '{"k":[1,2]}');
        const r = await pb.collection(name).create(fd);
        assert.equal(r.title, "form");
        assert.equal(r.n, 5.5);
        assert.equal(r.flag, true);
        assert.deepEqual(r.tags, ["a", "c"]);
        assert.deepEqual(r.meta, { k: [1, 2] });
    });

    it("creates and updates from a multipart @jsonPayload", async () => {
        const fd = new FormData();
        fd.append("@jsonPayload", JSON.stringify({ title: "jp", n: 7, flag: true, tags: ["b"], meta: { x: null } }));
        const r = await pb.collection(name).create(fd);
        assert.equal(r.title, "jp");
        assert.equal(r.n, 7);
        assert.equal(r.flag, true);
        assert.deepEqual(r.tags, ["b"]);
        assert.deepEqual(r.meta, { x: null });

        const fd2 = new FormData();
        fd2.append("@jsonPayload", JSON.stringify({ "n+": 3, "tags+": "c" }));
        const u = await pb.collection(name).update(r.id, fd2);
        assert.equal(u.n, 10);
        assert.deepEqual(u.tags, ["b", "c"]);
    });

    it("rejects a malformed JSON body with 400", async () => {
        const res = await fetch(`${BASE}/api/collections/${name}/records`, {
            method: "POST",
            headers: { Authorization: pb.authStore.token, "Content-Type": "application/json" },
            body: '{"title": "x",',
        });
        assert.equal(res.status, 400);
        const body = await res.json();
        assert.equal(body.status, 400);
        assert.equal(typeof body.message, "string");
        assert.equal(typeof body.data, "object");
    });

    it("answers 404 JSON for an unknown API route", async () => {
        const err = await expectError(() => pb.send("/api/no-such-route", { method: "GET" }), 404);
        assertErrorShape(err, 404);
    });
});
