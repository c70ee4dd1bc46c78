package handlers

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/views"
)

const (
	stateCookie     = "kai_oidc_state"
	loginAttemptTTL = 10 * time.Minute
)

func constantEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// showSignInPage offers single sign-on, the demo sign-in, or both.
func (h *Handler) showSignInPage(c *gin.Context) {
	next := localPath(c.Query("next"), "/dashboard")
	v := views.SignInView{OIDC: h.oidc != nil, Demo: h.cfg.DemoLogin, Next: next,
		LoginURL: "/auth/login?next=" + url.QueryEscape(next), SessionEnded: c.Query("kept") == "1"}
	if v.Demo {
		users, err := models.ListDemoUsers(c.Request.Context(), h.db)
		if err != nil {
			h.fail(c, err)
			return
		}
		v.DemoUsers = users
	}
	h.render(c, http.StatusOK, views.SignIn(h.page(c, "auth.sign_in"), v))
}

// startOIDCLogin sends the browser to the provider with a fresh state, nonce
// and PKCE challenge. The state is also set in a cookie, binding the answer
// to this browser.
func (h *Handler) startOIDCLogin(c *gin.Context) {
	if h.oidc == nil {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	ctx := c.Request.Context()
	if err := h.oidc.discover(ctx); err != nil {
		h.log.Error("oidc discovery", "err", err)
		h.renderMessage(c, http.StatusServiceUnavailable, "error.idp_unavailable", "")
		return
	}
	state, nonce, verifier := models.RandomToken(32), models.RandomToken(32), models.RandomToken(48)
	attempt := models.LoginAttempt{Nonce: nonce, Verifier: verifier,
		ReturnTo: localPath(c.Query("next"), "/dashboard"), ExpiresAt: h.now().Add(loginAttemptTTL)}
	if err := models.SaveLoginAttempt(ctx, h.db, state, attempt); err != nil {
		h.fail(c, err)
		return
	}
	h.setCookie(c, stateCookie, state, loginAttemptTTL)
	c.Redirect(http.StatusFound, h.oidc.authURL(state, nonce, verifier))
}

// finishOIDCLogin is the redirect URI: it checks state, exchanges the code
// with the PKCE verifier, verifies the ID token and nonce, maps the role and
// organisation, and starts a session.
func (h *Handler) finishOIDCLogin(c *gin.Context) {
	if h.oidc == nil {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	ctx := c.Request.Context()
	state := c.Query("state")
	cookieState, _ := c.Cookie(stateCookie)
	h.setCookie(c, stateCookie, "", -1)
	if e := c.Query("error"); e != "" {
		// The provider refused or the user cancelled: the attempt is used up.
		if state != "" && constantEqual(state, cookieState) {
			_, _ = models.TakeLoginAttempt(ctx, h.db, state, h.now())
		}
		h.renderMessage(c, http.StatusUnauthorized, "error.signin_failed", "provider: "+truncate(e, 64))
		return
	}
	if state == "" || !constantEqual(state, cookieState) {
		h.renderMessage(c, http.StatusBadRequest, "error.signin_state", "")
		return
	}
	attempt, err := models.TakeLoginAttempt(ctx, h.db, state, h.now())
	if errors.Is(err, models.ErrNotFound) {
		h.renderMessage(c, http.StatusBadRequest, "error.signin_state", "")
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	if err := h.oidc.discover(ctx); err != nil {
		h.renderMessage(c, http.StatusServiceUnavailable, "error.idp_unavailable", "")
		return
	}
	exCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	rawID, cl, err := h.oidc.exchange(exCtx, c.Query("code"), attempt.Verifier, attempt.Nonce)
	if err != nil {
		h.log.Warn("sign-in refused", "request_id", c.GetString(keyRequestID), "err", err)
		h.renderMessage(c, http.StatusUnauthorized, "error.signin_failed", "")
		return
	}

	id := models.Identity{Issuer: h.cfg.OIDCIssuer, Subject: cl.Subject, Email: cl.Email, Name: cl.Name}
	if id.Name == "" {
		id.Name = cl.PreferredUsername
	}
	role, ok := models.RoleFromClaims(cl.Roles, h.cfg.OIDCRoleMap)
	if !ok {
		h.denySignIn(c, id, "no mapped role in claim "+h.cfg.OIDCRoleClaim, "error.no_role")
		return
	}
	id.Role = role
	if role == models.RoleCompany {
		org, err := models.GetOrganisationByCode(ctx, h.db, cl.Org)
		if cl.Org == "" || errors.Is(err, models.ErrNotFound) {
			h.denySignIn(c, id, fmt.Sprintf("company user with unknown organisation %q", truncate(cl.Org, 64)), "error.no_organisation")
			return
		}
		if err != nil {
			h.fail(c, err)
			return
		}
		id.OrganisationID = &org.ID
	}
	h.startSession(c, id, rawID, attempt.ReturnTo, "oidc")
}

// denySignIn records a refused sign-in and shows why.
func (h *Handler) denySignIn(c *gin.Context, id models.Identity, reason, messageID string) {
	now := h.now()
	err := h.db.WithContext(c.Request.Context()).Transaction(func(tx *gorm.DB) error {
		return models.RecordAudit(c.Request.Context(), tx, models.Actor{Label: id.Email + " (" + id.Subject + ")"},
			models.ActionSignInDenied, "user", truncate(id.Subject, 64), reason, now)
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	h.renderMessage(c, http.StatusForbidden, messageID, "")
}

// startSession creates or updates the user, starts a new session (ending
// any earlier one of this browser) and records the sign-in, in one transaction.
func (h *Handler) startSession(c *gin.Context, id models.Identity, idToken, returnTo, method string) {
	ctx := c.Request.Context()
	now := h.now()
	var token string
	err := h.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if old := currentSession(c); old != nil {
			if err := models.DeleteSession(ctx, tx, old.ID); err != nil {
				return err
			}
		}
		u, err := models.UpsertUser(ctx, tx, id, now)
		if err != nil {
			return err
		}
		token, _, err = models.CreateSession(ctx, tx, u.ID, idToken, now, h.policy)
		if err != nil {
			return err
		}
		return models.RecordAudit(ctx, tx, models.ActorOf(u), models.ActionSignIn, "user",
			strconv.FormatUint(uint64(u.ID), 10), "signed in via "+method, now)
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	h.setCookie(c, h.sessionCookie(), token, 0)
	c.Redirect(http.StatusSeeOther, localPath(returnTo, "/dashboard"))
}

// demoSignIn signs in as a seeded demo user. It exists only in development
// mode without an identity provider, under a banner on every page.
func (h *Handler) demoSignIn(c *gin.Context) {
	if !h.cfg.DemoLogin {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	userID, err := strconv.ParseUint(c.PostForm("user_id"), 10, 32)
	if err != nil {
		h.renderError(c, http.StatusBadRequest, nil)
		return
	}
	u, err := models.GetUser(c.Request.Context(), h.db, uint(userID))
	if err != nil {
		h.fail(c, err)
		return
	}
	if u.Issuer != models.DemoIssuer {
		h.renderError(c, http.StatusForbidden, nil)
		return
	}
	id := models.Identity{Issuer: u.Issuer, Subject: u.Subject, Email: u.Email, Name: u.Name, Role: u.Role,
		OrganisationID: u.OrganisationID}
	h.startSession(c, id, "", c.PostForm("next"), "demo sign-in")
}

// signOut ends the session and, where the provider offers it, signs out
// there too (RP-initiated logout).
func (h *Handler) signOut(c *gin.Context) {
	ctx := c.Request.Context()
	s := currentSession(c)
	now := h.now()
	err := h.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := models.DeleteSession(ctx, tx, s.ID); err != nil {
			return err
		}
		return models.RecordAudit(ctx, tx, models.ActorOf(&s.User), models.ActionSignOut, "user",
			strconv.FormatUint(uint64(s.UserID), 10), "signed out", now)
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	h.setCookie(c, h.sessionCookie(), "", -1)
	if h.oidc != nil && s.User.Issuer == h.cfg.OIDCIssuer {
		if err := h.oidc.discover(ctx); err == nil {
			if u := h.oidc.logoutURL(s.IDToken); u != "" {
				c.Redirect(http.StatusSeeOther, u)
				return
			}
		}
	}
	c.Redirect(http.StatusSeeOther, "/")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
