package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// The consortium: the lead's page of its consortium (members, shares, own
// GPUs, invitations and requests, history), where a selected team's lead
// files change requests; the company's page of the consortia it leads and
// the invitations it received, to accept or decline; and the officers'
// page of every selected team's consortium with the queue of change
// requests to approve or refuse (after a confirmation page). Auditors read.

// consortiumNotices maps the ?done= of a redirect to its notice.
var consortiumNotices = map[string]string{
	"filed":     "consortium.notice.filed",
	"invited":   "consortium.notice.invited",
	"withdrawn": "consortium.notice.withdrawn",
	"accepted":  "consortium.notice.accepted",
	"declined":  "consortium.notice.declined",
	"approved":  "consortium.notice.approved",
	"refused":   "consortium.notice.refused",
	"terms":     "consortium.notice.terms",
}

// showConsortiumPage shows an application's consortium to whoever may see
// the application.
func (h *Handler) showConsortiumPage(c *gin.Context) {
	a := h.visibleApplication(c)
	if a == nil {
		return
	}
	v, err := h.consortiumView(c, a)
	if err != nil {
		h.fail(c, err)
		return
	}
	v.Notice = consortiumNotices[c.Query("done")]
	h.renderConsortium(c, http.StatusOK, v)
}

func (h *Handler) renderConsortium(c *gin.Context, status int, v views.ConsortiumView) {
	h.render(c, status, views.ConsortiumPage(h.page(c, "consortium.title"), v))
}

// consortiumView builds the consortium page of a as stored.
func (h *Handler) consortiumView(c *gin.Context, a *models.Application) (views.ConsortiumView, error) {
	ctx := c.Request.Context()
	u := currentUser(c)
	models.SortMembers(a.Members)
	rs, err := models.ConsortiumRequests(ctx, h.db, a.ID)
	if err != nil {
		return views.ConsortiumView{}, err
	}
	lead := u.Role == models.RoleCompany && u.OrganisationID != nil && *u.OrganisationID == a.LeadOrgID
	v := views.ConsortiumView{App: a, Requests: rs, Lead: lead,
		CanFile: lead && a.Status == models.StatusSelected, Form: views.ChangeForm{Kind: models.RequestChange}}
	if v.CanFile {
		orgs, err := models.ListOrganisations(ctx, h.db)
		if err != nil {
			return v, err
		}
		for _, o := range orgs {
			member := slices.ContainsFunc(a.Members, func(m models.ConsortiumMember) bool { return m.OrganisationID == o.ID })
			if !member && o.IsApplicant() {
				v.Organisations = append(v.Organisations, o)
			}
		}
	}
	return v, nil
}

// fileConsortiumRequest files the lead's change to a selected team's consortium.
func (h *Handler) fileConsortiumRequest(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	p := func(k string) string { return strings.TrimSpace(c.PostForm(k)) }
	form := views.ChangeForm{Kind: p("kind"), OrganisationID: p("organisation_id"), MemberID: p("member_id"),
		Role: p("role"), Share: p("share"), GPUCount: p("gpu_count"), GPUModel: p("gpu_model"), GPUNotes: c.PostForm("gpu_notes"),
		Note: c.PostForm("note")}
	r, err := models.FileConsortiumRequest(c.Request.Context(), h.db, id, models.ChangeInput{Kind: form.Kind,
		OrganisationID: form.OrganisationID, MemberID: form.MemberID, Note: form.Note,
		Terms: models.MemberTermsInput{Role: form.Role, Share: form.Share, GPUCount: form.GPUCount, GPUModel: form.GPUModel,
			GPUNotes: form.GPUNotes}}, currentUser(c), h.now())
	if err == nil {
		done := "filed"
		if r.Kind == models.RequestAdd {
			done = "invited"
		}
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/applications/%d/consortium?done=%s", id, done))
		return
	}
	var refused *models.FieldsError
	if !errors.As(err, &refused) {
		h.fail(c, err)
		return
	}
	a := h.visibleApplication(c)
	if a == nil {
		return
	}
	v, verr := h.consortiumView(c, a)
	if verr != nil {
		h.fail(c, verr)
		return
	}
	v.Form, v.Errors = form, refused.Fields
	h.renderConsortium(c, http.StatusUnprocessableEntity, v)
}

// setMemberTerms changes a draft member's share and GPUs (and a partner's role).
func (h *Handler) setMemberTerms(c *gin.Context) {
	a := h.visibleApplication(c)
	if a == nil {
		return
	}
	mid, ok := idParam(c, "mid")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	p := func(k string) string { return strings.TrimSpace(c.PostForm(k)) }
	in := models.MemberTermsInput{Role: p("role"), Share: p("share"), GPUCount: p("gpu_count"), GPUModel: p("gpu_model"),
		GPUNotes: c.PostForm("gpu_notes")}
	err := models.SetDraftMemberTerms(c.Request.Context(), h.db, a.ID, mid, in, currentUser(c), h.now())
	if err == nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/applications/%d/consortium?done=terms", a.ID))
		return
	}
	var refused *models.FieldsError
	if !errors.As(err, &refused) {
		h.fail(c, err)
		return
	}
	v, verr := h.consortiumView(c, a)
	if verr != nil {
		h.fail(c, verr)
		return
	}
	v.TermsMember, v.TermsForm, v.Errors = mid, in, refused.Fields
	h.renderConsortium(c, http.StatusUnprocessableEntity, v)
}

// showCompanyConsortiumPage lists the consortia the company leads and the
// invitations it received.
func (h *Handler) showCompanyConsortiumPage(c *gin.Context) {
	ctx := c.Request.Context()
	org := h.companyOrganisation(c)
	if org == nil {
		return
	}
	apps, _, err := models.ListApplications(ctx, h.db, models.ApplicationFilter{LeadOrgID: org.ID, Sort: "-id", Limit: 500})
	if err != nil {
		h.fail(c, err)
		return
	}
	inv, err := models.InvitationsFor(ctx, h.db, org.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.CompanyConsortium(h.page(c, "consortium.company.title"), views.CompanyConsortiumView{
		Organisation: org, Applications: apps, Invitations: inv, Notice: consortiumNotices[c.Query("done")]}))
}

// answerInvitation is the invited company's answer.
func (h *Handler) answerInvitation(action models.RequestAction, done string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := idParam(c, "rid")
		if !ok {
			h.renderError(c, http.StatusNotFound, nil)
			return
		}
		if err := models.AnswerInvitation(c.Request.Context(), h.db, id, action, currentUser(c), h.now()); err != nil {
			h.failConsortium(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/company/consortium?done="+done)
	}
}

// withdrawConsortiumRequest is the lead taking back an open invitation or request.
func (h *Handler) withdrawConsortiumRequest(c *gin.Context) {
	id, ok := idParam(c, "rid")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	r, err := models.WithdrawConsortiumRequest(c.Request.Context(), h.db, id, currentUser(c), h.now())
	if err != nil {
		h.failConsortium(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/applications/%d/consortium?done=withdrawn", r.ApplicationID))
}

// failConsortium answers a refused consortium step: a closed call or a
// share total with their message, the rest as fail does.
func (h *Handler) failConsortium(c *gin.Context, err error) {
	var closed *models.CallClosedError
	var stale *models.StaleRequestError
	switch {
	case errors.As(err, &stale):
		h.renderMessage(c, http.StatusConflict, "consortium.error.stale", stale.Error())
	case errors.As(err, &closed):
		h.renderMessage(c, http.StatusConflict, "consortium.error.closed", views.KST(closed.Closes))
	case errors.Is(err, models.ErrSharesOver100):
		h.renderMessage(c, http.StatusConflict, "consortium.error.share_total", "")
	case errors.Is(err, models.ErrInvalidTransition):
		h.renderMessage(c, http.StatusConflict, "consortium.error.state", "")
	default:
		h.fail(c, err)
	}
}

// showConsortiaPage shows the officers and auditors every selected team's
// consortium and the change requests waiting for a decision.
func (h *Handler) showConsortiaPage(c *gin.Context) {
	v, err := h.consortiaView(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	v.Notice = consortiumNotices[c.Query("done")]
	h.renderConsortia(c, http.StatusOK, v)
}

func (h *Handler) consortiaView(c *gin.Context) (views.ConsortiaView, error) {
	ctx := c.Request.Context()
	teams, err := models.SelectedConsortia(ctx, h.db)
	if err != nil {
		return views.ConsortiaView{}, err
	}
	queue, err := models.PendingConsortiumRequests(ctx, h.db)
	if err != nil {
		return views.ConsortiaView{}, err
	}
	u := currentUser(c)
	return views.ConsortiaView{Teams: teams, Queue: queue, CanDecide: u.Role == models.RoleOfficer || u.Role == models.RoleAdmin}, nil
}

func (h *Handler) renderConsortia(c *gin.Context, status int, v views.ConsortiaView) {
	h.render(c, status, views.Consortia(h.page(c, "consortium.officer.title"), v))
}

// decideConsortiumRequest approves or refuses a pending change request,
// after the confirmation page; a refusal needs its reason.
func (h *Handler) decideConsortiumRequest(action models.RequestAction) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := idParam(c, "rid")
		if !ok {
			h.renderError(c, http.StatusNotFound, nil)
			return
		}
		ctx, u := c.Request.Context(), currentUser(c)
		reason := c.PostForm("reason")
		if editing(c) || !confirmed(c) {
			r, err := models.CheckConsortiumDecision(ctx, h.db, id, action, reason, u)
			var refused *models.FieldsError
			switch {
			case errors.As(err, &refused) || (err == nil && editing(c)):
				v, verr := h.consortiaView(c)
				if verr != nil {
					h.fail(c, verr)
					return
				}
				v.For, v.Reason = id, reason
				status := http.StatusOK
				if refused != nil {
					v.Errors, status = refused.Fields, http.StatusUnprocessableEntity
				}
				h.renderConsortia(c, status, v)
			case err != nil:
				h.failConsortium(c, err)
			default:
				titleID := "consortium.confirm." + string(action) + ".title"
				h.renderConfirm(c, views.ConfirmView{TitleID: titleID, EffectID: "consortium.confirm." + string(action) + ".effect",
					SubmitID: "consortium.confirm." + string(action) + ".submit", Action: c.Request.URL.Path, EditBack: true},
					views.ConsortiumDecisionSummary(h.page(c, titleID), r, strings.TrimSpace(reason)))
			}
			return
		}
		if err := models.DecideConsortiumRequest(ctx, h.db, id, action, reason, u, h.now()); err != nil {
			h.failConsortium(c, err)
			return
		}
		done := "approved"
		if action == models.ReqRefuse {
			done = "refused"
		}
		c.Redirect(http.StatusSeeOther, "/officer/consortia?done="+done)
	}
}
