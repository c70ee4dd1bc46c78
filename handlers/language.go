package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"kaiportal/i18n"
	"kaiportal/models"
)

// switchLanguage remembers the visitor's language and goes back to the page.
func (h *Handler) switchLanguage(c *gin.Context) {
	lang := c.PostForm("lang")
	if !i18n.Supported(lang) {
		h.renderError(c, http.StatusBadRequest, nil)
		return
	}
	ck := &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode}
	http.SetCookie(c.Writer, ck)
	if u := currentUser(c); u != nil {
		// The user's mail follows the language they read the portal in.
		if err := models.SetUserLanguage(c.Request.Context(), h.db, u.ID, lang, h.now()); err != nil {
			h.log.Warn("the language of the user's mail is not saved", "user", u.ID, "err", err)
		}
	}
	c.Redirect(http.StatusSeeOther, localPath(c.PostForm("next"), "/"))
}

// here is where the language switch of the page being rendered returns: the
// page itself, with its query; or, for a page that answers a POST (a form
// shown again with its errors), the page that shows that form, since the
// POST's own address has no page to go back to: the page the form was sent
// from (the Referer, when it is one of the portal's pages), else the page
// formPage finds from the route table. The typed input travels separately:
// static/js/portal.js keeps it across the switch.
func (h *Handler) here(c *gin.Context) string {
	u := c.Request.URL
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		return u.RequestURI()
	}
	if ref, err := url.Parse(c.Request.Referer()); err == nil && ref.Path != u.Path && h.ownHost(c, ref.Host) {
		for _, pat := range h.pages {
			if routeMatches(pat, ref.Path) {
				return ref.RequestURI()
			}
		}
	}
	return formPage(h.pages, u.Path)
}

// ownHost reports whether host is the portal's: the request's or the base URL's.
func (h *Handler) ownHost(c *gin.Context, host string) bool {
	if host == "" {
		return false
	}
	if host == c.Request.Host {
		return true
	}
	base, err := url.Parse(h.cfg.BaseURL)
	return err == nil && host == base.Host
}

// formPage finds the page of the form that posts to path, among the GET
// route patterns: the form for a new thing (a route ending in /new), an
// edit form (/edit), the path itself, or the nearest enclosing page; "/"
// if none.
func formPage(patterns []string, path string) string {
	path = strings.TrimRight(path, "/")
	for _, suffix := range formSuffixes {
		for _, pat := range patterns {
			if strings.HasSuffix(pat, suffix) && routeMatches(pat, path+suffix) {
				return path + suffix
			}
		}
	}
	for p := path; p != ""; p = p[:strings.LastIndex(p, "/")] {
		for _, pat := range patterns {
			if routeMatches(pat, p) {
				return p
			}
		}
	}
	return "/"
}

// formSuffixes end the routes of pages that show a form for a new thing or an edit.
var formSuffixes = strings.Fields("/new /edit")

// routeMatches reports whether a path fits a gin route pattern (":name"
// matches one segment, "*name" the rest).
func routeMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	for i, seg := range ps {
		if strings.HasPrefix(seg, "*") {
			return true
		}
		if i >= len(xs) {
			return false
		}
		if strings.HasPrefix(seg, ":") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if seg != xs[i] {
			return false
		}
	}
	return len(ps) == len(xs)
}

// getPatterns lists the GET routes' patterns.
func getPatterns(routes []Route) []string {
	var out []string
	for _, rt := range routes {
		if rt.Method == http.MethodGet && !strings.HasPrefix(rt.Path, "/static/") && !strings.HasPrefix(rt.Path, "/api/") {
			out = append(out, rt.Path)
		}
	}
	return out
}
