package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// A form sent after its session ended keeps its text.
//
// When the session has ended (idle or absolute expiry) the form's CSRF
// token no longer matches and the request is refused, as it must be. For
// the forms listed in savedFormPages, instead of the bare refusal, csrf()
// calls keepExpiredForm: the text fields are stored on the server for
// savedFormTTL (never the files: the page says which to attach again), under
// a random token in an HttpOnly cookie, and the browser is sent to sign in
// with next= the form's page. That page, for the same user in the same
// browser, is then shown filled in, with a notice that nothing was
// submitted (views.RestoredNotice); the user submits it again. Nothing is
// ever submitted on the user's behalf.
//
// Whose text it is: every form carries _owner, the id of the user it was
// shown to with an HMAC under the session key (formOwner). The session row
// itself may be gone by then (the cleanup removes idle sessions), so the
// signed owner is what binds the kept text to a person: it is restored only
// to that user, signed in again, in the browser holding the cookie — never
// to someone else who signs in on a shared computer. A form without a valid
// owner (from before a key change, or forged) is refused as before and
// nothing is kept. A cross-site request is refused before any of this
// (crossOrigin), so another site cannot plant text; and a form kept by a
// same-site request is only ever shown, never submitted.

// savedFormTTL is how long a kept form waits for its user to sign in again.
const savedFormTTL = 30 * time.Minute

// Limits on what is kept of a multipart form read here.
const (
	savedFieldMax = 64 << 10 // bytes of one text field
	savedFormMax  = 1 << 20  // bytes of all the text fields
)

// savedFormPages maps each form whose text is kept (by the route it posts
// to) to the page that shows it; :id is the route's id.
var savedFormPages = map[string]string{
	"/decisions/:id/appeal": "/decisions/:id/appeal", // an appeal
	"/appeals/:id/decide":   "/appeals/:id",          // an officer's answer to an appeal
	"/calls/:id/apply":      "/calls/:id/apply",      // a new application
	"/applications/:id":     "/applications/:id",     // a draft's fields
	"/officer/calls":        "/officer/calls/new",    // a new call
	"/officer/calls/:id":    "/officer/calls/:id/edit",
}

// savedFormSkip are fields never kept: the tokens, and a confirmation,
// which must always be given anew.
var savedFormSkip = map[string]bool{"_csrf": true, "_owner": true, "confirm": true}

var digits = regexp.MustCompile(`^[0-9]{1,10}$`)

const keyRestored = "restored_form"

func (h *Handler) savedFormCookie() string {
	if h.secure {
		return "__Host-kai_saved_form"
	}
	return "kai_saved_form"
}

// formOwner is the value of a form's _owner field for user id: the id and
// its HMAC under the owner key.
func (h *Handler) formOwner(id uint) string {
	if v, ok := h.owners.Load(id); ok {
		return v.(string)
	}
	s := strconv.FormatUint(uint64(id), 10)
	v := s + "." + h.ownerMAC(s)
	h.owners.Store(id, v) // the same for the life of the process: at most one per user
	return v
}

func (h *Handler) ownerMAC(id string) string {
	m := hmac.New(sha256.New, h.ownerKey)
	m.Write([]byte("form-owner:" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// verifyOwner returns the user id of a genuine _owner value.
func (h *Handler) verifyOwner(v string) (uint, bool) {
	id, mac, ok := strings.Cut(v, ".")
	if !ok || !digits.MatchString(id) || !hmac.Equal([]byte(mac), []byte(h.ownerMAC(id))) {
		return 0, false
	}
	n, err := strconv.ParseUint(id, 10, 32)
	return uint(n), err == nil && n > 0
}

// keepExpiredForm is csrf()'s answer to a refused form whose session has
// ended (or, the same user still signed in, whose token is stale): it keeps
// the text and sends the browser to sign in, or straight back to the form.
// It returns false, having written nothing, when the form is not one it
// keeps or does not carry a genuine owner; csrf() then refuses it as usual.
func (h *Handler) keepExpiredForm(c *gin.Context) bool {
	page := savedFormPage(c)
	if page == "" {
		return false
	}
	started, _ := c.Get(keyMultipart) // an upload whose first part csrf has read
	mr, _ := started.(*multipart.Reader)
	fields, files := submittedFields(c.Request, mr)
	owner, ok := h.verifyOwner(first(fields["_owner"]))
	if !ok {
		return false
	}
	s := currentSession(c)
	if s != nil && s.UserID != owner {
		return false
	}
	for k := range fields {
		if savedFormSkip[k] {
			delete(fields, k)
		}
	}
	token, now := models.RandomToken(32), h.now()
	err := models.SaveForm(c.Request.Context(), h.db, token, owner, page, c.Request.URL.Path, fields, files, now, now.Add(savedFormTTL))
	if err != nil {
		h.log.Error("keep a form sent after the session ended", "request_id", c.GetString(keyRequestID), "err", err)
		return false
	}
	h.setCookie(c, h.savedFormCookie(), token, savedFormTTL)
	h.log.Info("form kept after the session ended", "request_id", c.GetString(keyRequestID), "user_id", owner, "page", page)
	if s != nil {
		c.Redirect(http.StatusSeeOther, page)
		return true
	}
	c.Redirect(http.StatusSeeOther, "/auth/signin?kept=1&next="+url.QueryEscape(page))
	return true
}

// savedFormPage is the page of the form a request posts, if it is one whose
// text is kept.
func savedFormPage(c *gin.Context) string {
	page, ok := savedFormPages[c.FullPath()]
	if !ok {
		return ""
	}
	if strings.Contains(page, ":id") {
		id := c.Param("id")
		if !digits.MatchString(id) {
			return ""
		}
		page = strings.ReplaceAll(page, ":id", id)
	}
	return page
}

// submittedFields returns a form's text fields and the names of its file
// fields that carried a file. A multipart body not parsed yet is read here
// part by part, the files discarded as they stream (nothing is written to
// disk), the text fields up to savedFieldMax each and savedFormMax in all;
// started is the reader of an upload whose first part was read already
// (net/http then marks the request's MultipartForm as taken).
func submittedFields(r *http.Request, started *multipart.Reader) (url.Values, []string) {
	fields := url.Values{}
	var files []string
	addFile := func(name string) {
		for _, f := range files {
			if f == name {
				return
			}
		}
		files = append(files, name)
	}
	switch {
	case started != nil:
		readParts(started, fields, addFile)
	case r.MultipartForm != nil:
		for k, vs := range r.MultipartForm.Value {
			fields[k] = append([]string(nil), vs...)
		}
		for k, fhs := range r.MultipartForm.File {
			for _, fh := range fhs {
				if fh.Filename != "" || fh.Size > 0 {
					addFile(k)
				}
			}
		}
	case r.PostForm != nil && len(r.PostForm) > 0:
		for k, vs := range r.PostForm {
			fields[k] = append([]string(nil), vs...)
		}
	default:
		mr, err := r.MultipartReader()
		if err != nil {
			if r.ParseForm() == nil {
				for k, vs := range r.PostForm {
					fields[k] = append([]string(nil), vs...)
				}
			}
			return fields, files
		}
		readParts(mr, fields, addFile)
	}
	return fields, files
}

// readParts reads the text parts of mr into fields, discarding files as
// they stream and naming them with addFile.
func readParts(mr *multipart.Reader, fields url.Values, addFile func(string)) {
	total := 0
	for {
		part, err := mr.NextPart()
		if err != nil {
			return
		}
		name := part.FormName()
		if part.FileName() != "" {
			if n, _ := io.Copy(io.Discard, part); n > 0 && name != "" {
				addFile(name)
			}
			continue
		}
		v, ok := readField(part, total)
		if !ok {
			return
		}
		total += len(v)
		if name != "" {
			fields[name] = append(fields[name], v)
		}
	}
}

// readField reads one text part, refusing it past the limits.
func readField(part *multipart.Part, total int) (string, bool) {
	b, err := io.ReadAll(io.LimitReader(part, savedFieldMax+1))
	if err != nil || len(b) > savedFieldMax || total+len(b) > savedFormMax {
		return "", false
	}
	return string(b), true
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// restoredForm returns the fields of the form posting to action that was
// kept for the signed-in user on this page, once: the kept copy is deleted
// and the page gets the notice that nothing was submitted. nil when there
// is none.
func (h *Handler) restoredForm(c *gin.Context, action string) formValues {
	token, err := c.Cookie(h.savedFormCookie())
	u := currentUser(c)
	if err != nil || token == "" || u == nil {
		return nil
	}
	row, fields, files, err := models.TakeSavedForm(c.Request.Context(), h.db, token, u.ID, c.Request.URL.Path, action, h.now())
	switch {
	case errors.Is(err, models.ErrNotFound):
		return nil
	case err != nil:
		h.log.Error("restore a kept form", "request_id", c.GetString(keyRequestID), "err", err)
		return nil
	}
	h.setCookie(c, h.savedFormCookie(), "", -1)
	c.Set(keyRestored, &views.RestoredForm{Action: row.Action, Files: files})
	return formValues(fields)
}

func restoredNotice(c *gin.Context) *views.RestoredForm {
	v, _ := c.Get(keyRestored)
	r, _ := v.(*views.RestoredForm)
	return r
}

// formValues reads a form's fields, from a request or a kept form.
type formValues url.Values

// postedForm reads the fields of the request's form.
func postedForm(c *gin.Context) formValues {
	_, _ = c.GetPostForm("") // parses the body, as gin does
	return formValues(c.Request.PostForm)
}

// get returns a field's first value, "" when absent.
func (f formValues) get(name string) string { return url.Values(f).Get(name) }

// has reports whether the form has the field.
func (f formValues) has(name string) bool { _, ok := f[name]; return ok }

// all returns every value of a field.
func (f formValues) all(name string) []string { return f[name] }
