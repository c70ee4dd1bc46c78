package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"kaiportal/models"
)

// The role re-check. A session signed in through the provider is only as
// good as the provider's last word: at least every PORTAL_ROLE_RECHECK the
// portal asks again (refresh token, else user info with the access token).
//
//   - The provider answers with a mapped role (and, for a company user, an
//     applicant organisation): the user row takes it (audited if it changed)
//     and, since every request reads the role from the user row, every live
//     session of the user acts with it at once.
//   - The provider answers but maps no role, names no applicant
//     organisation, or refuses the tokens: every session of the user ends.
//   - The provider cannot be reached: the session is still served for
//     PORTAL_ROLE_RECHECK_GRACE after the re-check fell due, retrying at most
//     every recheckRetry; then it ends. The user can sign in again once the
//     provider is back.
//
// Demo sessions (development, no provider) are not re-checked. A session
// that cannot be re-checked at all (no provider configured for its user's
// issuer, no tokens kept, tokens sealed under another key) ends.

// recheckRetry spaces out re-checks of one session while the provider
// cannot be reached, and keeps concurrent requests from asking at once.
const recheckRetry = 30 * time.Second

// recheckTimeout bounds one re-check, so that a provider that hangs delays
// a request by this much at most.
const recheckTimeout = 5 * time.Second

// providerToken is what a session keeps of the provider's tokens, sealed.
type providerToken struct {
	Access  string    `json:"a,omitempty"`
	Refresh string    `json:"r,omitempty"`
	Expiry  time.Time `json:"e"`
}

func (h *Handler) sealProviderToken(tok *oauth2.Token) (string, error) {
	b, err := json.Marshal(providerToken{Access: tok.AccessToken, Refresh: tok.RefreshToken, Expiry: tok.Expiry})
	if err != nil {
		return "", fmt.Errorf("seal provider token: %w", err)
	}
	return h.tokenSealer.Seal(b), nil
}

func (h *Handler) openProviderToken(sealed string) (*oauth2.Token, error) {
	if sealed == "" {
		return nil, errors.New("the session keeps no provider token")
	}
	b, err := h.tokenSealer.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("provider token: %w", err)
	}
	var t providerToken
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("provider token: %w", err)
	}
	return &oauth2.Token{AccessToken: t.Access, RefreshToken: t.Refresh, Expiry: t.Expiry, TokenType: "Bearer"}, nil
}

// recheckRole re-checks the session's role with the provider when it is due
// and returns the session to serve, or nil when the session has ended.
func (h *Handler) recheckRole(c *gin.Context, s *models.Session, now time.Time) (*models.Session, error) {
	if s.User.Issuer == models.DemoIssuer || !s.RoleRecheckDue(now, h.cfg.RoleRecheck) {
		return s, nil
	}
	ctx := c.Request.Context()
	if h.oidc == nil || s.User.Issuer != h.cfg.OIDCIssuer {
		return nil, h.endSession(ctx, s, "its identity provider is no longer configured", now)
	}
	claimed, err := models.ClaimRoleRecheck(ctx, h.db, s.ID, now, recheckRetry)
	if err != nil {
		return nil, err
	}
	if !claimed {
		// Another request is asking, or the provider failed a moment ago.
		return h.unreachable(ctx, s, now, nil)
	}
	tok, err := h.openProviderToken(s.ProviderToken)
	if err != nil {
		return nil, h.endSession(ctx, s, "its role cannot be re-checked: "+err.Error(), now)
	}
	rctx, cancel := context.WithTimeout(ctx, recheckTimeout)
	defer cancel()
	cl, fresh, err := h.oidc.recheck(rctx, tok, s.User.Subject)
	if errors.Is(err, errRevoked) {
		h.log.Warn("role re-check: provider refused the session", "user_id", s.UserID, "err", err)
		return nil, h.endUserSessions(ctx, s, "the identity provider no longer accepts the session", now)
	}
	if err != nil {
		return h.unreachable(ctx, s, now, err)
	}
	role, org, err := models.ResolveRole(ctx, h.db, cl.Roles, h.cfg.OIDCRoleMap, cl.Org)
	switch {
	case errors.Is(err, models.ErrNoRole):
		return nil, h.endUserSessions(ctx, s, "the identity provider maps no role any more", now)
	case errors.Is(err, models.ErrNotApplicant):
		return nil, h.endUserSessions(ctx, s, fmt.Sprintf("the organisation claim %q names no applicant organisation",
			truncate(cl.Org, 64)), now)
	case err != nil:
		return nil, err
	}
	sealed, err := h.sealProviderToken(fresh)
	if err != nil {
		return nil, err
	}
	var orgID *uint
	if org != nil {
		orgID = &org.ID
	}
	u, err := models.ConfirmRole(ctx, h.db, s.ID, s.UserID, role, orgID, sealed, now)
	if err != nil {
		return nil, err
	}
	s.User = *u
	s.RoleCheckedAt, s.RecheckStartedAt, s.ProviderToken = now, nil, sealed
	return s, nil
}

// unreachable serves the session within the grace period, else ends it.
func (h *Handler) unreachable(ctx context.Context, s *models.Session, now time.Time, cause error) (*models.Session, error) {
	if cause != nil {
		h.log.Warn("role re-check: provider unreachable", "user_id", s.UserID, "err", cause)
	}
	if s.RoleRecheckGrace(now, h.cfg.RoleRecheck, h.cfg.RoleRecheckGrace) {
		return s, nil
	}
	return nil, h.endSession(ctx, s, "its role could not be re-checked with the identity provider within "+
		(h.cfg.RoleRecheck+h.cfg.RoleRecheckGrace).String(), now)
}

func (h *Handler) endSession(ctx context.Context, s *models.Session, reason string, now time.Time) error {
	h.log.Info("session ended", "user_id", s.UserID, "reason", reason)
	return models.EndSession(ctx, h.db, s, reason, now)
}

func (h *Handler) endUserSessions(ctx context.Context, s *models.Session, reason string, now time.Time) error {
	h.log.Info("sessions of user ended", "user_id", s.UserID, "reason", reason)
	_, err := models.EndUserSessions(ctx, h.db, s.UserID, models.Actor{Label: "identity provider"}, reason, now)
	return err
}
