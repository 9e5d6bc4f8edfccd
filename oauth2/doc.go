// Package oauth2 is Plinth's OAuth2 / OpenID Connect provider layer.
//
// It knows how to send a user to an identity provider, how to trade the
// returned authorization code for tokens, and how to turn those tokens into
// a normalised [User]. It has no HTTP endpoints of its own: the
// auth-with-oauth2 handler and /api/oauth2-redirect build on it.
//
// Every flow uses PKCE with the S256 method. A caller creates a random state
// with [NewState] and a code verifier with [NewVerifier], keeps both on the
// server side (or in a signed cookie), sends the user to
// [Provider.AuthURL], compares the returned state with [CheckState] and then
// calls [Provider.Exchange] and [Provider.User].
//
// OpenID Connect providers additionally send a nonce that is derived from
// the code verifier (a domain-separated SHA-256 of it), so no extra value
// has to be stored: the nonce in the ID token must match the verifier that
// is presented at the token endpoint. The ID token signature, issuer,
// audience, expiry and, when present, at_hash are verified with go-oidc.
//
// Providers are created by name through a [Registry]:
//
//	reg := oauth2.NewRegistry(nil)
//	p, err := reg.New(ctx, "google", oauth2.Config{ClientID: id, ClientSecret: secret})
//
// The built-in names are oidc, google, github, gitlab, microsoft, discord,
// apple, facebook and x. Providers with fixed endpoints accept overrides in
// [Config] so that they can be pointed at test servers or self-hosted
// instances (for example a private GitLab).
//
// [User.EmailVerified] is true only when the provider vouches for the
// address; callers must not link an OAuth2 login to an existing account by
// an e-mail that is not verified.
package oauth2
