package temporalsetup

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A refused credential is recognised by the answer's type or code, whatever
// the server's message says.
func TestConnectErrorNamesTheCredentialSettingsWhenTheServerRefusesThem(t *testing.T) {
	opts := client.Options{HostPort: "127.0.0.1:1"}
	for name, err := range map[string]error{
		"permission denied":         serviceerror.NewPermissionDenied("no entry", ""),
		"wrapped permission denied": fmt.Errorf("describe namespace: %w", serviceerror.NewPermissionDenied("nope", "")),
		"unauthenticated":           status.Error(codes.Unauthenticated, "who are you"),
	} {
		require.ErrorContains(t, connectError(opts, err), "check TEMPORAL_API_KEY", name)
	}
	require.NotContains(t, connectError(opts, errors.New("connection refused")).Error(), "TEMPORAL_API_KEY")
}
