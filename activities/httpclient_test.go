package activities

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPolicyRefusesInternalAddresses(t *testing.T) {
	strict := TargetPolicy{}
	for _, a := range []string{
		"127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "fd00:ec2::254",
		"fe80::1", "fc00::1", "0.0.0.0", "::", "224.0.0.1", "ff02::1", "100.64.0.1", "::ffff:127.0.0.1", "255.255.255.255",
	} {
		require.False(t, strict.Permits(netip.MustParseAddr(a)), a)
	}
	for _, a := range []string{"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"} {
		require.True(t, strict.Permits(netip.MustParseAddr(a)), a)
	}
	allowed := TargetPolicy{Allowed: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}
	require.True(t, allowed.Permits(netip.MustParseAddr("10.1.2.3")))
	require.False(t, allowed.Permits(netip.MustParseAddr("10.2.0.1")))
	require.True(t, TargetPolicy{AllowPrivate: true}.Permits(netip.MustParseAddr("127.0.0.1")))
}

func TestClientChecksTheDialledAddressAndDoesNotFollowRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusFound)
	}))
	defer srv.Close()

	// A name that resolves to loopback is refused at dial time, whatever the URL says.
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	req, _ := http.NewRequestWithContext(context.Background(), "POST", fmt.Sprintf("http://localhost:%d/", port), nil)
	_, err := NewHTTPClient(TargetPolicy{}).Do(req)
	require.Error(t, err)
	require.True(t, errors.Is(err, ErrPrivateTarget), "%v", err)
	require.Contains(t, describeError(err, 0), "HOOKD_ALLOW_PRIVATE_TARGETS")

	// Allowed, the redirect is answered as it is, not followed.
	req, _ = http.NewRequest("POST", srv.URL, nil)
	resp, err := NewHTTPClient(TargetPolicy{AllowPrivate: true}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
}

// IPv6 addresses that embed an IPv4 one (IPv4-mapped and -compatible, SIIT,
// 6to4, Teredo, NAT64) are as internal as the IPv4 address they lead to.
func TestPolicyRefusesIPv6ThatEmbedsInternalIPv4(t *testing.T) {
	strict := TargetPolicy{}
	for _, a := range []string{
		// IPv4-mapped: Unmap must apply, also for prefixes that are IPv4-only.
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:100.64.0.1", "::ffff:0.0.0.0",
		"::ffff:255.255.255.255", "::ffff:192.168.0.1",
		// IPv4-compatible (deprecated ::/96), whatever it embeds.
		"::127.0.0.1", "::10.0.0.1", "::8.8.8.8",
		// SIIT IPv4-translated ::ffff:0:a.b.c.d.
		"::ffff:0:127.0.0.1", "::ffff:0:a9fe:a9fe",
		// 6to4 2002:AABB:CCDD::/48.
		"2002:7f00:1::1", "2002:a00:1::", "2002:a9fe:a9fe::1", "2002:c0a8:101:1::1", "2002:6440:1::",
		// Teredo 2001:0:SERVER:..:~CLIENT: internal server or internal client.
		"2001:0:7f00:1::808:808",             // server 127.0.0.1
		"2001:0:808:808::80ff:fffe",          // client 127.0.0.1 (7f000001 ^ ffffffff = 80fffffe)
		"2001:0:808:808:8000:f227:f5ff:fffe", // client 10.0.0.1 (0a000001 ^ ffffffff = f5fffffe)
		"2001:0:808:808::5601:5601",          // client 169.254.169.254 (a9fea9fe ^ ffffffff)
		"2001:0:a00:1:8000:f227:f7f7:f7f7",   // server 10.0.0.1, client 8.8.8.8
		// NAT64 well-known prefix 64:ff9b::/96, and the local-use /48 as a whole.
		"64:ff9b::127.0.0.1", "64:ff9b::10.1.2.3", "64:ff9b::169.254.169.254", "64:ff9b::192.168.1.1",
		"64:ff9b:1::8.8.8.8",
	} {
		require.False(t, strict.Permits(netip.MustParseAddr(a)), a)
	}
	for _, a := range []string{
		"::ffff:8.8.8.8", "::ffff:0:8.8.8.8", "2002:808:808::1", "64:ff9b::8.8.8.8", "64:ff9b::93.184.216.34",
		"2001:0:808:808:8000:f227:f7f7:f7f7", // Teredo server 8.8.8.8, client 8.8.8.8
	} {
		require.True(t, strict.Permits(netip.MustParseAddr(a)), a)
	}
	// The allow-list opens an embedded address only through its IPv4 form when mapped.
	allowed := TargetPolicy{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	require.True(t, allowed.Permits(netip.MustParseAddr("::ffff:127.0.0.1")))
	require.False(t, allowed.Permits(netip.MustParseAddr("2002:7f00:1::1")))
}

func TestEmbeddedIPv4(t *testing.T) {
	for in, want := range map[string][]string{
		"2002:c0a8:101::1":                     {"192.168.1.1"},
		"2001:0:4136:e378:8000:63bf:3fff:fdd2": {"65.54.227.120", "192.0.2.45"}, // RFC 4380 example
		"64:ff9b::c000:221":                    {"192.0.2.33"},
		"::ffff:0:a00:1":                       {"10.0.0.1"},
		"2606:2800:220:1:248:1893:25c8:1946":   nil,
		"::ffff:10.0.0.1":                      nil, // mapped: Unmap handles it, not this
		"10.0.0.1":                             nil,
	} {
		var got []string
		for _, a := range embeddedIPv4(netip.MustParseAddr(in)) {
			got = append(got, a.String())
		}
		require.Equal(t, want, got, in)
	}
}
