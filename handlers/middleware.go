package handlers

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
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
	keyRequestID   = "request_id"
	keySession     = "session"
	keyCSRF        = "csrf"
	keyUpload      = "upload"       // bool: a multipart body on a route that takes files
	keyMultipart   = "multipart"    // *multipart.Reader whose first part (the token) csrf has read
	keyRenew       = "renew"        // func(): starts the database deadline again
	keyDataVersion = "data_version" // int64: the data version, read with the session
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
	client := c.Request.Context()
	c.Next()
	status := loggedStatus(client, c.Writer.Status())
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	if !h.log.Enabled(client, level) {
		return
	}
	attrs := []any{
		"request_id", c.GetString(keyRequestID),
		"method", c.Request.Method,
		"route", c.FullPath(),
		"path", c.Request.URL.Path,
		"status", status,
		"bytes", c.Writer.Size(),
		"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		"ip", c.ClientIP(),
	}
	if u := currentUser(c); u != nil {
		attrs = append(attrs, "user_id", u.ID)
	}
	h.log.Log(client, level, "request", attrs...)
}

// statusClientClosed stands, in logs and metrics, for the answer to a client
// that went away before it (nginx's 499): nobody receives it, and it is not
// a server error.
const statusClientClosed = 499

// loggedStatus is the status to log and count for a request whose server
// context is client: a server error that came of the client going away
// (a cancelled query, a broken pipe) is statusClientClosed.
func loggedStatus(client context.Context, status int) int {
	if status >= 500 && errors.Is(client.Err(), context.Canceled) {
		return statusClientClosed
	}
	return status
}

// dbDeadline gives the request's database work a deadline,
// PORTAL_DB_REQUEST_TIMEOUT from now: the store calls take the request's
// context, so past it they fail and the request answers 503 instead of
// waiting on a frozen database.
func (h *Handler) dbDeadline(c *gin.Context) {
	client := c.Request.Context()
	ctx, cancel := context.WithTimeout(client, h.cfg.DBRequestTimeout)
	defer func() { cancel() }()
	c.Request = c.Request.WithContext(ctx)
	// An upload's body arrives at its own pace, after the session was loaded:
	// readUpload starts the deadline again once it has it all.
	c.Set(keyRenew, func() {
		cancel()
		ctx, cancel = context.WithTimeout(context.WithoutCancel(c.Request.Context()), h.cfg.DBRequestTimeout)
		context.AfterFunc(client, cancel) // the client went away
		c.Request = c.Request.WithContext(ctx)
	})
	c.Next()
}

// securityHeaders sets a strict Content-Security-Policy that every page
// satisfies (no inline scripts or styles), frame denial and friends.
func (h *Handler) securityHeaders(c *gin.Context) {
	hd := c.Writer.Header()
	for _, kv := range h.security {
		// The one-value slices are shared by every answer: Header.Set
		// replaces a slice and Header.Add appends to a full one, so none is
		// ever written to.
		hd[kv.name] = kv.value
	}
	c.Next()
}

// header is one header with its value, as net/http keeps it.
type header struct {
	name  string // canonical
	value []string
}

// securityHeaderValues are the headers securityHeaders sets, made once.
func (h *Handler) securityHeaderValues() []header {
	hs := []header{
		{"Content-Security-Policy", []string{h.contentSecurityPolicy()}},
		{"X-Frame-Options", []string{"DENY"}},
		{"X-Content-Type-Options", []string{"nosniff"}},
		{"Referrer-Policy", []string{"strict-origin-when-cross-origin"}},
		{"Permissions-Policy", []string{"camera=(), microphone=(), geolocation=(), payment=()"}},
		{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
		{"Cross-Origin-Resource-Policy", []string{"same-origin"}},
	}
	if h.secure {
		hs = append(hs, header{"Strict-Transport-Security", []string{"max-age=31536000; includeSubDomains"}})
	}
	for i := range hs {
		hs[i].value = hs[i].value[:1:1]
	}
	return hs
}

// contentSecurityPolicy is the policy securityHeaders sets.
func (h *Handler) contentSecurityPolicy() string {
	formAction := "'self'"
	if h.oidc != nil {
		// Sign-out posts a form that is redirected to the provider's logout page.
		formAction += " " + h.oidc.origin()
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; " +
		"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action " + formAction + "; " +
		"frame-ancestors 'none'; base-uri 'none'"
}

// maxFilesPerRequest is how many files one form may carry (an appeal's
// evidence); each file is also checked against the upload limit on its own.
const maxFilesPerRequest = models.MaxAppealEvidence

// uploadMemory is how much of an upload's files is kept in memory; the rest
// goes to temporary files, removed when the request ends.
const uploadMemory = 8 << 20

// limitBody caps request bodies: forms at PORTAL_MAX_BODY_BYTES, file
// uploads (multipart) at maxFilesPerRequest uploads plus room for the fields.
// Only the routes in upload ("METHOD /pattern", Access.Upload) take a
// multipart body; any other route answers 415 without reading it. Whatever
// multipart form the request ends up holding is removed when it ends.
func (h *Handler) limitBody(upload map[string]bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
		multi := strings.HasPrefix(mt, "multipart/")
		takesFiles := upload[c.Request.Method+" "+c.FullPath()]
		if multi && c.FullPath() != "" && (!takesFiles || mt != "multipart/form-data") {
			h.renderError(c, http.StatusUnsupportedMediaType, nil)
			c.Abort()
			return
		}
		if c.Request.Body != nil {
			limit := h.cfg.MaxBodyBytes
			if multi && takesFiles {
				limit = maxFilesPerRequest*h.cfg.MaxUploadBytes + 1<<20
			}
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		}
		c.Set(keyUpload, multi && takesFiles)
		defer func() {
			if f := c.Request.MultipartForm; f != nil {
				f.RemoveAll()
			}
		}()
		c.Next()
	}
}

// refusedBody answers a request whose body could not be read: 413 when it
// was over the limit, 400 otherwise. It reports whether it answered.
func (h *Handler) refusedBody(c *gin.Context, err error) bool {
	if err == nil {
		return false
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) || errors.Is(err, multipart.ErrMessageTooLarge) {
		h.renderMessage(c, http.StatusRequestEntityTooLarge, "error.too_large", "")
	} else {
		h.renderError(c, http.StatusBadRequest, nil)
	}
	c.Abort()
	return true
}

// readUpload reads an upload's body, once the guard and the CSRF check have
// let it through, into the request's multipart form: files over
// uploadMemory go to temporary files, which are removed when the request
// ends, whatever its answer. Then the database deadline starts again.
func (h *Handler) readUpload(c *gin.Context) {
	if !c.GetBool(keyUpload) {
		c.Next()
		return
	}
	v, _ := c.Get(keyMultipart)
	mr, _ := v.(*multipart.Reader)
	if mr == nil {
		var err error
		if mr, err = c.Request.MultipartReader(); err != nil {
			h.renderError(c, http.StatusBadRequest, nil)
			c.Abort()
			return
		}
	}
	form, err := mr.ReadForm(uploadMemory) // removes its files itself when it fails
	if h.refusedBody(c, err) {
		return
	}
	defer form.RemoveAll()
	r := c.Request
	r.MultipartForm = form
	if r.Form == nil {
		r.Form = url.Values{}
	}
	if r.PostForm == nil {
		r.PostForm = url.Values{}
	}
	for k, v := range form.Value {
		r.Form[k] = append(r.Form[k], v...)
		r.PostForm[k] = append(r.PostForm[k], v...)
	}
	if v, ok := c.Get(keyRenew); ok {
		v.(func())()
	}
	c.Next()
}

// sessionCookie is the cookie's name: with the __Host- prefix whenever it is
// Secure, so no subdomain can set it.
func (h *Handler) sessionCookie() string {
	if h.secure {
		return "__Host-kai_session"
	}
	return "kai_session"
}

func (h *Handler) csrfCookie() string {
	if h.secure {
		return "__Host-kai_csrf"
	}
	return "kai_csrf"
}

// setCookie writes an HttpOnly, SameSite=Lax cookie, Secure outside loopback.
func (h *Handler) setCookie(c *gin.Context, name, value string, maxAge time.Duration) {
	ck := &http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: true, Secure: h.secure,
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
	s, with, err := h.sessions.Load(ctx, token, now, h.policy)
	switch {
	case errors.Is(err, models.ErrNotFound):
		h.setCookie(c, h.sessionCookie(), "", -1)
	case err != nil:
		h.renderError(c, http.StatusInternalServerError, err)
		c.Abort()
		return
	default:
		if s, err = h.recheckRole(c, s, now); err != nil {
			h.renderError(c, http.StatusInternalServerError, err)
			c.Abort()
			return
		}
		if s == nil { // ended by the role re-check
			h.setCookie(c, h.sessionCookie(), "", -1)
			break
		}
		if s.NeedsTouch(now) {
			if err := models.TouchSession(ctx, h.db, s.ID, now); err != nil {
				h.log.Warn("touch session", "err", err)
			}
		}
		c.Set(keySession, s)
		c.Set(keyDataVersion, with.Version) // read with the session: the page cache needs no other read
		c.Set(keyUnread, with.Unread)       // and the header's count too
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

// checkQuery refuses, with a 400 saying why, a query string whose keys or
// values are not valid UTF-8 or hold control characters (?q=%00): no page
// or API takes such a value, and it must never reach a query, where
// PostgreSQL would refuse it. It runs after localize, so the page is in the
// visitor's language; the JSON API answers in JSON.
func (h *Handler) checkQuery(c *gin.Context) {
	if c.Request.URL.RawQuery == "" {
		c.Next()
		return
	}
	q, _ := url.ParseQuery(c.Request.URL.RawQuery) // what parses is what handlers read
	for k, vs := range q {
		ok := models.ValidQueryText(k)
		for _, v := range vs {
			ok = ok && models.ValidQueryText(v)
		}
		if ok {
			continue
		}
		if strings.HasPrefix(c.Request.URL.Path, "/api/") {
			c.Header("Cache-Control", "no-store")
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{
				"error":    h.cat.For(i18n.English).T(msgBadQuery),
				"error_ko": h.cat.For(i18n.Korean).T(msgBadQuery),
			})
			return
		}
		h.renderMessage(c, http.StatusBadRequest, msgBadQuery, "")
		c.Abort()
		return
	}
	c.Next()
}

// msgBadQuery is the message of checkQuery's refusal.
const msgBadQuery = "input.bad_query"

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
	// the limit is refused as such: gin's PostForm ignores the error. An
	// upload (multipart) is not read here: its token is in the header or is
	// its first part, and the rest waits for the guard (readUpload).
	err := c.Request.ParseForm()
	got := c.GetHeader("X-CSRF-Token")
	if err == nil && got == "" && c.GetBool(keyUpload) {
		got, err = h.uploadToken(c)
	}
	if h.refusedBody(c, err) {
		return
	}
	if got == "" && !c.GetBool(keyUpload) {
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

// uploadToken reads an upload's first part, which must be the _csrf field
// (the upload forms put it first, and browsers send fields in order), and
// keeps the reader for readUpload. It returns "" when the first part is
// anything else.
func (h *Handler) uploadToken(c *gin.Context) (string, error) {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return "", err
	}
	c.Set(keyMultipart, mr)
	p, err := mr.NextPart()
	if err != nil {
		return "", err
	}
	defer p.Close()
	if p.FormName() != "_csrf" || p.FileName() != "" {
		return "", nil
	}
	b, err := io.ReadAll(io.LimitReader(p, 256))
	return string(b), err
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
// redirects after sign-in and language switches from leaving the portal. A
// path longer than a sign-in attempt can store, or one with control
// characters or invalid UTF-8, is not taken either.
func localPath(p, fallback string) string {
	if p == "" || len(p) > models.MaxReturnPath || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") ||
		!models.ValidQueryText(p) {
		return fallback
	}
	u, err := url.Parse(p)
	if err != nil || u.IsAbs() || u.Host != "" {
		return fallback
	}
	return p
}
