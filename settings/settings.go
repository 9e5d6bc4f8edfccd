package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
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
	// TrustedProxy decides the client IP (rate limits, failed-login
	// throttling, logs); off by default.
	TrustedProxy TrustedProxy `json:"trustedProxy"`
	Batch        Batch        `json:"batch"`
	Webhooks     Webhooks     `json:"webhooks"`
	Logs         Logs         `json:"logs"`
	// SuperuserIPs, when not empty, are the only client IPs and CIDR
	// ranges from which superuser tokens are accepted (PocketBase's
	// setting): from anywhere else a superuser is treated as a guest.
	SuperuserIPs []string `json:"superuserIPs"`
	// Backups holds PocketBase's backup schedule (cron, cronMaxKeep) and
	// bucket (s3); it is stored for the backups API.
	Backups Backups `json:"backups"`
	// GraphQL limits the GraphQL API (/api/graphql).
	GraphQL GraphQL `json:"graphql"`
	// S3 is PocketBase's file storage setting: when Enabled, the files of
	// file fields go to this bucket instead of <DataDir>/storage. A
	// bucket configured at start-up (plinth.Config.S3, PLINTH_S3_*)
	// takes precedence over it (docs/files.md).
	S3 S3 `json:"s3"`
}

// S3 is an S3-compatible bucket in PocketBase's shape (settings.s3 and
// settings.backups.s3).
type S3 struct {
	Enabled bool   `json:"enabled"`
	Bucket  string `json:"bucket"`
	Region  string `json:"region"`
	// Endpoint is a URL ("https://s3.eu-west-1.amazonaws.com") or a bare
	// host[:port], which is reached over https.
	Endpoint  string `json:"endpoint"`
	AccessKey string `json:"accessKey"`
	// Secret is secret, like the SMTP password: never returned by
	// Public, kept when a PATCH leaves it out, stored sealed.
	Secret         string `json:"secret,omitempty"`
	ForcePathStyle bool   `json:"forcePathStyle"`
}

// GraphQL limits the GraphQL API; zero values mean the defaults.
type GraphQL struct {
	// DisableIntrospection refuses __schema and __type queries
	// (introspection is on by default, as GraphQL tools expect).
	DisableIntrospection bool `json:"disableIntrospection"`
	// MaxDepth bounds how deeply selections nest (default 10;
	// introspection fields are not counted).
	MaxDepth int `json:"maxDepth"`
	// MaxComplexity bounds an operation's cost: each field counts 1, a
	// list's fields as many times as its limit, a to-many relation's ten
	// times (default 50000).
	MaxComplexity int `json:"maxComplexity"`
	// MaxLimit bounds a list's limit argument (default 1000, like REST's
	// perPage).
	MaxLimit int `json:"maxLimit"`
}

// Webhooks tunes webhook deliveries (package webhooks).
type Webhooks struct {
	// AllowPrivateNetworks lets deliveries reach private, loopback and
	// link-local addresses (default false: refused, against SSRF).
	AllowPrivateNetworks bool `json:"allowPrivateNetworks"`
}

// Backups is the backup schedule.
type Backups struct {
	// Cron is a cron expression for automatic backups ("" for none).
	Cron string `json:"cron"`
	// CronMaxKeep is how many automatic backups to keep (default 3).
	CronMaxKeep int `json:"cronMaxKeep"`
	// S3 is PocketBase's bucket for backup archives. It is stored,
	// validated and returned, but archives still go to the file storage
	// (under _backups/), wherever settings.s3 or the start-up
	// configuration puts it.
	S3 S3 `json:"s3"`
}

// Logs configures the request and application log (GET /api/logs).
type Logs struct {
	// MaxDays keeps entries this many days (default 5; 0 keeps nothing
	// and turns the log off, as in PocketBase).
	MaxDays int `json:"maxDays"`
	// MinLevel drops entries below this slog level (default 0, info).
	MinLevel int `json:"minLevel"`
	// LogIP records the client IP of requests (default true).
	LogIP bool `json:"logIP"`
	// LogAuthID records the id of the authenticated record (default
	// false).
	LogAuthID bool `json:"logAuthId"`
	// SampleRate is the share of successful requests (status < 400)
	// logged, from 0 to 1 (default 1); errors are always logged.
	SampleRate float64 `json:"sampleRate"`
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

// RateLimits configures request rate limits. Superusers are never
// limited, as in PocketBase.
type RateLimits struct {
	Enabled bool   `json:"enabled"`
	Rules   []Rule `json:"rules"`
	// ExcludedIPs are client IPs and CIDR ranges ("10.0.0.0/8") that no
	// rule limits (a Plinth addition; failed-login throttling still
	// applies). The client IP is the one TrustedProxy decides.
	ExcludedIPs []string `json:"excludedIPs"`
}

// TrustedProxy is PocketBase's trustedProxy setting, which decides the
// client IP of a request behind a reverse proxy, plus TrustedCIDRs. With
// no Headers (the default) the client is the connection's peer.
type TrustedProxy struct {
	// Headers name the client, tried in order: X-Forwarded-For,
	// X-Real-IP, CF-Connecting-IP... Only the last line of a header is
	// read. Set them only when every request comes through the proxy:
	// a client that reaches the server directly can forge them.
	Headers []string `json:"headers"`
	// UseLeftmostIP takes the leftmost address of the header's list, not
	// the rightmost (the one the nearest proxy added); the leftmost can be
	// forged behind proxies that append to what the client sent.
	UseLeftmostIP bool `json:"useLeftmostIP"`
	// TrustedCIDRs (a Plinth addition), when not empty, are the IPs and
	// CIDR ranges of the proxies: only their headers are believed, and
	// their own addresses are skipped when reading a list from the right.
	TrustedCIDRs []string `json:"trustedCIDRs"`
}

// Limits of the lists of the rate-limit and trusted-proxy settings.
const (
	maxProxyHeaders = 8
	maxIPEntries    = 1000
)

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
		Meta:         Meta{AppName: "Plinth", AppURL: "http://localhost:8090", SenderName: "Support", SenderAddress: "support@example.com"},
		SMTP:         SMTP{Host: "smtp.example.com", Port: 587},
		RateLimits:   RateLimits{Enabled: true, Rules: []Rule{}, ExcludedIPs: []string{}},
		TrustedProxy: TrustedProxy{Headers: []string{}, TrustedCIDRs: []string{}},
		Batch:        Batch{Enabled: true, MaxRequests: 50, Timeout: 30},
		Logs:         Logs{MaxDays: 5, LogIP: true, SampleRate: 1},
		SuperuserIPs: []string{},
		Backups:      Backups{CronMaxKeep: 3},
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
	c.RateLimits.ExcludedIPs = append([]string{}, s.RateLimits.ExcludedIPs...)
	c.TrustedProxy.Headers = append([]string{}, s.TrustedProxy.Headers...)
	c.TrustedProxy.TrustedCIDRs = append([]string{}, s.TrustedProxy.TrustedCIDRs...)
	c.SuperuserIPs = append([]string{}, s.SuperuserIPs...)
	return &c
}

// Public returns a copy fit for a response: the SMTP password and the S3
// secrets removed.
func (s *Settings) Public() *Settings {
	c := s.Clone()
	c.SMTP.Password = ""
	c.S3.Secret = ""
	c.Backups.S3.Secret = ""
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
	for _, l := range []*[]string{&s.RateLimits.ExcludedIPs, &s.TrustedProxy.Headers, &s.TrustedProxy.TrustedCIDRs, &s.SuperuserIPs} {
		if *l == nil {
			*l = []string{}
		}
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
	gq := schema.Errors{}
	for name, v := range map[string]int{"maxDepth": s.GraphQL.MaxDepth, "maxComplexity": s.GraphQL.MaxComplexity, "maxLimit": s.GraphQL.MaxLimit} {
		if v < 0 {
			gq.Add(name, schema.NewFieldError("validation_min_number_constraint", "Must be 0 (the default) or more."))
		}
	}
	if len(gq) > 0 {
		errs["graphql"] = gq
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
	rl := schema.Errors{}
	if len(rules) > 0 {
		rl["rules"] = rules
	}
	if err := checkIPList(s.RateLimits.ExcludedIPs); err != nil {
		rl.Add("excludedIPs", err)
	}
	if len(rl) > 0 {
		errs["rateLimits"] = rl
	}
	proxy := schema.Errors{}
	if len(s.TrustedProxy.Headers) > maxProxyHeaders {
		proxy.Add("headers", schema.NewFieldError("validation_length_too_long", fmt.Sprintf("At most %d headers.", maxProxyHeaders)))
	}
	for _, h := range s.TrustedProxy.Headers {
		if ratelimit.ValidHeaderName(h) != nil {
			proxy.Add("headers", schema.NewFieldError("validation_invalid_header_name", fmt.Sprintf("%q is not a header name (letters, digits and hyphens).", truncate(h, 40))))
			break
		}
	}
	if err := checkIPList(s.TrustedProxy.TrustedCIDRs); err != nil {
		proxy.Add("trustedCIDRs", err)
	}
	if len(proxy) > 0 {
		errs["trustedProxy"] = proxy
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

	logs := schema.Errors{}
	if s.Logs.MaxDays < 0 {
		logs.Add("maxDays", schema.NewFieldError("validation_min_greater_equal_than_required", "Must not be negative."))
	}
	if s.Logs.SampleRate < 0 || s.Logs.SampleRate > 1 {
		logs.Add("sampleRate", schema.NewFieldError("validation_invalid_value", "Must be between 0 and 1."))
	}
	if len(logs) > 0 {
		errs["logs"] = logs
	}
	if err := checkIPList(s.SuperuserIPs); err != nil {
		errs["superuserIPs"] = err
	}
	backups := schema.Errors{}
	if s.Backups.CronMaxKeep < 1 {
		backups.Add("cronMaxKeep", schema.NewFieldError("validation_min_greater_equal_than_required", "Must be at least 1."))
	}
	if e := s.Backups.S3.validate(); len(e) > 0 {
		backups["s3"] = e
	}
	if len(backups) > 0 {
		errs["backups"] = backups
	}
	if e := s.S3.validate(); len(e) > 0 {
		errs["s3"] = e
	}
	return errs.OrNil()
}

// validate checks a bucket setting: bucket and endpoint are required when
// it is enabled (region may be empty: the service is asked; empty keys
// mean anonymous requests). Whether the bucket answers is checked by the
// caller that uses it.
func (c S3) validate() schema.Errors {
	errs := schema.Errors{}
	for name, v := range map[string]string{"bucket": c.Bucket, "region": c.Region, "endpoint": c.Endpoint, "accessKey": c.AccessKey} {
		if len(v) > 1024 || hasControl(v) {
			errs.Add(name, schema.ErrInvalid("Use at most 1024 characters, without line breaks."))
		}
	}
	if !c.Enabled {
		return errs
	}
	if strings.TrimSpace(c.Bucket) == "" {
		errs.Add("bucket", schema.ErrRequired())
	}
	if strings.TrimSpace(c.Endpoint) == "" {
		errs.Add("endpoint", schema.ErrRequired())
	}
	return errs
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

// checkIPList validates a list of IPs and CIDR ranges.
func checkIPList(list []string) *schema.FieldError {
	if len(list) > maxIPEntries {
		return schema.NewFieldError("validation_length_too_long", fmt.Sprintf("At most %d entries.", maxIPEntries))
	}
	for _, e := range list {
		if _, err := ratelimit.ParsePrefixes([]string{e}); err != nil {
			return schema.NewFieldError("validation_invalid_ip", fmt.Sprintf("%q is not an IP address or CIDR range.", truncate(e, 60)))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// TrustedProxyConfig is the trusted-proxy setting for package ratelimit;
// s must have passed Validate (invalid entries are dropped).
func (s *Settings) TrustedProxyConfig() *ratelimit.TrustedProxy {
	return &ratelimit.TrustedProxy{
		Headers:       append([]string(nil), s.TrustedProxy.Headers...),
		UseLeftmostIP: s.TrustedProxy.UseLeftmostIP,
		Proxies:       prefixes(s.TrustedProxy.TrustedCIDRs),
	}
}

// ExcludedPrefixes are the parsed RateLimits.ExcludedIPs (invalid entries
// dropped).
func (s *Settings) ExcludedPrefixes() []netip.Prefix { return prefixes(s.RateLimits.ExcludedIPs) }

// SuperuserPrefixes are the parsed SuperuserIPs (nil: from anywhere).
func (s *Settings) SuperuserPrefixes() []netip.Prefix { return prefixes(s.SuperuserIPs) }

func prefixes(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, e := range list {
		if p, err := ratelimit.ParsePrefixes([]string{e}); err == nil {
			out = append(out, p...)
		}
	}
	return out
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
