package models_test

import (
	"testing"
	"time"

	"kaiportal/models"
)

// TestCallStateAt: the open instant belongs to the call's open period, the
// close instant to its closed one, to the nanosecond.
func TestCallStateAt(t *testing.T) {
	t.Parallel()
	opens := time.Date(2025, 6, 20, 9, 0, 0, 0, models.KST)
	closes := time.Date(2025, 7, 21, 18, 0, 0, 0, models.KST)
	c := models.Call{OpensAt: opens.UTC(), ClosesAt: closes.UTC()}
	for _, tc := range []struct {
		at   time.Time
		want models.CallState
	}{
		{opens.Add(-time.Nanosecond), models.CallUpcoming},
		{opens, models.CallOpen},
		{closes.Add(-time.Nanosecond), models.CallOpen},
		{closes, models.CallClosed},
		{closes.AddDate(1, 0, 0), models.CallClosed},
	} {
		if got := c.StateAt(tc.at); got != tc.want {
			t.Errorf("StateAt(%s) = %s, want %s", tc.at.In(models.KST).Format(time.RFC3339Nano), got, tc.want)
		}
	}
}

// TestGroupCalls: each call lands in one group, and each group is in the
// order a visitor needs it.
func TestGroupCalls(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, models.KST)
	day := 24 * time.Hour
	call := func(id uint, opens, closes time.Duration) models.Call {
		return models.Call{ID: id, OpensAt: now.Add(opens).UTC(), ClosesAt: now.Add(closes).UTC()}
	}
	calls := []models.Call{
		call(1, -60*day, -30*day), // closed long ago
		call(2, -5*day, 20*day),   // open, closes late
		call(3, 10*day, 40*day),   // upcoming, opens late
		call(4, -10*day, 0),       // closes exactly now: closed
		call(5, 0, 5*day),         // opens exactly now: open, closes soon
		call(6, 2*day, 30*day),    // upcoming, opens soon
	}
	g := models.GroupCalls(calls, now)
	ids := func(cs []models.Call) []uint {
		var out []uint
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	for name, tc := range map[string]struct{ got, want []uint }{
		"open":     {ids(g.Open), []uint{5, 2}},
		"upcoming": {ids(g.Upcoming), []uint{6, 3}},
		"closed":   {ids(g.Closed), []uint{4, 1}},
	} {
		if len(tc.got) != len(tc.want) {
			t.Errorf("%s = %v, want %v", name, tc.got, tc.want)
			continue
		}
		for i := range tc.got {
			if tc.got[i] != tc.want[i] {
				t.Errorf("%s = %v, want %v", name, tc.got, tc.want)
				break
			}
		}
	}
}
