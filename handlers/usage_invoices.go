package handlers

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

// Providers' invoice lines: an officer enters or imports them, the portal
// verifies each against the telemetry, an auditor signs it off or returns it.

// showInvoicesPage is the officers' list of lines, the form and the import.
func (h *Handler) showInvoicesPage(c *gin.Context) {
	month := c.Query("month")
	if _, err := models.ParseMonth(month); month != "" && err != nil {
		h.renderError(c, http.StatusBadRequest, nil)
		return
	}
	h.renderInvoices(c, http.StatusOK, views.InvoicesView{Month: month})
}

func (h *Handler) renderInvoices(c *gin.Context, status int, v views.InvoicesView) {
	ctx := c.Request.Context()
	rows, err := models.ListInvoiceLines(ctx, h.db, v.Month, currentUser(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	allocs, err := models.ListAllocations(ctx, h.db, nil)
	if err != nil {
		h.fail(c, err)
		return
	}
	v.Rows, v.Allocations = rows, allocs
	if v.Errors == nil {
		v.Errors = models.FieldErrors{}
	}
	h.render(c, status, views.Invoices(h.page(c, "invoice.list.title"), v))
}

// enterInvoice records one line as the officer typed it.
func (h *Handler) enterInvoice(c *gin.Context) {
	in := models.InvoiceInput{AllocationID: c.PostForm("allocation_id"), Month: c.PostForm("month"),
		BilledHours: c.PostForm("billed_gpu_hours"), Availability: c.PostForm("availability_pct"), Reference: c.PostForm("reference")}
	l, errs, err := models.EnterInvoiceLine(c.Request.Context(), h.db, in, currentUser(c), h.now())
	switch {
	case errors.Is(err, models.ErrInvalid):
		h.renderInvoices(c, http.StatusUnprocessableEntity, views.InvoicesView{Form: in, Errors: errs})
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/invoices/%d", l.ID))
}

// importInvoices records the lines of a CSV file, all or none.
func (h *Handler) importInvoices(c *gin.Context) {
	refuse := func(faults []models.InvoiceRowError) {
		h.renderInvoices(c, http.StatusUnprocessableEntity, views.InvoicesView{ImportFaults: faults})
	}
	fh, err := c.FormFile("file")
	switch {
	case err != nil:
		refuse([]models.InvoiceRowError{{MessageID: "invoice.import.empty"}})
		return
	case fh.Size > models.MaxInvoiceFileBytes:
		refuse([]models.InvoiceRowError{{MessageID: "invoice.import.too_large"}})
		return
	}
	file, err := fh.Open()
	if err != nil {
		h.fail(c, err)
		return
	}
	data, err := io.ReadAll(io.LimitReader(file, models.MaxInvoiceFileBytes+1))
	file.Close()
	if err != nil {
		h.fail(c, err)
		return
	}
	_, err = models.ImportInvoiceLines(c.Request.Context(), h.db, fh.Filename, data, currentUser(c), h.now())
	var fe *models.InvoiceFileError
	switch {
	case errors.As(err, &fe):
		refuse(fe.Errors)
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/auditor/usage-reports?kind=invoice")
}

// loadInvoice loads the line of :iid if the user may see it.
func (h *Handler) loadInvoice(c *gin.Context) (*models.InvoiceLine, bool) {
	id, ok := idParam(c, "iid")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return nil, false
	}
	l, err := models.GetInvoiceLine(c.Request.Context(), h.db, id, currentUser(c))
	if err != nil {
		h.fail(c, err)
		return nil, false
	}
	return l, true
}

// showInvoicePage is a line with its verifications and history.
func (h *Handler) showInvoicePage(c *gin.Context) {
	l, ok := h.loadInvoice(c)
	if !ok {
		return
	}
	h.renderInvoice(c, http.StatusOK, l, views.InvoiceView{})
}

func (h *Handler) renderInvoice(c *gin.Context, status int, l *models.InvoiceLine, v views.InvoiceView) {
	ctx := c.Request.Context()
	events, vs, err := models.InvoiceHistory(ctx, h.db, l.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	days, err := models.InvoiceDaysOf(ctx, h.db, l)
	if err != nil {
		h.fail(c, err)
		return
	}
	u := currentUser(c)
	v.Line, v.Events, v.Verifications, v.Days = l, events, vs, days
	v.CanAudit = models.MayAudit(u) && l.State == models.ReportSubmitted
	v.CanVerify = l.State == models.ReportSubmitted
	if v.Errors == nil {
		v.Errors = models.FieldErrors{}
	}
	h.render(c, status, views.InvoiceLine(h.page(c, "invoice.result.title"), v))
}

// verifyInvoice verifies a waiting line again: a new result.
func (h *Handler) verifyInvoice(c *gin.Context) {
	id, ok := idParam(c, "iid")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	if _, err := models.VerifyInvoiceLineAgain(c.Request.Context(), h.db, id, currentUser(c), h.now()); err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/invoices/%d#verifications", id))
}

// returnInvoice returns a waiting line with a note, after a confirmation page.
func (h *Handler) returnInvoice(c *gin.Context) {
	l, ok := h.loadInvoice(c)
	if !ok {
		return
	}
	note := c.PostForm("note")
	if editing(c) {
		h.renderInvoice(c, http.StatusOK, l, views.InvoiceView{Note: note})
		return
	}
	if !confirmed(c) {
		errs := models.FieldErrors{}
		if strings.TrimSpace(note) == "" {
			errs.Add("note", "form.required")
		}
		errs.CheckText("note", note, models.MaxReportText, models.MultiLine)
		if errs.Any() {
			h.renderInvoice(c, http.StatusUnprocessableEntity, l, views.InvoiceView{Note: note, Errors: errs})
			return
		}
		if l.State != models.ReportSubmitted {
			h.fail(c, models.ErrInvalidTransition)
			return
		}
		h.renderConfirm(c, views.ConfirmView{TitleID: "invoice.confirm.return.title", EffectID: "invoice.confirm.return.effect",
			SubmitID: "usage.confirm.return.submit", Action: c.Request.URL.Path, EditBack: true},
			views.InvoiceConfirmSummary(views.InvoiceConfirm{Line: l, Note: note}))
		return
	}
	fe, err := models.ReturnInvoiceLine(c.Request.Context(), h.db, l.ID, note, currentUser(c), h.now())
	switch {
	case errors.Is(err, models.ErrInvalid):
		h.renderInvoice(c, http.StatusUnprocessableEntity, l, views.InvoiceView{Note: note, Errors: fe})
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/invoices/%d", l.ID))
}

// signOffInvoice signs a waiting line off, after a confirmation page.
func (h *Handler) signOffInvoice(c *gin.Context) {
	l, ok := h.loadInvoice(c)
	if !ok {
		return
	}
	if !confirmed(c) {
		if l.State != models.ReportSubmitted || l.Outcome == "" {
			h.fail(c, models.ErrInvalidTransition)
			return
		}
		h.renderConfirm(c, views.ConfirmView{TitleID: "invoice.confirm.sign_off.title", EffectID: "invoice.confirm.sign_off.effect",
			SubmitID: "usage.confirm.sign_off.submit", Action: c.Request.URL.Path, Back: fmt.Sprintf("/invoices/%d", l.ID)},
			views.InvoiceConfirmSummary(views.InvoiceConfirm{Line: l}))
		return
	}
	if err := models.SignOffInvoiceLine(c.Request.Context(), h.db, l.ID, currentUser(c), h.now()); err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/invoices/%d", l.ID))
}
