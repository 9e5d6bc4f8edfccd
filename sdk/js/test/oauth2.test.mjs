// OAuth2 through the SDK against a real OpenID Connect provider process
// (mockoidc, started by run.sh; its address comes in PLINTH_TEST_OIDC):
// listAuthMethods gives the provider with PKCE values, the test plays the
// browser at the provider, and authWithOAuth2Code signs up, then signs in
// the same record again.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { anonClient, superuserClient, uniqueName, CollectionTracker } from "../lib/helpers.mjs";

const oidc = process.env.PLINTH_TEST_OIDC ? JSON.parse(process.env.PLINTH_TEST_OIDC) : null;

describe("oauth2", { skip: oidc ? false : "PLINTH_TEST_OIDC not set (run through sdk/js/run.sh)", timeout: 60_000 }, () => {
    let su;
    let tracker;
    const coll = uniqueName("oauthusers");

    before(async () => {
        su = await superuserClient();
        tracker = new CollectionTracker(su);
        await tracker.create({
            name: coll,
            type: "auth",
            listRule: "id = @request.auth.id",
            viewRule: "id = @request.auth.id",
            createRule: "",
            fields: [{ name: "name", type: "text" }],
            oauth2: {
                enabled: true,
                mappedFields: { name: "name" },
                providers: [{ name: "oidc", clientId: oidc.client_id, clientSecret: oidc.client_secret, issuer: oidc.issuer, displayName: "Test IdP" }],
            },
        });
    });
    after(async () => tracker?.cleanup());

    // login runs the SDK's manual code flow; the provider approves at once.
    async function login(pb) {
        const methods = await pb.collection(coll).listAuthMethods();
        assert.equal(methods.oauth2.enabled, true);
        const p = methods.oauth2.providers.find((x) => x.name === "oidc");
        assert.ok(p, "oidc provider listed");
        assert.equal(p.codeChallengeMethod, "S256");
        const redirect = pb.baseURL + "/api/oauth2-redirect";
        const res = await fetch(p.authURL + encodeURIComponent(redirect), { redirect: "manual" });
        assert.equal(res.status, 302);
        const loc = new URL(res.headers.get("location"));
        assert.equal(loc.searchParams.get("state"), p.state);
        return pb.collection(coll).authWithOAuth2Code("oidc", loc.searchParams.get("code"), p.codeVerifier, redirect, { emailVisibility: true });
    }

    it("signs up, then signs the same record in again", async () => {
        const pb = anonClient();
        const first = await login(pb);
        assert.equal(first.meta.isNew, true);
        assert.equal(first.record.email, "jane@example.com");
        assert.equal(first.record.verified, true);
        assert.equal(pb.authStore.isValid, true);
        assert.equal(pb.authStore.record.id, first.record.id);

        const again = await login(anonClient());
        assert.equal(again.meta.isNew, false);
        assert.equal(again.record.id, first.record.id);

        // The link is visible to its owner.
        const links = await pb.collection("_externalAuths").getFullList();
        assert.equal(links.length, 1);
        assert.equal(links[0].provider, "oidc");
    });
});
