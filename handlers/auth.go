package handlers

import (
	"context"
	"crypto/subtle"
	"encoding/json"
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

// loginAttemptTTL is how long a sign-in started at the portal may take at
// the provider.
const loginAttemptTTL = 10 * time.Minute

// stateCookie is the name of the cookie that carries a sign-in request: with
// the __Host- prefix whenever cookies are Secure, like the session cookie.
func (h *Handler) stateCookie() string {
	if h.secure {
		return "__Host-kai_oidc_state"
	}
	return "kai_oidc_state"
}

// loginRequest is a sign-in in flight. It lives only in the browser, sealed
// (encrypted and authenticated) in the state cookie, so that starting a
// sign-in writes nothing at the portal. The state in the provider's answer
// must equal the sealed one (binding the answer to this browser); the
// callback records the state as used (models.UseLoginState) before it
// redeems the code, so a replayed answer is refused even by someone holding
// both the answer and the cookie, and the provider redeems a code only once
// and only with this request's PKCE verifier.
type loginRequest struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	ReturnTo string `json:"r"`
	Expires  int64  `json:"e"` // Unix seconds
}

func (h *Handler) sealLoginRequest(r loginRequest) string {
	b, err := json.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("login request: %v", err)) // strings and a number always marshal
	}
	return h.stateSealer.Seal(b)
}

// openLoginRequest reads the browser's sign-in request; ok is false when it
// has none, it was not sealed by this portal, or it has expired.
func (h *Handler) openLoginRequest(c *gin.Context) (loginRequest, bool) {
	var r loginRequest
	v, err := c.Cookie(h.stateCookie())
	if err != nil || v == "" {
		return r, false
	}
	b, err := h.stateSealer.Open(v)
	if err != nil || json.Unmarshal(b, &r) != nil || r.State == "" {
		return r, false
	}
	return r, h.now().Before(time.Unix(r.Expires, 0))
}

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

// maxReturnTo bounds the page a sign-in returns to, which rides in the cookie.
const maxReturnTo = 1024

// startOIDCLogin sends the browser to the provider with a fresh state, nonce
// and PKCE challenge, kept in the sealed state cookie: nothing is written.
func (h *Handler) startOIDCLogin(c *gin.Context) {
	if h.oidc == nil {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	if err := h.oidc.discover(c.Request.Context()); err != nil {
		h.log.Error("oidc discovery", "err", err)
		h.renderMessage(c, http.StatusServiceUnavailable, "error.idp_unavailable", "")
		return
	}
	returnTo := localPath(c.Query("next"), "/dashboard")
	if len(returnTo) > maxReturnTo {
		returnTo = "/dashboard"
	}
	r := loginRequest{State: models.RandomToken(32), Nonce: models.RandomToken(32), Verifier: models.RandomToken(48),
		ReturnTo: returnTo, Expires: h.now().Add(loginAttemptTTL).Unix()}
	h.setCookie(c, h.stateCookie(), h.sealLoginRequest(r), loginAttemptTTL)
	c.Redirect(http.StatusFound, h.oidc.authURL(r.State, r.Nonce, r.Verifier))
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
	req, ok := h.openLoginRequest(c)
	h.setCookie(c, h.stateCookie(), "", -1)
	ok = ok && state != "" && constantEqual(state, req.State)
	if e := c.Query("error"); e != "" {
		// The provider refused or the user cancelled: the request is used up.
		if ok {
			_ = models.UseLoginState(ctx, h.db, req.State, time.Unix(req.Expires, 0), h.now())
		}
		h.renderMessage(c, http.StatusUnauthorized, "error.signin_failed", "provider: "+truncate(e, 64))
		return
	}
	if !ok {
		h.renderMessage(c, http.StatusBadRequest, "error.signin_state", "")
		return
	}
	err := models.UseLoginState(ctx, h.db, req.State, time.Unix(req.Expires, 0), h.now())
	if errors.Is(err, models.ErrConflict) || errors.Is(err, models.ErrNotFound) {
		h.log.Warn("sign-in answer replayed", "request_id", c.GetString(keyRequestID))
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
	rawID, cl, tok, err := h.oidc.exchange(exCtx, c.Query("code"), req.Verifier, req.Nonce)
	if err != nil {
		h.log.Warn("sign-in refused", "request_id", c.GetString(keyRequestID), "err", err)
		h.renderMessage(c, http.StatusUnauthorized, "error.signin_failed", "")
		return
	}

	id := models.Identity{Issuer: h.cfg.OIDCIssuer, Subject: cl.Subject, Email: cl.Email, Name: cl.Name}
	if id.Name == "" {
		id.Name = cl.PreferredUsername
	}
	role, org, err := models.ResolveRole(ctx, h.db, cl.Roles, h.cfg.OIDCRoleMap, cl.Org)
	switch {
	case errors.Is(err, models.ErrNoRole):
		h.denySignIn(c, id, "no mapped role in claim "+h.cfg.OIDCRoleClaim, "error.no_role")
		return
	case errors.Is(err, models.ErrNotApplicant) && org != nil:
		h.denySignIn(c, id, fmt.Sprintf("company user of %q, which is not an applicant (%s)", truncate(cl.Org, 64), org.Kind),
			"error.org_not_applicant")
		return
	case errors.Is(err, models.ErrNotApplicant):
		h.denySignIn(c, id, fmt.Sprintf("company user with unknown organisation %q", truncate(cl.Org, 64)), "error.no_organisation")
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	id.Role = role
	if org != nil {
		id.OrganisationID = &org.ID
	}
	sealed, err := h.sealProviderToken(tok)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.startSession(c, id, rawID, sealed, req.ReturnTo, "oidc")
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
func (h *Handler) startSession(c *gin.Context, id models.Identity, idToken, providerToken, returnTo, method string) {
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
		token, _, err = models.CreateProviderSession(ctx, tx, u.ID, idToken, providerToken, now, h.policy)
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
	userID, ok := parseID(c.PostForm("user_id"))
	if !ok {
		h.renderError(c, http.StatusBadRequest, nil)
		return
	}
	u, err := models.GetUser(c.Request.Context(), h.db, userID)
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
	h.startSession(c, id, "", "", c.PostForm("next"), "demo sign-in")
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
