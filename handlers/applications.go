package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/views"
)

// Applications: a company drafts an application to an open call as the lead
// of a consortium, adds members and documents, then submits or withdraws it;
// the ministry and auditors read it. A company user asking for another
// organisation's application gets the same 404 as for one that does not exist.

// applicationNotices maps the ?done= of a redirect after a change to its notice.
var applicationNotices = map[string]string{
	"created":        "application.notice.created",
	"saved":          "application.notice.saved",
	"member_added":   "application.notice.member_added",
	"member_invited": "application.notice.member_invited",
	"member_removed": "application.notice.member_removed",
	"uploaded":       "application.notice.uploaded",
	"submitted":      "application.notice.submitted",
	"withdrawn":      "application.notice.withdrawn",
}

// showMyApplicationsPage lists the organisation's applications and the calls
// open for applications now.
func (h *Handler) showMyApplicationsPage(c *gin.Context) {
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
	calls, err := models.ListCalls(ctx, h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	now := h.now()
	v := views.MyApplicationsView{Organisation: org, Now: now}
	byCall := map[uint]uint{}
	for _, a := range apps {
		byCall[a.CallID] = a.ID
		row := views.MyApplication{App: a}
		for i := range calls {
			if calls[i].ID == a.CallID {
				row.Call = &calls[i]
			}
		}
		v.Applications = append(v.Applications, row)
	}
	for _, call := range calls {
		if call.IsOpen(now) {
			v.OpenCalls = append(v.OpenCalls, views.OpenCall{Call: call, ApplicationID: byCall[call.ID]})
		}
	}
	h.render(c, http.StatusOK, views.MyApplications(h.page(c, "applications.title"), v))
}

// showNewApplicationPage shows the form that starts an application.
func (h *Handler) showNewApplicationPage(c *gin.Context) {
	call, org := h.callToApply(c)
	if call == nil {
		return
	}
	v := views.NewApplicationView{Call: call, Organisation: org, Errors: models.FieldErrors{}}
	if f := h.restoredForm(c, c.Request.URL.Path); f != nil {
		v.Form = applicationFormOf(f)
	}
	h.render(c, http.StatusOK, views.NewApplication(h.page(c, "application.new.title"), v))
}

// createApplication starts a draft led by the user's organisation.
func (h *Handler) createApplication(c *gin.Context) {
	call, org := h.callToApply(c)
	if call == nil {
		return
	}
	ctx := c.Request.Context()
	form := applicationFormOf(postedForm(c))
	a := &models.Application{CallID: call.ID, TitleKO: form.TitleKO, TitleEN: form.TitleEN, Summary: form.Summary}
	if errs := a.Validate(); errs.Any() {
		v := views.NewApplicationView{Call: call, Organisation: org, Form: form, Errors: errs}
		h.render(c, http.StatusUnprocessableEntity, views.NewApplication(h.page(c, "application.new.title"), v))
		return
	}
	err := models.CreateApplication(ctx, h.db, a, currentUser(c), h.now())
	var closed *models.CallClosedError
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/applications/%d?done=created", a.ID))
	case errors.Is(err, models.ErrConflict):
		// A second click, or a colleague was quicker: the organisation's application exists.
		if id, ferr := h.existingApplication(ctx, call.ID, org.ID); ferr == nil && id != 0 {
			c.Redirect(http.StatusSeeOther, fmt.Sprintf("/applications/%d", id))
			return
		}
		h.fail(c, err)
	case errors.As(err, &closed):
		h.renderMessage(c, http.StatusConflict, "application.error.apply_closed",
			i18n.T(ctx, "application.closed_at", map[string]any{"Closes": views.KST(closed.Closes)}))
	default:
		h.fail(c, err)
	}
}

// callToApply loads the call of the :id parameter for the user's
// organisation to apply to. It answers (and returns nil) when the call does
// not exist, is not open, or when the organisation already applied, which
// sends the user to that application.
func (h *Handler) callToApply(c *gin.Context) (*models.Call, *models.Organisation) {
	ctx := c.Request.Context()
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return nil, nil
	}
	call, err := models.GetCall(ctx, h.db, id)
	if err != nil {
		h.fail(c, err)
		return nil, nil
	}
	org := h.companyOrganisation(c)
	if org == nil {
		return nil, nil
	}
	switch err := call.CheckApplying(h.now()); {
	case errors.Is(err, models.ErrCallNotOpen):
		h.renderMessage(c, http.StatusConflict, "application.error.apply_not_open",
			i18n.T(ctx, "application.opens_at", map[string]any{"Opens": views.KST(call.OpensAt)}))
		return nil, nil
	case err != nil:
		h.renderMessage(c, http.StatusConflict, "application.error.apply_closed",
			i18n.T(ctx, "application.closed_at", map[string]any{"Closes": views.KST(call.ClosesAt)}))
		return nil, nil
	}
	existing, err := h.existingApplication(ctx, call.ID, org.ID)
	if err != nil {
		h.fail(c, err)
		return nil, nil
	}
	if existing != 0 {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/applications/%d", existing))
		return nil, nil
	}
	return call, org
}

// existingApplication returns the id of the organisation's application to
// the call, or 0.
func (h *Handler) existingApplication(ctx context.Context, callID, orgID uint) (uint, error) {
	apps, _, err := models.ListApplications(ctx, h.db, models.ApplicationFilter{CallID: callID, LeadOrgID: orgID, Limit: 1})
	if err != nil || len(apps) == 0 {
		return 0, err
	}
	return apps[0].ID, nil
}

// showApplicationPage shows an application: editable while it is a draft of
// the user's organisation and the call is open, read-only otherwise.
func (h *Handler) showApplicationPage(c *gin.Context) {
	a := h.visibleApplication(c)
	if a == nil {
		return
	}
	v, err := h.applicationView(c, a)
	if err != nil {
		h.fail(c, err)
		return
	}
	v.Notice = applicationNotices[c.Query("done")]
	if v.Editable {
		if f := h.restoredForm(c, c.Request.URL.Path); f != nil {
			v.Form = applicationFormOf(f)
			v.Form.Version, _ = strconv.Atoi(f.get("version"))
		}
	}
	h.renderApplication(c, http.StatusOK, v)
}

// updateApplication saves the draft's fields, unless someone changed the
// draft since the form was loaded: then the user's input is shown again
// beside the latest version, with the current version to save over it.
func (h *Handler) updateApplication(c *gin.Context) {
	a := h.visibleApplication(c)
	if a == nil {
		return
	}
	v, err := h.applicationView(c, a)
	if err != nil {
		h.fail(c, err)
		return
	}
	form := applicationFormOf(postedForm(c))
	form.Version, _ = strconv.Atoi(c.PostForm("version")) // garbage is version 0, which is always stale
	v.Form = form
	edit := &models.Application{ID: a.ID, TitleKO: form.TitleKO, TitleEN: form.TitleEN, Summary: form.Summary, Version: form.Version}
	if errs := edit.Validate(); errs.Any() {
		v.FormErrors = errs
		h.renderApplication(c, http.StatusUnprocessableEntity, v)
		return
	}
	err = models.UpdateDraft(c.Request.Context(), h.db, edit, currentUser(c), h.now())
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/applications/%d?done=saved", a.ID))
	case errors.Is(err, models.ErrConflict):
		v.Stale, v.Alert = true, "form.stale"
		v.Form.Version = a.Version
		h.renderApplication(c, http.StatusConflict, v)
	default:
		h.refuseApplicationAction(c, a, err)
	}
}

// addMember adds an organisation to the draft's consortium: one picked from
// the list, or one given by name and business registration number, which is
// registered unless an organisation with that number exists.
func (h *Handler) addMember(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	in := views.ApplicationMemberForm{
		OrganisationID: strings.TrimSpace(c.PostForm("organisation_id")),
		NameKO:         strings.TrimSpace(c.PostForm("name_ko")),
		NameEN:         strings.TrimSpace(c.PostForm("name_en")),
		BusinessRegNo:  strings.TrimSpace(c.PostForm("business_reg_no")),
		Role:           c.PostForm("role"),
		Terms: models.MemberTermsInput{Share: strings.TrimSpace(c.PostForm("share")), GPUCount: strings.TrimSpace(c.PostForm("gpu_count")),
			GPUModel: strings.TrimSpace(c.PostForm("gpu_model")), GPUNotes: c.PostForm("gpu_notes")},
	}
	err := models.AddConsortiumMember(c.Request.Context(), h.db, id, models.MemberInput{OrganisationID: in.OrganisationID,
		NameKO: in.NameKO, NameEN: in.NameEN, BusinessRegNo: in.BusinessRegNo, Role: in.Role, Terms: in.Terms}, currentUser(c), h.now())
	if err == nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/applications/%d?done=member_invited", id))
		return
	}
	var refused *models.FieldsError
	var show func(*views.ApplicationView)
	if errors.As(err, &refused) {
		show = func(v *views.ApplicationView) { v.Member, v.MemberErrors = in, refused.Fields }
	}
	h.refuseApplicationChange(c, err, show)
}

// removeMember removes a member (never the lead) from the draft's consortium.
func (h *Handler) removeMember(c *gin.Context) {
	a := h.visibleApplication(c)
	if a == nil {
		return
	}
	mid, ok := idParam(c, "mid")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	err := models.RemoveMember(c.Request.Context(), h.db, a.ID, mid, currentUser(c), h.now())
	if err == nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/applications/%d?done=member_removed", a.ID))
		return
	}
	h.refuseApplicationAction(c, a, err)
}

// uploadDocument stores a file for one of the call's required documents.
// The file's type is decided by its content; a refused file leaves nothing
// behind.
func (h *Handler) uploadDocument(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	rdID, _ := parseID(c.PostForm("required_document_id"))
	var file *models.UploadedFile
	if fh, err := c.FormFile("file"); err == nil {
		f := uploadedFile(fh)
		file = &f
	}
	err := models.UploadDocument(c.Request.Context(), h.db, h.files, h.uploads, id, rdID, file, currentUser(c), h.now())
	if err == nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/applications/%d?done=uploaded", id))
		return
	}
	h.refuseApplicationChange(c, err, uploadProblem(rdID, err))
}

// uploadProblem shows a refused document upload on the application's
// page; nil for refusals that are no problem of the form.
func uploadProblem(rdID uint, err error) func(*views.ApplicationView) {
	var msg string
	switch {
	case errors.Is(err, models.ErrUnknownDocument):
		return func(v *views.ApplicationView) { v.Alert = "application.error.document_unknown" }
	case errors.Is(err, models.ErrUploadMissing):
		msg = "application.error.file_missing"
	case errors.Is(err, models.ErrUploadEmpty):
		msg = "application.error.file_empty"
	case errors.Is(err, models.ErrUploadTooLarge):
		msg = "application.error.file_too_large"
	case errors.Is(err, models.ErrUploadType):
		msg = "application.error.file_type"
	default:
		return nil
	}
	return func(v *views.ApplicationView) { v.UploadDocID, v.UploadErrors = rdID, models.FieldErrors{"file": msg} }
}

// downloadDocument sends a document as an attachment to whoever may see the
// application, or to an external evaluator assigned to it (not recused).
func (h *Handler) downloadDocument(c *gin.Context) {
	var a *models.Application
	if currentUser(c).Role == models.RoleReviewer {
		a = h.applicationToReview(c)
	} else {
		a = h.visibleApplication(c)
	}
	if a == nil {
		return
	}
	did, ok := idParam(c, "did")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	var doc *models.ApplicationDocument
	for i := range a.Documents {
		if a.Documents[i].ID == did {
			doc = &a.Documents[i]
		}
	}
	if doc == nil {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	h.sendStoredFile(c, &doc.File, fmt.Sprintf("application-%d-document-%d.%s", a.ID, doc.ID, doc.File.Kind))
}

// submitApplication submits a complete draft before the close instant. A
// double click submits once; both answers land on the same page.
func (h *Handler) submitApplication(c *gin.Context) {
	h.transitionApplication(c, models.ActSubmit, "submitted")
}

// withdrawApplication withdraws a draft or a submission before the close,
// once the user has confirmed it on the page that says it cannot be undone.
func (h *Handler) withdrawApplication(c *gin.Context) {
	if !confirmed(c) {
		a := h.visibleApplication(c)
		if a == nil {
			return
		}
		if _, err := models.NextStatus(a.Status, models.ActWithdraw, currentUser(c).Role, &a.Call, h.now()); err != nil {
			h.refuseApplicationAction(c, a, err)
			return
		}
		h.confirmWithdraw(c, a)
		return
	}
	h.transitionApplication(c, models.ActWithdraw, "withdrawn")
}

func (h *Handler) transitionApplication(c *gin.Context, action models.ApplicationAction, done string) {
	a := h.visibleApplication(c)
	if a == nil {
		return
	}
	_, err := models.TransitionApplication(c.Request.Context(), h.db, a.ID, action, currentUser(c), h.now())
	if err == nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/applications/%d?done=%s", a.ID, done))
		return
	}
	if action == models.ActSubmit && errors.Is(err, models.ErrInvalid) {
		v, verr := h.applicationView(c, a)
		if verr != nil {
			h.fail(c, verr)
			return
		}
		v.Alert = "application.error.incomplete"
		v.Missing = applicationMissing(c.Request.Context(), a)
		h.renderApplication(c, http.StatusUnprocessableEntity, v)
		return
	}
	h.refuseApplicationAction(c, a, err)
}

// applicationMissing lists what keeps the application from being submitted.
func applicationMissing(ctx context.Context, a *models.Application) []views.ApplicationMissing {
	missing, lang := a.Missing(&a.Call), i18n.Lang(ctx)
	var out []views.ApplicationMissing
	for _, f := range []struct{ field, labelID string }{
		{"title_ko", "application.field.title_ko"},
		{"title_en", "application.field.title_en"},
		{"summary", "application.field.summary"},
	} {
		if missing.Has(f.field) {
			out = append(out, views.ApplicationMissing{Label: i18n.T(ctx, f.labelID), MessageID: missing[f.field]})
		}
	}
	for _, rd := range a.Call.Documents {
		if id := fmt.Sprintf("document.%d", rd.ID); missing.Has(id) {
			out = append(out, views.ApplicationMissing{Label: views.Bilingual(lang, rd.NameKO, rd.NameEN), MessageID: missing[id]})
		}
	}
	return out
}

// refuseApplicationAction answers an action that the application's state
// or the call's time does not allow: the call closed (the message shows the
// close instant), it is not open yet, or the application is no longer where
// the action applies. Nothing was changed.
func (h *Handler) refuseApplicationAction(c *gin.Context, a *models.Application, err error) {
	ctx := c.Request.Context()
	var closed *models.CallClosedError
	var detail string
	switch {
	case errors.As(err, &closed):
		detail = i18n.T(ctx, "application.error.closed", map[string]any{"Closes": views.KST(closed.Closes)})
	case errors.Is(err, models.ErrCallNotOpen):
		detail = i18n.T(ctx, "application.error.not_open", map[string]any{"Opens": views.KST(a.Call.OpensAt)})
	case errors.Is(err, models.ErrInvalidTransition):
		detail = i18n.T(ctx, "application.error.state",
			map[string]any{"Status": i18n.T(ctx, "application.status."+string(a.Status))})
	default:
		h.fail(c, err)
		return
	}
	h.renderMessage(c, http.StatusConflict, "application.refused", detail)
}

// refuseApplicationChange answers a change to the application of :id that
// the models refused: with show, the application's page again with the
// problem shown (422); without, as refuseApplicationAction.
func (h *Handler) refuseApplicationChange(c *gin.Context, err error, show func(*views.ApplicationView)) {
	a := h.visibleApplication(c)
	if a == nil {
		return
	}
	if show == nil {
		h.refuseApplicationAction(c, a, err)
		return
	}
	v, verr := h.applicationView(c, a)
	if verr != nil {
		h.fail(c, verr)
		return
	}
	show(&v)
	h.renderApplication(c, http.StatusUnprocessableEntity, v)
}

// visibleApplication loads the application of the :id parameter if the
// user may see it; otherwise it answers 404 and returns nil.
func (h *Handler) visibleApplication(c *gin.Context) *models.Application {
	return loadVisible(h, c, "id", models.GetApplication)
}

// applicationToReview loads the application named by :id for an external
// evaluator: only one assigned to them and not recused; anything else is
// the same 404 as a missing one.
func (h *Handler) applicationToReview(c *gin.Context) *models.Application {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return nil
	}
	a, err := models.GetApplicationToReview(c.Request.Context(), h.db, id, currentUser(c))
	if err != nil {
		h.fail(c, err)
		return nil
	}
	return a
}

// applicationView builds the page of an application as it is stored.
func (h *Handler) applicationView(c *gin.Context, a *models.Application) (views.ApplicationView, error) {
	ctx := c.Request.Context()
	u, now := currentUser(c), h.now()
	slices.SortStableFunc(a.Members, func(x, y models.ConsortiumMember) int {
		switch {
		case x.Role == models.MemberLead && y.Role != models.MemberLead:
			return -1
		case y.Role == models.MemberLead && x.Role != models.MemberLead:
			return 1
		}
		return int(x.ID) - int(y.ID)
	})
	v := views.ApplicationView{
		App:       a,
		Editable:  a.MayEdit(u, &a.Call, now),
		Form:      views.ApplicationForm{TitleKO: a.TitleKO, TitleEN: a.TitleEN, Summary: a.Summary, Version: a.Version},
		Member:    views.ApplicationMemberForm{Role: models.MemberModel},
		MaxUpload: h.uploads.MaxBytes,
		Now:       now,
	}
	if a.Status == models.StatusDraft && a.Call.IsClosed(now) {
		v.Alert = "application.error.closed"
		v.AlertData = map[string]any{"Closes": views.KST(a.Call.ClosesAt)}
	}
	v.CanSubmit = a.MaySubmit(u, now)
	v.CanWithdraw = a.MayWithdraw(u, now)
	if v.Editable {
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
	if a.Status == models.StatusSelected || a.Status == models.StatusNotSelected {
		res, err := h.applicationResult(ctx, a)
		if err != nil {
			return v, err
		}
		v.Result = res
	}
	return v, nil
}

// applicationResult finds the application's line in the call's published
// selection, if any.
func (h *Handler) applicationResult(ctx context.Context, a *models.Application) (*views.ApplicationResult, error) {
	d, err := models.CurrentSelection(ctx, h.db, a.CallID)
	if err != nil || d == nil {
		return nil, err
	}
	if e, ok := d.Entry(a.LeadOrgID); ok {
		return &views.ApplicationResult{DecisionID: d.ID, Selected: e.Selected, Rank: e.Rank}, nil
	}
	return nil, nil
}

func (h *Handler) renderApplication(c *gin.Context, status int, v views.ApplicationView) {
	h.render(c, status, views.ApplicationPage(h.page(c, "application.title"), v))
}

// applicationFormOf reads the typed fields of an application form.
func applicationFormOf(f formValues) views.ApplicationForm {
	return views.ApplicationForm{
		TitleKO: strings.TrimSpace(f.get("title_ko")),
		TitleEN: strings.TrimSpace(f.get("title_en")),
		Summary: f.get("summary"),
	}
}
