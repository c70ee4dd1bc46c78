package handlers

import (
	"net/http"
	"strings"
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

// here is where the language switch of the page being rendered returns: the
// page itself, with its query; or, for a page that answers a POST (a form
// shown again with its errors), the page that shows that form, since the
// POST's own address has no page to go back to. The typed input travels
// separately: static/js/portal.js keeps it across the switch.
func (h *Handler) here(c *gin.Context) string {
	u := c.Request.URL
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		if u.RawQuery != "" {
			return u.Path + "?" + u.RawQuery
		}
		return u.Path
	}
	return formPage(h.pages, u.Path)
}

// formPage finds the page of the form that posts to path, among the GET
// route patterns: the form for a new thing (path/new), an edit form
// (path/edit), the path itself, or the nearest enclosing page; "/" if none.
func formPage(patterns []string, path string) string {
	path = strings.TrimRight(path, "/")
	candidates := []string{path + "/new", path + "/edit"}
	for p := path; p != ""; p = p[:strings.LastIndex(p, "/")] {
		candidates = append(candidates, p)
	}
	for _, cand := range candidates {
		for _, pat := range patterns {
			if routeMatches(pat, cand) {
				return cand
			}
		}
	}
	return "/"
}

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
