package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookd/hookd/models"
)

// ListUnstarted pages by id with a cursor: every unstarted delivery comes
// exactly once, oldest first, and those created after the cut-off not at all.
func TestListUnstartedPagesByCursor(t *testing.T) {
	backends(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		ep := newEndpoint("t-unstarted")
		require.NoError(t, s.CreateEndpoint(ctx, ep))
		var want []string
		for i := range 5 {
			in, err := s.IngestEvent(ctx, newEvent("t-unstarted", "a", fmt.Sprint("unstarted-", i)), []models.Endpoint{*ep})
			require.NoError(t, err)
			want = append(want, in.Deliveries[0].ID)
		}
		time.Sleep(20 * time.Millisecond)
		cutoff := time.Now()
		_, err := s.IngestEvent(ctx, newEvent("t-unstarted", "a", "too-new"), []models.Endpoint{*ep})
		require.NoError(t, err)

		var got []string
		var sizes []int
		cursor := ""
		for {
			page, err := s.ListUnstarted(ctx, cutoff, cursor, 2)
			require.NoError(t, err)
			sizes = append(sizes, len(page))
			for _, d := range page {
				got = append(got, d.ID)
			}
			if len(page) < 2 {
				break
			}
			cursor = page[len(page)-1].ID
		}
		require.Equal(t, []int{2, 2, 1}, sizes)
		require.Equal(t, want, got)

		page, err := s.ListUnstarted(ctx, cutoff, want[4], 2)
		require.NoError(t, err)
		require.Empty(t, page, "nothing after the newest")
	})
}
