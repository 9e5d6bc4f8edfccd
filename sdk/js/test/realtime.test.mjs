// Realtime through the SDK: subscribe('*') and subscribe(id) receive
// create, update and delete events; each subscriber only gets what its own
// list/view rule lets it see (options such as expand included);
// unsubscribe stops events; and after the server drops the stream (its idle
// timeout, PLINTH_REALTIME_IDLE_TIMEOUT, which run.sh sets short) the SDK
// reconnects and resubscribes by itself.
//
// Node 20 has no EventSource: the `eventsource` package stands in, as it
// would in any Node program using the SDK's realtime.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { EventSource } from "eventsource";
import {
    anonClient,
    superuserClient,
    uniqueName,
    CollectionTracker,
    short,
} from "../lib/helpers.mjs";

globalThis.EventSource ??= EventSource;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Collects the events of one subscription. */
function recorder() {
    const events = [];
    const cb = (e) => events.push(e);
    /** Waits until pred holds for some event and returns it. */
    cb.waitFor = async (pred, label, ms = 10_000) => {
        const deadline = Date.now() + ms;
        while (Date.now() < deadline) {
            const hit = events.find(pred);
            if (hit) return hit;
            await sleep(10);
        }
        assert.fail(`${label}: no matching event within ${ms} ms; got ${short(events)}`);
    };
    cb.events = events;
    return cb;
}

/** Parses a Go duration such as "4s" or "1500ms" into milliseconds. */
function durationMs(s) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(s || "");
    if (!m) return 0;
    return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2]];
}
const idleMs = durationMs(process.env.PLINTH_REALTIME_IDLE_TIMEOUT);

describe("realtime", { timeout: 120_000 }, () => {
    let su;
    let tracker;
    const N = { items: uniqueName("rt_items"), members: uniqueName("rt_members"), notes: uniqueName("rt_notes") };
    const clients = [];
    const users = {};

    /** A client that is closed (unsubscribed from everything) after the suite. */
    function client() {
        const pb = anonClient();
        clients.push(pb);
        return pb;
    }

    async function member(name) {
        const email = `${uniqueName(name)}@example.com`.toLowerCase();
        const password = "member-password-1";
        const rec = await su.collection(N.members).create({ email, password, passwordConfirm: password, name });
        const pb = client();
        await pb.collection(N.members).authWithPassword(email, password);
        return { id: rec.id, pb };
    }

    before(async () => {
        su = await superuserClient();
        tracker = new CollectionTracker(su);
        await tracker.create({
            name: N.items,
            type: "base",
            listRule: "",
            viewRule: "",
            createRule: "",
            updateRule: "",
            deleteRule: "",
            fields: [
                { name: "title", type: "text" },
                { name: "n", type: "number" },
            ],
        });
        const members = await tracker.create({
            name: N.members,
            type: "auth",
            listRule: "id = @request.auth.id",
            viewRule: "id = @request.auth.id",
            fields: [{ name: "name", type: "text" }],
        });
        const owner = "owner = @request.auth.id";
        await tracker.create({
            name: N.notes,
            type: "base",
            listRule: owner,
            viewRule: owner,
            createRule: "@request.auth.id != ''",
            updateRule: owner,
            deleteRule: owner,
            fields: [
                { name: "text", type: "text" },
                { name: "owner", type: "relation", collectionId: members.id, maxSelect: 1 },
            ],
        });
        users.ann = await member("ann");
        users.bob = await member("bob");
    });

    after(async () => {
        // Open EventSources would keep the test process alive.
        for (const pb of clients) {
            await pb.realtime.unsubscribe().catch(() => {});
        }
        await tracker.cleanup();
    });

    it("subscribe('*') receives create, update and delete", async () => {
        const pb = client();
        const got = recorder();
        await pb.collection(N.items).subscribe("*", got);
        assert.ok(pb.realtime.isConnected, "connected after subscribe");
        assert.match(pb.realtime.clientId, /^[A-Za-z0-9]{40}$/);

        const rec = await su.collection(N.items).create({ title: "first", n: 1 });
        await su.collection(N.items).update(rec.id, { title: "second", n: 2 });
        await su.collection(N.items).delete(rec.id);
        const deleted = await got.waitFor((e) => e.action === "delete", "delete");
        assert.deepEqual(
            got.events.map((e) => e.action),
            ["create", "update", "delete"],
            short(got.events),
        );
        const [created, updated] = got.events;
        assert.equal(created.record.id, rec.id);
        assert.equal(created.record.title, "first");
        assert.equal(created.record.collectionName, N.items);
        assert.equal(updated.record.title, "second");
        assert.equal(updated.record.n, 2);
        assert.equal(deleted.record.id, rec.id);
        assert.equal(deleted.record.title, "second", "a delete carries the record as it was");
    });

    it("subscribe(id) receives that record's events only", async () => {
        const one = await su.collection(N.items).create({ title: "one" });
        const two = await su.collection(N.items).create({ title: "two" });
        const pb = client();
        const got = recorder();
        await pb.collection(N.items).subscribe(one.id, got);

        await su.collection(N.items).update(two.id, { title: "two changed" });
        await su.collection(N.items).update(one.id, { title: "one changed" });
        const ev = await got.waitFor((e) => e.action === "update", "update of the subscribed record");
        assert.equal(ev.record.id, one.id);
        assert.equal(ev.record.title, "one changed");
        await su.collection(N.items).delete(one.id);
        await got.waitFor((e) => e.action === "delete", "delete of the subscribed record");
        await sleep(200);
        assert.ok(
            got.events.every((e) => e.record.id === one.id),
            `events of another record arrived: ${short(got.events)}`,
        );
        await su.collection(N.items).delete(two.id);
    });

    it("filters by the subscriber's rules and honours expand", async () => {
        const { ann, bob } = users;
        const annAll = recorder();
        const annExpanded = recorder();
        const bobAll = recorder();
        await ann.pb.collection(N.notes).subscribe("*", annAll);
        await ann.pb.collection(N.notes).subscribe("*", annExpanded, { expand: "owner" });
        await bob.pb.collection(N.notes).subscribe("*", bobAll);
        const guest = client();
        const guestAll = recorder();
        await guest.collection(N.notes).subscribe("*", guestAll);

        const annNote = await ann.pb.collection(N.notes).create({ text: "ann's", owner: ann.id });
        const bobNote = await bob.pb.collection(N.notes).create({ text: "bob's", owner: bob.id });
        await annAll.waitFor((e) => e.record.id === annNote.id, "ann's own note");
        await bobAll.waitFor((e) => e.record.id === bobNote.id, "bob's own note");
        const expanded = await annExpanded.waitFor((e) => e.record.id === annNote.id, "ann's note, expanded");
        assert.equal(expanded.record.expand?.owner?.id, ann.id, short(expanded));
        assert.equal(annAll.events[0].record.expand, undefined, "expand only where asked for");

        // The record topic applies the view rule: bob may not watch ann's note.
        const bobWatch = recorder();
        const annWatch = recorder();
        await bob.pb.collection(N.notes).subscribe(annNote.id, bobWatch);
        await ann.pb.collection(N.notes).subscribe(annNote.id, annWatch);
        await ann.pb.collection(N.notes).update(annNote.id, { text: "ann's edited" });
        await annWatch.waitFor((e) => e.record.text === "ann's edited", "ann's record topic");
        await annAll.waitFor((e) => e.record.text === "ann's edited", "ann's update on '*'");

        await sleep(300);
        assert.ok(annAll.events.every((e) => e.record.owner === ann.id), `ann saw: ${short(annAll.events)}`);
        assert.ok(bobAll.events.every((e) => e.record.owner === bob.id), `bob saw: ${short(bobAll.events)}`);
        assert.deepEqual(bobWatch.events, [], "bob's record topic on ann's note");
        assert.deepEqual(guestAll.events, [], "a guest sees no owner-ruled note");
    });

    it("unsubscribe stops events and closes the connection", async () => {
        const pb = client();
        const got = recorder();
        const unsub = await pb.collection(N.items).subscribe("*", got);
        const a = await su.collection(N.items).create({ title: "before" });
        await got.waitFor((e) => e.record.id === a.id, "event before unsubscribing");

        await unsub();
        assert.equal(pb.realtime.isConnected, false, "no subscription left: the SDK disconnects");
        // Another subscriber proves the next event was published.
        const other = client();
        const otherGot = recorder();
        await other.collection(N.items).subscribe("*", otherGot);
        const b = await su.collection(N.items).create({ title: "after" });
        await otherGot.waitFor((e) => e.record.id === b.id, "the other subscriber's event");
        await sleep(300);
        assert.deepEqual(
            got.events.map((e) => e.record.id),
            [a.id],
            "no event after unsubscribe",
        );

        // Unsubscribing one topic of two keeps the other.
        const keep = recorder();
        const drop = recorder();
        await pb.collection(N.items).subscribe("*", keep);
        await pb.collection(N.items).subscribe(b.id, drop);
        await pb.collection(N.items).unsubscribe(b.id);
        await su.collection(N.items).update(b.id, { title: "after, changed" });
        await keep.waitFor((e) => e.record.title === "after, changed", "the kept topic");
        await sleep(200);
        assert.deepEqual(drop.events, [], "the unsubscribed record topic");
    });

    it(
        "reconnects and resubscribes after the server drops the stream",
        { skip: idleMs === 0 || idleMs > 30_000 ? "needs a short PLINTH_REALTIME_IDLE_TIMEOUT on the server (run.sh sets it)" : false },
        async () => {
            const pb = client();
            const got = recorder();
            let disconnects = 0;
            pb.realtime.onDisconnect = (active) => {
                if (active.length > 0) disconnects++;
            };
            // The SDK calls PB_CONNECT listeners once the (re)subscription
            // POST is done, so the second call means: resubscribed.
            let connects = 0;
            await pb.realtime.subscribe("PB_CONNECT", () => connects++);
            await pb.collection(N.items).subscribe("*", got);
            const first = pb.realtime.clientId;
            assert.ok(first);

            // Idle past the server's timeout: the server ends the stream, the
            // SDK connects again, gets a new client id and resends its topics.
            const deadline = Date.now() + idleMs + 15_000;
            while (Date.now() < deadline && connects < 2) {
                await sleep(20);
            }
            assert.ok(connects >= 2, `no reconnect within ${idleMs + 15_000} ms`);
            assert.ok(disconnects >= 1, "the SDK noticed the drop");
            assert.ok(pb.realtime.clientId, "connected again");
            assert.notEqual(pb.realtime.clientId, first, "a new connection with a new client id");

            const rec = await su.collection(N.items).create({ title: "after reconnect" });
            const ev = await got.waitFor((e) => e.record.id === rec.id, "event after the reconnect");
            assert.equal(ev.action, "create");
        },
    );
});
