package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

func isNotFound(err error) bool { return errors.Is(err, models.ErrNotFound) }

func (h *Handler) showOrganisationsPage(c *gin.Context) {
	orgs, err := models.ListOrganisations(c.Request.Context(), h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.Organisations(h.page(c, "organisations.title"),
		views.OrganisationsView{Organisations: orgs}))
}

// showOrganisationPage shows one organisation. A company user asking for
// another organisation gets the same 404 as for one that does not exist, so
// the answer does not even confirm that it exists.
func (h *Handler) showOrganisationPage(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	if !currentUser(c).MaySeeOrganisation(id) {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	ctx := c.Request.Context()
	org, err := models.GetOrganisation(ctx, h.db, id)
	if err != nil {
		h.fail(c, err)
		return
	}
	users, err := models.ListOrganisationUsers(ctx, h.db, org.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.Organisation(h.page(c, "organisations.title"),
		views.OrganisationView{Organisation: org, Users: users}))
}

// companyOrganisation loads the signed-in company user's organisation. A
// company account without one is refused with its own message; either way
// it answers and returns nil on failure.
func (h *Handler) companyOrganisation(c *gin.Context) *models.Organisation {
	u := currentUser(c)
	if u.OrganisationID == nil {
		h.renderMessage(c, http.StatusForbidden, "error.no_organisation", "")
		return nil
	}
	org, err := models.GetOrganisation(c.Request.Context(), h.db, *u.OrganisationID)
	if err != nil {
		h.fail(c, err)
		return nil
	}
	return org
}
