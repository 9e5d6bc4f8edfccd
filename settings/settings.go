package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/plinthdev/plinth/mailer"
	"github.com/plinthdev/plinth/ratelimit"
	"github.com/plinthdev/plinth/schema"
)

// Settings are the application settings.
type Settings struct {
	Meta       Meta       `json:"meta"`
	SMTP       SMTP       `json:"smtp"`
	RateLimits RateLimits `json:"rateLimits"`
	Batch      Batch      `json:"batch"`
}

// Meta names the application in emails and links.
type Meta struct {
	// AppName appears in emails and TOTP enrolments (default "Plinth").
	AppName string `json:"appName"`
	// AppURL is the base of the links in emails (default
	// "http://localhost:8090").
	AppURL string `json:"appURL"`
	// SenderName and SenderAddress are the From of every email (default
	// "Support" <support@example.com>).
	SenderName    string `json:"senderName"`
	SenderAddress string `json:"senderAddress"`
}

// SMTP configures email delivery. When Enabled is false, emails go to the
// dev mailbox (logged and kept in memory) instead.
type SMTP struct {
	Enabled  bool   `json:"enabled"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Username string `json:"username"`
	// Password is secret: never returned by Public, kept when a PATCH
	// leaves it out.
	Password string `json:"password,omitempty"`
	// AuthMethod is "PLAIN", "LOGIN" or "" (PLAIN when offered, else
	// LOGIN); both are only used over TLS or to a loopback host.
	AuthMethod string `json:"authMethod"`
	// TLS selects implicit TLS (usually port 465). Without it the
	// connection must upgrade with STARTTLS, except to a loopback host.
	TLS       bool   `json:"tls"`
	LocalName string `json:"localName"`
}

// RateLimits configures request rate limits.
type RateLimits struct {
	Enabled bool   `json:"enabled"`
	Rules   []Rule `json:"rules"`
}

// Rule is one rate limit rule in PocketBase's shape; see package ratelimit
// for the label forms and audiences.
type Rule struct {
	Label       string `json:"label"`
	MaxRequests int    `json:"maxRequests"`
	// Duration is the window in seconds.
	Duration int64  `json:"duration"`
	Audience string `json:"audience"`
}

// Batch configures POST /api/batch.
type Batch struct {
	Enabled bool `json:"enabled"`
	// MaxRequests caps the requests of one batch (default 50).
	MaxRequests int `json:"maxRequests"`
	// Timeout bounds one batch transaction, in seconds (default 30).
	Timeout int64 `json:"timeout"`
	// MaxBodySize caps a batch body in bytes; 0 uses the server's limit.
	MaxBodySize int64 `json:"maxBodySize"`
}

// Defaults returns the settings of a new instance: rate limits on with
// [ratelimit.DefaultRules], batch on, SMTP off.
func Defaults() *Settings {
	s := &Settings{
		Meta:       Meta{AppName: "Plinth", AppURL: "http://localhost:8090", SenderName: "Support", SenderAddress: "support@example.com"},
		SMTP:       SMTP{Host: "smtp.example.com", Port: 587},
		RateLimits: RateLimits{Enabled: true, Rules: []Rule{}},
		Batch:      Batch{Enabled: true, MaxRequests: 50, Timeout: 30},
	}
	for _, r := range ratelimit.DefaultRules() {
		s.RateLimits.Rules = append(s.RateLimits.Rules, Rule{
			Label: r.Label, MaxRequests: r.MaxRequests, Duration: int64(r.Duration / time.Second), Audience: r.Audience,
		})
	}
	return s
}

// Clone returns a deep copy of s.
func (s *Settings) Clone() *Settings {
	c := *s
	c.RateLimits.Rules = append([]Rule{}, s.RateLimits.Rules...)
	return &c
}

// Public returns a copy fit for a response: the SMTP password removed.
func (s *Settings) Public() *Settings {
	c := s.Clone()
	c.SMTP.Password = ""
	return c
}

// Parse reads stored settings over the defaults, so that settings saved by
// an older version get the defaults of newer keys.
func Parse(data []byte) (*Settings, error) {
	s := Defaults()
	if len(bytes.TrimSpace(data)) == 0 {
		return s, nil
	}
	if err := s.decode(data, false); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	return s, nil
}

// Patch returns s with the keys of the JSON object body applied, as
// PocketBase's PATCH /api/settings does: keys left out keep their value
// (the SMTP password included), a list given replaces the list. Unknown
// keys and values of the wrong type are reported as schema.Errors, like
// Validate's, which the result must still pass.
func (s *Settings) Patch(body []byte) (*Settings, error) {
	next := s.Clone()
	if err := next.decode(body, true); err != nil {
		return nil, err
	}
	return next, nil
}

func (s *Settings) decode(data []byte, strict bool) error {
	var probe struct {
		RateLimits struct {
			Rules json.RawMessage `json:"rules"`
		} `json:"rateLimits"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return decodeError(err)
	}
	if len(probe.RateLimits.Rules) > 0 {
		// Decode a new list into fresh elements, not over the old ones.
		s.RateLimits.Rules = nil
	}
	if strict {
		var raw any
		if err := json.Unmarshal(data, &raw); err != nil {
			return decodeError(err)
		}
		if path := unknownKey(raw, reflect.TypeFor[Settings](), ""); path != "" {
			return nested(path, schema.NewFieldError("validation_unknown_field", "Unknown field."))
		}
	}
	if err := json.Unmarshal(data, s); err != nil {
		return decodeError(err)
	}
	if s.RateLimits.Rules == nil {
		s.RateLimits.Rules = []Rule{}
	}
	return nil
}

// decodeError turns a JSON error into field errors where it names a field.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return nested(te.Field, schema.NewFieldError("validation_invalid_type", "Invalid value type: expected "+te.Type.String()+"."))
	}
	return schema.Errors{"body": schema.NewFieldError("validation_invalid_json", "The body must be a JSON object of settings.")}
}

// unknownKey returns the dotted path of the first key of v (decoded JSON)
// that t, a struct with json tags, does not have; "" when there is none.
// Lists of structs are checked element by element ("rateLimits.rules.0.x").
func unknownKey(v any, t reflect.Type, prefix string) string {
	switch x := v.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return ""
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			fields[name] = t.Field(i).Type
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				return prefix + k
			}
			if p := unknownKey(x[k], ft, prefix+k+"."); p != "" {
				return p
			}
		}
	case []any:
		if t.Kind() != reflect.Slice {
			return ""
		}
		for i, item := range x {
			if p := unknownKey(item, t.Elem(), prefix+strconv.Itoa(i)+"."); p != "" {
				return p
			}
		}
	}
	return ""
}

// nested builds {"a": {"b": err}} from the path "a.b".
func nested(path string, err *schema.FieldError) schema.Errors {
	parts := strings.Split(path, ".")
	out := schema.Errors{}
	cur := out
	for i, p := range parts {
		if i == len(parts)-1 {
			cur.Add(p, err)
			break
		}
		next := schema.Errors{}
		cur[p] = next
		cur = next
	}
	return out
}

// Validate checks every value and returns schema.Errors keyed like the
// JSON ({"smtp": {"host": ...}}), or nil.
func (s *Settings) Validate() error {
	errs := schema.Errors{}
	meta := schema.Errors{}
	switch name := strings.TrimSpace(s.Meta.AppName); {
	case name == "":
		meta.Add("appName", schema.ErrRequired())
	case len(name) > 255 || hasControl(name):
		meta.Add("appName", schema.ErrInvalid("Use at most 255 characters, without line breaks."))
	}
	if u, err := url.Parse(s.Meta.AppURL); s.Meta.AppURL == "" {
		meta.Add("appURL", schema.ErrRequired())
	} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		meta.Add("appURL", schema.NewFieldError("validation_invalid_url", "Must be an http:// or https:// URL."))
	}
	if len(s.Meta.SenderName) > 255 || hasControl(s.Meta.SenderName) {
		meta.Add("senderName", schema.ErrInvalid("Use at most 255 characters, without line breaks."))
	}
	if s.Meta.SenderAddress == "" {
		meta.Add("senderAddress", schema.ErrRequired())
	} else if a, err := mail.ParseAddress(s.Meta.SenderAddress); err != nil || a.Address != s.Meta.SenderAddress || hasControl(a.Address) {
		meta.Add("senderAddress", schema.NewFieldError("validation_is_email", "Must be a plain email address."))
	}
	if len(meta) > 0 {
		errs["meta"] = meta
	}

	smtp := schema.Errors{}
	if s.SMTP.Port < 0 || s.SMTP.Port > 65535 {
		smtp.Add("port", schema.NewFieldError("validation_out_of_range", "Must be between 1 and 65535."))
	}
	switch strings.ToUpper(s.SMTP.AuthMethod) {
	case "", "PLAIN", "LOGIN":
	default:
		smtp.Add("authMethod", schema.NewFieldError("validation_in_invalid", "Must be PLAIN, LOGIN or empty."))
	}
	if s.SMTP.Enabled {
		if strings.TrimSpace(s.SMTP.Host) == "" {
			smtp.Add("host", schema.ErrRequired())
		} else if s.SMTP.Port == 0 {
			smtp.Add("port", schema.ErrRequired())
		} else if _, err := mailer.NewSMTP(s.SMTPConfig()); err != nil && len(smtp) == 0 {
			smtp.Add("host", schema.ErrInvalid(strings.TrimPrefix(err.Error(), "mailer: ")))
		}
	}
	if len(smtp) > 0 {
		errs["smtp"] = smtp
	}

	rules := schema.Errors{}
	for i, r := range s.RateLimits.Rules {
		re := schema.Errors{}
		if strings.TrimSpace(r.Label) == "" {
			re.Add("label", schema.ErrRequired())
		}
		if r.MaxRequests < 1 {
			re.Add("maxRequests", schema.NewFieldError("validation_min_greater_equal_than_required", "Must be at least 1."))
		}
		if r.Duration < 1 {
			re.Add("duration", schema.NewFieldError("validation_min_greater_equal_than_required", "Must be at least 1 second."))
		}
		switch r.Audience {
		case ratelimit.AudienceAll, ratelimit.AudienceGuest, ratelimit.AudienceAuth:
		default:
			re.Add("audience", schema.NewFieldError("validation_in_invalid", `Must be "", "@guest" or "@auth".`))
		}
		if len(re) > 0 {
			rules[fmt.Sprint(i)] = re
		}
	}
	if len(rules) > 0 {
		errs["rateLimits"] = schema.Errors{"rules": rules}
	}

	batch := schema.Errors{}
	if s.Batch.MaxRequests < 1 {
		batch.Add("maxRequests", schema.NewFieldError("validation_min_greater_equal_than_required", "Must be at least 1."))
	}
	if s.Batch.Timeout < 1 {
		batch.Add("timeout", schema.NewFieldError("validation_min_greater_equal_than_required", "Must be at least 1 second."))
	}
	if s.Batch.MaxBodySize < 0 {
		batch.Add("maxBodySize", schema.NewFieldError("validation_min_greater_equal_than_required", "Must not be negative."))
	}
	if len(batch) > 0 {
		errs["batch"] = batch
	}
	return errs.OrNil()
}

// SMTPConfig is the mailer configuration of s.SMTP: TLS means implicit
// TLS; otherwise STARTTLS is required, except to a loopback host (a local
// relay or mail catcher), which is spoken to in clear text.
func (s *Settings) SMTPConfig() mailer.SMTPConfig {
	mode := mailer.TLSStartTLS
	if s.SMTP.TLS {
		mode = mailer.TLSImplicit
	} else if isLoopback(s.SMTP.Host) {
		mode = mailer.TLSNone
	}
	return mailer.SMTPConfig{
		Host: strings.TrimSpace(s.SMTP.Host), Port: s.SMTP.Port, Username: s.SMTP.Username, Password: s.SMTP.Password,
		TLS: mode, LocalName: s.SMTP.LocalName,
	}
}

// RateLimitRules converts the rules for package ratelimit.
func (s *Settings) RateLimitRules() []ratelimit.Rule {
	out := make([]ratelimit.Rule, 0, len(s.RateLimits.Rules))
	for _, r := range s.RateLimits.Rules {
		out = append(out, ratelimit.Rule{Label: r.Label, MaxRequests: r.MaxRequests, Duration: time.Duration(r.Duration) * time.Second, Audience: r.Audience})
	}
	return out
}

// Sender is the From address of emails.
func (s *Settings) Sender() mail.Address {
	return mail.Address{Name: s.Meta.SenderName, Address: s.Meta.SenderAddress}
}

// App is the application as emails name it.
func (s *Settings) App() mailer.AppInfo {
	return mailer.AppInfo{Name: s.Meta.AppName, URL: strings.TrimRight(s.Meta.AppURL, "/")}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}
