package handlers

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/views"
)

const (
	auditPageSize = 50
	// auditActorMax is the longest actor text the filter takes, in characters.
	auditActorMax = 100
	// auditPageMax bounds the page number, so the offset stays an int on every database.
	auditPageMax = 1_000_000
)

// showAuditPage lists the audit trail, filtered by actor, action, object
// type and a KST date range, and checks its chain: the rows added since the
// last check, or the whole chain when asked (?verify=all). A filter that
// cannot be used is shown with its field error (400) and no rows.
func (h *Handler) showAuditPage(c *gin.Context) {
	ctx := c.Request.Context()
	facets, err := models.ListAuditFacets(ctx, h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	form, filter, page, errs := readAuditFilter(c, facets)
	check, err := models.CheckAuditChain(ctx, h.db, c.Query("verify") == "all", h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	v := views.AuditView{Check: check, Page: page, Filter: form, Facets: facets, Errors: errs}
	if errs.Any() {
		h.render(c, http.StatusBadRequest, views.Audit(h.page(c, "audit.title"), v))
		return
	}
	filter.Limit, filter.Offset = auditPageSize, (page-1)*auditPageSize
	if v.Rows, v.Total, err = models.ListAudit(ctx, h.db, filter); err != nil {
		h.fail(c, err)
		return
	}
	if page > 1 {
		v.PrevPage = page - 1
	}
	if int64(page)*auditPageSize < v.Total {
		v.NextPage = page + 1
	}
	h.render(c, http.StatusOK, views.Audit(h.page(c, "audit.title"), v))
}

// readAuditFilter reads the audit page's query: the form as typed, the
// filter it means, the page, and what is wrong with it. Action and object
// type must be ones the trail holds; dates are KST calendar days, both
// ends included.
func readAuditFilter(c *gin.Context, facets models.AuditFacets) (views.AuditFilterForm, models.AuditFilter, int, models.FieldErrors) {
	errs := models.FieldErrors{}
	form := views.AuditFilterForm{Actor: strings.TrimSpace(c.Query("actor")), Action: strings.TrimSpace(c.Query("action")),
		Object: strings.TrimSpace(c.Query("object")), From: strings.TrimSpace(c.Query("from")), To: strings.TrimSpace(c.Query("to"))}
	var f models.AuditFilter
	switch {
	case !printableText(form.Actor):
		errs.Add("actor", "audit.error.actor")
	case utf8.RuneCountInString(form.Actor) > auditActorMax:
		errs.Add("actor", "form.too_long")
	default:
		f.Actor = form.Actor
	}
	if form.Action != "" && !slices.Contains(facets.Actions, form.Action) {
		errs.Add("action", "audit.error.action")
		form.Action = ""
	}
	f.Action = form.Action
	if form.Object != "" && !slices.Contains(facets.ObjectTypes, form.Object) {
		errs.Add("object", "audit.error.object")
		form.Object = ""
	}
	f.ObjectType = form.Object
	var from, to models.Date
	if form.From != "" {
		d, err := models.ParseDate(form.From)
		if err != nil {
			errs.Add("from", "audit.error.date")
		} else {
			from, f.From = d, d.Start()
		}
	}
	if form.To != "" {
		d, err := models.ParseDate(form.To)
		if err != nil {
			errs.Add("to", "audit.error.date")
		} else {
			to, f.To = d, d.AddDays(1).Start()
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		errs.Add("to", "audit.error.range")
	}
	// What is shown back in the form is what was typed, less what cannot be shown.
	for _, s := range []*string{&form.Actor, &form.From, &form.To} {
		*s = strings.ToValidUTF8(strings.Map(dropControl, *s), "\uFFFD")
	}
	page := 1
	if s := c.Query("page"); s != "" {
		p, err := strconv.Atoi(s)
		if err != nil || p < 1 || p > auditPageMax {
			errs.Add("page", "audit.error.page")
		} else {
			page = p
		}
	}
	return form, f, page, errs
}

// printableText reports whether s is valid UTF-8 without control characters (NUL included).
func printableText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	return strings.IndexFunc(s, unicode.IsControl) < 0
}

// dropControl removes control characters (for strings.Map).
func dropControl(r rune) rune {
	if unicode.IsControl(r) {
		return -1
	}
	return r
}
