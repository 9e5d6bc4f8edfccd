package schema

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Collection types.
const (
	TypeBase = "base"
	TypeAuth = "auth"
	TypeView = "view"
)

// Collection is a runtime-defined table: its fields, indexes and access rules.
//
// A nil rule means "superusers only"; a pointer to "" means "everyone";
// anything else is a filter expression that must hold for the record.
type Collection struct {
	ID         string
	Name       string
	Type       string
	System     bool
	Fields     []*Field
	Indexes    []string
	ListRule   *string
	ViewRule   *string
	CreateRule *string
	UpdateRule *string
	DeleteRule *string
	// ViewQuery is the SELECT behind a view collection.
	ViewQuery string
	// Auth holds the options of auth collections; nil for other types.
	Auth    *AuthOptions
	Created string
	Updated string
}

// AuthOptions are the auth-collection settings. Unknown PocketBase options
// are kept in Extra so that they round-trip unchanged.
type AuthOptions struct {
	AuthRule     *string      `json:"authRule"`
	ManageRule   *string      `json:"manageRule"`
	PasswordAuth PasswordAuth `json:"passwordAuth"`
	AuthToken    TokenConfig  `json:"authToken"`
	OAuth2       OAuth2Config `json:"oauth2"`
	OTP          OTPConfig    `json:"otp"`
	MFA          MFAConfig    `json:"mfa"`
	// PasswordResetToken is the lifetime of password reset links (default 30 minutes).
	PasswordResetToken TokenConfig `json:"passwordResetToken"`
	// EmailChangeToken is the lifetime of email change links (default 30 minutes).
	EmailChangeToken TokenConfig `json:"emailChangeToken"`
	// VerificationToken is the lifetime of verification links (default 3 days).
	VerificationToken TokenConfig `json:"verificationToken"`
	// FileToken is the lifetime of protected-file tokens (default 3 minutes).
	FileToken TokenConfig `json:"fileToken"`
	// VerificationTemplate, ResetPasswordTemplate and
	// ConfirmEmailChangeTemplate replace the built-in emails of this
	// collection (PocketBase's placeholders such as {ACTION_URL} work);
	// an empty subject or body keeps the built-in one.
	VerificationTemplate       EmailTemplate `json:"verificationTemplate"`
	ResetPasswordTemplate      EmailTemplate `json:"resetPasswordTemplate"`
	ConfirmEmailChangeTemplate EmailTemplate `json:"confirmEmailChangeTemplate"`
	// AuthAlert emails the owner of a record that signs in from a device
	// it has not used before.
	AuthAlert AuthAlertConfig `json:"authAlert"`
	Extra     map[string]any  `json:"-"`
}

// AuthAlertConfig configures new-device login alerts.
type AuthAlertConfig struct {
	Enabled bool `json:"enabled"`
	// EmailTemplate replaces the built-in alert ({ALERT_INFO} describes
	// the login); empty parts keep the built-in one.
	EmailTemplate EmailTemplate `json:"emailTemplate"`
}

// OTPConfig configures one-time password login (request-otp, auth-with-otp).
type OTPConfig struct {
	Enabled bool `json:"enabled"`
	// Duration is how long a code is valid, in seconds (default 180).
	Duration int64 `json:"duration"`
	// Length is the number of digits of a code (default 8).
	Length int `json:"length"`
	// EmailTemplate replaces the built-in OTP email ({OTP} is the code);
	// empty parts keep the built-in one.
	EmailTemplate EmailTemplate `json:"emailTemplate"`
}

// MFAConfig configures multi-factor authentication: when Enabled, a first
// successful method answers 401 with an mfaId and a second, different
// method completes the login.
type MFAConfig struct {
	Enabled bool `json:"enabled"`
	// Duration is how long the first factor stays usable, in seconds
	// (default 1800).
	Duration int64 `json:"duration"`
	// Rule, when not empty, limits MFA to the records it matches.
	Rule string `json:"rule"`
}

// EmailTemplate is a PocketBase email template: a subject and an HTML body.
type EmailTemplate struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// OAuth2Config enables OAuth2/OIDC login and lists the providers.
type OAuth2Config struct {
	Enabled bool `json:"enabled"`
	// MappedFields names the collection fields that receive the provider's
	// profile values on sign-up ("name", "username", "avatarURL", "id").
	MappedFields map[string]string `json:"mappedFields"`
	Providers    []OAuth2Provider  `json:"providers"`
}

// OAuth2Provider configures one provider. Empty URLs mean the provider's
// defaults. Issuer is Plinth's: the OpenID Connect discovery URL of the
// generic "oidc" provider (and an override for the other OIDC ones).
type OAuth2Provider struct {
	Name         string            `json:"name"`
	ClientID     string            `json:"clientId"`
	ClientSecret string            `json:"clientSecret"`
	AuthURL      string            `json:"authURL"`
	TokenURL     string            `json:"tokenURL"`
	UserInfoURL  string            `json:"userInfoURL"`
	DisplayName  string            `json:"displayName"`
	Issuer       string            `json:"issuer,omitempty"`
	PKCE         *bool             `json:"pkce"`
	Extra        map[string]string `json:"extra,omitempty"`
}

// Provider returns the configured provider called name, or nil.
func (o *OAuth2Config) Provider(name string) *OAuth2Provider {
	for i := range o.Providers {
		if o.Providers[i].Name == name {
			return &o.Providers[i]
		}
	}
	return nil
}

// PasswordAuth configures password login.
type PasswordAuth struct {
	Enabled        bool     `json:"enabled"`
	IdentityFields []string `json:"identityFields"`
}

// TokenConfig is the lifetime of one kind of token, in seconds.
type TokenConfig struct {
	Duration int64 `json:"duration"`
}

// Field returns the field called name, or nil.
func (c *Collection) Field(name string) *Field {
	for _, f := range c.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// FieldByID returns the field with the given id, or nil.
func (c *Collection) FieldByID(id string) *Field {
	for _, f := range c.Fields {
		if f.ID == id {
			return f
		}
	}
	return nil
}

// IsAuth reports whether c is an auth collection.
func (c *Collection) IsAuth() bool { return c.Type == TypeAuth }

// IsView reports whether c is a read-only view collection.
func (c *Collection) IsView() bool { return c.Type == TypeView }

// Clone returns a deep copy of c.
func (c *Collection) Clone() *Collection {
	data, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("schema: collection %q does not marshal: %v", c.Name, err))
	}
	var out Collection
	if err := json.Unmarshal(data, &out); err != nil {
		panic(fmt.Sprintf("schema: collection %q does not round-trip: %v", c.Name, err))
	}
	return &out
}

type collectionJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	System     bool     `json:"system"`
	Fields     []*Field `json:"fields"`
	Indexes    []string `json:"indexes"`
	ListRule   *string  `json:"listRule"`
	ViewRule   *string  `json:"viewRule"`
	CreateRule *string  `json:"createRule"`
	UpdateRule *string  `json:"updateRule"`
	DeleteRule *string  `json:"deleteRule"`
	Created    string   `json:"created"`
	Updated    string   `json:"updated"`
}

// MarshalJSON writes the PocketBase collection shape; view collections add
// viewQuery and auth collections add their options at the top level.
func (c *Collection) MarshalJSON() ([]byte, error) {
	fields := c.Fields
	if fields == nil {
		fields = []*Field{}
	}
	indexes := c.Indexes
	if indexes == nil {
		indexes = []string{}
	}
	base := collectionJSON{c.ID, c.Name, c.Type, c.System, fields, indexes,
		c.ListRule, c.ViewRule, c.CreateRule, c.UpdateRule, c.DeleteRule, c.Created, c.Updated}
	switch c.Type {
	case TypeView:
		return json.Marshal(struct {
			collectionJSON
			ViewQuery string `json:"viewQuery"`
		}{base, c.ViewQuery})
	case TypeAuth:
		auth := c.Auth
		if auth == nil {
			auth = DefaultAuthOptions()
		}
		m := map[string]any{}
		for k, v := range auth.Extra {
			m[k] = v
		}
		raw, err := json.Marshal(struct {
			collectionJSON
			*AuthOptions
		}{base, auth})
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			return raw, nil
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		return json.Marshal(m)
	}
	return json.Marshal(base)
}

// UnmarshalJSON reads the PocketBase collection shape.
func (c *Collection) UnmarshalJSON(data []byte) error {
	var v struct {
		collectionJSON
		ViewQuery string `json:"viewQuery"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	b := v.collectionJSON
	*c = Collection{ID: b.ID, Name: b.Name, Type: b.Type, System: b.System, Fields: b.Fields,
		Indexes: b.Indexes, ListRule: b.ListRule, ViewRule: b.ViewRule, CreateRule: b.CreateRule,
		UpdateRule: b.UpdateRule, DeleteRule: b.DeleteRule, ViewQuery: v.ViewQuery,
		Created: b.Created, Updated: b.Updated}
	if c.Type == TypeAuth {
		auth := DefaultAuthOptions()
		if err := json.Unmarshal(data, auth); err != nil {
			return err
		}
		var all map[string]json.RawMessage
		if err := json.Unmarshal(data, &all); err != nil {
			return err
		}
		for k, raw := range all {
			if knownCollectionKeys[k] {
				continue
			}
			var x any
			if json.Unmarshal(raw, &x) == nil {
				if auth.Extra == nil {
					auth.Extra = map[string]any{}
				}
				auth.Extra[k] = x
			}
		}
		c.Auth = auth
	}
	return nil
}

var knownCollectionKeys = map[string]bool{
	"id": true, "name": true, "type": true, "system": true, "fields": true, "indexes": true,
	"listRule": true, "viewRule": true, "createRule": true, "updateRule": true, "deleteRule": true,
	"created": true, "updated": true, "viewQuery": true, "authRule": true, "manageRule": true,
	"passwordAuth": true, "authToken": true, "oauth2": true, "otp": true, "mfa": true,
	"passwordResetToken": true, "emailChangeToken": true, "verificationToken": true, "fileToken": true,
	"verificationTemplate": true, "resetPasswordTemplate": true, "confirmEmailChangeTemplate": true, "authAlert": true,
}

// DefaultAuthOptions returns the settings of a new auth collection.
func DefaultAuthOptions() *AuthOptions {
	empty := ""
	return &AuthOptions{
		AuthRule:           &empty,
		PasswordAuth:       PasswordAuth{Enabled: true, IdentityFields: []string{"email"}},
		AuthToken:          TokenConfig{Duration: 604800},
		OTP:                OTPConfig{Duration: 180, Length: 8},
		MFA:                MFAConfig{Duration: 1800},
		PasswordResetToken: TokenConfig{Duration: 1800},
		EmailChangeToken:   TokenConfig{Duration: 1800},
		VerificationToken:  TokenConfig{Duration: 259200},
		FileToken:          TokenConfig{Duration: 180},
		AuthAlert:          AuthAlertConfig{Enabled: true},
	}
}

// validate checks the auth options' numbers: token, OTP and MFA durations
// are between one second and ten years, and an OTP has 4 to 32 digits.
func (o *AuthOptions) validate(errs Errors) {
	for _, d := range []struct {
		key string
		d   int64
	}{
		{"authToken", o.AuthToken.Duration}, {"passwordResetToken", o.PasswordResetToken.Duration},
		{"emailChangeToken", o.EmailChangeToken.Duration}, {"verificationToken", o.VerificationToken.Duration},
		{"fileToken", o.FileToken.Duration}, {"otp", o.OTP.Duration}, {"mfa", o.MFA.Duration},
	} {
		if d.d < 1 || d.d > 10*365*24*3600 {
			errs[d.key] = Errors{"duration": NewFieldError("validation_out_of_range", "The duration must be between 1 second and 10 years.")}
		}
	}
	if o.OTP.Length < 4 || o.OTP.Length > 32 {
		sub, _ := errs["otp"].(Errors)
		if sub == nil {
			sub = Errors{}
		}
		errs["otp"] = sub.Add("length", NewFieldError("validation_out_of_range", "The OTP length must be between 4 and 32 digits."))
	}
}

// reservedFieldNames cannot be used by user fields because the record JSON
// or the query parameters already give them a meaning.
var reservedFieldNames = map[string]bool{
	"collectionId": true, "collectionName": true, "expand": true,
}

// Validate checks the collection's own shape: names, types, field options
// and rules' presence. It does not parse rules or indexes (the filter and
// store packages do, since they need the dialect and other collections).
func (c *Collection) Validate(lookup Lookup) error {
	errs := Errors{}
	if c.ID != "" && !ValidSchemaID(c.ID) {
		errs.Add("id", NewFieldError("validation_invalid_id", "Invalid collection id: use 1 to 100 letters, digits and underscores."))
	}
	switch {
	case c.Name == "":
		errs.Add("name", ErrRequired())
	case !ValidIdentifier(c.Name):
		errs.Add("name", NewFieldError("validation_invalid_name", "Invalid collection name: use letters, digits and underscores, starting with a letter or underscore."))
	case strings.HasPrefix(strings.ToLower(c.Name), "sqlite_") || strings.HasPrefix(strings.ToLower(c.Name), "pg_"):
		errs.Add("name", NewFieldError("validation_invalid_name", "The name is reserved."))
	}
	switch c.Type {
	case TypeBase, TypeAuth, TypeView:
	default:
		errs.Add("type", NewFieldError("validation_in_invalid", "Must be one of base, auth, view."))
	}
	if c.Type == TypeView && strings.TrimSpace(c.ViewQuery) == "" {
		errs.Add("viewQuery", ErrRequired())
	}
	fieldErrs := Errors{}
	seenNames := map[string]bool{}
	seenIDs := map[string]bool{}
	for i, f := range c.Fields {
		key := fmt.Sprint(i)
		fe := Errors{}
		lname := IdentifierKey(f.Name)
		switch {
		case f.Name == "":
			fe.Add("name", ErrRequired())
		case !ValidIdentifier(f.Name):
			fe.Add("name", NewFieldError("validation_invalid_name", "Invalid field name: use letters, digits and underscores, starting with a letter or underscore."))
		case reservedFieldNames[f.Name]:
			fe.Add("name", NewFieldError("validation_reserved_name", "The name is reserved."))
		case seenNames[lname]:
			fe.Add("name", NewFieldError("validation_duplicated_field_name", "Duplicated field name (names are compared case-insensitively, on their first 63 characters)."))
		}
		seenNames[lname] = true
		switch {
		case f.ID != "" && !ValidSchemaID(f.ID):
			fe.Add("id", NewFieldError("validation_invalid_id", "Invalid field id: use 1 to 100 letters, digits and underscores."))
		case f.ID != "":
			if seenIDs[f.ID] {
				fe.Add("id", NewFieldError("validation_duplicated_field_id", "Duplicated field id."))
			}
			seenIDs[f.ID] = true
		}
		if f.Options == nil {
			fe.Add("type", NewFieldError("validation_invalid_type", "Unknown field type."))
		} else {
			for k, v := range f.Options.CheckOptions(f, c, lookup) {
				fe[k] = v
			}
		}
		if len(fe) > 0 {
			fieldErrs[key] = fe
		}
	}
	if len(fieldErrs) > 0 {
		errs["fields"] = fieldErrs
	}
	if c.Type == TypeAuth && c.Auth != nil {
		c.Auth.validate(errs)
	}
	if c.Type != TypeView {
		if id := c.Field("id"); id == nil || id.Type != "text" {
			errs.Add("fields", NewFieldError("validation_missing_id", "The collection must have a text field named id."))
		}
	}
	return errs.OrNil()
}
