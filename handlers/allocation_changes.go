package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// The allocation lifecycle: officers extend or shorten an allocation's
// period, add GPUs as they are supplied (or identify those of nodes
// allocated while the cluster was down), replace a failed GPU at an
// instant, and end an allocation early. Ending early and replacing cannot
// be undone: they show a confirmation page first. Every change is kept in
// the allocation's history and audited.

func (h *Handler) showAllocationChangePage(c *gin.Context) {
	a, err := h.loadAllocation(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.renderAllocationChange(c, http.StatusOK, views.AllocationChangeView{A: a})
}

func (h *Handler) renderAllocationChange(c *gin.Context, status int, v views.AllocationChangeView) {
	h.render(c, status, views.AllocationChange(h.page(c, "gpu.change.title"), v))
}

// changeForm reads the posted change form as typed.
func changeForm(c *gin.Context) views.AllocationChangeInput {
	p := func(k string) string { return strings.TrimSpace(c.PostForm(k)) }
	return views.AllocationChangeInput{From: p("from"), To: p("to"), LastDay: p("last_day"), UUIDs: c.PostForm("uuids"),
		Nodes: c.PostForm("nodes"), At: p("at"), Old: p("old"), New: p("new"), Reason: c.PostForm("reason")}
}

// applyChange runs a change and answers: back to the allocation page when
// done, the change page again with the input kept when refused (422, or
// 409 for a GPU held by another allocation).
func (h *Handler) applyChange(c *gin.Context, a *models.Allocation, which string, form views.AllocationChangeInput,
	errs models.FieldErrors, err error) {
	var conflict *models.AllocationConflictError
	v := views.AllocationChangeView{A: a, Which: which, Form: form, Errors: errs}
	switch {
	case errors.As(err, &conflict):
		v.Conflict = conflict
		h.renderAllocationChange(c, http.StatusConflict, v)
	case errors.Is(err, models.ErrInvalid):
		h.renderAllocationChange(c, http.StatusUnprocessableEntity, v)
	case err != nil:
		h.fail(c, err)
	default:
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/allocations/%d", a.ID))
	}
}

func (h *Handler) changeAllocationPeriod(c *gin.Context) {
	a, err := h.loadAllocation(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	form := changeForm(c)
	errs, err := models.ChangeAllocationPeriod(c.Request.Context(), h.db, a.ID,
		models.PeriodChange{From: form.From, To: form.To, Reason: form.Reason}, currentUser(c), h.now())
	h.applyChange(c, a, "period", form, errs, err)
}

func (h *Handler) addAllocationGPUs(c *gin.Context) {
	a, err := h.loadAllocation(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	form := changeForm(c)
	errs, err := models.AddAllocationGPUs(c.Request.Context(), h.db, a.ID, models.GPUAddition{UUIDs: models.ParseUUIDList(form.UUIDs),
		Nodes: models.ParseUUIDList(form.Nodes), At: form.At, Reason: form.Reason}, currentUser(c), h.now())
	h.applyChange(c, a, "add", form, errs, err)
}

// endAllocation ends an allocation early, after the confirmation page.
func (h *Handler) endAllocation(c *gin.Context) {
	a, err := h.loadAllocation(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	form := changeForm(c)
	if editing(c) {
		h.renderAllocationChange(c, http.StatusOK, views.AllocationChangeView{A: a, Which: "end", Form: form})
		return
	}
	in := models.EndEarly{LastDay: form.LastDay, Reason: form.Reason}
	if !confirmed(c) {
		if errs, err := models.CheckEndEarly(a, in); err != nil {
			h.applyChange(c, a, "end", form, errs, err)
			return
		}
		h.renderConfirm(c, views.ConfirmView{TitleID: "gpu.change.end.confirm_title", EffectID: "gpu.change.end.effect",
			SubmitID: "gpu.change.end.submit", Action: fmt.Sprintf("/officer/allocations/%d/end", a.ID), EditBack: true},
			views.ChangeConfirmSummary(a, []string{a.PeriodTo + " → " + form.LastDay, form.Reason}))
		return
	}
	errs, err := models.EndAllocation(c.Request.Context(), h.db, a.ID, in, currentUser(c), h.now())
	h.applyChange(c, a, "end", form, errs, err)
}

// replaceAllocationGPU replaces a GPU at an instant, after the confirmation page.
func (h *Handler) replaceAllocationGPU(c *gin.Context) {
	a, err := h.loadAllocation(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	form := changeForm(c)
	if editing(c) {
		h.renderAllocationChange(c, http.StatusOK, views.AllocationChangeView{A: a, Which: "replace", Form: form})
		return
	}
	in := models.GPUReplacement{Old: form.Old, New: form.New, At: form.At, Reason: form.Reason}
	if !confirmed(c) {
		if errs, err := models.CheckReplacement(c.Request.Context(), h.db, a, in); err != nil {
			h.applyChange(c, a, "replace", form, errs, err)
			return
		}
		h.renderConfirm(c, views.ConfirmView{TitleID: "gpu.change.replace.confirm_title", EffectID: "gpu.change.replace.effect",
			SubmitID: "gpu.change.replace.submit", Action: fmt.Sprintf("/officer/allocations/%d/replace", a.ID), EditBack: true},
			views.ChangeConfirmSummary(a, []string{form.Old + " → " + form.New + " (" + form.At + " KST)", form.Reason}))
		return
	}
	errs, err := models.ReplaceAllocationGPU(c.Request.Context(), h.db, a.ID, in, currentUser(c), h.now())
	h.applyChange(c, a, "replace", form, errs, err)
}
