package ratelimit

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxy decides which address a request comes from, as
// PocketBase's trustedProxy setting does, with an optional list of the
// proxies allowed to say so. The zero value trusts no header: the client
// is the connection's peer (RemoteAddr), the only safe choice for a server
// that clients reach directly, since any forwarding header may be forged.
type TrustedProxy struct {
	// Headers are the headers naming the client, tried in order, such as
	// X-Forwarded-For, X-Real-IP or CF-Connecting-IP. Only the last line
	// of a header is read: the one the nearest proxy wrote.
	Headers []string
	// UseLeftmostIP takes the leftmost address of a header's list instead
	// of the rightmost. The leftmost is what the first proxy was told,
	// which the client may have forged (some proxies, such as AWS ELB,
	// keep what the client sent and append to it).
	UseLeftmostIP bool
	// Proxies, when not empty, are the only peers whose headers are
	// believed; a request from any other peer is taken at its RemoteAddr.
	// Reading from the right, addresses inside Proxies are skipped too, so
	// that a chain of trusted proxies yields the client in front of them.
	// Empty: the headers of every peer are believed, as in PocketBase.
	Proxies []netip.Prefix
}

// ClientIP returns the client address of r as a string (an IPv4-mapped
// IPv6 address is given as IPv4). With no usable header it is the host
// part of r.RemoteAddr.
func (p *TrustedProxy) ClientIP(r *http.Request) string {
	peer := hostOf(r.RemoteAddr)
	if p == nil || len(p.Headers) == 0 {
		return peer
	}
	if len(p.Proxies) > 0 {
		a, err := netip.ParseAddr(peer)
		if err != nil || !containsAddr(p.Proxies, a) {
			return peer
		}
	}
	for _, h := range p.Headers {
		values := r.Header.Values(h)
		if len(values) == 0 {
			continue
		}
		if ip, ok := p.pick(values[len(values)-1]); ok {
			return ip
		}
	}
	return peer
}

// pick chooses the client from one header line: a comma-separated list
// of addresses, leftmost first. Entries that are not addresses are
// skipped.
func (p *TrustedProxy) pick(line string) (string, bool) {
	var addrs []netip.Addr
	for entry := range strings.SplitSeq(line, ",") {
		if a, ok := parseEntry(entry); ok {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		return "", false
	}
	if p.UseLeftmostIP {
		return addrs[0].String(), true
	}
	for i := len(addrs) - 1; i >= 0; i-- {
		if !containsAddr(p.Proxies, addrs[i]) {
			return addrs[i].String(), true
		}
	}
	return addrs[0].String(), true // every hop a trusted proxy
}

// parseEntry reads one address of a forwarding header: "203.0.113.7",
// "2001:db8::1", "[2001:db8::1]" or either with a port.
func parseEntry(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// hostOf is the host part of a RemoteAddr, normalised like the header
// addresses when it is an IP.
func hostOf(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().WithZone("").String()
	}
	return host
}

func containsAddr(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ContainsIP reports whether ip, as [TrustedProxy.ClientIP] returns it, is
// inside one of prefixes.
func ContainsIP(prefixes []netip.Prefix, ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && containsAddr(prefixes, a.Unmap())
}

// ParsePrefixes parses a list of IP addresses ("203.0.113.7", "::1") and
// CIDR ranges ("10.0.0.0/8", "2001:db8::/32"). The error names the first
// entry that is neither.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("ratelimit: %q is not an IP address or CIDR range", s)
			}
			if p.Addr().Is4In6() {
				p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("ratelimit: %q is not an IP address or CIDR range", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// ErrHeaderName is returned by [ValidHeaderName] for a name that is not
// an HTTP header token.
var ErrHeaderName = errors.New("ratelimit: not a header name")

// ValidHeaderName checks a trusted-proxy header name: 1 to 64 letters,
// digits and hyphens.
func ValidHeaderName(h string) error {
	if len(h) == 0 || len(h) > 64 {
		return ErrHeaderName
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return ErrHeaderName
		}
	}
	return nil
}
