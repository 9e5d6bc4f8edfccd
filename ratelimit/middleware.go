package ratelimit

import (
	"net/http"
	"strconv"
	"time"
)

// tooManyBody is PocketBase's error body for 429.
const tooManyBody = `{"status":429,"message":"Too Many Requests.","data":{}}`

// Middleware limits requests by the rule [Match] picks for each, counting
// in l under the key "rule audience|rule label|client key". keyFunc names the
// client (typically the auth record's id, else the IP) and tells whether it
// is authenticated; an empty key is not limited. tagsFunc, which may be
// nil, gives the request's tags (see [PathTags]). A request over its budget
// is answered 429 with Retry-After in whole seconds, rounded up, and
// PocketBase's body {"status":429,"message":"Too Many Requests.","data":{}}.
//
// When l fails (Redis down or slow) the request goes ahead and onError, if
// not nil, is called to log it: limits protect capacity, the API rules
// still guard the data, and refusing every request while Redis is away
// would turn its outage into an outage of the whole API.
//
// Middleware panics if a rule does not pass [Rule.Validate]; validate rules
// from settings before passing them.
func Middleware(l Limiter, rules []Rule, keyFunc func(*http.Request) (key string, isAuth bool), tagsFunc func(*http.Request) []string, onError func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	rules = append([]Rule(nil), rules...)
	for _, r := range rules {
		if err := r.Validate(); err != nil {
			panic(err)
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if len(rules) == 0 {
				next.ServeHTTP(w, r)
				return
			}
			key, isAuth := keyFunc(r)
			if key == "" {
				next.ServeHTTP(w, r)
				return
			}
			var tags []string
			if tagsFunc != nil {
				tags = tagsFunc(r)
			}
			rule := Match(rules, r.Method, r.URL.Path, tags, isAuth)
			if rule == nil {
				next.ServeHTTP(w, r)
				return
			}
			ok, retry, err := l.Allow(r.Context(), rule.Audience+"|"+rule.Label+"|"+key, rule.MaxRequests, rule.Duration)
			if err != nil {
				if onError != nil {
					onError(w, r, err)
				}
				next.ServeHTTP(w, r)
				return
			}
			if !ok {
				h := w.Header()
				h.Set("Retry-After", strconv.FormatInt(retrySeconds(retry), 10))
				h.Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = w.Write([]byte(tooManyBody))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// retrySeconds rounds d up to whole seconds, at least 1.
func retrySeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}
