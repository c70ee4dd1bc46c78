package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"kaiportal/i18n"
	"kaiportal/views"
)

// The public information pages linked from every page's footer: the
// privacy policy, the accessibility statement and the help desk.

func (h *Handler) showPrivacyPage(c *gin.Context) {
	h.render(c, http.StatusOK, views.InfoPage(h.page(c, "privacy.title"), views.PrivacyView(h.contacts(c.Request.Context()))))
}

func (h *Handler) showAccessibilityPage(c *gin.Context) {
	h.render(c, http.StatusOK, views.InfoPage(h.page(c, "accessibility.title"), views.AccessibilityView(h.contacts(c.Request.Context()))))
}

func (h *Handler) showHelpPage(c *gin.Context) {
	h.render(c, http.StatusOK, views.InfoPage(h.page(c, "help.title"), views.HelpView(h.contacts(c.Request.Context()))))
}

// contacts are the configured contact details and session limits, in the
// page's language.
func (h *Handler) contacts(ctx context.Context) views.Contacts {
	c := views.Contacts{
		HelpPhone:      h.cfg.HelpDeskPhone,
		HelpEmail:      h.cfg.HelpDeskEmail,
		PrivacyOfficer: h.cfg.PrivacyOfficer,
		PrivacyContact: h.cfg.PrivacyContact,
		SessionIdle:    spokenDuration(ctx, h.cfg.SessionIdle),
		SessionMax:     spokenDuration(ctx, h.cfg.SessionMaxAge),
	}
	if !h.cfg.PrivacyEffective.IsZero() {
		c.PrivacyEffective = h.cfg.PrivacyEffective.Format("2006-01-02")
	}
	return c
}

// spokenDuration says a duration in whole hours and minutes ("1시간 30분").
func spokenDuration(ctx context.Context, d time.Duration) string {
	hours, minutes := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case hours > 0 && minutes > 0:
		return i18n.T(ctx, "duration.hours_minutes", map[string]any{"H": hours, "M": minutes})
	case hours > 0:
		return i18n.T(ctx, "duration.hours", map[string]any{"H": hours})
	default:
		return i18n.T(ctx, "duration.minutes", map[string]any{"M": minutes})
	}
}
