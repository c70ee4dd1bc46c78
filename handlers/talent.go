package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// Talent support: the lines the user may see (a team its own), the
// ministry's form to record one with its evidence, and the evidence file.

// showTalentPage lists the talent lines the user may see.
func (h *Handler) showTalentPage(c *gin.Context) {
	v, err := h.talentView(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	if c.Query("done") == "talent" {
		v.Notice = "support.notice.talent"
	}
	h.render(c, http.StatusOK, views.TalentPage(h.page(c, "support.talent.title"), v))
}

func (h *Handler) talentView(c *gin.Context) (views.TalentView, error) {
	ctx, u := c.Request.Context(), currentUser(c)
	v := views.TalentView{CanEdit: u.Role.IsMinistry(), MaxUploadMB: h.cfg.MaxUploadBytes >> 20}
	var err error
	if v.Lines, err = models.ListTalent(ctx, h.db, u); err != nil {
		return v, err
	}
	if v.CanEdit {
		v.Teams, err = models.AgreementTeams(ctx, h.db)
	}
	return v, err
}

// recordTalent records a talent line with its evidence.
func (h *Handler) recordTalent(c *gin.Context) {
	in := models.TalentInput{OrganisationID: c.PostForm("organisation_id"), Kind: c.PostForm("kind"), Period: c.PostForm("period"),
		Count: c.PostForm("count"), Note: c.PostForm("note"), Files: h.files, Uploads: h.uploads}
	if fh, err := c.FormFile("evidence"); err == nil {
		up := uploadedFile(fh)
		in.Evidence = &up
	}
	_, err := models.RecordTalent(c.Request.Context(), h.db, in, currentUser(c), h.now())
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/talent?done=talent")
		return
	}
	var refused *models.FieldsError
	if !errors.As(err, &refused) {
		h.fail(c, err)
		return
	}
	v, verr := h.talentView(c)
	if verr != nil {
		h.fail(c, verr)
		return
	}
	in.Evidence = nil
	v.Form, v.Errors = in, refused.Fields
	h.render(c, http.StatusUnprocessableEntity, views.TalentPage(h.page(c, "support.talent.title"), v))
}

// downloadTalentEvidence sends a line's evidence to whoever may see the line.
func (h *Handler) downloadTalentEvidence(c *gin.Context) {
	l := loadVisible(h, c, "id", models.GetTalentLine)
	if l == nil {
		return
	}
	if l.Evidence == nil {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	h.sendStoredFile(c, l.Evidence, fmt.Sprintf("talent-%d", l.ID))
}
