package handlers

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"kaiportal/i18n"
	"kaiportal/models"
)

// Context keys.
const (
	keyRequestID = "request_id"
	keySession   = "session"
	keyCSRF      = "csrf"
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestID takes a sane X-Request-ID from the proxy or makes one, and
// returns it on the response.
func (h *Handler) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !requestIDPattern.MatchString(id) {
		id = models.RandomToken(12)
	}
	c.Set(keyRequestID, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

// recover turns a panic into the generic 500 page and a log line with the stack.
func (h *Handler) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.Error("panic", "request_id", c.GetString(keyRequestID), "path", c.Request.URL.Path,
				"panic", v, "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				h.renderError(c, http.StatusInternalServerError, nil)
			}
			c.Abort()
		}
	}()
	c.Next()
}

// accessLog writes one structured line per request.
func (h *Handler) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	attrs := []any{
		"request_id", c.GetString(keyRequestID),
		"method", c.Request.Method,
		"route", c.FullPath(),
		"path", c.Request.URL.Path,
		"status", c.Writer.Status(),
		"bytes", c.Writer.Size(),
		"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		"ip", c.ClientIP(),
	}
	if u := currentUser(c); u != nil {
		attrs = append(attrs, "user_id", u.ID)
	}
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	}
	h.log.Log(c.Request.Context(), level, "request", attrs...)
}

// securityHeaders sets a strict Content-Security-Policy that every page
// satisfies (no inline scripts or styles), frame denial and friends.
func (h *Handler) securityHeaders(c *gin.Context) {
	formAction := "'self'"
	if h.oidc != nil {
		// Sign-out posts a form that is redirected to the provider's logout page.
		formAction += " " + h.oidc.origin()
	}
	hd := c.Writer.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "+
		"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action "+formAction+"; "+
		"frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	if h.cfg.SecureCookies() {
		hd.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	c.Next()
}

// maxFilesPerRequest is how many files one form may carry (appeal evidence);
// each file is also checked against the upload limit on its own.
const maxFilesPerRequest = 10

// limitBody caps request bodies: forms at PORTAL_MAX_BODY_BYTES, file
// uploads (multipart) at maxFilesPerRequest uploads plus room for the fields.
func (h *Handler) limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		limit := h.cfg.MaxBodyBytes
		if strings.HasPrefix(c.ContentType(), "multipart/form-data") {
			limit = maxFilesPerRequest*h.cfg.MaxUploadBytes + 1<<20
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	}
	c.Next()
}

// sessionCookie is the cookie's name: with the __Host- prefix whenever it is
// Secure, so no subdomain can set it.
func (h *Handler) sessionCookie() string {
	if h.cfg.SecureCookies() {
		return "__Host-kai_session"
	}
	return "kai_session"
}

func (h *Handler) csrfCookie() string {
	if h.cfg.SecureCookies() {
		return "__Host-kai_csrf"
	}
	return "kai_csrf"
}

// setCookie writes an HttpOnly, SameSite=Lax cookie, Secure outside loopback.
func (h *Handler) setCookie(c *gin.Context, name, value string, maxAge time.Duration) {
	ck := &http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: true, Secure: h.cfg.SecureCookies(),
		SameSite: http.SameSiteLaxMode,
	}
	switch {
	case maxAge < 0:
		ck.MaxAge = -1
	case maxAge > 0:
		ck.MaxAge = int(maxAge.Seconds())
	}
	http.SetCookie(c.Writer, ck)
}

// loadSession finds the signed-in user, if any.
func (h *Handler) loadSession(c *gin.Context) {
	token, err := c.Cookie(h.sessionCookie())
	if err != nil || token == "" {
		c.Next()
		return
	}
	ctx := c.Request.Context()
	now := h.now()
	s, err := models.LoadSession(ctx, h.db, token, now, h.policy)
	switch {
	case errors.Is(err, models.ErrNotFound):
		h.setCookie(c, h.sessionCookie(), "", -1)
	case err != nil:
		h.renderError(c, http.StatusInternalServerError, err)
		c.Abort()
		return
	default:
		if s.NeedsTouch(now) {
			if err := models.TouchSession(ctx, h.db, s.ID, now); err != nil {
				h.log.Warn("touch session", "err", err)
			}
		}
		c.Set(keySession, s)
	}
	c.Next()
}

func currentSession(c *gin.Context) *models.Session {
	s, _ := c.Get(keySession)
	sess, _ := s.(*models.Session)
	return sess
}

func currentUser(c *gin.Context) *models.User {
	if s := currentSession(c); s != nil {
		return &s.User
	}
	return nil
}

const langCookie = "kai_lang"

// localize puts the visitor's language into the request context: Korean
// unless they chose English.
func (h *Handler) localize(c *gin.Context) {
	lang := i18n.Korean
	if v, err := c.Cookie(langCookie); err == nil && i18n.Supported(v) {
		lang = v
	}
	c.Request = c.Request.WithContext(i18n.WithLocalizer(c.Request.Context(), h.cat.For(lang)))
	c.Next()
}

var crossOrigin = http.NewCrossOriginProtection()

// csrf requires, on every state-changing request, the synchronizer token of
// the session (or, before sign-in, of the visitor's CSRF cookie) in the
// _csrf form field or the X-CSRF-Token header, and refuses cross-site
// requests that browsers mark as such.
func (h *Handler) csrf(c *gin.Context) {
	var expected string
	if s := currentSession(c); s != nil {
		expected = s.CSRFToken
	} else {
		v, err := c.Cookie(h.csrfCookie())
		if err != nil || len(v) < 32 {
			v = models.RandomToken(32)
			h.setCookie(c, h.csrfCookie(), v, 0)
		}
		expected = v
	}
	c.Set(keyCSRF, expected)
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	if c.FullPath() == "" {
		// No route matched: nothing will change state, and the answer is 404 or 405.
		c.Next()
		return
	}
	if err := crossOrigin.Check(c.Request); err != nil {
		h.renderMessage(c, http.StatusForbidden, "error.csrf", "")
		c.Abort()
		return
	}
	// Parse the body here, whichever way the token comes, so that one over
	// the limit is refused as such: ParseMultipartForm alone drops the error
	// of a URL-encoded body, and gin's PostForm ignores it.
	err := c.Request.ParseForm()
	if err == nil {
		err = c.Request.ParseMultipartForm(8 << 20)
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		h.renderMessage(c, http.StatusRequestEntityTooLarge, "error.too_large", "")
		c.Abort()
		return
	case err != nil && !errors.Is(err, http.ErrNotMultipart):
		h.renderError(c, http.StatusBadRequest, nil)
		c.Abort()
		return
	}
	got := c.GetHeader("X-CSRF-Token")
	if got == "" {
		got = c.Request.PostFormValue("_csrf")
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(expected)) != 1 {
		// A form sent after its session ended keeps its text (savedform.go).
		if h.keepExpiredForm(c) {
			c.Abort()
			return
		}
		h.renderMessage(c, http.StatusForbidden, "error.csrf", "")
		c.Abort()
		return
	}
	c.Next()
}

// guard enforces a route's Access.
func (h *Handler) guard(a Access) gin.HandlerFunc {
	return func(c *gin.Context) {
		if a.Public {
			c.Next()
			return
		}
		u := currentUser(c)
		if u == nil {
			if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
				c.Redirect(http.StatusSeeOther, "/auth/signin?next="+url.QueryEscape(c.Request.URL.RequestURI()))
			} else {
				h.renderMessage(c, http.StatusForbidden, "error.signin_required", "")
			}
			c.Abort()
			return
		}
		if len(a.Roles) > 0 && !slices.Contains(a.Roles, u.Role) {
			h.renderError(c, http.StatusForbidden, nil)
			c.Abort()
			return
		}
		c.Next()
	}
}

// localPath returns p if it is a path on this site, else fallback; it keeps
// redirects after sign-in and language switches from leaving the portal.
func localPath(p, fallback string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return fallback
	}
	u, err := url.Parse(p)
	if err != nil || u.IsAbs() || u.Host != "" {
		return fallback
	}
	return p
}
