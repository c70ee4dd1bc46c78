package models

import (
	"cmp"
	"slices"
	"time"
)

// CallState is where a call stands at an instant: not yet open, open, or closed.
type CallState string

// Call states, by the call's open and close instants.
const (
	CallUpcoming CallState = "upcoming"
	CallOpen     CallState = "open"
	CallClosed   CallState = "closed"
)

// StateAt says where the call stands at t: upcoming before OpensAt, open
// from OpensAt up to (not including) ClosesAt, closed from ClosesAt on.
func (c *Call) StateAt(t time.Time) CallState {
	switch {
	case t.Before(c.OpensAt):
		return CallUpcoming
	case c.IsOpen(t):
		return CallOpen
	}
	return CallClosed
}

// CallGroups are the calls as the public list shows them at one instant:
// the open ones closing soonest first, the upcoming ones opening soonest
// first, the closed ones most recently closed first.
type CallGroups struct {
	Open, Upcoming, Closed []Call
}

// GroupCalls sorts calls into their groups at now.
func GroupCalls(calls []Call, now time.Time) CallGroups {
	var g CallGroups
	for _, c := range calls {
		switch c.StateAt(now) {
		case CallOpen:
			g.Open = append(g.Open, c)
		case CallUpcoming:
			g.Upcoming = append(g.Upcoming, c)
		default:
			g.Closed = append(g.Closed, c)
		}
	}
	byID := func(a, b Call) int { return cmp.Compare(a.ID, b.ID) }
	slices.SortStableFunc(g.Open, func(a, b Call) int {
		if c := a.ClosesAt.Compare(b.ClosesAt); c != 0 {
			return c
		}
		return byID(a, b)
	})
	slices.SortStableFunc(g.Upcoming, func(a, b Call) int {
		if c := a.OpensAt.Compare(b.OpensAt); c != 0 {
			return c
		}
		return byID(a, b)
	})
	slices.SortStableFunc(g.Closed, func(a, b Call) int {
		if c := b.ClosesAt.Compare(a.ClosesAt); c != 0 {
			return c
		}
		return byID(b, a)
	})
	return g
}
