package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// Calls: the public notice of a call, and the officers' form to create and
// edit one. Instants are typed in KST and stored in UTC.

// Blank rows the call form offers beyond the criteria and documents it has.
const (
	callFormCriteriaRows  = 6
	callFormDocumentRows  = 5
	callFormDefaultSlots  = 5
	callFormDefaultMaxPts = "100"
)

// showCallPage is the public notice of a call.
func (h *Handler) showCallPage(c *gin.Context) {
	call, ok := h.loadCall(c)
	if !ok {
		return
	}
	u := currentUser(c)
	h.changesAt(c, call.OpensAt, call.ClosesAt)
	now := h.now()
	v := views.CallNoticeView{Call: call, Now: now,
		CanApply:  u != nil && u.Role == models.RoleCompany && call.IsOpen(now),
		Ministry:  u != nil && u.Role.IsMinistry(),
		Programme: u != nil && (u.Role.IsMinistry() || u.Role == models.RoleAuditor),
	}
	h.render(c, http.StatusOK, views.CallNotice(h.page(c, "officer.call.notice_title"), v))
}

// showNewCallPage is the empty form for a new call.
func (h *Handler) showNewCallPage(c *gin.Context) {
	v := views.CallFormView{Slots: strconv.Itoa(callFormDefaultSlots), Errors: models.FieldErrors{}}
	v.RemediesKO, v.RemediesEN = (&models.Call{}).Remedies()
	if f := h.restoredForm(c, "/officer/calls"); f != nil {
		v = readCallForm(f)
		v.Errors = models.FieldErrors{}
	}
	v.Criteria, v.Documents = padCallRows(v.Criteria, v.Documents)
	h.render(c, http.StatusOK, views.CallForm(h.page(c, "officer.call.new_title"), v))
}

// createCall saves a new call, or shows the form again with what is wrong.
func (h *Handler) createCall(c *gin.Context) {
	ctx := c.Request.Context()
	v := readCallForm(postedForm(c))
	call, errs := callFromForm(v)
	if errs.Any() {
		h.renderCallForm(c, http.StatusUnprocessableEntity, v, errs)
		return
	}
	prog, err := models.CurrentProgramme(ctx, h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	call.ProgrammeID = prog.ID
	if err := models.SaveCall(ctx, h.db, call, currentUser(c), h.now()); err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/calls/%d", call.ID))
}

// showEditCallPage is the form filled with the call as it is now.
func (h *Handler) showEditCallPage(c *gin.Context) {
	call, ok := h.loadCall(c)
	if !ok {
		return
	}
	v := callFormOf(call)
	if f := h.restoredForm(c, fmt.Sprintf("/officer/calls/%d", call.ID)); f != nil {
		v = readCallForm(f)
		v.ID, v.Errors = call.ID, models.FieldErrors{}
		v.Criteria, v.Documents = padCallRows(v.Criteria, v.Documents)
	}
	h.render(c, http.StatusOK, views.CallForm(h.page(c, "officer.call.edit_title"), v))
}

// updateCall saves an edited call if nobody changed it since the form was
// loaded; a stale form is shown again with the officer's input kept.
func (h *Handler) updateCall(c *gin.Context) {
	ctx := c.Request.Context()
	stored, ok := h.loadCall(c)
	if !ok {
		return
	}
	v := readCallForm(postedForm(c))
	v.ID = stored.ID
	call, errs := callFromForm(v)
	if errs.Any() {
		h.renderCallForm(c, http.StatusUnprocessableEntity, v, errs)
		return
	}
	call.ID, call.ProgrammeID = stored.ID, stored.ProgrammeID
	err := models.SaveCall(ctx, h.db, call, currentUser(c), h.now())
	switch {
	case errors.Is(err, models.ErrConflict):
		v.Stale = true
		h.renderCallForm(c, http.StatusConflict, v, models.FieldErrors{})
		return
	case errors.Is(err, models.ErrInvalidTransition):
		v.Frozen = true
		h.renderCallForm(c, http.StatusConflict, v, models.FieldErrors{"criteria": "officer.call.criteria_frozen"})
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/calls/%d", call.ID))
}

func (h *Handler) renderCallForm(c *gin.Context, status int, v views.CallFormView, errs models.FieldErrors) {
	v.Errors = errs
	v.Criteria, v.Documents = padCallRows(v.Criteria, v.Documents)
	title := "officer.call.new_title"
	if v.ID != 0 {
		title = "officer.call.edit_title"
	}
	h.render(c, status, views.CallForm(h.page(c, title), v))
}

// loadCall loads the call named by the :id parameter, answering 404 itself
// when there is none.
func (h *Handler) loadCall(c *gin.Context) (*models.Call, bool) {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return nil, false
	}
	call, err := models.GetCall(c.Request.Context(), h.db, id)
	if err != nil {
		h.fail(c, err)
		return nil, false
	}
	return call, true
}

// callFormOf fills the form with a stored call.
func callFormOf(call *models.Call) views.CallFormView {
	v := views.CallFormView{ID: call.ID, Version: call.Version,
		TitleKO: call.TitleKO, TitleEN: call.TitleEN, DescriptionKO: call.DescriptionKO, DescriptionEN: call.DescriptionEN,
		OpensAt: kstInput(call.OpensAt), ClosesAt: kstInput(call.ClosesAt), Slots: strconv.Itoa(call.Slots),
		Errors: models.FieldErrors{}}
	v.RemediesKO, v.RemediesEN = call.Remedies()
	for _, cr := range call.Criteria {
		v.Criteria = append(v.Criteria, views.CriterionInput{NameKO: cr.NameKO, NameEN: cr.NameEN,
			Weight: strconv.FormatFloat(cr.Weight, 'f', -1, 64), MaxScore: strconv.Itoa(cr.MaxScore)})
	}
	for _, d := range call.Documents {
		v.Documents = append(v.Documents, views.DocumentInput{NameKO: d.NameKO, NameEN: d.NameEN, Required: d.Required})
	}
	v.Criteria, v.Documents = padCallRows(v.Criteria, v.Documents)
	return v
}

// padCallRows adds blank rows so that the form always offers room for more.
func padCallRows(cr []views.CriterionInput, docs []views.DocumentInput) ([]views.CriterionInput, []views.DocumentInput) {
	for len(cr) < max(callFormCriteriaRows, countCriteria(cr)+2) {
		cr = append(cr, views.CriterionInput{MaxScore: callFormDefaultMaxPts})
	}
	for len(docs) < max(callFormDocumentRows, countDocuments(docs)+2) {
		docs = append(docs, views.DocumentInput{Required: true})
	}
	return cr, docs
}

func countCriteria(rows []views.CriterionInput) int {
	n := 0
	for _, r := range rows {
		if !r.Blank() {
			n++
		}
	}
	return n
}

func countDocuments(rows []views.DocumentInput) int {
	n := 0
	for _, r := range rows {
		if !r.Blank() {
			n++
		}
	}
	return n
}

// readCallForm reads the posted form as typed: nothing is lost when it is
// shown again.
func readCallForm(f formValues) views.CallFormView {
	v := views.CallFormView{
		TitleKO: f.get("title_ko"), TitleEN: f.get("title_en"),
		DescriptionKO: f.get("description_ko"), DescriptionEN: f.get("description_en"),
		OpensAt: strings.TrimSpace(f.get("opens_at")), ClosesAt: strings.TrimSpace(f.get("closes_at")),
		Slots: strings.TrimSpace(f.get("slots")),
	}
	v.RemediesKO, v.RemediesEN = f.get("remedies_ko"), f.get("remedies_en")
	v.Version, _ = strconv.Atoi(f.get("version"))
	for i := 0; i < 50; i++ {
		p := fmt.Sprintf("criteria.%d.", i)
		if !f.has(p + "name_ko") {
			break
		}
		v.Criteria = append(v.Criteria, views.CriterionInput{NameKO: f.get(p + "name_ko"),
			NameEN: f.get(p + "name_en"), Weight: strings.TrimSpace(f.get(p + "weight")),
			MaxScore: strings.TrimSpace(f.get(p + "max_score"))})
	}
	for i := 0; i < 50; i++ {
		p := fmt.Sprintf("documents.%d.", i)
		if !f.has(p + "name_ko") {
			break
		}
		v.Documents = append(v.Documents, views.DocumentInput{NameKO: f.get(p + "name_ko"),
			NameEN: f.get(p + "name_en"), Required: f.get(p+"required") != ""})
	}
	return v
}

// callFromForm turns the typed form into a call and says what is wrong
// with it, by the form's own field names: a criterion's problem is reported
// on the row the officer typed it in, blank rows being ignored.
func callFromForm(v views.CallFormView) (*models.Call, models.FieldErrors) {
	errs := models.FieldErrors{}
	call := &models.Call{ID: v.ID, Version: v.Version, TitleKO: strings.TrimSpace(v.TitleKO), TitleEN: strings.TrimSpace(v.TitleEN),
		DescriptionKO: strings.TrimSpace(v.DescriptionKO), DescriptionEN: strings.TrimSpace(v.DescriptionEN),
		RemediesKO: strings.TrimSpace(v.RemediesKO), RemediesEN: strings.TrimSpace(v.RemediesEN)}
	var ok bool
	if call.OpensAt, ok = parseKST(v.OpensAt); !ok {
		errs.Add("opens_at", "form.datetime")
	}
	if call.ClosesAt, ok = parseKST(v.ClosesAt); !ok {
		errs.Add("closes_at", "form.datetime")
	}
	slots, err := strconv.Atoi(v.Slots)
	if err != nil {
		errs.Add("slots", "form.number")
	}
	call.Slots = slots
	var criteriaRow []int // the form row of each criterion kept
	for i, r := range v.Criteria {
		if r.Blank() {
			continue
		}
		field := fmt.Sprintf("criteria.%d", i)
		weight, err := strconv.ParseFloat(strings.TrimSpace(r.Weight), 64)
		if err != nil {
			errs.Add(field, "form.number")
		}
		maxScore, err := strconv.Atoi(strings.TrimSpace(r.MaxScore))
		if err != nil {
			errs.Add(field, "form.number")
		}
		call.Criteria = append(call.Criteria, models.Criterion{NameKO: strings.TrimSpace(r.NameKO),
			NameEN: strings.TrimSpace(r.NameEN), Weight: weight, MaxScore: maxScore})
		criteriaRow = append(criteriaRow, i)
	}
	var documentRow []int
	for i, r := range v.Documents {
		if r.Blank() {
			continue
		}
		call.Documents = append(call.Documents, models.RequiredDocument{NameKO: strings.TrimSpace(r.NameKO),
			NameEN: strings.TrimSpace(r.NameEN), Required: r.Required})
		documentRow = append(documentRow, i)
	}
	for field, msg := range call.Validate() {
		var i int
		switch {
		case sscanField(field, "criteria.%d", &i) && i < len(criteriaRow):
			field = fmt.Sprintf("criteria.%d", criteriaRow[i])
		case sscanField(field, "documents.%d", &i) && i < len(documentRow):
			field = fmt.Sprintf("documents.%d", documentRow[i])
		}
		errs.Add(field, msg)
	}
	return call, errs
}

// sscanField reads the index out of a field name like "criteria.3".
func sscanField(field, format string, i *int) bool {
	n, err := fmt.Sscanf(field, format, i)
	return err == nil && n == 1
}

// kstLayouts are the forms a KST date and time may be typed in: what
// <input type="datetime-local"> sends (seconds are left out when zero) and
// the same with a space.
var kstLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"}

// parseKST reads a date and time typed in Korea Standard Time, whatever the
// server's own time zone.
func parseKST(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range kstLayouts {
		if t, err := time.ParseInLocation(layout, s, models.KST); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// kstInput formats an instant for a datetime-local input, in KST.
func kstInput(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(models.KST).Format("2006-01-02T15:04:05")
}
