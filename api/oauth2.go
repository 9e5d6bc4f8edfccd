package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/plinthdev/plinth/oauth2"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

const externalAuthsCollection = "_externalAuths"

// oauth2Providers builds providers from collection settings and keeps them:
// OpenID Connect providers fetch their discovery document once, not per
// login. One entry per collection and provider, rebuilt when its
// configuration changes.
type oauth2Providers struct {
	registry *oauth2.Registry
	mu       sync.Mutex
	cache    map[string]cachedProvider // by collection id + "/" + provider name
}

type cachedProvider struct {
	config [sha256.Size]byte
	prov   oauth2.Provider
}

func (p *oauth2Providers) get(ctx context.Context, c *schema.Collection, cfg *schema.OAuth2Provider) (oauth2.Provider, error) {
	raw, _ := json.Marshal(cfg)
	sum := sha256.Sum256(raw)
	key := c.ID + "/" + cfg.Name
	p.mu.Lock()
	cached, ok := p.cache[key]
	p.mu.Unlock()
	if ok && cached.config == sum {
		return cached.prov, nil
	}
	prov, err := p.registry.New(ctx, cfg.Name, oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL,
		UserInfoURL: cfg.UserInfoURL, Issuer: cfg.Issuer, Extra: cfg.Extra,
	})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.cache == nil {
		p.cache = map[string]cachedProvider{}
	}
	p.cache[key] = cachedProvider{config: sum, prov: prov}
	p.mu.Unlock()
	return prov, nil
}

// oauth2Methods is the oauth2 part of auth-methods. Each provider gets a
// fresh state and PKCE verifier; its authURL ends with "redirect_uri=" so
// that the SDK can append its redirect URL, as with PocketBase.
func (s *Server) oauth2Methods(ctx context.Context, c *schema.Collection, opts *schema.AuthOptions) map[string]any {
	providers := []map[string]any{}
	if opts.OAuth2.Enabled {
		for i := range opts.OAuth2.Providers {
			cfg := &opts.OAuth2.Providers[i]
			prov, err := s.oauth2.get(ctx, c, cfg)
			if err != nil {
				s.log.WarnContext(ctx, "oauth2 provider unavailable", "collection", c.Name, "provider", cfg.Name, "err", err)
				continue
			}
			state, verifier := oauth2.NewState(), oauth2.NewVerifier()
			display := cfg.DisplayName
			if display == "" {
				display = prov.DisplayName()
			}
			providers = append(providers, map[string]any{
				"name": cfg.Name, "displayName": display, "state": state,
				"authURL":             redirectLast(prov.AuthURL(state, verifier, "")),
				"codeVerifier":        verifier,
				"codeChallenge":       oauth2.Challenge(verifier),
				"codeChallengeMethod": "S256",
			})
		}
	}
	return map[string]any{"enabled": opts.OAuth2.Enabled, "providers": providers}
}

// redirectLast moves redirect_uri to the end of an authorization URL,
// empty, for the SDK to append its own.
func redirectLast(authURL string) string {
	u, err := url.Parse(authURL)
	if err != nil {
		return authURL
	}
	q := u.Query()
	q.Del("redirect_uri")
	u.RawQuery = q.Encode()
	sep := "&"
	if u.RawQuery == "" {
		sep = ""
	}
	return u.String() + sep + "redirect_uri="
}

// authWithOAuth2 exchanges an authorization code, then signs in the linked
// record, links a record with the same verified email, or signs up a new
// one, and answers like every other auth method.
func (s *Server) authWithOAuth2(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authCollection(r)
	if err != nil {
		return err
	}
	opts := c.Auth
	if opts == nil {
		opts = schema.DefaultAuthOptions()
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	name, _ := body["provider"].(string)
	code, _ := body["code"].(string)
	verifier, _ := body["codeVerifier"].(string)
	redirectURL, _ := body["redirectURL"].(string)
	errs := schema.Errors{}
	for field, v := range map[string]string{"provider": name, "code": code, "redirectURL": redirectURL} {
		if v == "" {
			errs.Add(field, schema.ErrRequired())
		}
	}
	if len(errs) > 0 {
		return &Error{Status: http.StatusBadRequest, Message: "Failed to authenticate.", Data: errs}
	}
	cfg := opts.OAuth2.Provider(name)
	if !opts.OAuth2.Enabled || cfg == nil {
		return &Error{Status: http.StatusBadRequest, Message: "The OAuth2 provider is not enabled for this collection.",
			Data: schema.Errors{"provider": schema.NewFieldError("validation_invalid_provider", "Unknown or disabled provider.")}}
	}
	prov, err := s.oauth2.get(r.Context(), c, cfg)
	if err != nil {
		return fmt.Errorf("oauth2 provider %s: %w", name, err)
	}
	tok, err := prov.Exchange(r.Context(), code, verifier, redirectURL)
	if err != nil {
		return badRequest("Failed to exchange the OAuth2 authorization code.", err)
	}
	user, err := prov.User(r.Context(), tok)
	if err != nil {
		return badRequest("Failed to fetch the OAuth2 user profile.", err)
	}
	if user.ID == "" {
		return badRequest("The OAuth2 provider returned no user id.", nil)
	}
	createData, _ := body["createData"].(map[string]any)
	rec, isNew, err := s.oauth2Record(r, c, opts, name, user, createData)
	if err != nil {
		return err
	}
	meta := map[string]any{
		"id": user.ID, "name": user.Name, "username": user.Username, "email": user.Email,
		"avatarURL": user.AvatarURL, "isNew": isNew, "accessToken": tok.AccessToken,
		"refreshToken": tok.RefreshToken, "expiry": schema.FormatDate(tok.Expiry), "rawUser": user.Raw,
	}
	return s.completeAuth(w, r, c, rec, authMethodOAuth2, body, meta)
}

// oauth2Record finds or creates the auth record of an OAuth2 user, all in
// one transaction so that two first logins cannot create two accounts.
//
// Linking by email to an existing account that was never verified takes
// the account over for the provider's user, who proved the address: the
// account's password is replaced by a random one and its token key
// rotated, as PocketBase does. Otherwise whoever signed up with that
// address before (perhaps to wait for its owner: a pre-account takeover)
// would keep a password and tokens for the owner's account.
func (s *Server) oauth2Record(r *http.Request, c *schema.Collection, opts *schema.AuthOptions, provider string, user *oauth2.User, createData map[string]any) (*schema.Record, bool, error) {
	ctx := r.Context()
	links := s.store.Schema().Lookup(externalAuthsCollection)
	// The passwords a sign-up or a takeover may need are hashed here,
	// before the transaction (record.Service.HashAhead); a first login
	// only, a linked one hashes nothing.
	signUp := oauth2SignUpBody(c, opts, user, createData)
	caller := s.caller(r, signUp)
	resetPW := c.Field("tokenKey").Options.(*schema.TextOptions).Generate()
	reset := map[string]any{"password": resetPW, "passwordConfirm": resetPW, "verified": true}
	if _, err := s.store.FindFirst(ctx, links, map[string]any{"collectionRef": c.ID, "provider": provider, "providerId": user.ID}); errors.Is(err, store.ErrNotFound) {
		var existing *schema.Record
		if user.Email != "" {
			if existing, err = s.findByEmail(ctx, c, user.Email); err != nil {
				return nil, false, err
			}
		}
		switch {
		case existing == nil:
			ctx = s.records.HashAhead(ctx, caller, c, "", signUp)
		case user.EmailVerified && existing.Get("verified") != true:
			ctx = s.records.HashAhead(ctx, record.System(), c, existing.ID(), reset)
		}
	}
	var rec *schema.Record
	isNew := false
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		rec, isNew = nil, false
		found, err := tx.FindFirst(ctx, links, map[string]any{"collectionRef": c.ID, "provider": provider, "providerId": user.ID})
		switch {
		case err == nil:
			rec, err = tx.FindOne(ctx, c, found.GetString("recordRef"), nil)
			if err == nil {
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			// A link to a deleted record: drop it and carry on as new.
			if err := tx.Delete(ctx, found); err != nil {
				return err
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if user.Email != "" {
			existing, err := tx.FindFirst(ctx, c, map[string]any{"email": user.Email})
			switch {
			case err == nil && !user.EmailVerified:
				// Linking on an address the provider has not verified would
				// let anyone who types a victim's email take the account.
				return &Error{Status: http.StatusBadRequest, Message: "An account with this email already exists; the provider has not verified the email, so it cannot be linked.",
					Data: schema.Errors{"email": schema.NewFieldError("validation_email_not_verified", "Sign in with your password and link the provider instead.")}}
			case err == nil && existing.Get("verified") != true:
				// Whoever created the account never proved the address:
				// their password and tokens die (the new password rotates
				// the token key), and the account is verified.
				rec, err = s.records.Update(ctx, tx, record.System(), c, existing.ID(), reset)
				if err != nil {
					return err
				}
			case err == nil:
				rec = existing
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
		}
		if rec == nil {
			rec, err = s.records.Create(ctx, tx, caller, c, signUp)
			if err != nil {
				return err
			}
			if user.EmailVerified && user.Email != "" {
				// Only the provider's word can set verified: clients cannot.
				rec.Set("verified", true)
				if err := tx.Update(ctx, rec); err != nil {
					return err
				}
			}
			isNew = true
		}
		link := schema.NewRecord(links)
		link.Set("collectionRef", c.ID)
		link.Set("recordRef", rec.ID())
		link.Set("provider", provider)
		link.Set("providerId", user.ID)
		schema.Prepare(link, true, time.Now())
		if errs := schema.Validate(link); len(errs) > 0 {
			return errs
		}
		return tx.Insert(ctx, link)
	})
	return rec, isNew, err
}

// oauth2SignUpBody is the create body of a first OAuth2 login, which goes
// through the collection's create rule: createData from the client, the
// profile fields the collection maps, the provider's email, and a random
// password the user never sees (the account signs in through the
// provider, or after a password reset).
func oauth2SignUpBody(c *schema.Collection, opts *schema.AuthOptions, user *oauth2.User, createData map[string]any) map[string]any {
	body := make(map[string]any, len(createData)+4)
	for k, v := range createData {
		body[k] = v
	}
	for profileKey, value := range map[string]string{"name": user.Name, "username": user.Username, "avatarURL": user.AvatarURL, "id": user.ID} {
		field := opts.OAuth2.MappedFields[profileKey]
		if field == "" || value == "" || c.Field(field) == nil || c.Field(field).Type == "file" {
			continue
		}
		if _, set := body[field]; !set {
			body[field] = value
		}
	}
	if user.Email != "" {
		body["email"] = user.Email
	}
	if _, set := body["password"]; !set {
		pw := c.Field("tokenKey").Options.(*schema.TextOptions).Generate()
		body["password"], body["passwordConfirm"] = pw, pw
	}
	return body
}

// oauth2Redirect is GET/POST /api/oauth2-redirect: the provider sends the
// browser here; the code goes to the SDK's realtime subscription "@oauth2"
// of the client whose id is the state.
func (s *Server) oauth2Redirect(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("Invalid OAuth2 redirect.", err)
	}
	state := r.Form.Get("state")
	msg := map[string]string{"state": state, "code": r.Form.Get("code"), "error": r.Form.Get("error")}
	if state == "" || s.redirects == nil {
		return badRequest("Invalid OAuth2 redirect: missing state.", nil)
	}
	data, _ := json.Marshal(msg)
	if err := s.redirects.SendToClient(r.Context(), state, "@oauth2", data); err != nil {
		s.log.InfoContext(r.Context(), "oauth2 redirect for an unknown client", "err", err)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, oauth2Page("Sign-in failed: the window that started it is gone. Close this one and try again."))
		return nil
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, oauth2Page("Signed in. You can close this window."))
	return nil
}

// redirectSender delivers an OAuth2 redirect to a realtime client.
type redirectSender interface {
	SendToClient(ctx context.Context, clientID, topic string, data json.RawMessage) error
}

func oauth2Page(msg string) string {
	return `<!doctype html><meta charset="utf-8"><title>OAuth2</title><p>` + msg + `</p><script>window.close()</script>`
}
