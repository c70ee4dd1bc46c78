package handlers

import (
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

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

// maxEvidenceFiles is how many files one appeal may carry.
const maxEvidenceFiles = maxFilesPerRequest

// appealNotices maps the ?done= of a redirect after an officer's step to its notice.
var appealNotices = map[string]string{
	"review":    "appeal.notice.review",
	"upheld":    "appeal.notice.upheld",
	"dismissed": "appeal.notice.dismissed",
}

// showNewAppealPage shows the filing form with the decision's window and a
// fresh idempotency key, so that a double submit of this form files once.
func (h *Handler) showNewAppealPage(c *gin.Context) {
	v, ok := h.newAppealView(c)
	if !ok {
		return
	}
	if errors.Is(v.Refusal, models.ErrDecisionSuperseded) {
		h.refuseAppeal(c, v.Decision, v.Refusal)
		return
	}
	v.Form.Key = models.RandomToken(24)
	if f := h.restoredForm(c, c.Request.URL.Path); f != nil {
		v.Form = appealFormOf(f)
		if v.Form.Key == "" {
			v.Form.Key = models.RandomToken(24)
		}
	}
	h.render(c, http.StatusOK, views.NewAppeal(h.page(c, "appeal.new.title"), v))
}

// fileAppeal files the appeal with its evidence. Late: 409 with the closing
// instant and the typed text kept; a refused field or file: 422 with the
// same; nothing is stored unless everything is accepted.
func (h *Handler) fileAppeal(c *gin.Context) {
	v, ok := h.newAppealView(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	u, now := currentUser(c), v.Now
	orgID := *u.OrganisationID
	v.Form = appealFormOf(postedForm(c))
	render := func(status int) {
		h.render(c, status, views.NewAppeal(h.page(c, "appeal.new.title"), v))
	}
	// The second click of a double submit finds the first one's appeal,
	// even when the window closed in between.
	if prior := priorAppeal(v.Prior, v.Form.Key); prior != nil {
		c.Redirect(http.StatusSeeOther, views.AppealHref(prior.ID)+"?filed=1")
		return
	}
	switch {
	case errors.Is(v.Refusal, models.ErrDecisionSuperseded):
		h.refuseAppeal(c, v.Decision, v.Refusal)
		return
	case v.Refusal != nil:
		v.Refused = true
		render(http.StatusConflict)
		return
	}
	in := models.AppealInput{DecisionID: v.Decision.ID, Ground: models.AppealGround(v.Form.Ground),
		Statement: v.Form.Statement, IdempotencyKey: v.Form.Key}
	v.Errors = in.Validate()
	if v.Errors.Has("idempotency_key") {
		// A form without a usable key (tampered with, or too old): the next
		// submit of the re-rendered form carries a good one.
		v.Form.Key = models.RandomToken(24)
	}
	files, problem := h.evidenceFiles(c)
	v.Evidence = problem
	if v.Errors.Any() || problem.MessageID != "" {
		render(http.StatusUnprocessableEntity)
		return
	}
	var a *models.Appeal
	err := h.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var stored []*models.StoredFile
		for _, fh := range files {
			f, err := fh.Open()
			if err != nil {
				return fmt.Errorf("handlers: open evidence: %w", err)
			}
			sf, err := h.files.Save(ctx, tx, fh.Filename, f, h.uploads, u.ID, now)
			f.Close()
			if err != nil {
				return uploadError{name: models.SanitizeFileName(fh.Filename), err: err}
			}
			stored = append(stored, sf)
		}
		var err error
		a, _, err = models.FileAppeal(ctx, tx, in, stored, u, h.cfg.AppealAnswerDays, now)
		return err
	})
	var upErr uploadError
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, views.AppealHref(a.ID)+"?filed=1")
	case errors.Is(err, models.ErrAppealWindowClosed):
		v.Refused = true
		render(http.StatusConflict)
	case errors.As(err, &upErr) && evidenceMessage(upErr.err) != "":
		v.Evidence = views.EvidenceProblem{MessageID: evidenceMessage(upErr.err), Name: upErr.name}
		render(http.StatusUnprocessableEntity)
	case errors.Is(err, models.ErrConflict):
		// Two submits of the same form at once: the other one filed it.
		prior, perr := h.appealByKey(ctx, orgID, v.Decision.ID, v.Form.Key)
		if perr != nil || prior == nil {
			h.fail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, views.AppealHref(prior.ID)+"?filed=1")
	default:
		h.refuseAppeal(c, v.Decision, err)
	}
}

// appealFormOf reads the typed fields of an appeal form.
func appealFormOf(f formValues) views.AppealForm {
	return views.AppealForm{Ground: f.get("ground"), Statement: f.get("statement"),
		Key: strings.TrimSpace(f.get("idempotency_key"))}
}

// uploadError names the evidence file a store error is about.
type uploadError struct {
	name string
	err  error
}

func (e uploadError) Error() string { return "evidence " + e.name + ": " + e.err.Error() }
func (e uploadError) Unwrap() error { return e.err }

// evidenceMessage is the message ID for a refused upload, "" for other errors.
func evidenceMessage(err error) string {
	switch {
	case errors.Is(err, models.ErrUploadEmpty):
		return "appeal.error.file_empty"
	case errors.Is(err, models.ErrUploadTooLarge):
		return "appeal.error.file_too_large"
	case errors.Is(err, models.ErrUploadType):
		return "appeal.error.file_type"
	}
	return ""
}

// evidenceFiles returns the evidence files sent, after checking each one's
// size and sniffed type without storing anything. A file input left empty
// sends a part with no name and no content, which is not a file.
func (h *Handler) evidenceFiles(c *gin.Context) ([]*multipart.FileHeader, views.EvidenceProblem) {
	var files []*multipart.FileHeader
	if mf := c.Request.MultipartForm; mf != nil {
		for _, fh := range mf.File["evidence"] {
			if fh.Filename == "" && fh.Size == 0 {
				continue
			}
			files = append(files, fh)
		}
	}
	if len(files) > maxEvidenceFiles {
		return nil, views.EvidenceProblem{MessageID: "appeal.error.too_many_files"}
	}
	for _, fh := range files {
		name := models.SanitizeFileName(fh.Filename)
		if fh.Size > h.uploads.MaxBytes {
			return nil, views.EvidenceProblem{MessageID: "appeal.error.file_too_large", Name: name}
		}
		f, err := fh.Open()
		if err != nil {
			return nil, views.EvidenceProblem{MessageID: "appeal.error.file_type", Name: name}
		}
		_, _, err = models.CheckUpload(fh.Filename, f, h.uploads)
		f.Close()
		if id := evidenceMessage(err); id != "" {
			return nil, views.EvidenceProblem{MessageID: id, Name: name}
		} else if err != nil {
			return nil, views.EvidenceProblem{MessageID: "appeal.error.file_type", Name: name}
		}
	}
	return files, views.EvidenceProblem{}
}

// newAppealView loads the decision of :id for a company user it concerns,
// with its window at the server's clock; anyone else gets 403 (the guard
// lets only company users through), an unknown decision 404.
func (h *Handler) newAppealView(c *gin.Context) (views.NewAppealView, bool) {
	ctx := c.Request.Context()
	id, ok := parseApplicationID(c.Param("id"))
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return views.NewAppealView{}, false
	}
	d, err := models.GetDecision(ctx, h.db, id)
	if err != nil {
		h.fail(c, err)
		return views.NewAppealView{}, false
	}
	u := currentUser(c)
	if u.OrganisationID == nil {
		h.renderMessage(c, http.StatusForbidden, "appeal.error.not_concerned", "")
		return views.NewAppealView{}, false
	}
	now := h.now()
	w, refusal := models.CheckAppealable(ctx, h.db, d, *u.OrganisationID, now)
	if refusal != nil && !errors.Is(refusal, models.ErrAppealWindowClosed) && !errors.Is(refusal, models.ErrDecisionSuperseded) {
		h.refuseAppeal(c, d, refusal)
		return views.NewAppealView{}, false
	}
	entry, _ := d.Entry(*u.OrganisationID)
	prior, err := models.ListAppeals(ctx, h.db, models.AppealFilter{DecisionID: d.ID, OrganisationID: *u.OrganisationID})
	if err != nil {
		h.fail(c, err)
		return views.NewAppealView{}, false
	}
	return views.NewAppealView{Decision: d, Window: w, Now: now, Own: entry, Prior: prior, Errors: models.FieldErrors{},
		MaxUpload: h.uploads.MaxBytes, MaxFiles: maxEvidenceFiles, Refusal: refusal}, true
}

// refuseAppeal answers a filing (or the form for one) that the appeal rules
// refuse whatever is typed: a decision that does not concern the
// organisation, or one a correction has replaced (409, naming the decision
// that now stands).
func (h *Handler) refuseAppeal(c *gin.Context, d *models.Decision, err error) {
	var superseded *models.DecisionSupersededError
	switch {
	case errors.As(err, &superseded):
		h.render(c, http.StatusConflict, views.AppealSuperseded(h.page(c, "appeal.new.title"),
			views.AppealSupersededView{Decision: d, Standing: superseded.Standing}))
	case errors.Is(err, models.ErrForbidden):
		h.renderMessage(c, http.StatusForbidden, "appeal.error.not_concerned", "")
	default:
		h.fail(c, err)
	}
}

// priorAppeal finds the appeal filed with an idempotency key among the organisation's.
func priorAppeal(as []models.Appeal, key string) *models.Appeal {
	if key == "" {
		return nil
	}
	i := slices.IndexFunc(as, func(a models.Appeal) bool { return a.IdempotencyKey == key })
	if i < 0 {
		return nil
	}
	return &as[i]
}

// appealByKey looks an organisation's appeal up by the key of its form.
func (h *Handler) appealByKey(ctx context.Context, orgID, decisionID uint, key string) (*models.Appeal, error) {
	as, err := models.ListAppeals(ctx, h.db, models.AppealFilter{DecisionID: decisionID, OrganisationID: orgID})
	if err != nil {
		return nil, err
	}
	return priorAppeal(as, key), nil
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
	if !v.Staff {
		if u.OrganisationID == nil {
			h.renderMessage(c, http.StatusForbidden, "error.no_organisation", "")
			return
		}
		f.OrganisationID = *u.OrganisationID
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
	file := a.Evidence[i].File
	f, err := h.files.Open(file.SHA256)
	if err != nil {
		h.fail(c, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		h.fail(c, fmt.Errorf("handlers: stat %s: %w", file.SHA256, err))
		return
	}
	ctype, ok := downloadContentTypes[file.Kind]
	if !ok {
		ctype = "application/octet-stream"
	}
	fallback := fmt.Sprintf("appeal-%d-evidence-%d.%s", a.ID, eid, file.Kind)
	c.DataFromReader(http.StatusOK, st.Size(), ctype, f, map[string]string{
		"Content-Disposition":    contentDisposition(file.Name, fallback),
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "private, no-store",
	})
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
