package ratelimit

import (
	"slices"
	"testing"
	"time"
)

func TestMatch(t *testing.T) {
	rules := []Rule{
		{Label: "/api/", MaxRequests: 300, Duration: 10 * time.Second},                      // 0
		{Label: "/api/collections/", MaxRequests: 100, Duration: time.Second},               // 1
		{Label: "POST /api/collections/", MaxRequests: 50, Duration: time.Second},           // 2
		{Label: "/api/batch", MaxRequests: 7, Duration: time.Second},                        // 3
		{Label: "POST /api/batch", MaxRequests: 3, Duration: time.Second},                   // 4
		{Label: "*:auth", MaxRequests: 2, Duration: 3 * time.Second},                        // 5
		{Label: "users:auth", MaxRequests: 4, Duration: 3 * time.Second},                    // 6
		{Label: "*:authWithPassword", MaxRequests: 5, Duration: time.Minute},                // 7
		{Label: "signup_form", MaxRequests: 1, Duration: time.Minute},                       // 8
		{Label: "*:create", MaxRequests: 20, Duration: 5 * time.Second, Audience: "@guest"}, // 9
		{Label: "*:create", MaxRequests: 200, Duration: 5 * time.Second},                    // 10
		{Label: "/api/health", MaxRequests: 1000, Duration: time.Second, Audience: "@auth"}, // 11
		{Label: "/api/", MaxRequests: 600, Duration: 10 * time.Second, Audience: "@auth"},   // 12
		{Label: "/api/", MaxRequests: 1, Duration: time.Second},                             // 13: shadowed by 0
	}
	pw := PathTags("POST", "/api/collections/users/auth-with-password")
	ad := PathTags("POST", "/api/collections/admins/auth-with-password")
	tests := []struct {
		name   string
		method string
		path   string
		tags   []string
		isAuth bool
		want   int // index in rules, -1 for nil
	}{
		{"catch-all", "GET", "/api/settings", nil, false, 0},
		{"catch-all for auth prefers @auth", "GET", "/api/settings", nil, true, 12},
		{"no rule outside /api/", "GET", "/_/", nil, false, -1},
		{"longer prefix", "GET", "/api/collections/posts/records", nil, false, 1},
		{"method prefix beats plain prefix of same length", "POST", "/api/collections/posts/records", nil, false, 2},
		{"exact path beats prefix", "GET", "/api/batch", nil, false, 3},
		{"exact path with method", "POST", "/api/batch", nil, false, 4},
		{"method is case-insensitive", "post", "/api/batch", nil, false, 4},
		{"exact path needs the whole path", "POST", "/api/batch/x", nil, false, 0},
		{"collection tag beats wildcard tags", "POST", "/api/collections/users/auth-with-password", pw, false, 6},
		{"earlier wildcard tag wins", "POST", "/api/collections/admins/auth-with-password", ad, false, 7},
		{"wildcard on other action", "POST", "/api/collections/admins/auth-with-oauth2", PathTags("POST", "/api/collections/admins/auth-with-oauth2"), false, 5},
		{"plain tag beats all", "POST", "/api/collections/users/auth-with-password", append([]string{"signup_form"}, pw...), false, 8},
		{"tag beats exact path", "POST", "/api/batch", []string{"posts:auth"}, false, 5},
		{"guest audience", "POST", "/api/collections/posts/records", []string{"posts:create"}, false, 9},
		{"guest rule skipped for auth", "POST", "/api/collections/posts/records", []string{"posts:create"}, true, 10},
		{"auth-only exact path", "GET", "/api/health", nil, true, 11},
		{"auth-only exact path skipped for guests", "GET", "/api/health", nil, false, 0},
		{"unknown tag falls back to path", "GET", "/api/collections/posts/records", []string{"posts:list"}, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Match(rules, tt.method, tt.path, tt.tags, tt.isAuth)
			if tt.want < 0 {
				if got != nil {
					t.Fatalf("got %+v, want nil", *got)
				}
				return
			}
			if got != &rules[tt.want] {
				t.Fatalf("got %+v, want rules[%d] %+v", got, tt.want, rules[tt.want])
			}
		})
	}
	if Match(nil, "GET", "/api/", nil, false) != nil {
		t.Fatal("no rules should match nothing")
	}
}

func TestMatchDefaultRules(t *testing.T) {
	rules := DefaultRules()
	for _, r := range rules {
		if err := r.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ method, path, want string }{
		{"POST", "/api/collections/users/auth-with-password", "*:authWithPassword"},
		{"POST", "/api/collections/users/auth-with-otp", "*:authWithOTP"},
		{"POST", "/api/collections/users/auth-with-oauth2", "*:auth"},
		{"POST", "/api/collections/users/request-otp", "*:requestOTP"},
		{"POST", "/api/collections/users/request-password-reset", "*:requestPasswordReset"},
		{"POST", "/api/collections/users/request-verification", "*:requestVerification"},
		{"POST", "/api/collections/users/request-email-change", "*:requestEmailChange"},
		{"POST", "/api/batch", "POST /api/batch"},
		{"GET", "/api/collections/posts/records", "/api/"},
	}
	for _, tt := range tests {
		got := Match(rules, tt.method, tt.path, PathTags(tt.method, tt.path), false)
		if got == nil || got.Label != tt.want {
			t.Errorf("%s %s: got %v, want %s", tt.method, tt.path, got, tt.want)
		}
	}
}

func TestPathTags(t *testing.T) {
	tests := []struct {
		method, path string
		want         []string
	}{
		{"POST", "/api/collections/users/auth-with-password", []string{"users:authWithPassword", "users:auth"}},
		{"POST", "/api/collections/users/auth-with-oauth2", []string{"users:authWithOAuth2", "users:auth"}},
		{"POST", "/api/collections/users/auth-with-otp", []string{"users:authWithOTP", "users:auth"}},
		{"POST", "/api/collections/users/auth-refresh", []string{"users:authRefresh"}},
		{"GET", "/api/collections/users/auth-methods", []string{"users:listAuthMethods"}},
		{"POST", "/api/collections/users/request-otp", []string{"users:requestOTP"}},
		{"POST", "/api/collections/users/confirm-password-reset", []string{"users:confirmPasswordReset"}},
		{"POST", "/api/collections/_superusers/impersonate/abc", []string{"_superusers:impersonate"}},
		{"GET", "/api/collections/posts/records", []string{"posts:list"}},
		{"POST", "/api/collections/posts/records", []string{"posts:create"}},
		{"GET", "/api/collections/posts/records/abc", []string{"posts:view"}},
		{"PATCH", "/api/collections/posts/records/abc", []string{"posts:update"}},
		{"DELETE", "/api/collections/posts/records/abc", []string{"posts:delete"}},
		{"GET", "/api/files/posts/abc/a.png", []string{"posts:file"}},
		{"GET", "/api/collections/posts", nil},
		{"PUT", "/api/collections/posts/records", nil},
		{"POST", "/api/collections/users/auth-with-password/x", nil},
		{"GET", "/api/health", nil},
		{"GET", "/api/collections//records", nil},
	}
	for _, tt := range tests {
		if got := PathTags(tt.method, tt.path); !slices.Equal(got, tt.want) {
			t.Errorf("%s %s: got %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

func TestRuleValidate(t *testing.T) {
	bad := []Rule{
		{Label: "", MaxRequests: 1, Duration: time.Second},
		{Label: "/api/", MaxRequests: 0, Duration: time.Second},
		{Label: "/api/", MaxRequests: 1},
		{Label: "/api/", MaxRequests: 1, Duration: time.Second, Audience: "@admin"},
	}
	for _, r := range bad {
		if r.Validate() == nil {
			t.Errorf("%+v: want an error", r)
		}
	}
	good := Rule{Label: "GET /api/", MaxRequests: 1, Duration: time.Second, Audience: "@guest"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
}
