package activities

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrPrivateTarget is the error of an attempt whose target address is
// loopback, private, link-local or otherwise internal, when such targets are
// not allowed.
var ErrPrivateTarget = errors.New("target address is not public")

// TargetPolicy decides which addresses deliveries may connect to.
type TargetPolicy struct {
	// AllowPrivate lets deliveries reach any address (dev, tests).
	AllowPrivate bool
	// Allowed are extra prefixes permitted even though they are internal.
	Allowed []netip.Prefix
}

// Permits reports whether a connection to addr is allowed.
func (p TargetPolicy) Permits(addr netip.Addr) bool {
	if p.AllowPrivate {
		return true
	}
	addr = addr.Unmap()
	for _, pre := range p.Allowed {
		if pre.Contains(addr) {
			return true
		}
	}
	return isPublic(addr)
}

var internalPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),          // "this" network
	netip.MustParsePrefix("100.64.0.0/10"),      // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),       // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),      // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),        // reserved
	netip.MustParsePrefix("::/96"),              // IPv4-compatible IPv6 (deprecated), ::127.0.0.1 etc.
	netip.MustParsePrefix("64:ff9b:1::/48"),     // local-use NAT64: may translate to anything inside
	netip.MustParsePrefix("2001:db8::/32"),      // documentation
	netip.MustParsePrefix("fd00:ec2::/32"),      // cloud metadata (AWS IPv6)
	netip.MustParsePrefix("169.254.0.0/16"),     // link-local incl. 169.254.169.254 metadata
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba metadata
}

// Prefixes of IPv6 addresses that carry an IPv4 address the traffic ends up
// at: such an address is public only if the embedded IPv4 is.
var (
	prefix6to4    = netip.MustParsePrefix("2002::/16")       // 6to4: 2002:AABB:CCDD::/48
	prefixTeredo  = netip.MustParsePrefix("2001::/32")       // Teredo: server in bits 32-63, client (inverted) in 96-127
	prefixNAT64   = netip.MustParsePrefix("64:ff9b::/96")    // NAT64 well-known prefix (RFC 6052)
	prefixSIIT    = netip.MustParsePrefix("::ffff:0:0:0/96") // IPv4-translated (RFC 2765 SIIT)
	ipv4Broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})
)

// embeddedIPv4 returns the IPv4 addresses an IPv6 address of a transition
// mechanism (6to4, Teredo, NAT64, SIIT) leads to; nil for any other address.
func embeddedIPv4(a netip.Addr) []netip.Addr {
	if !a.Is6() || a.Is4In6() {
		return nil
	}
	b := a.As16()
	v4 := func(x []byte) netip.Addr { return netip.AddrFrom4([4]byte{x[0], x[1], x[2], x[3]}) }
	switch {
	case prefix6to4.Contains(a):
		return []netip.Addr{v4(b[2:6])}
	case prefixTeredo.Contains(a):
		client := [4]byte{b[12] ^ 0xff, b[13] ^ 0xff, b[14] ^ 0xff, b[15] ^ 0xff}
		return []netip.Addr{v4(b[4:8]), netip.AddrFrom4(client)}
	case prefixNAT64.Contains(a), prefixSIIT.Contains(a):
		return []netip.Addr{v4(b[12:16])}
	}
	return nil
}

func isPublic(a netip.Addr) bool {
	a = a.Unmap() // ::ffff:a.b.c.d is a.b.c.d
	if !a.IsValid() || a.IsUnspecified() || a.IsLoopback() || a.IsPrivate() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() ||
		a.IsMulticast() {
		return false
	}
	for _, p := range internalPrefixes {
		if p.Contains(a) {
			return false
		}
	}
	for _, v4 := range embeddedIPv4(a) {
		if !isPublic(v4) {
			return false
		}
	}
	return a != ipv4Broadcast
}

// NewHTTPClient returns the client deliveries are sent with. It never follows
// redirects (a 3xx is a failed attempt) and checks the policy on the address
// actually dialled, after DNS resolution, so a name that re-resolves to an
// internal address is still refused.
func NewHTTPClient(policy TargetPolicy) *http.Client {
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: cannot parse %q", ErrPrivateTarget, address)
			}
			if !policy.Permits(ap.Addr()) {
				return fmt.Errorf("%w: %s", ErrPrivateTarget, ap.Addr())
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    128,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  0, // bounded by the attempt's context
		MaxResponseHeaderBytes: 64 << 10,
		ExpectContinueTimeout:  time.Second,
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
