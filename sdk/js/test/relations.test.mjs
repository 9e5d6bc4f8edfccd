// Relations: expand (single, multi, nested, back-relation), fields on expanded
// records, filters through relations, missing relation ids, cascadeDelete and
// refused delete of a referenced record.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import {
    superuserClient,
    uniqueName,
    CollectionTracker,
    expectError,
    assertErrorShape,
    assertFieldError,
    sorted,
    ids,
    short,
} from "../lib/helpers.mjs";

describe("relations and expand", { timeout: 120_000 }, () => {
    let pb;
    let tracker;
    const N = {
        orgs: uniqueName("rl_orgs"),
        authors: uniqueName("rl_authors"),
        tags: uniqueName("rl_tags"),
        posts: uniqueName("rl_posts"),
        comments: uniqueName("rl_comments"),
        pins: uniqueName("rl_pins"),
        likes: uniqueName("rl_likes"),
    };
    const C = {}; // collection models
    const R = {}; // records

    before(async () => {
        pb = await superuserClient();
        tracker = new CollectionTracker(pb);
        const open = { listRule: "", viewRule: "" };
        C.orgs = await tracker.create({ name: N.orgs, type: "base", ...open, fields: [{ name: "name", type: "text" }] });
        C.authors = await tracker.create({
            name: N.authors,
            type: "base",
            ...open,
            fields: [
                { name: "name", type: "text" },
                { name: "bio", type: "text" },
                { name: "org", type: "relation", collectionId: C.orgs.id, maxSelect: 1 },
            ],
        });
        C.tags = await tracker.create({ name: N.tags, type: "base", ...open, fields: [{ name: "label", type: "text" }] });
        C.posts = await tracker.create({
            name: N.posts,
            type: "base",
            ...open,
            fields: [
                { name: "title", type: "text", required: true },
                { name: "author", type: "relation", collectionId: C.authors.id, maxSelect: 1 },
                { name: "tags", type: "relation", collectionId: C.tags.id, maxSelect: 10 },
            ],
        });
        C.comments = await tracker.create({
            name: N.comments,
            type: "base",
            ...open,
            fields: [
                { name: "text", type: "text" },
                { name: "post", type: "relation", collectionId: C.posts.id, maxSelect: 1, cascadeDelete: true },
            ],
        });
        C.pins = await tracker.create({
            name: N.pins,
            type: "base",
            ...open,
            fields: [
                { name: "label", type: "text" },
                { name: "post", type: "relation", collectionId: C.posts.id, maxSelect: 1, required: true, cascadeDelete: false },
            ],
        });
        C.likes = await tracker.create({
            name: N.likes,
            type: "base",
            ...open,
            fields: [
                { name: "label", type: "text" },
                { name: "posts", type: "relation", collectionId: C.posts.id, maxSelect: 5, cascadeDelete: false },
            ],
        });

        R.acme = await pb.collection(N.orgs).create({ name: "Acme" });
        R.alice = await pb.collection(N.authors).create({ name: "Alice", bio: "writes", org: R.acme.id });
        R.bob = await pb.collection(N.authors).create({ name: "Bob", bio: "reads" });
        R.tRed = await pb.collection(N.tags).create({ label: "red" });
        R.tGreen = await pb.collection(N.tags).create({ label: "green" });
        R.tBlue = await pb.collection(N.tags).create({ label: "blue" });
        R.p1 = await pb.collection(N.posts).create({
            title: "P1",
            author: R.alice.id,
            tags: [R.tBlue.id, R.tRed.id],
        });
        R.p2 = await pb.collection(N.posts).create({ title: "P2", author: R.bob.id, tags: [R.tGreen.id] });
        R.p3 = await pb.collection(N.posts).create({ title: "P3" });
        R.c1 = await pb.collection(N.comments).create({ text: "c1", post: R.p1.id });
        R.c2 = await pb.collection(N.comments).create({ text: "c2", post: R.p1.id });
        R.c3 = await pb.collection(N.comments).create({ text: "c3", post: R.p2.id });
    });

    after(async () => {
        await tracker.cleanup();
    });

    it("stores relation ids as returned strings / arrays", async () => {
        assert.equal(R.p1.author, R.alice.id);
        assert.deepEqual(R.p1.tags, [R.tBlue.id, R.tRed.id]);
        assert.equal(R.p3.author, "");
        assert.deepEqual(R.p3.tags, []);
    });

    it("expands a single relation", async () => {
        const p = await pb.collection(N.posts).getOne(R.p1.id, { expand: "author" });
        assert.equal(p.author, R.alice.id, "the id stays in the field");
        assert.ok(p.expand, `no expand: ${short(p)}`);
        assert.equal(p.expand.author.id, R.alice.id);
        assert.equal(p.expand.author.name, "Alice");
        assert.equal(p.expand.author.collectionName, N.authors);
        assert.equal(p.expand.author.collectionId, C.authors.id);
        assert.ok(!("tags" in p.expand), "only requested relations are expanded");
    });

    it("expands a multi relation as an array in field order", async () => {
        const p = await pb.collection(N.posts).getOne(R.p1.id, { expand: "tags" });
        assert.ok(Array.isArray(p.expand.tags), short(p.expand));
        assert.deepEqual(
            p.expand.tags.map((t) => t.label),
            ["blue", "red"],
        );
    });

    it("expands several relations and nested relations", async () => {
        const p = await pb.collection(N.posts).getOne(R.p1.id, { expand: "author.org,tags" });
        assert.equal(p.expand.author.name, "Alice");
        assert.ok(p.expand.author.expand, `nested expand missing: ${short(p.expand.author)}`);
        assert.equal(p.expand.author.expand.org.name, "Acme");
        assert.equal(p.expand.tags.length, 2);
    });

    it("expands in lists, and leaves out empty relations", async () => {
        const list = await pb.collection(N.posts).getList(1, 10, { sort: "title", expand: "author,tags" });
        assert.deepEqual(
            list.items.map((x) => x.title),
            ["P1", "P2", "P3"],
        );
        const [p1, p2, p3] = list.items;
        assert.equal(p1.expand.author.name, "Alice");
        assert.equal(p2.expand.author.name, "Bob");
        assert.deepEqual(
            p2.expand.tags.map((t) => t.label),
            ["green"],
        );
        assert.ok(!p3.expand || (!p3.expand.author && !p3.expand.tags), `P3 has nothing to expand: ${short(p3.expand)}`);

        const plain = await pb.collection(N.posts).getOne(R.p1.id);
        assert.ok(!("expand" in plain), "no expand key without ?expand");
    });

    it("expands back-relations (<collection>_via_<field>)", async () => {
        const via = `${N.comments}_via_post`;
        const p = await pb.collection(N.posts).getOne(R.p1.id, { expand: via });
        assert.ok(p.expand && Array.isArray(p.expand[via]), `expected expand.${via} array: ${short(p.expand)}`);
        assert.deepEqual(sorted(p.expand[via].map((c) => c.text)), ["c1", "c2"]);

        const list = await pb.collection(N.posts).getList(1, 10, { sort: "title", expand: `${via},author` });
        assert.deepEqual(
            list.items[1].expand[via].map((c) => c.text),
            ["c3"],
        );
        assert.equal(list.items[1].expand.author.name, "Bob");

        // back-relation then forward again
        const a = await pb.collection(N.authors).getOne(R.alice.id, { expand: `${N.posts}_via_author.tags` });
        const posts = a.expand[`${N.posts}_via_author`];
        assert.equal(posts.length, 1);
        assert.equal(posts[0].title, "P1");
        assert.deepEqual(
            posts[0].expand.tags.map((t) => t.label),
            ["blue", "red"],
        );
    });

    it("limits fields of expanded records with expand.x.y", async () => {
        const p = await pb.collection(N.posts).getOne(R.p1.id, {
            expand: "author,tags",
            fields: "id,title,expand.author.name,expand.tags.label",
        });
        assert.deepEqual(Object.keys(p).sort(), ["expand", "id", "title"]);
        assert.deepEqual(p.expand.author, { name: "Alice" });
        assert.deepEqual(p.expand.tags, [{ label: "blue" }, { label: "red" }]);

        const list = await pb.collection(N.posts).getList(1, 10, {
            sort: "title",
            expand: "author.org",
            fields: "title,expand.author.expand.org.name",
        });
        assert.deepEqual(list.items[0], { title: "P1", expand: { author: { expand: { org: { name: "Acme" } } } } });
    });

    it("expands on create and update responses, and with fields=*,expand.x.y", async () => {
        const created = await pb.collection(N.posts).create(
            { title: "P-exp", author: R.bob.id, tags: [R.tRed.id] },
            { expand: "author,tags" },
        );
        assert.equal(created.expand.author.name, "Bob");
        assert.deepEqual(created.expand.tags.map((t) => t.label), ["red"]);
        const updated = await pb.collection(N.posts).update(created.id, { author: R.alice.id }, { expand: "author.org" });
        assert.equal(updated.expand.author.name, "Alice");
        assert.equal(updated.expand.author.expand.org.name, "Acme");
        const star = await pb.collection(N.posts).getOne(created.id, { expand: "author", fields: "*,expand.author.name" });
        assert.equal(star.title, "P-exp");
        assert.equal(star.collectionName, N.posts);
        assert.deepEqual(star.expand, { author: { name: "Alice" } });
        await pb.collection(N.posts).delete(created.id);
    });

    it("sorts by a relation's field", async () => {
        const asc = await pb.collection(N.posts).getList(1, 10, { filter: "author != ''", sort: "author.name" });
        assert.deepEqual(asc.items.map((p) => p.title), ["P1", "P2"]);
        const desc = await pb.collection(N.posts).getList(1, 10, { filter: "author != ''", sort: "-author.name" });
        assert.deepEqual(desc.items.map((p) => p.title), ["P2", "P1"]);
        const byId = await pb.collection(N.posts).getList(1, 10, { filter: `tags ?= '${R.tRed.id}'` });
        assert.deepEqual(ids(byId.items), [R.p1.id]);
    });

    it("filters and sorts through relations", async () => {
        const res = await pb.collection(N.posts).getList(1, 10, { filter: "author.name = 'Alice'" });
        assert.deepEqual(ids(res.items), [R.p1.id]);
        const res2 = await pb.collection(N.posts).getList(1, 10, { filter: "author.org.name = 'Acme'" });
        assert.deepEqual(ids(res2.items), [R.p1.id]);
        const res3 = await pb.collection(N.posts).getList(1, 10, { filter: "tags.label ?= 'green'" });
        assert.deepEqual(ids(res3.items), [R.p2.id]);
        const res4 = await pb.collection(N.posts).getList(1, 10, { filter: "author = ''", sort: "title" });
        assert.deepEqual(ids(res4.items), [R.p3.id]);
        const res5 = await pb.collection(N.posts).getList(1, 10, { filter: `author = '${R.bob.id}'` });
        assert.deepEqual(ids(res5.items), [R.p2.id]);
        const res6 = await pb.collection(N.comments).getList(1, 10, { filter: "post.author.name = 'Alice'", sort: "text" });
        assert.deepEqual(
            res6.items.map((c) => c.text),
            ["c1", "c2"],
        );
    });

    it("rejects a relation to a missing record with 400", async () => {
        const err = await expectError(
            () => pb.collection(N.posts).create({ title: "bad", author: "zzzzzzzzzzzzzzz" }),
            400,
        );
        assertErrorShape(err, 400);
        assertFieldError(err, "author", "validation_missing_rel_records");

        const err2 = await expectError(
            () => pb.collection(N.posts).update(R.p3.id, { tags: [R.tRed.id, "zzzzzzzzzzzzzzz"] }),
            400,
        );
        assertFieldError(err2, "tags", "validation_missing_rel_records");

        // a record of another collection is also missing for this relation
        await expectError(() => pb.collection(N.posts).create({ title: "bad", author: R.acme.id }), 400);

        const p3 = await pb.collection(N.posts).getOne(R.p3.id);
        assert.deepEqual(p3.tags, [], "failed update changed nothing");
        const bad = await pb.collection(N.posts).getList(1, 5, { filter: "title = 'bad'" });
        assert.equal(bad.totalItems, 0);
    });

    it("refuses to delete a record that a required relation references", async () => {
        const post = await pb.collection(N.posts).create({ title: "pinned" });
        const pin = await pb.collection(N.pins).create({ label: "pin", post: post.id });
        const err = await expectError(() => pb.collection(N.posts).delete(post.id), 400);
        assertErrorShape(err, 400);
        const still = await pb.collection(N.posts).getOne(post.id);
        assert.equal(still.title, "pinned");
        const pinStill = await pb.collection(N.pins).getOne(pin.id);
        assert.equal(pinStill.post, post.id);

        await pb.collection(N.pins).delete(pin.id);
        assert.equal(await pb.collection(N.posts).delete(post.id), true);
        await expectError(() => pb.collection(N.posts).getOne(post.id), 404);
    });

    it("removes the id from an optional non-cascading relation on delete", async () => {
        const a = await pb.collection(N.posts).create({ title: "like-a" });
        const b = await pb.collection(N.posts).create({ title: "like-b" });
        const like = await pb.collection(N.likes).create({ label: "l", posts: [a.id, b.id] });
        assert.equal(await pb.collection(N.posts).delete(a.id), true);
        const got = await pb.collection(N.likes).getOne(like.id);
        assert.deepEqual(got.posts, [b.id]);
        await pb.collection(N.likes).delete(like.id);
        await pb.collection(N.posts).delete(b.id);
    });

    it("cascade-deletes referencing records when cascadeDelete is set", async () => {
        assert.equal(await pb.collection(N.posts).delete(R.p1.id), true);
        await expectError(() => pb.collection(N.posts).getOne(R.p1.id), 404);
        await expectError(() => pb.collection(N.comments).getOne(R.c1.id), 404);
        await expectError(() => pb.collection(N.comments).getOne(R.c2.id), 404);
        const left = await pb.collection(N.comments).getFullList({ sort: "text" });
        assert.deepEqual(
            left.map((c) => c.text),
            ["c3"],
        );
    });

    it("refuses to delete a collection that another collection references", async () => {
        const err = await expectError(() => pb.collections.delete(N.authors), 400);
        assertErrorShape(err, 400);
        await pb.collections.getOne(N.authors);
    });
});
