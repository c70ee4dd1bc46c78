package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// inboxLimit is how many of the newest notices the inbox shows.
const inboxLimit = 200

// keyUnread holds the signed-in user's unread count, read with the session
// (loadSession).
const keyUnread = "kaiportal.unread"

// unreadCount is the signed-in user's unread notices as read with the
// session at the start of the request.
func unreadCount(c *gin.Context) int64 {
	n, _ := c.Get(keyUnread)
	v, _ := n.(int64)
	return v
}

// showInbox lists the user's notices, newest first.
func (h *Handler) showInbox(c *gin.Context) {
	u := currentUser(c)
	ms, err := models.ListInbox(c.Request.Context(), h.db, u.ID, inboxLimit)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.Inbox(h.page(c, "notify.inbox.title"), views.InboxView{Messages: ms}))
}

// openInboxMessage marks the user's notice read and goes to its object (the
// inbox when it has none). Another user's notice is not found.
func (h *Handler) openInboxMessage(c *gin.Context) {
	id, ok := parseID(c.Param("id"))
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	m, err := models.OpenInboxMessage(c.Request.Context(), h.db, currentUser(c).ID, id, h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, localPath(m.Link, "/inbox"))
}

// markAllRead marks every notice of the user read.
func (h *Handler) markAllRead(c *gin.Context) {
	if err := models.MarkRead(c.Request.Context(), h.db, currentUser(c).ID, h.now()); err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/inbox")
}

// showNoticePrefs shows the user's notification settings.
func (h *Handler) showNoticePrefs(c *gin.Context) {
	prefs, err := models.GetNoticePrefs(c.Request.Context(), h.db, currentUser(c).ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.renderNoticePrefs(c, http.StatusOK, prefs, nil, c.Query("saved") == "1")
}

func (h *Handler) renderNoticePrefs(c *gin.Context, status int, in models.NoticePrefs, errs models.FieldErrors, saved bool) {
	if errs == nil {
		errs = models.FieldErrors{}
	}
	h.render(c, status, views.NoticePrefs(h.page(c, "notify.prefs.title"), views.NoticePrefsView{
		Form: in, Errors: errs, Saved: saved, Email: currentUser(c).Email,
		MailOn: h.cfg.Mail.Enabled(), DigestHour: h.cfg.Mail.DigestHour}))
}

// saveNoticePrefs records the user's language and mode per kind; bad input
// shows the form again with what was sent.
func (h *Handler) saveNoticePrefs(c *gin.Context) {
	in := models.NoticePrefs{Lang: c.PostForm("lang"), Modes: map[models.NotificationKind]string{}}
	for _, k := range models.NotificationKinds {
		in.Modes[k] = c.PostForm("mode." + string(k))
	}
	errs, err := models.SaveNoticePrefs(c.Request.Context(), h.db, currentUser(c).ID, in, h.now())
	switch {
	case errors.Is(err, models.ErrInvalid):
		h.renderNoticePrefs(c, http.StatusUnprocessableEntity, in, errs, false)
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/account/notifications?saved=1")
}
