package handlers

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/views"
)

// showDecisionsPage lists every published decision, newest first, for
// everyone.
func (h *Handler) showDecisionsPage(c *gin.Context) {
	ctx := c.Request.Context()
	ds, err := models.ListDecisions(ctx, h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := views.PublicDecisionsView{Rows: make([]views.PublicDecisionRow, 0, len(ds))}
	for i := range ds {
		v.Rows = append(v.Rows, views.PublicDecisionRow{Decision: ds[i], Selected: len(selectedEntries(&ds[i]))})
	}
	h.render(c, http.StatusOK, views.PublicDecisions(h.page(c, "public.decisions.title"), v))
}

// showDecisionPage shows one published decision to everyone: the notice,
// who published it and when, the selected teams with their consortia, the
// content hash, the appeal window (with the one-off holidays as they stood)
// and the public counts of its appeals; whether it is under re-review after
// an upheld appeal, corrected by a later decision, or itself a correction.
// Non-selected applicants and scores are not shown; a signed-in company user
// whose organisation the decision ranked sees their own result and rank, its
// own appeals and, while the window is open, the way to appeal; officers get
// links to the ranking.
func (h *Handler) showDecisionPage(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	ctx := c.Request.Context()
	u := currentUser(c)
	r, err := models.ReadDecision(ctx, h.db, id, u, h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	d := r.Decision
	v := views.PublicDecisionView{Decision: d, Call: r.Call, Selected: selectedEntries(d), Verified: d.VerifyContent(),
		Now: h.now(), Ranked: len(d.Entries), Window: r.Window, WindowMoves: r.WindowMoves, WindowKnown: r.WindowErr == nil,
		Stats: r.Stats, Standing: r.Standing, Own: r.Own, OwnAppeals: r.OwnAppeals, CanAppeal: r.CanAppeal}
	lang := i18n.Lang(ctx)
	slices.SortStableFunc(v.Selected, func(a, b models.DecisionEntry) int {
		return strings.Compare(views.Bilingual(lang, a.NameKO, a.NameEN), views.Bilingual(lang, b.NameKO, b.NameEN))
	})
	if r.WindowErr != nil {
		h.log.Warn("appeal window", "request_id", c.GetString(keyRequestID), "decision", d.ID, "err", r.WindowErr)
	} else {
		// The window opens and closes, and a holiday change yet to take
		// effect may move it (the countdown is made for each request).
		h.changesAt(c, v.Window.Opens, v.Window.Closes)
	}
	if f := filling(c); f != nil {
		changes, err := models.HolidayChangesAfter(ctx, h.db, f.start)
		if err != nil {
			h.fail(c, err)
			return
		}
		h.changesAt(c, changes...)
	}
	if !v.Verified {
		h.log.Error("decision content does not match its hash", "request_id", c.GetString(keyRequestID), "decision", d.ID)
	}
	if u != nil {
		switch {
		case u.Role.IsMinistry():
			v.ShowRanking, v.ShowFollowUp = d.Kind == models.DecisionSelection, d.Kind == models.DecisionSelection
		case u.Role == models.RoleAuditor:
			v.ShowFollowUp = d.Kind == models.DecisionSelection
		}
	}
	h.render(c, http.StatusOK, views.PublicDecision(h.page(c, "public.decision.title"), v))
}

// selectedEntries returns the decision's selected entries, in rank order.
func selectedEntries(d *models.Decision) []models.DecisionEntry {
	var out []models.DecisionEntry
	for _, e := range d.Entries {
		if e.Selected {
			out = append(out, e)
		}
	}
	return out
}
