package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// Administrators' view of users: roles, organisations and live sessions;
// ending a user's sessions at once; setting a role in the portal.

// showUsersPage lists every user with their live sessions.
func (h *Handler) showUsersPage(c *gin.Context) {
	accounts, err := models.ListUserAccounts(c.Request.Context(), h.db, h.now(), h.policy)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.Users(h.page(c, "users.title"), views.UsersView{Accounts: accounts}))
}

// userAccount loads the user the :id parameter names, or answers 404.
func (h *Handler) userAccount(c *gin.Context) *models.UserAccount {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return nil
	}
	a, err := models.GetUserAccount(c.Request.Context(), h.db, id, h.now(), h.policy)
	if err != nil {
		h.fail(c, err)
		return nil
	}
	return a
}

// showUserPage shows one user, their sessions and the role form.
func (h *Handler) showUserPage(c *gin.Context) {
	a := h.userAccount(c)
	if a == nil {
		return
	}
	v := views.UserView{Account: *a, Self: a.User.ID == currentUser(c).ID}
	switch c.Query("done") {
	case "role":
		v.Done = "users.role.done"
	case "ended":
		v.Done = "users.end.done"
	}
	h.render(c, http.StatusOK, views.User(h.page(c, "users.user_title"), v))
}

// setUserRole sets or clears the role an administrator gives a user in the
// portal; the user's live sessions act with it from their next request.
func (h *Handler) setUserRole(c *gin.Context) {
	a := h.userAccount(c)
	if a == nil {
		return
	}
	v := views.UserView{Account: *a, Self: a.User.ID == currentUser(c).ID, Role: c.PostForm("role"), Errors: models.FieldErrors{}}
	var override models.Role
	switch v.Role {
	case "provider":
	case string(models.RoleOfficer), string(models.RoleAdmin), string(models.RoleAuditor), string(models.RoleReviewer):
		override = models.Role(v.Role)
	default:
		v.Errors.Add("role", "users.role.error.choose")
	}
	if !v.Errors.Any() {
		_, err := models.SetUserRole(c.Request.Context(), h.db, a.User.ID, override, currentUser(c), h.now())
		switch {
		case errors.Is(err, models.ErrOwnRole):
			v.Errors.Add("role", "users.role.error.own")
		case errors.Is(err, models.ErrCompanyRole):
			v.Errors.Add("role", "users.role.error.company")
		case err != nil:
			h.fail(c, err)
			return
		default:
			c.Redirect(http.StatusSeeOther, "/admin/users/"+itoaU(a.User.ID)+"?done=role")
			return
		}
	}
	h.render(c, http.StatusUnprocessableEntity, views.User(h.page(c, "users.user_title"), v))
}

// showEndSessionsPage says what ending the user's sessions will do and asks
// for confirmation; nothing ends from a single click.
func (h *Handler) showEndSessionsPage(c *gin.Context) {
	a := h.userAccount(c)
	if a == nil {
		return
	}
	h.render(c, http.StatusOK, views.EndSessions(h.page(c, "users.end.title"), views.EndSessionsView{Account: *a}))
}

// endUserSessionsNow ends every session of the user at once, once confirmed.
func (h *Handler) endUserSessionsNow(c *gin.Context) {
	a := h.userAccount(c)
	if a == nil {
		return
	}
	if c.PostForm("confirm") != "yes" {
		v := views.EndSessionsView{Account: *a, Errors: models.FieldErrors{"confirm": "users.end.error.confirm"}}
		h.render(c, http.StatusUnprocessableEntity, views.EndSessions(h.page(c, "users.end.title"), v))
		return
	}
	by := currentUser(c)
	if _, err := models.EndUserSessions(c.Request.Context(), h.db, a.User.ID, models.ActorOf(by),
		"ended by an administrator", h.now()); err != nil {
		h.fail(c, err)
		return
	}
	if a.User.ID == by.ID {
		h.setCookie(c, h.sessionCookie(), "", -1)
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/users/"+itoaU(a.User.ID)+"?done=ended")
}
