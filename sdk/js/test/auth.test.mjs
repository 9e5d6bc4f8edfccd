// Auth flows through the SDK: sign-up, password login, refresh, email
// verification and password reset through the dev mailbox (read with a
// superuser token), one-time passwords, MFA (password then OTP, with the
// 401 carrying mfaId) and impersonation. A collection of its own, so the
// options it turns on (OTP, MFA) do not touch other test files.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import {
    anonClient,
    superuserClient,
    uniqueName,
    CollectionTracker,
    expectError,
    assertErrorShape,
    short,
} from "../lib/helpers.mjs";

function payload(token) {
    return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe("auth flows", { timeout: 120_000 }, () => {
    let su;
    let tracker;
    const coll = uniqueName("members");
    const email = `${uniqueName("ann")}@example.com`.toLowerCase();
    let password = "first-password-1";
    let userId;

    // waitMail returns the newest dev-mailbox message to addr once there
    // are at least n (emails are sent after the response).
    async function waitMail(addr, n) {
        for (let i = 0; i < 200; i++) {
            const mails = await su.send("/api/dev/mails", { method: "GET" });
            const mine = mails.filter((m) => m.to.includes(addr));
            if (mine.length >= n) return mine[0];
            await sleep(25);
        }
        assert.fail(`no email #${n} to ${addr}`);
    }

    function linkToken(mail) {
        const m = /\/_\/#\/auth\/[a-z-]+\/([A-Za-z0-9_.-]+)/.exec(mail.text);
        assert.ok(m, `no action link in ${short(mail)}`);
        return m[1];
    }

    function otpCode(mail) {
        const m = /^\s+(\d{4,32})\s*$/m.exec(mail.text);
        assert.ok(m, `no code in ${short(mail)}`);
        return m[1];
    }

    before(async () => {
        su = await superuserClient();
        tracker = new CollectionTracker(su);
        await tracker.create({
            name: coll,
            type: "auth",
            listRule: "id = @request.auth.id",
            viewRule: "id = @request.auth.id",
            createRule: "",
            updateRule: "id = @request.auth.id",
            deleteRule: "id = @request.auth.id",
            fields: [{ name: "name", type: "text" }],
        });
    });

    after(async () => {
        await tracker.cleanup();
    });

    it("signs up, logs in and refreshes", async () => {
        const pb = anonClient();
        const rec = await pb.collection(coll).create({ email, password, passwordConfirm: password, name: "Ann" });
        userId = rec.id;
        assert.equal(rec.verified, false);
        assert.ok(!("password" in rec) && !("tokenKey" in rec), short(rec));

        const methods = await pb.collection(coll).listAuthMethods();
        assert.equal(methods.password.enabled, true);
        assert.deepEqual(methods.password.identityFields, ["email"]);
        assert.deepEqual(methods.otp, { enabled: false, duration: 180 });
        assert.deepEqual(methods.mfa, { enabled: false, duration: 1800 });
        assert.equal(typeof methods.oauth2.enabled, "boolean");

        const res = await pb.collection(coll).authWithPassword(email, password);
        assert.equal(res.record.id, userId);
        assert.equal(pb.authStore.isValid, true);
        assert.equal(pb.authStore.isSuperuser, false);
        const claims = payload(res.token);
        assert.equal(claims.type, "auth");
        assert.equal(claims.refreshable, true);

        const refreshed = await pb.collection(coll).authRefresh();
        assert.equal(refreshed.record.email, email);
        assert.equal(pb.authStore.token, refreshed.token);
    });

    it("verifies the email through the emailed link", async () => {
        const pb = anonClient();
        assert.equal(await pb.collection(coll).requestVerification(email), true);
        // Unknown addresses get the same answer.
        assert.equal(await pb.collection(coll).requestVerification("nobody-" + email), true);
        const mail = await waitMail(email, 1);
        assert.match(mail.subject, /Confirm your email/);
        assert.equal(await pb.collection(coll).confirmVerification(linkToken(mail)), true);
        await pb.collection(coll).authWithPassword(email, password);
        assert.equal(pb.authStore.record.verified, true);
        // Users cannot read the mailbox.
        await expectError(() => pb.send("/api/dev/mails", { method: "GET" }), 403);
    });

    it("resets the password; older tokens die", async () => {
        const old = anonClient();
        await old.collection(coll).authWithPassword(email, password);
        const pb = anonClient();
        assert.equal(await pb.collection(coll).requestPasswordReset(email), true);
        const mail = await waitMail(email, 2);
        assert.match(mail.subject, /Reset your/);
        const token = linkToken(mail);
        const bad = await expectError(() => pb.collection(coll).confirmPasswordReset(token, "new-password-1", "mismatch-1"), 400);
        assertErrorShape(bad, 400);
        assert.equal(bad.response.data.passwordConfirm.code, "validation_values_mismatch");
        assert.equal(await pb.collection(coll).confirmPasswordReset(token, "new-password-1", "new-password-1"), true);
        password = "new-password-1";
        await expectError(() => pb.collection(coll).confirmPasswordReset(token, "other-password-1", "other-password-1"), 400);
        await expectError(() => old.collection(coll).authRefresh(), 401);
        await pb.collection(coll).authWithPassword(email, password);
    });

    it("logs in with a one-time password", async () => {
        await su.collections.update(coll, { otp: { enabled: true, length: 6 } });
        const pb = anonClient();
        const methods = await pb.collection(coll).listAuthMethods();
        assert.deepEqual(methods.otp, { enabled: true, duration: 180 });

        const { otpId } = await pb.collection(coll).requestOTP(email);
        assert.equal(typeof otpId, "string");
        const fake = await pb.collection(coll).requestOTP("nobody-" + email);
        assert.equal(typeof fake.otpId, "string");

        const code = otpCode(await waitMail(email, 3));
        assert.equal(code.length, 6);
        await expectError(() => pb.collection(coll).authWithOTP(otpId, "000000"), 400);
        const res = await pb.collection(coll).authWithOTP(otpId, code);
        assert.equal(res.record.id, userId);
        assert.equal(pb.authStore.isValid, true);
        await expectError(() => anonClient().collection(coll).authWithOTP(otpId, code), 400);
    });

    it("requires a second factor with MFA: password, then OTP", async () => {
        await su.collections.update(coll, { mfa: { enabled: true } });
        const pb = anonClient();
        const err = await expectError(() => pb.collection(coll).authWithPassword(email, password), 401);
        const mfaId = err.response.mfaId;
        assert.equal(typeof mfaId, "string", short(err.response));
        assert.ok(mfaId.length > 0);
        assert.equal(pb.authStore.isValid, false);

        // The same method cannot be the second factor.
        await expectError(() => pb.collection(coll).authWithPassword(email, password, { mfaId }), 400);

        const { otpId } = await pb.collection(coll).requestOTP(email);
        const code = otpCode(await waitMail(email, 4));
        const res = await pb.collection(coll).authWithOTP(otpId, code, { mfaId });
        assert.equal(res.record.id, userId);
        assert.equal(pb.authStore.isValid, true);
        await su.collections.update(coll, { mfa: { enabled: false } });
    });

    it("impersonates a user with a non-refreshable token", async () => {
        const client = await su.collection(coll).impersonate(userId, 120);
        assert.equal(client.authStore.record.id, userId);
        assert.equal(client.authStore.isValid, true);
        const claims = payload(client.authStore.token);
        assert.equal(claims.refreshable, false);
        assert.equal(claims.exp - claims.iat, 120);
        const me = await client.collection(coll).getOne(userId);
        assert.equal(me.email, email);
        await expectError(() => client.collection(coll).authRefresh(), 403);
        // Only superusers may impersonate.
        const user = anonClient();
        await user.collection(coll).authWithPassword(email, password);
        await expectError(() => user.collection(coll).impersonate(userId, 60), 403);
    });

    it("reads and updates settings as a superuser, without the SMTP password", async () => {
        const settings = await su.settings.getAll();
        assert.equal(typeof settings.meta.appName, "string");
        assert.ok(!("password" in settings.smtp), short(settings.smtp));
        assert.equal(Array.isArray(settings.rateLimits.rules), true);
        const updated = await su.settings.update({ meta: { appName: settings.meta.appName } });
        assert.equal(updated.meta.appName, settings.meta.appName);
        await expectError(() => anonClient().settings.getAll(), 401);
    });
});
