package handlers

import (
	"bytes"
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

// page returns the frame every page needs.
func (h *Handler) page(c *gin.Context, titleID string) views.Page {
	return views.Page{
		TitleID:    titleID,
		User:       currentUser(c),
		CSRF:       c.GetString(keyCSRF),
		Lang:       i18n.Lang(c.Request.Context()),
		Path:       c.Request.URL.Path,
		Here:       h.here(c),
		StaticBase: staticBase,
		DemoLogin:  h.cfg.DemoLogin,
		OIDC:       h.oidc != nil,
		HelpDesk:   views.HelpDesk{Phone: h.cfg.HelpDeskPhone, Email: h.cfg.HelpDeskEmail},
	}
}

// render writes a component after rendering it whole into a buffer, so a
// failure never sends half a page.
func (h *Handler) render(c *gin.Context, status int, comp templ.Component) {
	var buf bytes.Buffer
	if err := comp.Render(c.Request.Context(), &buf); err != nil {
		h.log.Error("render", "request_id", c.GetString(keyRequestID), "err", err)
		if status == http.StatusInternalServerError {
			c.String(status, "internal error")
			return
		}
		h.renderError(c, http.StatusInternalServerError, nil)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// renderError shows the generic page for a status, logging server errors.
func (h *Handler) renderError(c *gin.Context, status int, err error) {
	h.renderMessage(c, status, "error.message."+strconv.Itoa(status), "")
	if err != nil && status >= 500 {
		h.log.Error("request failed", "request_id", c.GetString(keyRequestID), "path", c.Request.URL.Path, "err", err)
	}
}

// renderMessage shows the error page with a specific message.
func (h *Handler) renderMessage(c *gin.Context, status int, messageID, detail string) {
	v := views.ErrorView{Status: status, MessageID: messageID, Detail: detail, RequestID: c.GetString(keyRequestID)}
	if c.GetHeader("HX-Request") == "true" {
		h.render(c, status, views.ErrorBody(v))
		return
	}
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

// loadVisible loads the object named by a route parameter and returns it
// if the signed-in user may see it. A bad id, a missing object and one the
// user may not see all answer the same 404 (so the answer does not reveal
// that another organisation's object exists), and it returns nil.
func loadVisible[T interface{ MaySee(*models.User) bool }](h *Handler, c *gin.Context, param string,
	load func(context.Context, *gorm.DB, uint) (T, error)) T {
	var none T
	id, ok := applicationParam(c, param)
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
