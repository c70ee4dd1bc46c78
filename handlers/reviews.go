package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/views"
)

// Review and selection: the list of a call's applications with their
// reviewers and its exports, the reviewer's own pages (conflict of interest,
// then scores), the ranking with the publication of the decision, and the
// list of the applicants not selected for the ministry's follow-up.

// callApplicationsPageSize is how many applications one page of the list shows.
const callApplicationsPageSize = 20

// showCallApplicationsPage lists a call's applications, filtered, sorted and
// paged. Officers assign reviewers here; scores are shown to the ministry as
// they come in, and to auditors only once the decision is published.
func (h *Handler) showCallApplicationsPage(c *gin.Context) {
	ctx := c.Request.Context()
	call, ok := h.loadCall(c)
	if !ok {
		return
	}
	u := currentUser(c)
	f := readAppListFilter(c)
	r, err := models.ReadCallApplications(ctx, h.db, call, models.ApplicationFilter{Status: models.ApplicationStatus(f.Status),
		Query: f.Query, Sort: f.Sort, Limit: callApplicationsPageSize, Offset: (f.Page - 1) * callApplicationsPageSize}, u)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := views.CallApplicationsView{Call: call, Filter: f, Total: r.Total, Ministry: u.Role.IsMinistry(), Decision: r.Decision,
		ShowScores: r.Scores != nil}
	for _, a := range r.Apps {
		row := views.CallApplicationRow{App: a, Assignments: r.Assignments[a.ID]}
		if sc, ok := r.Scores[a.ID]; ok {
			row.Score = &sc
		}
		v.Rows = append(v.Rows, row)
	}
	if f.Page > 1 {
		v.PrevPage = f.Page - 1
	}
	if int64(f.Page*callApplicationsPageSize) < r.Total {
		v.NextPage = f.Page + 1
	}
	if v.Ministry {
		if v.Reviewers, err = models.ListReviewers(ctx, h.db); err != nil {
			h.fail(c, err)
			return
		}
	}
	v.AssignedApp, _ = parseID(c.Query("assigned"))
	if code := c.Query("assign_error"); slices.Contains(assignErrorCodes, code) {
		v.AssignErrorID = "officer.assign.error." + code
		v.AssignErrorApp, _ = parseID(c.Query("app"))
	}
	h.render(c, http.StatusOK, views.CallApplications(h.page(c, "officer.applications.title"), v))
}

// exportCallApplications sends the filtered list (all pages) as CSV or XLSX.
func (h *Handler) exportCallApplications(c *gin.Context) {
	ctx := c.Request.Context()
	call, ok := h.loadCall(c)
	if !ok {
		return
	}
	format := c.DefaultQuery("format", "csv")
	if format != "csv" && format != "xlsx" {
		h.renderError(c, http.StatusBadRequest, nil)
		return
	}
	f := readAppListFilter(c)
	r, err := models.ReadCallApplications(ctx, h.db, call, models.ApplicationFilter{Status: models.ApplicationStatus(f.Status),
		Query: f.Query, Sort: f.Sort, Limit: 100000}, currentUser(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	apps, scores, assignments := r.Apps, r.Scores, r.Assignments
	t := func(id string) string { return i18n.T(ctx, id) }
	table := exportTable{Header: []string{t("officer.col.receipt"), t("officer.col.lead"), t("officer.col.lead_en"),
		t("officer.col.title"), t("officer.col.title_en"), t("officer.col.status"), t("officer.col.submitted"),
		t("officer.col.reviewers")}}
	if scores != nil {
		table.Header = append(table.Header, t("officer.col.rank"), t("officer.col.score"))
	}
	for _, a := range apps {
		as := assignments[a.ID]
		submitted := ""
		if a.SubmittedAt != nil {
			submitted = views.KST(*a.SubmittedAt)
		}
		row := []any{a.Receipt, a.LeadOrg.NameKO, a.LeadOrg.NameEN, a.TitleKO, a.TitleEN,
			t("officer.status." + string(a.Status)), submitted, len(as)}
		if scores != nil {
			if sc, ok := scores[a.ID]; ok && sc.Reviewers > 0 {
				row = append(row, sc.Rank, sc.Total)
			} else {
				row = append(row, "", "")
			}
		}
		table.Rows = append(table.Rows, row)
	}
	h.sendTable(c, format, fmt.Sprintf("call-%d-applications.%s", call.ID, format), t("officer.applications.sheet"), table)
}

// assignErrorCodes are the problems an assignment can come back with.
var assignErrorCodes = []string{"reviewer", "duplicate", "open", "state", "due"}

// assignReviewer makes an officer or admin a reviewer of an application and
// returns to the list with what happened.
func (h *Handler) assignReviewer(c *gin.Context) {
	ctx := c.Request.Context()
	appID, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	app, err := models.GetApplication(ctx, h.db, uint(appID))
	if err != nil {
		h.fail(c, err)
		return
	}
	back := localPath(c.PostForm("return"), fmt.Sprintf("/officer/calls/%d/applications", app.CallID))
	code := ""
	if reviewerID, ok := parseID(c.PostForm("reviewer_id")); !ok {
		code = "reviewer"
	} else {
		err := models.AssignReviewerDue(ctx, h.db, app.ID, reviewerID, c.PostForm("due"), currentUser(c), h.now())
		switch {
		case err == nil:
		case errors.Is(err, models.ErrInvalidDue):
			code = "due"
		case errors.Is(err, models.ErrNotFound), errors.Is(err, models.ErrInvalid):
			code = "reviewer"
		case errors.Is(err, models.ErrConflict):
			code = "duplicate"
		case errors.Is(err, models.ErrReviewBeforeClose):
			code = "open"
		case errors.Is(err, models.ErrInvalidTransition):
			code = "state"
		default:
			h.fail(c, err)
			return
		}
	}
	if code != "" {
		c.Redirect(http.StatusSeeOther, withQuery(back, "assign_error", code, "app", itoaU(app.ID)))
		return
	}
	c.Redirect(http.StatusSeeOther, withQuery(back, "assigned", itoaU(app.ID)))
}

// showMyReviewsPage lists the signed-in reviewer's assignments: an
// officer's, or an external evaluator's, for whom it is the start page.
func (h *Handler) showMyReviewsPage(c *gin.Context) {
	ctx := c.Request.Context()
	as, err := models.AssignmentsOf(ctx, h.db, currentUser(c).ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	ids := make([]uint, len(as))
	for i, a := range as {
		ids[i] = a.ApplicationID
	}
	apps, err := models.GetApplications(ctx, h.db, ids)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := views.MyReviewsView{Evaluator: currentUser(c).Role == models.RoleReviewer, Now: h.now()}
	for _, a := range as {
		v.Rows = append(v.Rows, views.MyReviewRow{Assignment: a, App: apps[a.ApplicationID]})
	}
	h.render(c, http.StatusOK, views.MyReviews(h.page(c, "officer.reviews.title"), v))
}

// showReviewPage is one assignment: the application, the conflict-of-interest
// declaration and, once no conflict is declared, the score sheet. Only the
// assigned reviewer sees it; anyone else gets 404.
func (h *Handler) showReviewPage(c *gin.Context) {
	v, ok := h.loadReview(c)
	if !ok {
		return
	}
	v.Saved = c.Query("saved") == "1"
	h.render(c, http.StatusOK, views.Review(h.page(c, "officer.review.title"), v))
}

// declareConflict records the reviewer's statement: no conflict, or recusal.
func (h *Handler) declareConflict(c *gin.Context) {
	v, ok := h.loadReview(c)
	if !ok {
		return
	}
	conflict := c.PostForm("conflict")
	if conflict != models.ConflictNone && conflict != models.ConflictRecused {
		v.Errors = models.FieldErrors{"conflict": "officer.review.conflict_choose"}
		h.render(c, http.StatusUnprocessableEntity, views.Review(h.page(c, "officer.review.title"), v))
		return
	}
	err := models.DeclareConflict(c.Request.Context(), h.db, v.Assignment.ID, conflict, currentUser(c), h.now())
	switch {
	case errors.Is(err, models.ErrInvalidTransition):
		v.MessageID = "officer.review.already_declared"
		h.render(c, http.StatusConflict, views.Review(h.page(c, "officer.review.title"), v))
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/reviews/%d", v.Assignment.ID))
}

// saveScores saves the reviewer's score and comment for every criterion.
func (h *Handler) saveScores(c *gin.Context) {
	v, ok := h.loadReview(c)
	if !ok {
		return
	}
	errs := models.FieldErrors{}
	var in []models.ScoreInput
	v.Inputs = map[uint]views.ScoreFieldInput{}
	for _, cr := range v.App.Call.Criteria {
		raw := strings.TrimSpace(c.PostForm(fmt.Sprintf("score.%d", cr.ID)))
		comment := c.PostForm(fmt.Sprintf("comment.%d", cr.ID))
		v.Inputs[cr.ID] = views.ScoreFieldInput{Value: raw, Comment: comment}
		if raw == "" {
			continue // ValidateScores says it is required
		}
		value, err := strconv.ParseFloat(strings.Replace(raw, ",", ".", 1), 64)
		if err != nil {
			errs.Add(fmt.Sprintf("score.%d", cr.ID), "form.number")
			continue
		}
		in = append(in, models.ScoreInput{CriterionID: cr.ID, Value: value, Comment: comment})
	}
	for field, msg := range models.ValidateScores(v.App.Call.Criteria, in) {
		errs.Add(field, msg)
	}
	render := func(status int) {
		h.render(c, status, views.Review(h.page(c, "officer.review.title"), v))
	}
	if errs.Any() {
		v.Errors = errs
		render(http.StatusUnprocessableEntity)
		return
	}
	err := models.SaveScores(c.Request.Context(), h.db, v.Assignment.ID, in, currentUser(c), h.now())
	switch {
	case errors.Is(err, models.ErrConflictNotStated):
		v.MessageID = "officer.review.declare_first"
		render(http.StatusConflict)
		return
	case errors.Is(err, models.ErrRecused):
		v.MessageID = "officer.review.recused_no_score"
		render(http.StatusConflict)
		return
	case errors.Is(err, models.ErrInvalidTransition):
		v.MessageID = "officer.review.not_under_review"
		render(http.StatusConflict)
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/reviews/%d?saved=1", v.Assignment.ID))
}

// loadReview loads the signed-in user's assignment named by :aid with its
// application; another reviewer's assignment is "not found".
func (h *Handler) loadReview(c *gin.Context) (views.ReviewView, bool) {
	ctx := c.Request.Context()
	id, ok := idParam(c, "aid")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return views.ReviewView{}, false
	}
	a, app, err := models.GetOwnAssignment(ctx, h.db, id, currentUser(c))
	if err != nil {
		h.fail(c, err)
		return views.ReviewView{}, false
	}
	v := views.ReviewView{Assignment: *a, App: app, Inputs: map[uint]views.ScoreFieldInput{}, Errors: models.FieldErrors{},
		Evaluator: currentUser(c).Role == models.RoleReviewer}
	for _, s := range a.Scores {
		v.Inputs[s.CriterionID] = views.ScoreFieldInput{Value: strconv.FormatFloat(s.Value, 'f', -1, 64), Comment: s.Comment}
	}
	return v, true
}

// showRankingPage shows the ranking by weighted score and the form that
// confirms the selection and publishes the decision.
func (h *Handler) showRankingPage(c *gin.Context) {
	call, ok := h.loadCall(c)
	if !ok {
		return
	}
	v, err := h.rankingView(c.Request.Context(), call)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.Ranking(h.page(c, "officer.ranking.title"), v))
}

// publishDecision marks the confirmed applications selected and the others
// not selected, and publishes the decision; after an upheld appeal, the
// corrected decision that supersedes the current one (it opens its own
// appeal window).
func (h *Handler) publishDecision(c *gin.Context) {
	ctx := c.Request.Context()
	call, ok := h.loadCall(c)
	if !ok {
		return
	}
	v, err := h.rankingView(ctx, call)
	if err != nil {
		h.fail(c, err)
		return
	}
	render := func(status int) {
		h.render(c, status, views.Ranking(h.page(c, "officer.ranking.title"), v))
	}
	var in models.PublishInput
	in, v.Form, v.Errors = readPublishForm(c, call)
	// Once published, the only decision left to publish is the correction
	// of one under re-review, and the form names the decision it corrects
	// (a page from before another correction is stale).
	if err := models.CheckSupersedes(ctx, h.db, call.ID, in.Supersedes); err != nil {
		switch {
		case errors.Is(err, models.ErrConflict), errors.Is(err, models.ErrInvalidTransition):
			v.MessageID = "officer.decision.already_published"
		case errors.Is(err, models.ErrInvalid):
			v.MessageID = "officer.decision.changed" // a stale page: nothing to correct
		default:
			h.fail(c, err)
			return
		}
		render(http.StatusConflict)
		return
	}
	// The generated text is shown again for the rule and deadline as sent;
	// the text the page showed must be the text published.
	if !v.Errors.Has("explicit_close") && in.CountingRule.Valid() {
		if v.Texts, err = models.NoticeTextsFor(ctx, h.db, call, in.CountingRule, in.ExplicitClose, h.now()); err != nil {
			h.fail(c, err)
			return
		}
	}
	if c.PostForm("preview") != "" {
		render(http.StatusOK)
		return
	}
	errs, err := models.CheckPublish(ctx, h.db, in, h.now())
	for field, msg := range errs {
		v.Errors.Add(field, msg)
	}
	switch {
	case v.Errors.Any():
		render(http.StatusUnprocessableEntity)
		return
	case err != nil:
		if !h.publishRefused(c, &v, err, render) {
			h.fail(c, err)
		}
		return
	case !confirmed(c) && editing(c):
		render(http.StatusOK)
		return
	case !confirmed(c):
		h.confirmPublish(c, v, in)
		return
	}
	d, err := models.PublishSelection(ctx, h.db, in, currentUser(c), h.now())
	if err != nil {
		if !h.publishRefused(c, &v, err, render) {
			h.fail(c, err)
		}
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/decisions/%d", d.ID))
}

// publishRefused answers a publication the rules refuse (409) and reports
// whether err was such a refusal.
func (h *Handler) publishRefused(c *gin.Context, v *views.RankingView, err error, render func(int)) bool {
	switch {
	case errors.Is(err, models.ErrNoticeChanged):
		// Asked to confirm a text that is no longer what would be published.
		v.MessageID = "legal.notice.changed"
	case errors.Is(err, models.ErrConflict):
		v.MessageID = "officer.decision.already_published"
	case errors.Is(err, models.ErrInvalid), errors.Is(err, models.ErrInvalidTransition),
		errors.Is(err, models.ErrReviewBeforeClose):
		// The ranking changed between the page and the click.
		v.MessageID = "officer.decision.changed"
	default:
		return false
	}
	render(http.StatusConflict)
	return true
}

// readPublishForm reads the officer's confirmation as typed, and what is
// wrong with the parts that do not parse.
func readPublishForm(c *gin.Context, call *models.Call) (models.PublishInput, views.PublishForm, models.FieldErrors) {
	errs := models.FieldErrors{}
	form := views.PublishForm{Selected: map[uint]bool{}, NoticeKO: c.PostForm("notice_ko"), NoticeEN: c.PostForm("notice_en"),
		CountingRule: c.PostForm("counting_rule"), ExplicitClose: strings.TrimSpace(c.PostForm("explicit_close"))}
	in := models.PublishInput{CallID: call.ID, NoticeKO: form.NoticeKO, NoticeEN: form.NoticeEN,
		Shown: &models.NoticeTexts{WindowKO: c.PostForm("window_notice_ko"), WindowEN: c.PostForm("window_notice_en"),
			RemediesKO: c.PostForm("remedies_ko"), RemediesEN: c.PostForm("remedies_en")}}
	in.Supersedes, _ = parseID(c.PostForm("supersedes"))
	for _, s := range c.PostFormArray("selected") {
		id, ok := parseID(s)
		if !ok {
			errs.Add("selected", "decision.error.not_ranked")
			continue
		}
		if !form.Selected[id] {
			form.Selected[id] = true
			in.Selected = append(in.Selected, id)
		}
	}
	rule, err := models.ParseCountingRule(form.CountingRule)
	if err != nil {
		rule = models.CountingRule(form.CountingRule) // Validate reports it
	}
	in.CountingRule = rule
	if form.ExplicitClose != "" {
		t, ok := parseKST(form.ExplicitClose)
		if ok {
			in.ExplicitClose = &t // a past instant is refused by models.CheckPublish
		} else {
			errs.Add("explicit_close", "form.datetime")
		}
	}
	return in, form, errs
}

// rankingView ranks a call's applications and fills the publication form
// with its defaults: the top N (N = slots) ticked, the civil counting rule.
func (h *Handler) rankingView(ctx context.Context, call *models.Call) (views.RankingView, error) {
	v := views.RankingView{Call: call, Errors: models.FieldErrors{}, Now: h.now()}
	r, err := models.ReadCallRanking(ctx, h.db, call, v.Now)
	if err != nil {
		return v, err
	}
	for _, x := range r.Ranking {
		v.Rows = append(v.Rows, views.RankingRow{Ranked: x, App: r.Apps[x.ApplicationID]})
	}
	v.Pending, v.Decision, v.Correcting, v.Texts = r.Pending, r.Decision, r.Correcting, r.Texts
	v.Form = views.PublishForm{Selected: map[uint]bool{}, CountingRule: string(models.RuleCivil),
		NoticeKO: h.cat.For(i18n.Korean).T("officer.decision.notice_default", map[string]any{"Title": call.TitleKO}),
		NoticeEN: h.cat.For(i18n.English).T("officer.decision.notice_default", map[string]any{"Title": call.TitleEN})}
	for _, id := range r.Proposed {
		v.Form.Selected[id] = true
	}
	return v, nil
}

// showFollowUpPage lists, once the decision is published, the applicants
// not selected: the ranks just after the slots (6–10 for five slots) and the
// rest, each with the follow-up programme proposed to it; officers record
// and update each entry on the page, auditors read it.
func (h *Handler) showFollowUpPage(c *gin.Context) {
	v, ok := h.followUpView(c)
	if !ok {
		return
	}
	if c.Query("done") == "follow_up" {
		v.Notice = "support.notice.follow_up"
	}
	h.render(c, http.StatusOK, views.FollowUp(h.page(c, "officer.follow_up.title"), v))
}

// followUpView builds the follow-up page of the call named by :id; false
// when it answered already.
func (h *Handler) followUpView(c *gin.Context) (views.FollowUpView, bool) {
	call, ok := h.loadCall(c)
	if !ok {
		return views.FollowUpView{}, false
	}
	d, err := h.callSelection(c.Request.Context(), call.ID)
	if err != nil {
		h.fail(c, err)
		return views.FollowUpView{}, false
	}
	v := views.FollowUpView{Call: call, Decision: d, Ministry: currentUser(c).Role.IsMinistry(),
		NearFrom: call.Slots + 1, NearTo: call.Slots + 5}
	if d != nil {
		for _, e := range d.Entries {
			switch {
			case e.Selected:
			case e.Rank <= v.NearTo:
				v.Near = append(v.Near, e)
			default:
				v.Rest = append(v.Rest, e)
			}
		}
		if v.Entries, err = models.CallFollowUps(c.Request.Context(), h.db, call.ID); err != nil {
			h.fail(c, err)
			return v, false
		}
	}
	return v, true
}

// saveFollowUp records the follow-up of an applicant not selected.
func (h *Handler) saveFollowUp(c *gin.Context) {
	callID, ok1 := idParam(c, "id")
	orgID, ok2 := idParam(c, "org")
	if !ok1 || !ok2 {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	in := models.FollowUpInput{Programme: c.PostForm("programme"), Contact: c.PostForm("contact"), Status: c.PostForm("status"),
		Notes: c.PostForm("notes")}
	_, err := models.SaveFollowUp(c.Request.Context(), h.db, callID, orgID, in, currentUser(c), h.now())
	if err == nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/officer/calls/%d/follow-up?done=follow_up", callID))
		return
	}
	var refused *models.FieldsError
	if !errors.As(err, &refused) {
		h.fail(c, err)
		return
	}
	v, ok := h.followUpView(c)
	if !ok {
		return
	}
	v.For, v.Form, v.Errors = orgID, in, refused.Fields
	h.render(c, http.StatusUnprocessableEntity, views.FollowUp(h.page(c, "officer.follow_up.title"), v))
}

// showCompanyFollowUpPage shows a company its own follow-up entries.
func (h *Handler) showCompanyFollowUpPage(c *gin.Context) {
	fs, err := models.ListFollowUps(c.Request.Context(), h.db, currentUser(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.CompanyFollowUp(h.page(c, "support.follow_up.company_title"), views.CompanyFollowUpView{Entries: fs}))
}

// callSelection returns the call's current published selection (the latest
// correction, if any), or nil if there is none yet.
func (h *Handler) callSelection(ctx context.Context, callID uint) (*models.Decision, error) {
	return models.CurrentSelection(ctx, h.db, callID)
}

// readAppListFilter reads the list's filter from the query, dropping what
// is not a known status or sort.
func readAppListFilter(c *gin.Context) views.AppListFilter {
	f := views.AppListFilter{Query: strings.TrimSpace(c.Query("q")), Page: 1}
	if s := models.ApplicationStatus(c.Query("status")); slices.Contains(models.ApplicationStatuses, s) {
		f.Status = string(s)
	}
	if key, _ := strings.CutPrefix(c.Query("sort"), "-"); slices.Contains(views.AppListSorts, key) {
		f.Sort = c.Query("sort")
	}
	if p, err := strconv.Atoi(c.Query("page")); err == nil && p > 1 && p < 100000 {
		f.Page = p
	}
	return f
}

// withQuery adds query parameters (name, value, name, value…) to a local path.
func withQuery(path string, kv ...string) string {
	u, err := url.Parse(path)
	if err != nil {
		return path
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func itoaU(id uint) string { return strconv.FormatUint(uint64(id), 10) }
