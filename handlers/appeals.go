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

// Appeals (이의신청): an organisation that a published decision concerns
// objects to it inside the decision's window (models.DecisionWindow, with
// the one-off holidays as they stood), checked at the server's clock; the
// ministry reviews the appeal and upholds or dismisses it with written
// reasons, which the appellant reads. A company user asking for another
// organisation's appeal gets the same 404 as for one that does not exist.
//
// A filing at or after the closing instant answers 409 Conflict: the form
// may be perfectly valid, it is the state of the window that refuses it.
// The page says when the window closed, to the second in KST, and keeps
// what was typed.

// appealNotices maps the ?done= of a redirect after an officer's step to its notice.
var appealNotices = map[string]string{
	"review":    "appeal.notice.review",
	"upheld":    "appeal.notice.upheld",
	"dismissed": "appeal.notice.dismissed",
}

// showNewAppealPage shows the filing form with the decision's window and a
// fresh idempotency key, so that a double submit of this form files once.
func (h *Handler) showNewAppealPage(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	ac, err := models.LoadAppealCase(c.Request.Context(), h.db, id, currentUser(c), h.now())
	if err != nil {
		h.refuseAppeal(c, nil, err)
		return
	}
	if errors.Is(ac.Refusal, models.ErrDecisionSuperseded) {
		h.refuseAppeal(c, ac.Decision, ac.Refusal)
		return
	}
	v := h.newAppealView(ac)
	v.Form.Key = models.RandomToken(24)
	if f := h.restoredForm(c, c.Request.URL.Path); f != nil {
		v.Form = appealFormOf(f)
		if v.Form.Key == "" {
			v.Form.Key = models.RandomToken(24)
		}
	}
	h.render(c, http.StatusOK, views.NewAppeal(h.page(c, "appeal.new.title"), v))
}

// fileAppeal files the appeal with its evidence (models.SubmitAppeal). A
// double submit lands on the appeal the first one filed; late: 409 with
// the closing instant and the typed text kept; a refused field or file:
// 422 with the same; nothing is stored unless everything is accepted.
func (h *Handler) fileAppeal(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	form := appealFormOf(postedForm(c))
	res, err := models.SubmitAppeal(c.Request.Context(), h.db, models.AppealSubmission{
		Input: models.AppealInput{DecisionID: id, Ground: models.AppealGround(form.Ground), Statement: form.Statement,
			IdempotencyKey: form.Key},
		Evidence: evidenceFiles(c), Files: h.files, Uploads: h.uploads, AnswerDays: h.cfg.AppealAnswerDays,
	}, currentUser(c), h.now())
	if err != nil {
		h.refuseAppealFiling(c, form, res, err)
		return
	}
	c.Redirect(http.StatusSeeOther, views.AppealHref(res.Appeal.ID)+"?filed=1")
}

// refuseAppealFiling answers a filing that stored nothing: the form again
// with what was typed, 409 after the window closed (or before it opened)
// and 422 with the refused fields and file; refuseAppeal's answers for
// the rest.
func (h *Handler) refuseAppealFiling(c *gin.Context, form views.AppealForm, res *models.AppealFiling, err error) {
	refused := errors.Is(err, models.ErrAppealWindowClosed)
	switch {
	case res.Case == nil:
		h.refuseAppeal(c, nil, err)
		return
	case !refused && !res.Errors.Any() && res.Evidence == nil:
		h.refuseAppeal(c, res.Case.Decision, err)
		return
	}
	v := h.newAppealView(res.Case)
	v.Form, v.Refused = form, refused
	if refused {
		h.render(c, http.StatusConflict, views.NewAppeal(h.page(c, "appeal.new.title"), v))
		return
	}
	v.Errors, v.Evidence = res.Errors, evidenceProblem(res.Evidence)
	if v.Errors.Has("idempotency_key") {
		// A form without a usable key (tampered with, or too old): the next
		// submit of the re-rendered form carries a good one.
		v.Form.Key = models.RandomToken(24)
	}
	h.render(c, http.StatusUnprocessableEntity, views.NewAppeal(h.page(c, "appeal.new.title"), v))
}

// newAppealView is the filing form's page for the appeal rules as applied.
func (h *Handler) newAppealView(ac *models.AppealCase) views.NewAppealView {
	return views.NewAppealView{Decision: ac.Decision, Window: ac.Window, Now: ac.Now, Own: ac.Own, Prior: ac.Prior,
		Errors: models.FieldErrors{}, MaxUpload: h.uploads.MaxBytes, MaxFiles: models.MaxAppealEvidence, Refusal: ac.Refusal}
}

// appealFormOf reads the typed fields of an appeal form.
func appealFormOf(f formValues) views.AppealForm {
	return views.AppealForm{Ground: f.get("ground"), Statement: f.get("statement"),
		Key: strings.TrimSpace(f.get("idempotency_key"))}
}

// evidenceFiles are the evidence files sent. A file input left empty sends
// a part with no name and no content, which is not a file.
func evidenceFiles(c *gin.Context) []models.UploadedFile {
	var files []models.UploadedFile
	if mf := c.Request.MultipartForm; mf != nil {
		for _, fh := range mf.File["evidence"] {
			if fh.Filename == "" && fh.Size == 0 {
				continue
			}
			files = append(files, uploadedFile(fh))
		}
	}
	return files
}

// evidenceProblem is the message for a refused evidence file.
func evidenceProblem(e *models.EvidenceError) views.EvidenceProblem {
	switch {
	case e == nil:
		return views.EvidenceProblem{}
	case errors.Is(e, models.ErrTooManyEvidence):
		return views.EvidenceProblem{MessageID: "appeal.error.too_many_files"}
	case errors.Is(e, models.ErrUploadEmpty):
		return views.EvidenceProblem{MessageID: "appeal.error.file_empty", Name: e.Name}
	case errors.Is(e, models.ErrUploadTooLarge):
		return views.EvidenceProblem{MessageID: "appeal.error.file_too_large", Name: e.Name}
	}
	return views.EvidenceProblem{MessageID: "appeal.error.file_type", Name: e.Name}
}

// refuseAppeal answers a filing (or the form for one) that the appeal rules
// refuse whatever is typed: a decision that does not concern the
// organisation, or one a correction has replaced (409, naming the decision
// that now stands).
func (h *Handler) refuseAppeal(c *gin.Context, d *models.Decision, err error) {
	var superseded *models.DecisionSupersededError
	switch {
	case errors.As(err, &superseded) && d != nil:
		h.render(c, http.StatusConflict, views.AppealSuperseded(h.page(c, "appeal.new.title"),
			views.AppealSupersededView{Decision: d, Standing: superseded.Standing}))
	case errors.Is(err, models.ErrForbidden):
		h.renderMessage(c, http.StatusForbidden, "appeal.error.not_concerned", "")
	default:
		h.fail(c, err)
	}
}

// showAppealsPage lists a company's own appeals, or every appeal for the
// ministry and auditors, with the answer-by date and the overdue ones
// flagged; ?status= filters.
func (h *Handler) showAppealsPage(c *gin.Context) {
	u := currentUser(c)
	v := views.AppealsView{Staff: u.Role != models.RoleCompany, Now: h.now()}
	f := models.AppealFilter{}
	if s := models.AppealStatus(c.Query("status")); slices.Contains(models.AppealStatuses, s) {
		f.Status, v.Status = s, string(s)
	}
	own, ok := u.OrganisationScope()
	if !ok {
		h.renderMessage(c, http.StatusForbidden, "error.no_organisation", "")
		return
	}
	if own != nil {
		f.OrganisationID = *own
	}
	var err error
	if v.Rows, err = models.ListAppeals(c.Request.Context(), h.db, f); err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.Appeals(h.page(c, "appeal.list.title"), v))
}

// showAppealPage shows one appeal: the receipt just after filing (?filed=1),
// what was filed, and the answer with its reasons once decided; officers
// get the review actions.
func (h *Handler) showAppealPage(c *gin.Context) {
	a := h.visibleAppeal(c)
	if a == nil {
		return
	}
	v := h.appealView(c, a)
	v.Filed = c.Query("filed") == "1" && currentUser(c).Role == models.RoleCompany
	v.Notice = appealNotices[c.Query("done")]
	if v.Ministry && a.Status == models.AppealUnderReview {
		if f := h.restoredForm(c, views.AppealHref(a.ID)+"/decide"); f != nil {
			v.Decide = decideFormOf(f)
		}
	}
	h.render(c, http.StatusOK, views.AppealPage(h.page(c, "appeal.page.title_short"), v))
}

// downloadEvidence sends an evidence file as an attachment to whoever may
// see the appeal.
func (h *Handler) downloadEvidence(c *gin.Context) {
	a := h.visibleAppeal(c)
	if a == nil {
		return
	}
	eid, ok := idParam(c, "eid")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	i := slices.IndexFunc(a.Evidence, func(e models.AppealEvidence) bool { return e.ID == eid })
	if i < 0 {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	file := &a.Evidence[i].File
	h.sendStoredFile(c, file, fmt.Sprintf("appeal-%d-evidence-%d.%s", a.ID, eid, file.Kind))
}

// startAppealReview moves a received appeal under review.
func (h *Handler) startAppealReview(c *gin.Context) {
	a := h.visibleAppeal(c)
	if a == nil {
		return
	}
	err := models.DecideAppeal(c.Request.Context(), h.db, a.ID, models.AppealStartReview, "", currentUser(c), h.now())
	if err != nil {
		h.refuseAppealStep(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, views.AppealHref(a.ID)+"?done=review")
}

// decideAppeal upholds or dismisses an appeal under review, with the
// written reasons the appellant will read. A step the appeal's state does
// not allow is 409; missing reasons re-render the form with the field error.
func (h *Handler) decideAppeal(c *gin.Context) {
	a := h.visibleAppeal(c)
	if a == nil {
		return
	}
	u := currentUser(c)
	v := h.appealView(c, a)
	v.Decide = decideFormOf(postedForm(c))
	action := models.AppealAction(v.Decide.Outcome)
	if action == models.AppealUphold || action == models.AppealDismiss {
		if _, err := models.NextAppealStatus(a.Status, action, u.Role); err != nil {
			h.refuseAppealStep(c, err)
			return
		}
	} else {
		v.Errors.Add("outcome", "appeal.error.outcome")
	}
	for field, msg := range models.ValidateAppealReasons(v.Decide.Reasons) {
		v.Errors.Add(field, msg)
	}
	if v.Errors.Any() {
		h.render(c, http.StatusUnprocessableEntity, views.AppealPage(h.page(c, "appeal.page.title_short"), v))
		return
	}
	if !confirmed(c) {
		if editing(c) {
			h.render(c, http.StatusOK, views.AppealPage(h.page(c, "appeal.page.title_short"), v))
			return
		}
		h.confirmDecide(c, a, action, v.Decide.Reasons)
		return
	}
	if err := models.DecideAppeal(c.Request.Context(), h.db, a.ID, action, v.Decide.Reasons, u, h.now()); err != nil {
		h.refuseAppealStep(c, err)
		return
	}
	done := "dismissed"
	if action == models.AppealUphold {
		done = "upheld"
	}
	c.Redirect(http.StatusSeeOther, views.AppealHref(a.ID)+"?done="+done)
}

// decideFormOf reads an officer's answer to an appeal as typed.
func decideFormOf(f formValues) views.AppealDecideForm {
	return views.AppealDecideForm{Outcome: f.get("outcome"), Reasons: f.get("reasons")}
}

// refuseAppealStep answers an officer's step the appeal cannot take now.
func (h *Handler) refuseAppealStep(c *gin.Context, err error) {
	switch {
	case errors.Is(err, models.ErrInvalidTransition), errors.Is(err, models.ErrConflict):
		h.renderMessage(c, http.StatusConflict, "appeal.error.transition", "")
	default:
		h.fail(c, err)
	}
}

// visibleAppeal loads the appeal of :id if the user may see it; otherwise
// it answers 404 and returns nil.
func (h *Handler) visibleAppeal(c *gin.Context) *models.Appeal {
	return loadVisible(h, c, "id", models.GetAppeal)
}

// appealView is the page of an appeal as it is stored.
func (h *Handler) appealView(c *gin.Context, a *models.Appeal) views.AppealView {
	u := currentUser(c)
	return views.AppealView{Appeal: a, Now: h.now(), Staff: u.Role != models.RoleCompany, Ministry: u.Role.IsMinistry(),
		Errors: models.FieldErrors{}}
}
