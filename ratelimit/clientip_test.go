package ratelimit_test

import (
	"net/http/httptest"
	"testing"

	"github.com/plinthdev/plinth/ratelimit"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	proxies, err := ratelimit.ParsePrefixes([]string{"10.0.0.0/8", "::ffff:192.168.0.0/112"})
	if err != nil {
		t.Fatal(err)
	}
	xff := []string{"X-Forwarded-For"}
	for _, tt := range []struct {
		name   string
		tp     *ratelimit.TrustedProxy
		remote string
		hdr    map[string][]string
		want   string
	}{
		{"off: the peer", nil, "198.51.100.1:5000", map[string][]string{"X-Forwarded-For": {"203.0.113.7"}}, "198.51.100.1"},
		{"no headers: the peer", &ratelimit.TrustedProxy{}, "[2001:db8::1]:80", map[string][]string{"X-Forwarded-For": {"203.0.113.7"}}, "2001:db8::1"},
		{"mapped peer", nil, "[::ffff:198.51.100.1]:80", nil, "198.51.100.1"},
		{"rightmost", &ratelimit.TrustedProxy{Headers: xff}, "10.1.1.1:80", map[string][]string{"X-Forwarded-For": {"1.1.1.1, 203.0.113.7"}}, "203.0.113.7"},
		{"leftmost", &ratelimit.TrustedProxy{Headers: xff, UseLeftmostIP: true}, "10.1.1.1:80", map[string][]string{"X-Forwarded-For": {"1.1.1.1, 203.0.113.7"}}, "1.1.1.1"},
		{"last line only", &ratelimit.TrustedProxy{Headers: xff, UseLeftmostIP: true}, "10.1.1.1:80", map[string][]string{"X-Forwarded-For": {"6.6.6.6", "203.0.113.7, 10.2.2.2"}}, "203.0.113.7"},
		{"junk skipped", &ratelimit.TrustedProxy{Headers: xff}, "10.1.1.1:80", map[string][]string{"X-Forwarded-For": {"203.0.113.7, unknown, "}}, "203.0.113.7"},
		{"ports and brackets", &ratelimit.TrustedProxy{Headers: xff}, "10.1.1.1:80", map[string][]string{"X-Forwarded-For": {"[2001:db8::7]:443"}}, "2001:db8::7"},
		{"no usable value: the peer", &ratelimit.TrustedProxy{Headers: xff}, "10.1.1.1:80", map[string][]string{"X-Forwarded-For": {"unknown"}}, "10.1.1.1"},
		{"second header", &ratelimit.TrustedProxy{Headers: []string{"CF-Connecting-IP", "X-Real-IP"}}, "10.1.1.1:80", map[string][]string{"X-Real-IP": {"203.0.113.9"}}, "203.0.113.9"},
		{"untrusted peer: header ignored", &ratelimit.TrustedProxy{Headers: xff, Proxies: proxies}, "198.51.100.1:80", map[string][]string{"X-Forwarded-For": {"203.0.113.7"}}, "198.51.100.1"},
		{"trusted peer", &ratelimit.TrustedProxy{Headers: xff, Proxies: proxies}, "10.9.9.9:80", map[string][]string{"X-Forwarded-For": {"203.0.113.7"}}, "203.0.113.7"},
		{"trusted hops skipped", &ratelimit.TrustedProxy{Headers: xff, Proxies: proxies}, "192.168.3.4:80", map[string][]string{"X-Forwarded-For": {"6.6.6.6, 203.0.113.7, 10.0.0.2, 10.0.0.3"}}, "203.0.113.7"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		for k, vs := range tt.hdr {
			for _, v := range vs {
				r.Header.Add(k, v)
			}
		}
		if got := tt.tp.ClientIP(r); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParsePrefixes(t *testing.T) {
	t.Parallel()
	got, err := ratelimit.ParsePrefixes([]string{"203.0.113.7", " 10.0.0.0/8 ", "2001:db8::/32", "::ffff:1.2.3.4", "10.1.2.3/8"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"203.0.113.7/32", "10.0.0.0/8", "2001:db8::/32", "1.2.3.4/32", "10.0.0.0/8"}
	for i, p := range got {
		if p.String() != want[i] {
			t.Errorf("%d: %s, want %s", i, p, want[i])
		}
	}
	for _, bad := range []string{"", "10.0.0.0/33", "example.com", "fe80::1%eth0", "1.2.3"} {
		if _, err := ratelimit.ParsePrefixes([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if !ratelimit.ContainsIP(got, "10.200.0.1") || ratelimit.ContainsIP(got, "11.0.0.1") || ratelimit.ContainsIP(got, "nope") {
		t.Error("ContainsIP")
	}
}
