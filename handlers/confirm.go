package handlers

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// Irreversible actions (publishDecision, decideAppeal, withdrawApplication)
// act only on a request carrying confirm=1, which only the final button of
// their confirmation page sends. Without it, once the input is valid and
// the action allowed, they show that page — what will happen, and the form
// as typed in hidden fields — and change nothing. edit=1 (the page's "go
// back and change" button) shows the form again with everything kept.

// confirmed reports whether the request is the confirmation page's final button.
func confirmed(c *gin.Context) bool { return c.PostForm("confirm") == "1" }

// editing reports whether the user went back from the confirmation page to change the form.
func editing(c *gin.Context) bool { return c.PostForm("edit") == "1" }

// resentFields are the posted form's fields, to be sent again from the
// confirmation page (never the tokens or the confirmation itself).
func resentFields(c *gin.Context) []views.HiddenField {
	f := postedForm(c)
	names := make([]string, 0, len(f))
	for k := range f {
		if k != "_csrf" && k != "_owner" && k != "confirm" && k != "edit" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var out []views.HiddenField
	for _, k := range names {
		for _, v := range f.all(k) {
			out = append(out, views.HiddenField{Name: k, Value: v})
		}
	}
	return out
}

// renderConfirm shows a confirmation page.
func (h *Handler) renderConfirm(c *gin.Context, v views.ConfirmView, summary templ.Component) {
	v.Fields = resentFields(c)
	h.render(c, http.StatusOK, views.Confirm(h.page(c, v.TitleID), v, summary))
}

// confirmPublish shows what publishing will do: the ranking with the teams
// selected, and the appeal window as it would be if published now.
func (h *Handler) confirmPublish(c *gin.Context, v views.RankingView, in models.PublishInput) {
	now := h.now()
	w, err := models.DecisionWindow(c.Request.Context(), h.db,
		&models.Decision{PublishedAt: now, CountingRule: in.CountingRule, ExplicitClose: in.ExplicitClose}, now)
	if err != nil {
		h.fail(c, err)
		return
	}
	sum := views.PublishConfirm{Call: v.Call, Rows: v.Rows, Form: v.Form, Window: w, Correcting: v.Correcting}
	h.renderConfirm(c, views.ConfirmView{TitleID: "confirm.publish.title", EffectID: "confirm.publish.effect",
		SubmitID: "confirm.publish.submit", Action: c.Request.URL.Path, EditBack: true},
		views.PublishSummary(h.page(c, "confirm.publish.title"), sum))
}

// confirmDecide shows the answer to an appeal before it is sent.
func (h *Handler) confirmDecide(c *gin.Context, a *models.Appeal, action models.AppealAction, reasons string) {
	h.renderConfirm(c, views.ConfirmView{TitleID: "confirm.decide.title", EffectID: "confirm.decide.effect",
		SubmitID: "confirm.decide.submit", Action: c.Request.URL.Path, EditBack: true},
		views.DecideSummary(h.page(c, "confirm.decide.title"), views.DecideConfirm{Appeal: a, Outcome: action, Reasons: reasons}))
}

// confirmWithdraw shows what withdrawing an application means.
func (h *Handler) confirmWithdraw(c *gin.Context, a *models.Application) {
	h.renderConfirm(c, views.ConfirmView{TitleID: "confirm.withdraw.title", EffectID: "confirm.withdraw.effect",
		SubmitID: "confirm.withdraw.submit", Action: c.Request.URL.Path, Back: fmt.Sprintf("/applications/%d", a.ID)},
		views.WithdrawSummary(h.page(c, "confirm.withdraw.title"), views.WithdrawConfirm{App: a}))
}
