package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/views"
)

// page returns the frame every page needs. For a page being made for the
// page cache, the CSRF token is the marker that each request's token
// replaces (views.CSRFMarker).
func (h *Handler) page(c *gin.Context, titleID string) views.Page {
	p := h.framePage(c, titleID)
	if f := filling(c); f != nil {
		p.CSRF, f.title = views.CSRFMarker, titleID
	}
	return p
}

// framePage is the frame of this request.
func (h *Handler) framePage(c *gin.Context, titleID string) views.Page {
	p := views.Page{
		TitleID:    titleID,
		User:       currentUser(c),
		CSRF:       c.GetString(keyCSRF),
		Lang:       i18n.Lang(c.Request.Context()),
		Path:       c.Request.URL.Path,
		Here:       h.here(c),
		StaticBase: staticBase,
		DemoLogin:  h.cfg.DemoLogin,
		OIDC:       h.oidc != nil,
		Restored:   restoredNotice(c),
		HelpDesk:   views.HelpDesk{Phone: h.cfg.HelpDeskPhone, Email: h.cfg.HelpDeskEmail},
	}
	if s := currentSession(c); s != nil {
		p.FormOwner = h.formOwner(s.UserID)
		p.Session = h.sessionClock(s)
	}
	if p.User != nil {
		p.Unread = unreadCount(c)
	}
	return p
}

// render writes a component after rendering it whole into a buffer, so a
// failure never sends half a page, gzip-compressed when the client takes it. The page renders even when the request's
// database deadline has passed: that is when the 503 page is needed.
func (h *Handler) render(c *gin.Context, status int, comp templ.Component) {
	if f := filling(c); f != nil {
		h.renderFill(c, f, status, comp)
		return
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if err := comp.Render(context.WithoutCancel(c.Request.Context()), buf); err != nil {
		h.renderFailed(c, status, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	writeBody(c, status, "text/html; charset=utf-8", buf.Bytes(), nil, true)
}

// renderFailed answers a page whose rendering failed.
func (h *Handler) renderFailed(c *gin.Context, status int, err error) {
	h.log.Error("render", "request_id", c.GetString(keyRequestID), "err", err)
	if status == http.StatusInternalServerError {
		c.String(status, "internal error")
		return
	}
	h.renderError(c, http.StatusInternalServerError, nil)
}

// retryAfterOutage is the Retry-After, in seconds, of a 503 for a database outage.
const retryAfterOutage = "30"

// renderError shows the generic page for a status, logging server errors.
// A server error that err shows to be the database's unavailability is a
// 503 with Retry-After, and one that came of the client going away is not
// answered at all (see failureStatus).
func (h *Handler) renderError(c *gin.Context, status int, err error) {
	if err != nil && status >= 500 {
		if status = h.failureStatus(c, err); status == statusClientClosed {
			c.Status(statusClientClosed)
			return
		}
	}
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", retryAfterOutage)
	}
	h.renderMessage(c, status, "error.message."+strconv.Itoa(status), "")
}

// failureStatus classifies a server-side failure, in the one place that
// does, and logs it: statusClientClosed when the client has gone (its
// request context was cancelled: nothing to answer, nothing wrong), 503 when
// the database is unavailable or the request's database deadline has
// passed, else 500.
func (h *Handler) failureStatus(c *gin.Context, err error) int {
	ctx := c.Request.Context()
	attrs := []any{"request_id", c.GetString(keyRequestID), "path", c.Request.URL.Path, "err", err}
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		h.log.Debug("client closed the request", attrs...)
		return statusClientClosed
	case models.Unavailable(err), errors.Is(ctx.Err(), context.DeadlineExceeded):
		h.log.Warn("database unavailable", attrs...)
		return http.StatusServiceUnavailable
	}
	h.log.Error("request failed", attrs...)
	return http.StatusInternalServerError
}

// failJSON is fail for the JSON endpoints: 503 with Retry-After while the
// database is unavailable, else 500, with the message in both languages.
func (h *Handler) failJSON(c *gin.Context, err error) {
	status := h.failureStatus(c, err)
	switch status {
	case statusClientClosed:
		c.Status(status)
		return
	case http.StatusServiceUnavailable:
		c.Header("Retry-After", retryAfterOutage)
	}
	h.jsonError(c, status, "error.message."+strconv.Itoa(status))
}

// jsonError answers a JSON endpoint's error with its message in English
// ("error") and Korean ("error_ko").
func (h *Handler) jsonError(c *gin.Context, status int, messageID string) {
	c.Header("Cache-Control", "no-store")
	c.JSON(status, gin.H{
		"error":    h.cat.For(i18n.English).T(messageID),
		"error_ko": h.cat.For(i18n.Korean).T(messageID),
	})
}

// renderMessage shows the error page with a specific message.
func (h *Handler) renderMessage(c *gin.Context, status int, messageID, detail string) {
	v := views.ErrorView{Status: status, MessageID: messageID, Detail: detail, RequestID: c.GetString(keyRequestID)}
	h.render(c, status, views.Error(h.page(c, "error.title."+strconv.Itoa(status)), v))
}

// fail maps a domain error to its page: not found, forbidden, conflict, or 500.
func (h *Handler) fail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, models.ErrNotFound):
		h.renderError(c, http.StatusNotFound, nil)
	case errors.Is(err, models.ErrForbidden):
		h.renderError(c, http.StatusForbidden, nil)
	case errors.Is(err, models.ErrInvalidTransition), errors.Is(err, models.ErrConflict):
		h.renderError(c, http.StatusConflict, nil)
	default:
		h.renderError(c, http.StatusInternalServerError, err)
	}
}

// idParam reads a positive id from the route parameter name; false for
// anything else (callers answer 404, as for a missing object).
func idParam(c *gin.Context, name string) (uint, bool) {
	return parseID(c.Param(name))
}

// parseID reads an object's id as a route, a query or a form gives it: a
// positive number.
func parseID(s string) (uint, bool) {
	id, err := strconv.ParseUint(s, 10, 32)
	return uint(id), err == nil && id > 0
}

// loadVisible loads the object named by a route parameter and returns it
// if the signed-in user may see it. A bad id, a missing object and one the
// user may not see all answer the same 404 (so the answer does not reveal
// that another organisation's object exists), and it returns nil.
func loadVisible[T interface{ MaySee(*models.User) bool }](h *Handler, c *gin.Context, param string,
	load func(context.Context, *gorm.DB, uint) (T, error)) T {
	var none T
	id, ok := idParam(c, param)
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return none
	}
	v, err := load(c.Request.Context(), h.db, id)
	if err != nil {
		h.fail(c, err)
		return none
	}
	if !v.MaySee(currentUser(c)) {
		h.renderError(c, http.StatusNotFound, nil)
		return none
	}
	return v
}
