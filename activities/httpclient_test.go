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
