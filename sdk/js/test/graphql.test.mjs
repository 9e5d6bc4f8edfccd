// GraphQL with real GraphQL clients: a fetch-based one for queries and
// mutations, and graphql-ws (the graphql-transport-ws protocol) for a
// subscription that receives a record created through the REST SDK. The
// caller's token applies the same rules as REST.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { createClient } from "graphql-ws";
import { URL, anonClient, superuserClient, uniqueName, CollectionTracker } from "../lib/helpers.mjs";

// gql posts a query to /api/graphql with token, as any fetch-based
// GraphQL client does, and returns {data, errors}.
async function gql(token, query, variables = {}) {
    const res = await fetch(`${URL}/api/graphql`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...(token ? { Authorization: token } : {}) },
        body: JSON.stringify({ query, variables }),
    });
    const body = await res.json();
    assert.ok(res.status === 200 || body.errors, `status ${res.status}: ${JSON.stringify(body)}`);
    return body;
}

describe("graphql", { timeout: 60_000 }, () => {
    let su;
    let tracker;
    const authors = uniqueName("gq_authors");
    const posts = uniqueName("gq_posts");
    const comments = uniqueName("gq_comments");
    let ann, bob, hello, draft;

    before(async () => {
        su = await superuserClient();
        tracker = new CollectionTracker(su);
        const a = await tracker.create({
            name: authors, type: "base", listRule: "", viewRule: "",
            fields: [{ name: "name", type: "text" }],
        });
        const p = await tracker.create({
            name: posts, type: "base",
            listRule: "published = true", viewRule: "published = true", createRule: "", updateRule: null, deleteRule: null,
            fields: [
                { name: "title", type: "text" },
                { name: "published", type: "bool" },
                { name: "author", type: "relation", collectionId: a.id, maxSelect: 1 },
            ],
        });
        await tracker.create({
            name: comments, type: "base", listRule: "", viewRule: "",
            fields: [
                { name: "body", type: "text" },
                { name: "post", type: "relation", collectionId: p.id, maxSelect: 1 },
            ],
        });
        ann = await su.collection(authors).create({ name: "Ann" });
        bob = await su.collection(authors).create({ name: "Bob" });
        hello = await su.collection(posts).create({ title: "Hello", published: true, author: ann.id });
        draft = await su.collection(posts).create({ title: "Draft", published: false, author: bob.id });
        await su.collection(comments).create({ body: "first", post: hello.id });
        await su.collection(comments).create({ body: "second", post: hello.id });
    });

    after(async () => {
        await tracker?.cleanup();
    });

    it("lists with a filter and nested relations, under the caller's rules", async () => {
        const query = `{ ${posts}(filter: "title != ''", order_by: [{title: asc}]) { id title author { name } ${comments}_via_post { body } } }`;
        const guest = await gql("", query);
        assert.equal(guest.errors, undefined, JSON.stringify(guest.errors));
        // Back-relations come in no particular order (by id): compare sorted.
        const rows = guest.data[posts].map((p) => ({ ...p, [`${comments}_via_post`]: p[`${comments}_via_post`].map((c) => c.body).sort() }));
        assert.deepEqual(rows, [
            { id: hello.id, title: "Hello", author: { name: "Ann" }, [`${comments}_via_post`]: ["first", "second"] },
        ]);
        const all = await gql(su.authStore.token, query);
        assert.deepEqual(all.data[posts].map((p) => p.title), ["Draft", "Hello"]);
        const where = await gql("", `query($t: String!) { ${posts}(where: {title: {_eq: $t}}) { id } }`, { t: "Hello" });
        assert.deepEqual(where.data[posts], [{ id: hello.id }]);
        const hidden = await gql("", `{ ${posts}_by_pk(id: "${draft.id}") { id } }`);
        assert.equal(hidden.data[`${posts}_by_pk`], null);
    });

    it("inserts through a mutation, seen by REST", async () => {
        const res = await gql("", `mutation($o: ${posts}_insert_input!) { insert_${posts}_one(object: $o) { id title published } }`,
            { o: { title: "From GraphQL", published: true, author: ann.id } });
        assert.equal(res.errors, undefined, JSON.stringify(res.errors));
        const made = res.data[`insert_${posts}_one`];
        assert.equal(made.title, "From GraphQL");
        const viaRest = await anonClient().collection(posts).getOne(made.id);
        assert.equal(viaRest.author, ann.id);
        // A rule the caller fails is a GraphQL error, not a 500.
        const refused = await gql("", `mutation { update_${posts}_by_pk(pk_columns: {id: "${made.id}"}, _set: {title: "x"}) { id } }`);
        assert.ok(refused.errors || refused.data[`update_${posts}_by_pk`] === null, JSON.stringify(refused));
    });

    it("receives a REST create through a graphql-ws subscription", async () => {
        const wsURL = URL.replace(/^http/, "ws") + "/api/graphql";
        const client = createClient({
            url: wsURL,
            webSocketImpl: WebSocket,
            connectionParams: { Authorization: su.authStore.token },
            retryAttempts: 0,
        });
        try {
            const events = [];
            let ready;
            const gotOne = new Promise((resolve, reject) => {
                ready = client.subscribe(
                    { query: `subscription { ${posts}_events(filter: "published = true") { action record { id title } } }` },
                    {
                        next: (msg) => { events.push(msg); resolve(); },
                        error: reject,
                        complete: () => {},
                    },
                );
            });
            // The subscription is live once the server acknowledged it;
            // give it a moment, then create through REST until one arrives.
            let made;
            const deadline = Date.now() + 15_000;
            while (events.length === 0 && Date.now() < deadline) {
                made = await su.collection(posts).create({ title: "Live", published: true, author: bob.id });
                await Promise.race([gotOne, new Promise((r) => setTimeout(r, 500))]);
            }
            assert.ok(events.length > 0, "no event arrived");
            const ev = events[0].data[`${posts}_events`];
            assert.equal(ev.action, "create");
            assert.equal(ev.record.title, "Live");
            assert.ok(made);
            ready();
        } finally {
            await client.dispose();
        }
    });
});
