// getList / getFullList / getFirstListItem, filter operators, sort, fields,
// :excerpt, skipTotal.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import {
    superuserClient,
    uniqueName,
    CollectionTracker,
    expectError,
    assertErrorShape,
    countRequests,
    sorted,
    short,
    AUTODATES,
} from "../lib/helpers.mjs";

const N = 12;
const pad = (i) => String(i).padStart(2, "0");
const GROUPS = ["x", "y", "z"];
const TAGSETS = [["a"], ["b"], ["a", "b"], [], ["c"], ["b", "c"]];

function seed(i) {
    return {
        title: `item-${pad(i)}`,
        n: i,
        grp: GROUPS[i % 3],
        tags: TAGSETS[i % TAGSETS.length],
        note: i % 4 === 0 ? "" : `note ${i}`,
        flag: i % 2 === 0,
        due: `2024-01-${pad(i + 1)} 10:00:00.000Z`,
        body: `<p>Hello world, this is item ${i}</p>`,
    };
}

describe("list queries", { timeout: 120_000 }, () => {
    let pb;
    let tracker;
    const name = uniqueName("lq");
    const byN = new Map();
    let c;

    before(async () => {
        pb = await superuserClient();
        tracker = new CollectionTracker(pb);
        await tracker.create({
            name,
            type: "base",
            listRule: "",
            viewRule: "",
            fields: [
                { name: "title", type: "text", required: true },
                { name: "n", type: "number" },
                { name: "grp", type: "text" },
                { name: "tags", type: "select", values: ["a", "b", "c"], maxSelect: 3 },
                { name: "note", type: "text" },
                { name: "flag", type: "bool" },
                { name: "due", type: "date" },
                { name: "body", type: "editor" },
                ...AUTODATES,
            ],
        });
        c = pb.collection(name);
        for (let i = 0; i < N; i++) {
            const r = await c.create(seed(i));
            byN.set(i, r);
        }
    });

    after(async () => {
        await tracker.cleanup();
    });

    const ns = (items) => items.map((r) => r.n);
    async function filterNs(filter) {
        const res = await c.getList(1, 100, { filter, sort: "n" });
        assert.equal(res.totalItems, res.items.length, `totalItems for ${filter}`);
        return ns(res.items);
    }

    it("getList pages with page, perPage, totalItems, totalPages", async () => {
        const p1 = await c.getList(1, 5, { sort: "n" });
        assert.equal(p1.page, 1);
        assert.equal(p1.perPage, 5);
        assert.equal(p1.totalItems, N);
        assert.equal(p1.totalPages, 3);
        assert.deepEqual(ns(p1.items), [0, 1, 2, 3, 4]);

        const p2 = await c.getList(2, 5, { sort: "n" });
        assert.equal(p2.page, 2);
        assert.deepEqual(ns(p2.items), [5, 6, 7, 8, 9]);

        const p3 = await c.getList(3, 5, { sort: "n" });
        assert.equal(p3.page, 3);
        assert.deepEqual(ns(p3.items), [10, 11]);
        assert.equal(p3.totalItems, N);

        const p4 = await c.getList(4, 5, { sort: "n" });
        assert.equal(p4.page, 4);
        assert.deepEqual(p4.items, []);
        assert.equal(p4.totalItems, N);
        assert.equal(p4.totalPages, 3);
    });

    it("getList defaults to page 1 and perPage 30", async () => {
        const res = await c.getList();
        assert.equal(res.page, 1);
        assert.equal(res.perPage, 30);
        assert.equal(res.totalItems, N);
        assert.equal(res.totalPages, 1);
        assert.equal(res.items.length, N);
    });

    it("getList with an empty filter result has zero totals", async () => {
        const res = await c.getList(1, 10, { filter: "n > 1000" });
        assert.equal(res.totalItems, 0);
        assert.equal(res.totalPages, 0);
        assert.deepEqual(res.items, []);
    });

    it("skipTotal returns -1 totals but still the items", async () => {
        const res = await c.getList(1, 5, { sort: "n", skipTotal: true });
        assert.equal(res.totalItems, -1);
        assert.equal(res.totalPages, -1);
        assert.equal(res.page, 1);
        assert.equal(res.perPage, 5);
        assert.deepEqual(ns(res.items), [0, 1, 2, 3, 4]);
        const res2 = await c.getList(3, 5, { sort: "n", query: { skipTotal: 1 } });
        assert.equal(res2.totalItems, -1);
        assert.deepEqual(ns(res2.items), [10, 11]);
    });

    it("getFullList fetches all items in batches", async () => {
        const counter = countRequests(pb);
        let all;
        try {
            all = await c.getFullList({ batch: 5, sort: "-n" });
        } finally {
            counter.stop();
        }
        assert.deepEqual(ns(all), [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
        assert.equal(counter.n, 3, `expected 3 page requests, got ${short(counter.urls)}`);

        const filtered = await c.getFullList({ batch: 2, filter: "flag = true", sort: "n" });
        assert.deepEqual(ns(filtered), [0, 2, 4, 6, 8, 10]);

        const dflt = await c.getFullList();
        assert.equal(dflt.length, N);
    });

    it("getFirstListItem returns the first match and 404 when none", async () => {
        const r = await c.getFirstListItem("n = 7");
        assert.equal(r.n, 7);
        assert.equal(r.title, "item-07");
        const r2 = await c.getFirstListItem("n >= 3", { sort: "-n" });
        assert.equal(r2.n, 11);
        const err = await expectError(() => c.getFirstListItem("n = 999"), 404);
        assert.equal(err.response.code, 404);
    });

    it("filters with = != > < >= <=", async () => {
        assert.deepEqual(await filterNs("n = 5"), [5]);
        assert.deepEqual(await filterNs("n != 5"), [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]);
        assert.deepEqual(await filterNs("n > 8"), [9, 10, 11]);
        assert.deepEqual(await filterNs("n < 2"), [0, 1]);
        assert.deepEqual(await filterNs("n >= 10"), [10, 11]);
        assert.deepEqual(await filterNs("n <= 1"), [0, 1]);
        assert.deepEqual(await filterNs("title = 'item-03'"), [3]);
        assert.deepEqual(await filterNs('title = "item-04"'), [4]);
        assert.deepEqual(await filterNs("flag = false && n < 6"), [1, 3, 5]);
        assert.deepEqual(await filterNs("due > '2024-01-10 00:00:00.000Z'"), [9, 10, 11]);
    });

    it("filters with ~ and !~ (contains, % wildcards)", async () => {
        assert.deepEqual(await filterNs("title ~ 'item-1'"), [10, 11]);
        assert.deepEqual(await filterNs("title !~ 'item-0'"), [10, 11]);
        assert.deepEqual(await filterNs("note ~ 'note 1%'"), [1, 10, 11]);
        assert.deepEqual(await filterNs("title ~ 'ITEM-05'"), [5], "~ is case-insensitive");
    });

    it("filters multi-values with ?= and ?!=", async () => {
        // TAGSETS by i % 6: 0:[a] 1:[b] 2:[a,b] 3:[] 4:[c] 5:[b,c]
        assert.deepEqual(await filterNs("tags ?= 'b'"), [1, 2, 5, 7, 8, 11]);
        assert.deepEqual(await filterNs("tags ?= 'c' && n < 6"), [4, 5]);
        assert.deepEqual(await filterNs("tags ?!= 'a' && n < 6 && n != 3"), [1, 2, 4, 5]);
        assert.deepEqual(await filterNs("tags ?= 'a' && tags ?= 'b'"), [2, 8]);
    });

    it("filters with && || and parentheses", async () => {
        assert.deepEqual(await filterNs("(n < 3 || n > 9) && flag = true"), [0, 2, 10]);
        assert.deepEqual(await filterNs("(n < 3 || n > 9) && (flag = false)"), [1, 11]);
        assert.deepEqual(await filterNs("grp = 'x' || grp = 'y'"), [0, 1, 3, 4, 6, 7, 9, 10]);
        assert.deepEqual(await filterNs("(grp = 'z' && (n = 2 || n = 11)) || title = 'item-00'"), [0, 2, 11]);
    });

    it("filters with null and date macros", async () => {
        assert.deepEqual(await filterNs("note = null"), [0, 4, 8]);
        assert.deepEqual(await filterNs("note != null && n < 4"), [1, 2, 3]);
        assert.deepEqual(await filterNs("note = ''"), [0, 4, 8]);
        assert.equal((await filterNs("created <= @now")).length, N);
        assert.deepEqual(await filterNs("created > @now"), []);
        assert.deepEqual(await filterNs("due < @now && n < 2"), [0, 1]);
        assert.equal((await filterNs("created >= @yesterday")).length, N);
        assert.deepEqual(await filterNs("created > @tomorrow"), []);
    });

    it("filters built with pb.filter() parameters", async () => {
        const f = pb.filter("title = {:t} || n = {:n}", { t: "item-06", n: 9 });
        assert.deepEqual(await filterNs(f), [6, 9]);
        const q = pb.filter("title = {:t}", { t: "it's \"quoted\"" });
        assert.deepEqual(await filterNs(q), []);
    });

    it("sorts ascending, descending and by several terms", async () => {
        let res = await c.getList(1, 100, { sort: "-n" });
        assert.deepEqual(ns(res.items), [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);

        res = await c.getList(1, 100, { sort: "grp,-n" });
        assert.deepEqual(ns(res.items), [9, 6, 3, 0, 10, 7, 4, 1, 11, 8, 5, 2]);

        res = await c.getList(1, 100, { sort: "-flag,title" });
        assert.deepEqual(ns(res.items), [0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11]);

        res = await c.getList(1, 100, { sort: "-due" });
        assert.deepEqual(ns(res.items), [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);

        res = await c.getList(1, 100, { sort: "-created,-id" });
        assert.equal(res.items.length, N);
        for (let i = 1; i < res.items.length; i++) {
            assert.ok(res.items[i - 1].created >= res.items[i].created, "sorted by -created");
        }
    });

    it("sorts with @random and returns the same set", async () => {
        const res = await c.getList(1, 100, { sort: "@random" });
        assert.deepEqual(sorted(ns(res.items)), sorted([...byN.keys()]));
        assert.equal(res.totalItems, N);
    });

    it("returns only the requested fields", async () => {
        const res = await c.getList(1, 3, { sort: "n", fields: "id,title" });
        assert.equal(res.items.length, 3);
        for (const item of res.items) {
            assert.deepEqual(Object.keys(item).sort(), ["id", "title"]);
        }
        assert.equal(res.items[1].title, "item-01");
        assert.equal(res.totalItems, N);

        const one = await c.getOne(byN.get(2).id, { fields: "n,grp" });
        assert.deepEqual(one, { n: 2, grp: "z" });

        const star = await c.getOne(byN.get(2).id, { fields: "*" });
        assert.equal(star.title, "item-02");
        assert.equal(star.collectionName, name);
    });

    it("applies :excerpt to a field", async () => {
        const r = await c.getOne(byN.get(3).id, { fields: "id,body:excerpt(10,true)" });
        assert.deepEqual(Object.keys(r).sort(), ["body", "id"]);
        assert.ok(!r.body.includes("<"), `excerpt must strip HTML: ${r.body}`);
        assert.equal(r.body, "Hello worl...");

        const r2 = await c.getOne(byN.get(3).id, { fields: "body:excerpt(11)" });
        assert.equal(r2.body, "Hello world");

        const r3 = await c.getOne(byN.get(3).id, { fields: "body:excerpt(200,true)" });
        assert.equal(r3.body, "Hello world, this is item 3");

        const list = await c.getList(1, 2, { sort: "n", fields: "title,body:excerpt(5)" });
        assert.deepEqual(
            list.items.map((x) => [x.title, x.body]),
            [
                ["item-00", "Hello"],
                ["item-01", "Hello"],
            ],
        );
    });

    it("rejects a malformed filter with 400", async () => {
        for (const filter of ["n ===", "(n = 1", "title = 'unterminated", "nosuchfield = 1"]) {
            const err = await expectError(() => c.getList(1, 5, { filter }), 400, `filter ${filter}`);
            assertErrorShape(err, 400);
        }
        await expectError(() => c.getList(1, 5, { sort: "nosuchfield" }), 400, "sort on unknown field");
    });
});
