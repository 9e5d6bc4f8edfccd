package authflow

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/plinthdev/plinth/oauth2"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// Providers builds OAuth2 providers from collection settings and keeps
// them: OpenID Connect providers fetch their discovery document once, not
// per login. One entry per collection and provider, rebuilt when its
// configuration changes.
type Providers struct {
	registry *oauth2.Registry
	mu       sync.Mutex
	cache    map[string]cachedProvider // by collection id + "/" + provider name
}

type cachedProvider struct {
	config [sha256.Size]byte
	prov   oauth2.Provider
}

// Registry is the registry the providers are built from.
func (p *Providers) Registry() *oauth2.Registry { return p.registry }

// Get returns the provider of c configured by cfg.
func (p *Providers) Get(ctx context.Context, c *schema.Collection, cfg *schema.OAuth2Provider) (oauth2.Provider, error) {
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

// ProviderInfo is one OAuth2 provider as auth-methods lists it, with a
// fresh state and PKCE verifier. AuthURL ends with "redirect_uri=" so
// that the SDK can append its redirect URL, as with PocketBase.
type ProviderInfo struct {
	Name, DisplayName, State, AuthURL, CodeVerifier, CodeChallenge string
}

// OAuth2Methods lists the enabled OAuth2 providers of c (none when OAuth2
// is off); a provider that cannot be built is logged and left out.
func (s *Service) OAuth2Methods(ctx context.Context, c *schema.Collection) []ProviderInfo {
	opts := Options(c)
	providers := []ProviderInfo{}
	if !opts.OAuth2.Enabled {
		return providers
	}
	for i := range opts.OAuth2.Providers {
		cfg := &opts.OAuth2.Providers[i]
		prov, err := s.Providers.Get(ctx, c, cfg)
		if err != nil {
			s.logger().WarnContext(ctx, "oauth2 provider unavailable", "collection", c.Name, "provider", cfg.Name, "err", err)
			continue
		}
		state, verifier := oauth2.NewState(), oauth2.NewVerifier()
		display := cfg.DisplayName
		if display == "" {
			display = prov.DisplayName()
		}
		providers = append(providers, ProviderInfo{
			Name: cfg.Name, DisplayName: display, State: state,
			AuthURL:       redirectLast(prov.AuthURL(state, verifier, "")),
			CodeVerifier:  verifier,
			CodeChallenge: oauth2.Challenge(verifier),
		})
	}
	return providers
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

// OAuth2Input is an OAuth2 login: the provider's name, the authorization
// code and PKCE verifier the client received, the redirect URL it used,
// and the data of the record to create on a first login.
type OAuth2Input struct {
	Provider     string
	Code         string
	CodeVerifier string
	RedirectURL  string
	CreateData   map[string]any
}

// OAuth2Login exchanges an authorization code, then signs in the linked
// record, links a record with the same verified email, or signs up a new
// one (through the collection's create rule, as the caller), and returns
// the provider's profile as the result's meta.
func (s *Service) OAuth2Login(ctx context.Context, caller *record.Caller, c *schema.Collection, in OAuth2Input, client Client) (*Result, error) {
	opts := Options(c)
	errs := schema.Errors{}
	for field, v := range map[string]string{"provider": in.Provider, "code": in.Code, "redirectURL": in.RedirectURL} {
		if v == "" {
			errs.Add(field, schema.ErrRequired())
		}
	}
	if len(errs) > 0 {
		return nil, &Error{Kind: Invalid, Message: "Failed to authenticate.", Data: errs}
	}
	cfg := opts.OAuth2.Provider(in.Provider)
	if !opts.OAuth2.Enabled || cfg == nil {
		return nil, &Error{Kind: Invalid, Message: "The OAuth2 provider is not enabled for this collection.",
			Data: schema.Errors{"provider": schema.NewFieldError("validation_invalid_provider", "Unknown or disabled provider.")}}
	}
	prov, err := s.Providers.Get(ctx, c, cfg)
	if err != nil {
		return nil, fmt.Errorf("oauth2 provider %s: %w", in.Provider, err)
	}
	tok, err := prov.Exchange(ctx, in.Code, in.CodeVerifier, in.RedirectURL)
	if err != nil {
		return nil, invalid("Failed to exchange the OAuth2 authorization code.", err)
	}
	user, err := prov.User(ctx, tok)
	if err != nil {
		return nil, invalid("Failed to fetch the OAuth2 user profile.", err)
	}
	if user.ID == "" {
		return nil, invalid("The OAuth2 provider returned no user id.", nil)
	}
	rec, isNew, err := s.oauth2Record(ctx, caller, c, opts, in.Provider, user, in.CreateData)
	if err != nil {
		return nil, err
	}
	meta := map[string]any{
		"id": user.ID, "name": user.Name, "username": user.Username, "email": user.Email,
		"avatarURL": user.AvatarURL, "isNew": isNew, "accessToken": tok.AccessToken,
		"refreshToken": tok.RefreshToken, "expiry": schema.FormatDate(tok.Expiry), "rawUser": user.Raw,
	}
	return s.complete(ctx, caller, c, rec, MethodOAuth2, client, meta)
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
func (s *Service) oauth2Record(ctx context.Context, caller *record.Caller, c *schema.Collection, opts *schema.AuthOptions, provider string, user *oauth2.User, createData map[string]any) (*schema.Record, bool, error) {
	links := s.Store.Schema().Lookup(externalAuthsCollection)
	// The passwords a sign-up or a takeover may need are hashed here,
	// before the transaction (record.Service.HashAhead); a first login
	// only, a linked one hashes nothing.
	signUp := oauth2SignUpBody(c, opts, user, createData)
	// The sign-up goes through the create rule, which sees its body.
	signUpCaller := &record.Caller{}
	if caller != nil {
		cp := *caller
		signUpCaller = &cp
	}
	if signUpCaller.Request != nil {
		info := *signUpCaller.Request
		info.Body = signUp
		signUpCaller.Request = &info
	}
	resetPW := c.Field("tokenKey").Options.(*schema.TextOptions).Generate()
	reset := map[string]any{"password": resetPW, "passwordConfirm": resetPW, "verified": true}
	if _, err := s.Store.FindFirst(ctx, links, map[string]any{"collectionRef": c.ID, "provider": provider, "providerId": user.ID}); errors.Is(err, store.ErrNotFound) {
		var existing *schema.Record
		if user.Email != "" {
			if existing, err = s.findByEmail(ctx, c, user.Email); err != nil {
				return nil, false, err
			}
		}
		switch {
		case existing == nil:
			ctx = s.Records.HashAhead(ctx, signUpCaller, c, "", signUp)
		case user.EmailVerified && existing.Get("verified") != true:
			ctx = s.Records.HashAhead(ctx, record.System(), c, existing.ID(), reset)
		}
	}
	var rec *schema.Record
	isNew := false
	err := s.Store.Tx(ctx, func(tx *store.Tx) error {
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
				return &Error{Kind: Invalid, Message: "An account with this email already exists; the provider has not verified the email, so it cannot be linked.",
					Data: schema.Errors{"email": schema.NewFieldError("validation_email_not_verified", "Sign in with your password and link the provider instead.")}}
			case err == nil && existing.Get("verified") != true:
				// Whoever created the account never proved the address:
				// their password and tokens die (the new password rotates
				// the token key), and the account is verified.
				rec, err = s.Records.Update(ctx, tx, record.System(), c, existing.ID(), reset)
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
			rec, err = s.Records.Create(ctx, tx, signUpCaller, c, signUp)
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
