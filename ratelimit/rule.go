package ratelimit

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Audiences a [Rule] can be restricted to.
const (
	AudienceAll   = ""       // guests and authenticated clients
	AudienceGuest = "@guest" // only requests without a valid auth token
	AudienceAuth  = "@auth"  // only authenticated requests
)

// Rule is one rate limit: at most MaxRequests per Duration for each client
// key, applied to the requests its Label and Audience select (see the
// package documentation for the label forms).
type Rule struct {
	Label       string
	MaxRequests int
	Duration    time.Duration
	Audience    string
}

// Validate reports whether r can be used: a non-empty label, a positive
// MaxRequests and Duration, and a known Audience.
func (r Rule) Validate() error {
	switch {
	case strings.TrimSpace(r.Label) == "":
		return errors.New("ratelimit: rule label is empty")
	case r.MaxRequests <= 0:
		return fmt.Errorf("ratelimit: rule %q: MaxRequests must be positive", r.Label)
	case r.Duration <= 0:
		return fmt.Errorf("ratelimit: rule %q: Duration must be positive", r.Label)
	case r.Audience != AudienceAll && r.Audience != AudienceGuest && r.Audience != AudienceAuth:
		return fmt.Errorf("ratelimit: rule %q: unknown audience %q", r.Label, r.Audience)
	}
	return nil
}

// DefaultRules returns Plinth's default rules, a new slice on each call.
// Budgets are per client key (the IP for guests):
//
//	*:authWithPassword      10 per minute   password guessing (see also FailedLogins)
//	*:authWithOTP            5 per minute   OTP codes are short
//	*:auth                  20 per minute   every other auth-with-* (OAuth2)
//	*:requestOTP             5 per 5 minutes  each sends an e-mail
//	*:requestPasswordReset   3 per 5 minutes  each sends an e-mail
//	*:requestVerification    3 per 5 minutes  each sends an e-mail
//	*:requestEmailChange     3 per 5 minutes  each sends an e-mail
//	POST /api/batch         10 per second   one batch runs up to 50 writes
//	/api/                  300 per 10 seconds generous catch-all
//
// The e-mail budgets are long because the cost they guard (mail sent to a
// third party, sender reputation) is counted in messages, not in load.
func DefaultRules() []Rule {
	return []Rule{
		{Label: "*:authWithPassword", MaxRequests: 10, Duration: time.Minute},
		{Label: "*:authWithOTP", MaxRequests: 5, Duration: time.Minute},
		{Label: "*:auth", MaxRequests: 20, Duration: time.Minute},
		{Label: "*:requestOTP", MaxRequests: 5, Duration: 5 * time.Minute},
		{Label: "*:requestPasswordReset", MaxRequests: 3, Duration: 5 * time.Minute},
		{Label: "*:requestVerification", MaxRequests: 3, Duration: 5 * time.Minute},
		{Label: "*:requestEmailChange", MaxRequests: 3, Duration: 5 * time.Minute},
		{Label: "POST /api/batch", MaxRequests: 10, Duration: time.Second},
		{Label: "/api/", MaxRequests: 300, Duration: 10 * time.Second},
	}
}

// Kinds of label, most specific last so that they compare as numbers.
const (
	kindPath     = iota + 1 // "/api/", "POST /api/batch"
	kindWildcard            // "*:auth"
	kindColl                // "users:auth"
	kindPlain               // "signup_form"
)

// parseLabel splits a label into its kind and, for paths, the method ("" for
// any) and path.
func parseLabel(label string) (kind int, method, path string) {
	label = strings.TrimSpace(label)
	if strings.HasPrefix(label, "/") {
		return kindPath, "", label
	}
	if m, p, ok := strings.Cut(label, " "); ok && strings.HasPrefix(strings.TrimSpace(p), "/") {
		return kindPath, strings.ToUpper(m), strings.TrimSpace(p)
	}
	if strings.HasPrefix(label, "*:") {
		return kindWildcard, "", ""
	}
	if strings.Contains(label, ":") {
		return kindColl, "", ""
	}
	return kindPlain, "", ""
}

// score orders matching rules; a greater score is more specific.
type score struct {
	kind     int
	tagPos   int  // tags: position of the matched tag (lower is better)
	exact    bool // paths: exact path rather than prefix
	length   int  // paths: length of the matched path
	method   bool // paths: method given
	audience bool // audience given rather than ""
}

func (a score) better(b score) bool {
	if a.kind != b.kind {
		return a.kind > b.kind
	}
	if a.kind != kindPath {
		if a.tagPos != b.tagPos {
			return a.tagPos < b.tagPos
		}
	} else {
		if a.exact != b.exact {
			return a.exact
		}
		if a.length != b.length {
			return a.length > b.length
		}
		if a.method != b.method {
			return a.method
		}
	}
	return a.audience && !b.audience
}

// Match returns the rule that applies to a request, or nil when none does.
// tags are the request's tags, most specific first (as [PathTags] returns
// them); isAuth tells whether the client is authenticated, for Audience.
//
// Among the rules whose Audience admits the client, the most specific wins:
//
//  1. a plain tag equal to one of tags ("signup_form");
//  2. a collection tag equal to one of tags ("users:auth");
//  3. a wildcard tag whose action is that of one of tags ("*:auth" for
//     "users:auth");
//  4. a path rule: an exact path ("/api/batch") before any prefix ("/api/"),
//     a longer prefix before a shorter one, and with a method ("POST /api/")
//     before without.
//
// Within 1–3 a tag earlier in tags wins, so with tags ["users:authWithPassword",
// "users:auth"] the rule "*:authWithPassword" beats "*:auth". At equal
// specificity a rule for "@guest" or "@auth" beats one for everyone, and
// then the earlier rule in rules wins. The result points into rules.
func Match(rules []Rule, method, path string, tags []string, isAuth bool) *Rule {
	var best *Rule
	var bestScore score
	for i := range rules {
		r := &rules[i]
		switch r.Audience {
		case AudienceGuest:
			if isAuth {
				continue
			}
		case AudienceAuth:
			if !isAuth {
				continue
			}
		}
		s, ok := matchRule(r, method, path, tags)
		if !ok {
			continue
		}
		s.audience = r.Audience != AudienceAll
		if best == nil || s.better(bestScore) {
			best, bestScore = r, s
		}
	}
	return best
}

func matchRule(r *Rule, method, path string, tags []string) (score, bool) {
	label := strings.TrimSpace(r.Label)
	kind, m, p := parseLabel(label)
	switch kind {
	case kindPath:
		if m != "" && m != strings.ToUpper(method) {
			return score{}, false
		}
		if strings.HasSuffix(p, "/") {
			if !strings.HasPrefix(path, p) {
				return score{}, false
			}
			return score{kind: kindPath, length: len(p), method: m != ""}, true
		}
		if path != p {
			return score{}, false
		}
		return score{kind: kindPath, exact: true, length: len(p), method: m != ""}, true
	case kindWildcard:
		action := label[len("*:"):]
		for i, t := range tags {
			if _, a, ok := strings.Cut(t, ":"); ok && a == action {
				return score{kind: kind, tagPos: i}, true
			}
		}
	default:
		for i, t := range tags {
			if t == label {
				return score{kind: kind, tagPos: i}, true
			}
		}
	}
	return score{}, false
}

// authAction maps the path segment of a collection's auth route to
// PocketBase's action name, and tells whether the route is an auth-with-*
// one, which also carries the "auth" tag.
func authAction(segment string) (action string, auth, ok bool) {
	switch segment {
	case "auth-with-password":
		return "authWithPassword", true, true
	case "auth-with-oauth2":
		return "authWithOAuth2", true, true
	case "auth-with-otp":
		return "authWithOTP", true, true
	case "auth-with-totp":
		return "authWithTOTP", true, true
	case "auth-refresh":
		return "authRefresh", false, true
	case "auth-methods":
		return "listAuthMethods", false, true
	case "request-otp":
		return "requestOTP", false, true
	case "request-password-reset":
		return "requestPasswordReset", false, true
	case "confirm-password-reset":
		return "confirmPasswordReset", false, true
	case "request-verification":
		return "requestVerification", false, true
	case "confirm-verification":
		return "confirmVerification", false, true
	case "request-email-change":
		return "requestEmailChange", false, true
	case "confirm-email-change":
		return "confirmEmailChange", false, true
	case "impersonate":
		return "impersonate", false, true
	}
	return "", false, false
}

// PathTags returns PocketBase's rate-limit tags for a request to one of the
// collection routes, most specific first, or nil for other routes:
//
//	POST /api/collections/users/auth-with-password → users:authWithPassword, users:auth
//	POST /api/collections/users/request-otp        → users:requestOTP
//	GET  /api/collections/posts/records            → posts:list
//	GET  /api/collections/posts/records/ID         → posts:view
//	POST /api/collections/posts/records            → posts:create
//	PATCH, DELETE .../records/ID                   → posts:update, posts:delete
//	GET  /api/files/posts/ID/NAME                  → posts:file
func PathTags(method, path string) []string {
	method = strings.ToUpper(method)
	if rest, ok := strings.CutPrefix(path, "/api/files/"); ok {
		if coll, _, ok := strings.Cut(rest, "/"); ok && coll != "" && (method == "GET" || method == "HEAD") {
			return []string{coll + ":file"}
		}
		return nil
	}
	rest, ok := strings.CutPrefix(path, "/api/collections/")
	if !ok {
		return nil
	}
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	if len(parts) < 2 || parts[0] == "" {
		return nil
	}
	coll := parts[0]
	if parts[1] == "records" {
		var action string
		switch {
		case len(parts) == 2 && (method == "GET" || method == "HEAD"):
			action = "list"
		case len(parts) == 2 && method == "POST":
			action = "create"
		case len(parts) == 3 && (method == "GET" || method == "HEAD"):
			action = "view"
		case len(parts) == 3 && method == "PATCH":
			action = "update"
		case len(parts) == 3 && method == "DELETE":
			action = "delete"
		default:
			return nil
		}
		return []string{coll + ":" + action}
	}
	action, auth, ok := authAction(parts[1])
	if !ok || (len(parts) > 2 && parts[1] != "impersonate") {
		return nil
	}
	if auth {
		return []string{coll + ":" + action, coll + ":auth"}
	}
	return []string{coll + ":" + action}
}
