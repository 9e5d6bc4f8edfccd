// The rest of the filter language from the wire doc: json paths, modifiers
// (:length, :each, :lower), any-of forms, back-relations and @collection in
// filters, strftime, geoDistance, quoting/escaping via pb.filter(), Date
// parameters, unicode values, byte-order text sort, perPage limits.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import {
    superuserClient,
    uniqueName,
    CollectionTracker,
    expectError,
    sorted,
    AUTODATES,
} from "../lib/helpers.mjs";

describe("filter language extras", { timeout: 120_000 }, () => {
    let pb;
    let tracker;
    const name = uniqueName("fx");
    const notes = uniqueName("fx_notes");
    let c;
    const R = {};

    before(async () => {
        pb = await superuserClient();
        tracker = new CollectionTracker(pb);
        const col = await tracker.create({
            name,
            type: "base",
            listRule: "",
            viewRule: "",
            fields: [
                { name: "title", type: "text" },
                { name: "n", type: "number" },
                { name: "tags", type: "select", values: ["a", "b", "c"], maxSelect: 3 },
                { name: "meta", type: "json" },
                { name: "due", type: "date" },
                { name: "place", type: "geoPoint" },
                ...AUTODATES,
            ],
        });
        await tracker.create({
            name: notes,
            type: "base",
            listRule: "",
            viewRule: "",
            fields: [
                { name: "body", type: "text" },
                { name: "item", type: "relation", collectionId: col.id, maxSelect: 1 },
            ],
        });
        c = pb.collection(name);
        R.sofia = await c.create({
            title: "Sofia",
            n: 1,
            tags: ["a", "b"],
            meta: { a: { b: 5 }, list: [1, 2], s: "x" },
            due: "2023-03-04 05:06:07.000Z",
            place: { lon: 23.3219, lat: 42.6977 },
        });
        R.plovdiv = await c.create({
            title: "plovdiv",
            n: 2,
            tags: ["a"],
            meta: { a: { b: 7 }, s: "y" },
            due: "2024-03-04 05:06:07.000Z",
            place: { lon: 24.7453, lat: 42.1354 },
        });
        R.quote = await c.create({ title: "it's \"quoted\" \\ back", n: 3, tags: ["c"], meta: null });
        R.uni = await c.create({ title: "Ünïcödé ✓ 日本語 😀", n: 4, tags: [] });
        await pb.collection(notes).create({ body: "first", item: R.sofia.id });
        await pb.collection(notes).create({ body: "second", item: R.sofia.id });
        await pb.collection(notes).create({ body: "third", item: R.plovdiv.id });
    });

    after(async () => {
        await tracker.cleanup();
    });

    async function titles(filter, sort = "n") {
        const res = await c.getList(1, 100, { filter, sort });
        return res.items.map((r) => r.title);
    }

    it("round-trips unicode text and finds it by equality", async () => {
        const got = await c.getOne(R.uni.id);
        assert.equal(got.title, "Ünïcödé ✓ 日本語 😀");
        assert.deepEqual(await titles(pb.filter("title = {:t}", { t: "Ünïcödé ✓ 日本語 😀" })), [R.uni.title]);
        assert.deepEqual(await titles("title ~ '日本'"), [R.uni.title]);
    });

    it("escapes quotes and backslashes in pb.filter() strings", async () => {
        assert.deepEqual(await titles(pb.filter("title = {:t}", { t: R.quote.title })), [R.quote.title]);
        assert.deepEqual(await titles(pb.filter("title ~ {:t}", { t: "it's" })), [R.quote.title]);
    });

    it("binds Date, number, bool and null parameters in pb.filter()", async () => {
        const f = pb.filter("due > {:d} && n >= {:n} && title != {:nil}", {
            d: new Date("2024-01-01T00:00:00Z"),
            n: 2,
            nil: null,
        });
        assert.deepEqual(await titles(f), ["plovdiv"]);
    });

    it("filters on json paths", async () => {
        assert.deepEqual(await titles("meta.a.b = 5"), ["Sofia"]);
        assert.deepEqual(await titles("meta.a.b > 5"), ["plovdiv"]);
        assert.deepEqual(await titles("meta.s = 'y'"), ["plovdiv"]);
        assert.deepEqual(await titles("meta = null"), [R.quote.title, R.uni.title]);
    });

    it("applies :length, :each and :lower", async () => {
        assert.deepEqual(await titles("tags:length = 2"), ["Sofia"]);
        assert.deepEqual(await titles("tags:length = 0"), [R.uni.title]);
        assert.deepEqual(await titles("tags:each = 'a' && tags:length > 0"), ["plovdiv"]);
        assert.deepEqual(await titles("title:lower = 'sofia'"), ["Sofia"]);
    });

    it("supports the other any-of operators", async () => {
        assert.deepEqual(await titles("tags ?~ 'b'"), ["Sofia"]);
        assert.deepEqual(await titles("tags ?!~ 'a' && n < 4"), ["Sofia", R.quote.title]);
        assert.deepEqual(await titles("tags = 'a' && n < 3"), ["plovdiv"]);
    });

    it("filters through back-relations and @collection", async () => {
        const via = `${notes}_via_item`;
        assert.deepEqual(await titles(`${via}.body ?= 'third'`), ["plovdiv"]);
        assert.deepEqual(await titles(`${via}.body ?= 'first'`), ["Sofia"]);
        assert.deepEqual(await titles(`@collection.${notes}.item ?= id && n = 2`), ["plovdiv"]);
        assert.deepEqual(await titles(`@collection.${notes}.item ?= id`), ["Sofia", "plovdiv"]);
    });

    it("supports strftime() and geoDistance()", async () => {
        assert.deepEqual(await titles("strftime('%Y', due) = '2024'"), ["plovdiv"]);
        assert.deepEqual(await titles("strftime('%Y-%m', due) = '2023-03'"), ["Sofia"]);
        // Sofia -> Plovdiv is about 132 km
        assert.deepEqual(
            await titles("geoDistance(place.lon, place.lat, 23.32, 42.70) < 5"),
            ["Sofia"],
        );
        assert.deepEqual(
            await titles("geoDistance(place.lon, place.lat, 23.32, 42.70) > 100 && geoDistance(place.lon, place.lat, 23.32, 42.70) < 200"),
            ["plovdiv"],
        );
    });

    it("accepts the date macros", async () => {
        for (const m of ["@now", "@todayStart", "@todayEnd", "@monthStart", "@monthEnd", "@yearStart", "@yearEnd", "@yesterday", "@tomorrow"]) {
            const res = await c.getList(1, 100, { filter: `created <= ${m} || created > ${m}` });
            assert.equal(res.totalItems, 4, `macro ${m}`);
        }
        assert.equal((await c.getList(1, 1, { filter: "created >= @todayStart && created <= @todayEnd" })).totalItems, 4);
        assert.equal((await c.getList(1, 1, { filter: "due < @yearStart && due != ''" })).totalItems, 2);
        assert.equal((await c.getList(1, 1, { filter: "@year > 2000 && @month >= 1 && @day >= 1 && @hour >= 0 && @weekday >= 0" })).totalItems, 4);
    });

    it("treats empty dates as '' in filters and sorts them first", async () => {
        assert.deepEqual(await titles("due = ''"), [R.quote.title, R.uni.title]);
        assert.deepEqual(await titles("due != ''"), ["Sofia", "plovdiv"]);
        assert.deepEqual(await titles("due = null"), [R.quote.title, R.uni.title]);
        const asc = await c.getFullList({ sort: "due,n" });
        assert.deepEqual(
            asc.map((r) => r.title),
            [R.quote.title, R.uni.title, "Sofia", "plovdiv"],
        );
        const desc = await c.getFullList({ sort: "-due,n" });
        assert.deepEqual(
            desc.map((r) => r.title),
            ["plovdiv", "Sofia", R.quote.title, R.uni.title],
        );
    });

    it("sorts text by byte order on every backend", async () => {
        const s = uniqueName("fx_sort");
        tracker.track(s);
        await pb.collections.create({ name: s, type: "base", fields: [{ name: "t", type: "text" }] });
        const words = ["b", "B", "a", "A", "_x", "10", "9", "aa"];
        for (const t of words) await pb.collection(s).create({ t });
        const res = await pb.collection(s).getFullList({ sort: "t" });
        assert.deepEqual(
            res.map((r) => r.t),
            [...words].sort(), // JS sort is UTF-16 code unit order == byte order for ASCII
        );
        const desc = await pb.collection(s).getFullList({ sort: "-t" });
        assert.deepEqual(
            desc.map((r) => r.t),
            [...words].sort().reverse(),
        );
        await pb.collections.delete(s);
    });

    it("caps perPage at 1000 and normalizes page 0", async () => {
        const big = await c.getList(1, 5000);
        assert.equal(big.perPage, 1000);
        assert.equal(big.items.length, 4);
        const p0 = await c.getList(0, 10);
        assert.equal(p0.page, 1);
        assert.equal(p0.items.length, 4);
    });

    it("treats perPage 0 as the default 30", async () => {
        const pp0 = await c.getList(1, 0);
        assert.equal(pp0.perPage, 30, "perPage 0 falls back to the default");
        assert.equal(pp0.items.length, 4);
    });

    it("answers 400 for unknown functions, modifiers and fields in filters", async () => {
        for (const filter of ["nosuch(n) = 1", "title:nosuchmod = 'a'", "meta.a.b = ", "nofield.sub = 1"]) {
            await expectError(() => c.getList(1, 5, { filter }), 400, `filter ${filter}`);
        }
    });

    it("an always-true filter returns every record", async () => {
        const res = await c.getList(1, 100, { filter: "id != ''" });
        assert.deepEqual(sorted(res.items.map((r) => r.id)), sorted(Object.values(R).map((r) => r.id)));
    });
});
