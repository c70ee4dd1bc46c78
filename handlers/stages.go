package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// Stage evaluations (단계평가): officers define stages and their criteria
// sets, publish a set for the teams' opinions, answer them and freeze the
// set, assign evaluators, import results and publish the decision; teams
// send opinions and stage reports; evaluators declare and score; everyone
// reads the public page of each stage. The decision's finality and its
// cascade are FinaliseStages' (the background loop).

// maxResultsFile is the largest results file accepted.
const maxResultsFile = 1 << 20

// showStagesPage is the public list of stages.
func (h *Handler) showStagesPage(c *gin.Context) {
	stages, err := models.ListStages(c.Request.Context(), h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	now := h.now()
	for _, s := range stages {
		if s.OpinionsClose != nil {
			h.changesAt(c, *s.OpinionsClose)
		}
	}
	h.render(c, http.StatusOK, views.StageList(h.page(c, "stage.list.title"), views.StageListView{Stages: stages, Now: now}))
}

// loadStage loads the stage of :id, or answers 404.
func (h *Handler) loadStage(c *gin.Context) (*models.Stage, bool) {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return nil, false
	}
	s, err := models.GetStage(c.Request.Context(), h.db, id)
	if err != nil {
		h.fail(c, err)
		return nil, false
	}
	return s, true
}

// showStagePage is the public page of a stage: its set, each team's
// result, who continues, the appeal window and the teams' public services.
func (h *Handler) showStagePage(c *gin.Context) {
	s, ok := h.loadStage(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	now := h.now()
	v := views.StagePublicView{Stage: s, Now: now}
	if s.OpinionsClose != nil {
		h.changesAt(c, *s.OpinionsClose)
	}
	if s.DecisionID != nil {
		var err error
		if v.Decision, err = models.GetDecision(ctx, h.db, *s.DecisionID); err != nil {
			h.fail(c, err)
			return
		}
		f, err := models.CheckStageFinality(ctx, h.db, v.Decision, now)
		if err != nil {
			h.fail(c, err)
			return
		}
		v.Finality = &f
		h.changesAt(c, f.Window.Closes)
		if v.Standing, err = models.RankStageTeams(ctx, h.db, s); err != nil {
			h.fail(c, err)
			return
		}
	}
	reps, err := models.ListStageReports(ctx, h.db, s.ID, nil, true)
	if err != nil {
		h.fail(c, err)
		return
	}
	v.Reports = reps
	h.render(c, http.StatusOK, views.StagePublic(h.page(c, "stage.public.title"), v))
}

// downloadStageReportFile sends a stage report's document to whoever may
// read the team's data, and to the stage's evaluators.
func (h *Handler) downloadStageReportFile(c *gin.Context) {
	sid, ok1 := idParam(c, "id")
	rid, ok2 := idParam(c, "rid")
	fid, ok3 := idParam(c, "fid")
	if !ok1 || !ok2 || !ok3 {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	f, err := models.StageReportFileFor(c.Request.Context(), h.db, sid, rid, fid, currentUser(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	h.sendStoredFile(c, f, fmt.Sprintf("stage-report-%d.%s", f.ID, f.Kind))
}

// showStagesAdminPage lists the stages with the form for a new one.
func (h *Handler) showStagesAdminPage(c *gin.Context) {
	in, err := models.NewStageInput(c.Request.Context(), h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.renderStagesAdmin(c, http.StatusOK, in, nil)
}

func (h *Handler) renderStagesAdmin(c *gin.Context, status int, in models.StageInput, errs models.FieldErrors) {
	stages, err := models.ListStages(c.Request.Context(), h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, status, views.StageList(h.page(c, "stage.admin.list_title"),
		views.StageListView{Stages: stages, Now: h.now(), Officer: true, Form: in, Errors: errs}))
}

func stageInput(c *gin.Context) models.StageInput {
	return models.StageInput{NameKO: c.PostForm("name_ko"), NameEN: c.PostForm("name_en"), StartsOn: c.PostForm("starts_on"),
		EvaluatedOn: c.PostForm("evaluated_on"), ReportDue: c.PostForm("report_due"), Eliminate: c.PostForm("eliminate"),
		CarryOver: c.PostForm("carry_over") == "1"}
}

// createStage defines a stage.
func (h *Handler) createStage(c *gin.Context) {
	in := stageInput(c)
	s, errs, err := models.CreateStage(c.Request.Context(), h.db, in, currentUser(c), h.now())
	switch {
	case errors.Is(err, models.ErrInvalid):
		h.renderStagesAdmin(c, http.StatusUnprocessableEntity, in, errs)
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/officer/stages/%d?done=created", s.ID))
}

// showStageAdminPage is the officers' page of a stage.
func (h *Handler) showStageAdminPage(c *gin.Context) {
	s, ok := h.loadStage(c)
	if !ok {
		return
	}
	v := views.StageAdminView{Done: doneParam(c, "created", "updated", "criterion", "opened", "answered", "frozen",
		"evaluator", "imported", "published")}
	h.renderStageAdmin(c, http.StatusOK, s, v)
}

func doneParam(c *gin.Context, allowed ...string) string {
	d := c.Query("done")
	for _, a := range allowed {
		if d == a {
			return d
		}
	}
	return ""
}

// renderStageAdmin fills the officers' page around what v already holds
// (a refused form and its messages).
func (h *Handler) renderStageAdmin(c *gin.Context, status int, s *models.Stage, v views.StageAdminView) {
	ctx := c.Request.Context()
	u := currentUser(c)
	now := h.now()
	v.Stage, v.Now = s, now
	if v.StageErrors == nil {
		v.StageForm = models.StageInput{NameKO: s.NameKO, NameEN: s.NameEN, StartsOn: s.StartsOn, EvaluatedOn: s.EvaluatedOn,
			ReportDue: models.FormatStageInstant(s.ReportDue), Eliminate: fmt.Sprint(s.Eliminate)}
	}
	if v.OpenErrors == nil {
		v.OpinionsClose = models.FormatStageInstant(s.OpinionsClose)
	}
	var err error
	if v.Revisions, err = models.ListRevisions(ctx, h.db, s.ID); err != nil {
		h.fail(c, err)
		return
	}
	if v.Opinions, err = models.ListOpinions(ctx, h.db, s.ID, u); err != nil {
		h.fail(c, err)
		return
	}
	if v.Reports, err = models.ListStageReports(ctx, h.db, s.ID, u, false); err != nil {
		h.fail(c, err)
		return
	}
	if v.Evaluators, err = models.ListStageEvaluators(ctx, h.db, s.ID); err != nil {
		h.fail(c, err)
		return
	}
	if v.Candidates, err = models.ListStageEvaluatorCandidates(ctx, h.db); err != nil {
		h.fail(c, err)
		return
	}
	if s.Frozen() {
		if v.Standing, err = models.RankStageTeams(ctx, h.db, s); err != nil {
			h.fail(c, err)
			return
		}
	}
	if s.DecisionID != nil {
		if v.Decision, err = models.GetDecision(ctx, h.db, *s.DecisionID); err != nil {
			h.fail(c, err)
			return
		}
		f, err := models.CheckStageFinality(ctx, h.db, v.Decision, now)
		if err != nil {
			h.fail(c, err)
			return
		}
		v.Finality = &f
	}
	h.render(c, status, views.StageAdmin(h.page(c, "stage.admin.title"), v))
}

// stageStep runs an officer's step on the stage of :id: refused input
// re-renders the page with fill's messages; success redirects with done.
func (h *Handler) stageStep(c *gin.Context, done string, step func(s *models.Stage) (models.FieldErrors, error),
	fill func(v *views.StageAdminView, errs models.FieldErrors)) {
	s, ok := h.loadStage(c)
	if !ok {
		return
	}
	errs, err := step(s)
	switch {
	case errors.Is(err, models.ErrStageFrozen):
		h.renderError(c, http.StatusConflict, nil)
		return
	case errors.Is(err, models.ErrInvalid):
		if errs == nil {
			errs = models.FieldErrors{}
		}
		if !errs.Any() {
			errs.Add("form", "form.has_errors")
		}
		s, err = models.GetStage(c.Request.Context(), h.db, s.ID)
		if err != nil {
			h.fail(c, err)
			return
		}
		var v views.StageAdminView
		fill(&v, errs)
		h.renderStageAdmin(c, http.StatusUnprocessableEntity, s, v)
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/officer/stages/%d?done=%s", s.ID, done))
}

// updateStage changes the stage's names, dates and number to eliminate.
func (h *Handler) updateStage(c *gin.Context) {
	in := stageInput(c)
	h.stageStep(c, "updated", func(s *models.Stage) (models.FieldErrors, error) {
		return models.UpdateStage(c.Request.Context(), h.db, s.ID, in, currentUser(c), h.now())
	}, func(v *views.StageAdminView, errs models.FieldErrors) { v.StageForm, v.StageErrors = in, errs })
}

// addCriterion adds a criterion to the set.
func (h *Handler) addCriterion(c *gin.Context) {
	in := models.CriterionInput{Code: c.PostForm("code"), Kind: c.PostForm("kind"), NameKO: c.PostForm("crit_name_ko"),
		NameEN: c.PostForm("crit_name_en"), Weight: c.PostForm("weight"), Scale: c.PostForm("scale")}
	h.stageStep(c, "criterion", func(s *models.Stage) (models.FieldErrors, error) {
		return models.AddCriterion(c.Request.Context(), h.db, s.ID, in, currentUser(c), h.now())
	}, func(v *views.StageAdminView, errs models.FieldErrors) { v.CritForm, v.CritErrors = in, errs })
}

// removeCriterion removes a criterion from the set.
func (h *Handler) removeCriterion(c *gin.Context) {
	cid, ok := idParam(c, "cid")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	h.stageStep(c, "criterion", func(s *models.Stage) (models.FieldErrors, error) {
		return nil, models.RemoveCriterion(c.Request.Context(), h.db, s.ID, cid, currentUser(c), h.now())
	}, func(*views.StageAdminView, models.FieldErrors) {})
}

// openOpinions publishes the set to the teams until a closing instant.
func (h *Handler) openOpinions(c *gin.Context) {
	closes := c.PostForm("opinions_close")
	h.stageStep(c, "opened", func(s *models.Stage) (models.FieldErrors, error) {
		return models.OpenOpinions(c.Request.Context(), h.db, s.ID, closes, currentUser(c), h.now())
	}, func(v *views.StageAdminView, errs models.FieldErrors) { v.OpinionsClose, v.OpenErrors = closes, errs })
}

// answerOpinion records the answer to a team's opinion.
func (h *Handler) answerOpinion(c *gin.Context) {
	oid, ok := idParam(c, "oid")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	answer := c.PostForm("answer")
	h.stageStep(c, "answered", func(s *models.Stage) (models.FieldErrors, error) {
		return models.AnswerOpinion(c.Request.Context(), h.db, s.ID, oid, answer, currentUser(c), h.now())
	}, func(v *views.StageAdminView, errs models.FieldErrors) {
		v.AnswerID, v.Answer, v.AnswerErrors = oid, answer, errs
	})
}

// freezeStage freezes the set, after a confirmation page (a frozen set
// cannot change).
func (h *Handler) freezeStage(c *gin.Context) {
	if !confirmed(c) {
		s, ok := h.loadStage(c)
		if !ok {
			return
		}
		if s.Frozen() {
			h.renderError(c, http.StatusConflict, nil)
			return
		}
		h.renderConfirm(c, views.ConfirmView{TitleID: "stage.confirm.freeze.title", EffectID: "stage.confirm.freeze.effect",
			SubmitID: "stage.confirm.freeze.submit", Action: c.Request.URL.Path, Back: fmt.Sprintf("/officer/stages/%d", s.ID)},
			views.StageConfirm(h.page(c, "stage.confirm.freeze.title"), views.StageSummary{Stage: s}))
		return
	}
	h.stageStep(c, "frozen", func(s *models.Stage) (models.FieldErrors, error) {
		return models.FreezeStage(c.Request.Context(), h.db, s.ID, currentUser(c), h.now())
	}, func(v *views.StageAdminView, errs models.FieldErrors) { v.FreezeErrors = errs })
}

// assignStageEvaluator assigns an officer or an external reviewer.
func (h *Handler) assignStageEvaluator(c *gin.Context) {
	s, ok := h.loadStage(c)
	if !ok {
		return
	}
	uid, ok := parseID(c.PostForm("user_id"))
	var err error
	if ok {
		err = models.AssignStageEvaluatorDue(c.Request.Context(), h.db, s.ID, uid, c.PostForm("due"), currentUser(c), h.now())
	}
	switch {
	case errors.Is(err, models.ErrInvalidDue):
		h.renderStageAdmin(c, http.StatusUnprocessableEntity, s, views.StageAdminView{EvaluatorError: "stage.error.evaluator_due",
			EvaluatorDue: c.PostForm("due")})
		return
	case !ok, errors.Is(err, models.ErrInvalid), errors.Is(err, models.ErrNotFound):
		h.renderStageAdmin(c, http.StatusUnprocessableEntity, s, views.StageAdminView{EvaluatorError: "stage.error.evaluator"})
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/officer/stages/%d?done=evaluator", s.ID))
}

// importStageResults imports the benchmark and public-evaluation results.
func (h *Handler) importStageResults(c *gin.Context) {
	s, ok := h.loadStage(c)
	if !ok {
		return
	}
	refuse := func(msg string, probs []models.CSVError) {
		h.renderStageAdmin(c, http.StatusUnprocessableEntity, s, views.StageAdminView{ImportErrorID: msg, Import: probs})
	}
	fh, err := c.FormFile("file")
	if err != nil {
		refuse("stage.csv.no_file", nil)
		return
	}
	if fh.Size > maxResultsFile {
		refuse("stage.error.file_too_large", nil)
		return
	}
	file, err := fh.Open()
	if err != nil {
		h.fail(c, err)
		return
	}
	data, err := io.ReadAll(io.LimitReader(file, maxResultsFile+1))
	file.Close()
	if err != nil {
		h.fail(c, err)
		return
	}
	probs, _, err := models.ImportStageResults(c.Request.Context(), h.db, s.ID, strings.NewReader(string(data)), currentUser(c), h.now())
	switch {
	case errors.Is(err, models.ErrCSVInvalid):
		refuse("stage.csv.invalid", probs)
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/officer/stages/%d?done=imported", s.ID))
}

// publishStageDecision publishes the stage's decision after a
// confirmation page that shows the ranking and who is eliminated.
func (h *Handler) publishStageDecision(c *gin.Context) {
	form := views.StageDecisionForm{NoticeKO: c.PostForm("notice_ko"), NoticeEN: c.PostForm("notice_en"), CountingRule: c.PostForm("counting_rule")}
	rule, rerr := models.ParseCountingRule(form.CountingRule)
	s, ok := h.loadStage(c)
	if !ok {
		return
	}
	in := models.StageDecisionInput{StageID: s.ID, NoticeKO: form.NoticeKO, NoticeEN: form.NoticeEN, CountingRule: rule}
	refuse := func(errs models.FieldErrors) {
		h.renderStageAdmin(c, http.StatusUnprocessableEntity, s, views.StageAdminView{DecisionForm: form, DecisionErrors: errs})
	}
	if rerr != nil {
		refuse(models.FieldErrors{"counting_rule": "decision.error.rule"})
		return
	}
	if !confirmed(c) {
		errs := models.FieldErrors{}
		if strings.TrimSpace(form.NoticeKO) == "" {
			errs.Add("notice_ko", "form.required")
		}
		if strings.TrimSpace(form.NoticeEN) == "" {
			errs.Add("notice_en", "form.required")
		}
		if !s.Frozen() {
			errs.Add("decision", "stage.error.not_frozen")
		}
		if errs.Any() {
			refuse(errs)
			return
		}
		st, err := models.RankStageTeams(c.Request.Context(), h.db, s)
		if err != nil {
			h.fail(c, err)
			return
		}
		h.renderConfirm(c, views.ConfirmView{TitleID: "stage.confirm.publish.title", EffectID: "stage.confirm.publish.effect",
			SubmitID: "stage.confirm.publish.submit", Action: c.Request.URL.Path, Back: fmt.Sprintf("/officer/stages/%d", s.ID)},
			views.StageConfirm(h.page(c, "stage.confirm.publish.title"), views.StageSummary{Stage: s, Standing: st}))
		return
	}
	_, errs, err := models.PublishStageDecision(c.Request.Context(), h.db, in, currentUser(c), h.now())
	switch {
	case errors.Is(err, models.ErrInvalid):
		if !errs.Any() {
			errs = models.FieldErrors{"decision": "stage.error.incomplete"}
		}
		refuse(errs)
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/officer/stages/%d?done=published", s.ID))
}

// showStageTeamPage is a team's page of a stage: the proposed set, its
// opinions and its stage report.
func (h *Handler) showStageTeamPage(c *gin.Context) {
	s, ok := h.loadStage(c)
	if !ok {
		return
	}
	h.renderStageTeam(c, http.StatusOK, s, views.StageTeamView{Done: doneParam(c, "opinion", "report")})
}

func (h *Handler) renderStageTeam(c *gin.Context, status int, s *models.Stage, v views.StageTeamView) {
	ctx := c.Request.Context()
	u := currentUser(c)
	now := h.now()
	v.Stage, v.Now = s, now
	var err error
	if v.Opinions, err = models.ListOpinions(ctx, h.db, s.ID, u); err != nil {
		h.fail(c, err)
		return
	}
	reps, err := models.ListStageReports(ctx, h.db, s.ID, u, false)
	if err != nil {
		h.fail(c, err)
		return
	}
	if len(reps) > 0 {
		v.Report = &reps[0]
		if v.ReportErrors == nil {
			r := reps[0]
			v.ReportForm = models.StageReportInput{ModelVersions: r.ModelVersions, ServiceName: r.ServiceName,
				ServiceURL: r.ServiceURL, ServiceDescription: r.ServiceDescription}
		}
	}
	if u.OrganisationID != nil {
		today := models.DateOf(now)
		_, err := models.CheckStanding(ctx, h.db, *u.OrganisationID, today, today)
		v.Standing = err == nil
	}
	h.render(c, status, views.StageTeam(h.page(c, "stage.team.title"), v))
}

// sendOpinion records the team's opinion on the proposed set.
func (h *Handler) sendOpinion(c *gin.Context) {
	s, ok := h.loadStage(c)
	if !ok {
		return
	}
	text := c.PostForm("text")
	errs, err := models.SendOpinion(c.Request.Context(), h.db, s.ID, text, currentUser(c), h.now())
	var closed *models.StageClosedError
	switch {
	case errors.As(err, &closed):
		h.renderStageTeam(c, http.StatusUnprocessableEntity, s, views.StageTeamView{Closed: closed, Kept: text})
		return
	case errors.Is(err, models.ErrInvalid):
		h.renderStageTeam(c, http.StatusUnprocessableEntity, s, views.StageTeamView{OpinionText: text, OpinionErrors: errs})
		return
	case errors.Is(err, models.ErrInvalidTransition):
		h.renderError(c, http.StatusConflict, nil)
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/stages/%d/team?done=opinion", s.ID))
}

// submitStageReport records the team's stage report.
func (h *Handler) submitStageReport(c *gin.Context) {
	s, ok := h.loadStage(c)
	if !ok {
		return
	}
	in := models.StageReportInput{StageID: s.ID, ModelVersions: c.PostForm("model_versions"), ServiceName: c.PostForm("service_name"),
		ServiceURL: c.PostForm("service_url"), ServiceDescription: c.PostForm("service_description"), Files: h.files, Uploads: h.uploads}
	if form, err := c.MultipartForm(); err == nil && form != nil {
		for _, fh := range form.File["documents"] {
			if fh.Size == 0 && fh.Filename == "" {
				continue
			}
			f := uploadedFile(fh)
			in.Documents = append(in.Documents, &f)
		}
	}
	errs, err := models.SubmitStageReport(c.Request.Context(), h.db, in, currentUser(c), h.now())
	in.Documents, in.Files = nil, nil
	var closed *models.StageClosedError
	switch {
	case errors.As(err, &closed):
		h.renderStageTeam(c, http.StatusUnprocessableEntity, s, views.StageTeamView{Closed: closed, ReportForm: in, ReportErrors: models.FieldErrors{},
			Kept: strings.Join([]string{in.ModelVersions, in.ServiceName, in.ServiceURL, in.ServiceDescription}, "\n\n")})
		return
	case errors.Is(err, models.ErrInvalid):
		h.renderStageTeam(c, http.StatusUnprocessableEntity, s, views.StageTeamView{ReportForm: in, ReportErrors: errs})
		return
	case errors.Is(err, models.ErrInvalidTransition):
		h.renderError(c, http.StatusConflict, nil)
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/stages/%d/team?done=report", s.ID))
}

// showEvaluationsPage lists the stages the user evaluates.
func (h *Handler) showEvaluationsPage(c *gin.Context) {
	now := h.now()
	stages, err := models.EvaluatorStages(c.Request.Context(), h.db, currentUser(c), now)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.Evaluations(h.page(c, "stage.evaluations.title"), views.EvaluationsView{Stages: stages, Now: now}))
}

// showEvaluationPage is the evaluator's page of a stage; a stage the user
// does not evaluate is "not found" to them.
func (h *Handler) showEvaluationPage(c *gin.Context) {
	h.renderEvaluation(c, http.StatusOK, views.EvaluationView{Done: doneParam(c, "declared", "scored")})
}

func (h *Handler) renderEvaluation(c *gin.Context, status int, v views.EvaluationView) {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	ev, err := models.LoadEvaluation(c.Request.Context(), h.db, id, currentUser(c))
	switch {
	case errors.Is(err, models.ErrNotEvaluator):
		h.renderError(c, http.StatusNotFound, nil)
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	v.Eval = ev
	h.render(c, status, views.Evaluation(h.page(c, "stage.evaluation.title"), v))
}

// evaluationStep runs an evaluator's step on a team of the stage.
func (h *Handler) evaluationStep(c *gin.Context, done string, step func(stageID, orgID uint) (models.FieldErrors, error),
	values map[uint]string) {
	id, ok1 := idParam(c, "id")
	org, ok2 := idParam(c, "org")
	if !ok1 || !ok2 {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	errs, err := step(id, org)
	switch {
	case errors.Is(err, models.ErrNotEvaluator), errors.Is(err, models.ErrNotFound):
		h.renderError(c, http.StatusNotFound, nil)
		return
	case errors.Is(err, models.ErrConflictNotStated):
		h.renderEvaluation(c, http.StatusUnprocessableEntity, views.EvaluationView{Error: "stage.evaluation.declare_first"})
		return
	case errors.Is(err, models.ErrRecused):
		h.renderEvaluation(c, http.StatusUnprocessableEntity, views.EvaluationView{Error: "stage.evaluation.is_recused"})
		return
	case errors.Is(err, models.ErrInvalid):
		if errs == nil {
			errs = models.FieldErrors{"conflict": "stage.evaluation.declare_choose"}
		}
		h.renderEvaluation(c, http.StatusUnprocessableEntity, views.EvaluationView{Team: org, Values: values, Errors: errs,
			Error: errs["conflict"]})
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/evaluations/%d?done=%s#team-%d", id, done, org))
}

// declareStageConflict records the evaluator's declaration for a team.
func (h *Handler) declareStageConflict(c *gin.Context) {
	h.evaluationStep(c, "declared", func(stageID, orgID uint) (models.FieldErrors, error) {
		return nil, models.DeclareStageConflict(c.Request.Context(), h.db, stageID, orgID, c.PostForm("conflict"), currentUser(c), h.now())
	}, nil)
}

// saveStageScores saves the evaluator's scores of a team.
func (h *Handler) saveStageScores(c *gin.Context) {
	values := map[uint]string{}
	for k, vs := range c.Request.PostForm {
		if id, ok := parseID(strings.TrimPrefix(k, "score.")); ok && strings.HasPrefix(k, "score.") && len(vs) > 0 {
			values[id] = vs[0]
		}
	}
	h.evaluationStep(c, "scored", func(stageID, orgID uint) (models.FieldErrors, error) {
		return models.SaveStageScores(c.Request.Context(), h.db, stageID, orgID, values, currentUser(c), h.now())
	}, values)
}

// FinaliseStages ends the standing of teams eliminated by stage decisions
// that have become final (models.FinaliseStageDecisions), every interval
// until ctx ends. Several portal instances may run it: each stage is
// finalised once.
func (h *Handler) FinaliseStages(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := models.FinaliseStageDecisions(ctx, h.db, h.now()); err != nil && ctx.Err() == nil {
			h.log.Error("stage decisions", "err", err)
		} else if n > 0 {
			h.log.Info("stage decisions final", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
