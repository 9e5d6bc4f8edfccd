// Shared helpers for the Plinth SDK compatibility suite.
// Lives outside test/ so that `node --test test/` does not run it as a test file.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import PocketBase, { ClientResponseError } from "pocketbase";

export { PocketBase, ClientResponseError };

export const URL = process.env.PLINTH_URL || "http://127.0.0.1:8090";
export const SU_EMAIL = process.env.PLINTH_SU_EMAIL || "admin@example.com";
export const SU_PASS = process.env.PLINTH_SU_PASS || "1234567890";

// Date strings in the PocketBase wire format: "2024-05-06 07:08:09.123Z".
export const PB_DATE_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// Record ids: 15 characters of [a-z0-9].
export const ID_RE = /^[a-z0-9]{15}$/;

// The created/updated fields PocketBase's dashboard adds to a new
// collection; through the API (and in Plinth) a collection has them only
// when they are sent, so tests that use them send these.
export const AUTODATES = [
    { name: "created", type: "autodate", onCreate: true, onUpdate: false },
    { name: "updated", type: "autodate", onCreate: true, onUpdate: true },
];

/** A client without auth. Auto-cancellation is off so parallel calls are safe. */
export function anonClient() {
    const pb = new PocketBase(URL);
    pb.autoCancellation(false);
    return pb;
}

/** A client logged in as the superuser given in the environment. */
export async function superuserClient() {
    const pb = anonClient();
    await pb.collection("_superusers").authWithPassword(SU_EMAIL, SU_PASS);
    return pb;
}

/** A unique, valid collection name with the given prefix. */
export function uniqueName(prefix) {
    return `${prefix}_${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
}

/**
 * Tracks collections created by one test file and deletes them (last created
 * first, so that referencing collections go before the ones they point at).
 */
export class CollectionTracker {
    constructor(pb) {
        this.pb = pb;
        this.items = [];
    }

    async create(data) {
        const col = await this.pb.collections.create(data);
        this.items.push(col.id);
        return col;
    }

    track(idOrName) {
        this.items.push(idOrName);
    }

    async cleanup() {
        const errors = [];
        for (const id of [...this.items].reverse()) {
            try {
                await this.pb.collections.delete(id);
            } catch (err) {
                if (err?.status !== 404) {
                    errors.push(`${id}: ${err?.status} ${err?.message}`);
                }
            }
        }
        this.items = [];
        if (errors.length) {
            throw new Error("cleanup failed for collections: " + errors.join("; "));
        }
    }
}

/**
 * Runs fn, expects it to reject with a ClientResponseError of the given status,
 * and returns the error for further checks.
 */
export async function expectError(fn, status, label = "") {
    let err;
    try {
        const res = await fn();
        assert.fail(`${label} expected HTTP ${status}, but the call succeeded with ${short(res)}`);
    } catch (e) {
        if (e?.code === "ERR_ASSERTION") throw e;
        err = e;
    }
    assert.ok(err instanceof ClientResponseError, `${label} expected ClientResponseError, got ${err}`);
    assert.equal(
        err.status,
        status,
        `${label} expected HTTP ${status}, got ${err.status}: ${short(err.response)}`,
    );
    return err;
}

/** Runs fn, expects it to reject with a ClientResponseError and returns it. */
export async function catchError(fn, label = "") {
    let res;
    try {
        res = await fn();
    } catch (e) {
        assert.ok(e instanceof ClientResponseError, `${label} expected ClientResponseError, got ${e}`);
        return e;
    }
    assert.fail(`${label} expected an error, but the call succeeded with ${short(res)}`);
}

/** Asserts the PocketBase error body shape {status, message, data}. */
export function assertErrorShape(err, status) {
    const body = err.response;
    assert.equal(typeof body, "object", "error body must be a JSON object");
    assert.equal(body.status, status, `error body .status: ${short(body)}`);
    assert.equal(typeof body.message, "string", `error body .message: ${short(body)}`);
    assert.ok(body.message.length > 0, "error body .message must not be empty");
    assert.equal(typeof body.data, "object", `error body .data: ${short(body)}`);
    assert.notEqual(body.data, null, "error body .data must not be null");
}

/** Asserts err.response.data[field].code === code (and a message is present). */
export function assertFieldError(err, field, code) {
    const data = err.response?.data || {};
    assert.ok(data[field], `expected an error for field "${field}", got data ${short(data)}`);
    if (code) {
        assert.equal(data[field].code, code, `field "${field}" error code; data ${short(data)}`);
    } else {
        assert.equal(typeof data[field].code, "string");
    }
    assert.equal(typeof data[field].message, "string", `field "${field}" error message`);
}

export function short(v) {
    let s;
    try {
        s = JSON.stringify(v);
    } catch {
        s = String(v);
    }
    if (s && s.length > 400) s = s.slice(0, 400) + "...";
    return s;
}

export const ids = (items) => items.map((r) => r.id);
export const sorted = (arr) => [...arr].sort();

/** Counts HTTP requests sent by a client (wraps pb.beforeSend). */
export function countRequests(pb) {
    const counter = { n: 0, urls: [] };
    const prev = pb.beforeSend;
    pb.beforeSend = function (url, options) {
        counter.n++;
        counter.urls.push(url);
        return prev ? prev(url, options) : { url, options };
    };
    counter.stop = () => {
        pb.beforeSend = prev;
    };
    return counter;
}
