package handlers

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"kaiportal/i18n"
)

// switchLanguage remembers the visitor's language and goes back to the page.
func (h *Handler) switchLanguage(c *gin.Context) {
	lang := c.PostForm("lang")
	if !i18n.Supported(lang) {
		h.renderError(c, http.StatusBadRequest, nil)
		return
	}
	ck := &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
		HttpOnly: true, Secure: h.cfg.SecureCookies(), SameSite: http.SameSiteLaxMode}
	http.SetCookie(c.Writer, ck)
	c.Redirect(http.StatusSeeOther, localPath(c.PostForm("next"), "/"))
}
