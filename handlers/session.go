package handlers

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// sessionWarnBefore is how long before a session ends for inactivity the
// page warns, with a button to stay signed in (at most half the idle time).
const sessionWarnBefore = 5 * time.Minute

// sessionClock says when the session ends unless the user does something,
// as of this request (which has just counted as activity).
func (h *Handler) sessionClock(s *models.Session) views.SessionClock {
	now := h.now()
	last := s.LastSeenAt
	if s.NeedsTouch(now) { // loadSession has just recorded this request
		last = now
	}
	idleEnd := last.Add(h.policy.Idle)
	c := views.SessionClock{Ends: idleEnd, Now: now, Renewable: true, Warn: min(sessionWarnBefore, h.policy.Idle/2)}
	if !s.ExpiresAt.After(idleEnd) {
		c.Ends, c.Renewable = s.ExpiresAt, false
	}
	return c
}

// sessionState is the answer to a keep-alive: when the session now ends.
type sessionState struct {
	Ends      time.Time `json:"ends"`
	ServerNow time.Time `json:"server_now"`
	Renewable bool      `json:"renewable"`
}

// keepSessionAlive records activity on the session when the user presses
// "stay signed in" in the expiry warning (portal.js, with the CSRF header).
// The page never calls it by itself.
func (h *Handler) keepSessionAlive(c *gin.Context) {
	s := currentSession(c)
	now := h.now()
	if err := models.TouchSession(c.Request.Context(), h.db, s.ID, now); err != nil {
		h.fail(c, err)
		return
	}
	s.LastSeenAt = now
	clock := h.sessionClock(s)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, sessionState{Ends: clock.Ends.UTC(), ServerNow: now.UTC(), Renewable: clock.Renewable})
}
