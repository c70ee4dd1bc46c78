package handlers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/views"
)

// K-AI naming rights: officers grant a name to a selected team and revoke it
// (on elimination); everyone reads the registry and asks the verification
// API whether a name may be used as K-AI on a day.

// showRegistryPage is the public registry: current, upcoming and past
// holders, and a lookup form that gives the API's answer.
func (h *Handler) showRegistryPage(c *gin.Context) {
	ctx := c.Request.Context()
	grants, err := models.ListGrants(ctx, h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	today := models.DateOf(h.now())
	h.changesAt(c, today.AddDays(1).Start()) // a grant's standing is by the day
	v := views.RegistryView{Today: today,
		Query: views.LookupForm{Name: c.Query("name"), Date: c.Query("date")}}
	for _, g := range grants {
		switch views.GrantStatus(&g, today) {
		case views.GrantUpcoming:
			v.Upcoming = append(v.Upcoming, g)
		case views.GrantEnded:
			v.Past = append(v.Past, g)
		case views.GrantRevoked:
			if g.HoldsOn(today) { // revoked from a later day: still holds today
				v.Current = append(v.Current, g)
			} else {
				v.Past = append(v.Past, g)
			}
		default:
			v.Current = append(v.Current, g)
		}
	}
	lang := i18n.Lang(ctx)
	slices.SortStableFunc(v.Current, func(a, b models.NamingGrant) int {
		if c := strings.Compare(views.OrgName(lang, &a.Holder), views.OrgName(lang, &b.Holder)); c != 0 {
			return c
		}
		return strings.Compare(string(b.Kind), string(a.Kind)) // the company before its model
	})
	slices.SortStableFunc(v.Past, func(a, b models.NamingGrant) int { return b.End().Compare(a.End()) })

	if v.Agreements, err = models.GrantAgreements(ctx, h.db, grants); err != nil {
		h.fail(c, err)
		return
	}
	status := http.StatusOK
	if _, asked := c.GetQuery("name"); asked {
		l, msgID, err := h.lookupName(ctx, c.Query("name"), c.Query("date"))
		switch {
		case err != nil:
			h.fail(c, err)
			return
		case msgID != "":
			v.Lookup = &views.NameLookup{ErrorID: msgID}
			status = http.StatusBadRequest
		default:
			v.Lookup = &l
		}
	}
	h.render(c, status, views.Registry(h.page(c, "naming.registry.title"), v))
}

// verifyName is the public JSON check: may this name be used as K-AI on
// this day (today in KST by default)? An unknown name is a valid question
// with the answer false; a missing name or a malformed date is a 400.
func (h *Handler) verifyName(c *gin.Context) {
	hd := c.Writer.Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Cross-Origin-Resource-Policy", "cross-origin")
	ctx := c.Request.Context()
	l, msgID, err := h.lookupName(ctx, c.Query("name"), c.Query("date"))
	switch {
	case err != nil:
		h.failJSON(c, err)
		return
	case msgID != "":
		hd.Set("Cache-Control", "no-store")
		c.JSON(http.StatusBadRequest, gin.H{
			"error":    h.cat.For(i18n.English).T(msgID),
			"error_ko": h.cat.For(i18n.Korean).T(msgID),
		})
		return
	}
	answer := verificationJSON(l)
	if g := l.Verification.Grant; g != nil && g.AgreementID != nil {
		refs, err := models.GrantAgreements(ctx, h.db, []models.NamingGrant{*g})
		if err != nil {
			h.failJSON(c, err)
			return
		}
		if ref, ok := refs[g.ID]; ok {
			answer.Agreement = &agreementAnswer{Number: ref.Number, From: ref.From, To: ref.To}
		}
	}
	hd.Set("Cache-Control", "public, max-age=60")
	c.JSON(http.StatusOK, answer)
}

// lookupName answers the verification question. A malformed question gives
// the message ID of its problem; err is for the store failing.
func (h *Handler) lookupName(ctx context.Context, name, date string) (views.NameLookup, string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return views.NameLookup{}, "naming.lookup.error.name", nil
	case models.CheckText(name, models.MaxGrantName, models.SingleLine) == models.MsgTooLong:
		return views.NameLookup{}, "naming.lookup.error.name_long", nil
	case models.CheckText(name, models.MaxGrantName, models.SingleLine) != "":
		return views.NameLookup{}, models.MsgTextInvalid, nil
	}
	on := models.DateOf(h.now())
	if date = strings.TrimSpace(date); date != "" {
		d, err := models.ParseDate(date)
		if err != nil {
			return views.NameLookup{}, "naming.lookup.error.date", nil
		}
		on = d
	}
	ver, err := models.VerifyName(ctx, h.db, name, on)
	if err != nil {
		return views.NameLookup{}, "", err
	}
	return views.NameLookup{Verification: ver, Status: views.VerificationStatus(ver)}, "", nil
}

// verificationAnswer is the JSON body of the verification API.
type verificationAnswer struct {
	Name      string        `json:"name"`
	Date      string        `json:"date"`
	Valid     bool          `json:"valid"`
	Status    string        `json:"status"` // valid, not_yet_valid, expired, revoked, unknown
	Holder    *holderAnswer `json:"holder"`
	Kind      *string       `json:"kind"`
	KindLabel *string       `json:"kind_label"`
	Names     []string      `json:"names"`
	ValidFrom *string       `json:"valid_from"`
	ValidTo   *string       `json:"valid_to"`   // as granted; null when open-ended
	RevokedOn *string       `json:"revoked_on"` // the first day it no longer holds
	Reason    *string       `json:"reason"`     // of the revocation
	Basis     *string       `json:"basis"`
	// Agreement is the agreement the grant rests on: its number and period
	// (never the document); null for a grant without one.
	Agreement *agreementAnswer `json:"agreement"`
}

type agreementAnswer struct {
	Number string `json:"number"`
	From   string `json:"from"`
	To     string `json:"to"`
}

type holderAnswer struct {
	NameKO string `json:"name_ko"`
	NameEN string `json:"name_en"`
}

func verificationJSON(l views.NameLookup) verificationAnswer {
	v := l.Verification
	a := verificationAnswer{Name: v.Name, Date: v.Date.String(), Valid: v.Valid, Status: l.Status, Names: []string{}}
	g := v.Grant
	if g == nil {
		return a
	}
	str := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	a.Holder = &holderAnswer{NameKO: g.Holder.NameKO, NameEN: g.Holder.NameEN}
	a.Kind, a.KindLabel = str(string(g.Kind)), str(g.Kind.Label())
	a.Names = g.NameList()
	a.ValidFrom, a.ValidTo = str(g.ValidFrom), str(g.ValidTo)
	a.RevokedOn, a.Reason = str(g.RevokedOn), str(g.RevocationReason)
	a.Basis = str(g.Basis)
	return a
}

// showNamingAdminPage lists every grant for the ministry, with the form to
// grant a name to a selected team (pre-filled for ?holder=<organisation>).
func (h *Handler) showNamingAdminPage(c *gin.Context) {
	v, err := h.namingAdminView(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	if id, ok := parseID(c.Query("holder")); ok {
		for _, ho := range v.Holders {
			if ho.Org.ID == id {
				v.Form = h.grantDefaults(ho)
			}
		}
	}
	switch c.Query("done") {
	case "granted":
		v.Done = "naming.admin.granted"
	case "revoked":
		v.Done = "naming.admin.revoked"
	}
	h.render(c, http.StatusOK, views.NamingAdmin(h.page(c, "naming.admin.title"), v))
}

// grantName records a grant; problems re-render the page with the input kept.
func (h *Handler) grantName(c *gin.Context) {
	ctx := c.Request.Context()
	f := views.GrantForm{Kind: c.PostForm("kind"), HolderID: c.PostForm("holder_id"), Names: c.PostForm("names"),
		ValidFrom: c.PostForm("valid_from"), ValidTo: c.PostForm("valid_to"), Basis: c.PostForm("basis"),
		DecisionID: c.PostForm("decision_id")}
	in := models.GrantInput{Kind: models.NamingKind(f.Kind), Names: f.Names, ValidFrom: f.ValidFrom,
		ValidTo: f.ValidTo, Basis: f.Basis}
	in.HolderID, _ = parseID(strings.TrimSpace(f.HolderID))
	badDecision := false
	if s := strings.TrimSpace(f.DecisionID); s != "" {
		id, ok := parseID(s)
		badDecision = !ok
		in.DecisionID = &id
	}
	errs, err := models.CheckGrant(ctx, h.db, in)
	if err != nil {
		h.fail(c, err)
		return
	}
	if badDecision {
		errs.Add("decision_id", "naming.error.decision")
	}
	if !errs.Any() {
		g, err := models.GrantName(ctx, h.db, in, currentUser(c), h.now())
		switch {
		case errors.Is(err, models.ErrNotSelected):
			errs.Add("holder_id", "naming.error.not_selected")
		case err != nil:
			h.fail(c, err)
			return
		default:
			c.Redirect(http.StatusSeeOther, "/officer/naming?done=granted#grant-"+strconv.FormatUint(uint64(g.ID), 10))
			return
		}
	}
	v, err := h.namingAdminView(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	v.Form, v.Errors = f, errs
	if in.HolderID != 0 && !slices.ContainsFunc(v.Holders, func(ho views.NamingHolder) bool { return ho.Org.ID == in.HolderID }) {
		// Keep the choice on the page even though it is not a selected team.
		if o, err := models.GetOrganisation(ctx, h.db, in.HolderID); err == nil {
			v.Holders = append(v.Holders, views.NamingHolder{Org: *o, NotSelected: true})
		}
	}
	h.render(c, http.StatusUnprocessableEntity, views.NamingAdmin(h.page(c, "naming.admin.title"), v))
}

// revokeName ends a grant from a date, with the reason; the row stays.
func (h *Handler) revokeName(c *gin.Context) {
	id, ok := idParam(c, "gid")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	v, err := h.namingAdminView(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	i := slices.IndexFunc(v.Grants, func(g models.NamingGrant) bool { return g.ID == id })
	if i < 0 {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	g := &v.Grants[i]
	if g.RevokedAt != nil {
		h.renderError(c, http.StatusConflict, nil)
		return
	}
	r := views.RevokeForm{GrantID: g.ID, On: c.PostForm("revoked_on"), Reason: c.PostForm("reason"), Errors: models.FieldErrors{}}
	if d, err := models.ParseDate(strings.TrimSpace(r.On)); err != nil {
		r.Errors.Add("revoked_on", "naming.error.date")
	} else if from, _ := models.ParseDate(g.ValidFrom); d.Before(from) {
		r.Errors.Add("revoked_on", "naming.error.revoke_before_from")
	}
	for field, msg := range models.ValidateRevocationReason(r.Reason) {
		r.Errors.Add(field, msg)
	}
	if r.Errors.Any() {
		v.Revoke = r
		h.render(c, http.StatusUnprocessableEntity, views.NamingAdmin(h.page(c, "naming.admin.title"), v))
		return
	}
	if err := models.RevokeName(c.Request.Context(), h.db, g.ID, r.On, r.Reason, currentUser(c), h.now()); err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/officer/naming?done=revoked#grant-"+strconv.FormatUint(uint64(g.ID), 10))
}

// namingAdminView loads the grants, the selected teams (the leads of
// selected applications, with the decision that selected each) and the
// published decisions.
func (h *Handler) namingAdminView(c *gin.Context) (views.NamingAdminView, error) {
	ctx := c.Request.Context()
	v := views.NamingAdminView{Today: models.DateOf(h.now()), Form: views.GrantForm{Kind: string(models.NamingCompany)}}
	var err error
	if v.Grants, err = models.ListGrants(ctx, h.db); err != nil {
		return v, err
	}
	teams, err := models.SelectedTeams(ctx, h.db)
	if err != nil {
		return v, err
	}
	ds, err := models.ListDecisions(ctx, h.db)
	if err != nil {
		return v, err
	}
	// The newest decision that selected each organisation. Decisions are
	// few (a selection, then a stage result every six months).
	selectedBy := map[uint]*models.Decision{}
	for i := range ds {
		full := &ds[i]
		v.Decisions = append(v.Decisions, *full)
		for _, e := range full.Entries {
			if _, seen := selectedBy[e.OrganisationID]; e.Selected && !seen {
				selectedBy[e.OrganisationID] = full
			}
		}
	}
	as, err := models.ListAgreements(ctx, h.db, nil)
	if err != nil {
		return v, err
	}
	byOrg := map[uint]*models.Agreement{}
	for i := range as {
		if as[i].InForceID != nil {
			byOrg[as[i].OrganisationID] = &as[i]
		}
	}
	for _, o := range teams {
		v.Holders = append(v.Holders, views.NamingHolder{Org: o, Decision: selectedBy[o.ID], Agreement: byOrg[o.ID]})
	}
	return v, nil
}

// grantDefaults pre-fills the grant form for a team with an agreement in
// force: the K-AI company name, covering its Korean and English names, from
// today (or the agreement's first day) to the agreement's last day, with the
// agreement as the basis.
func (h *Handler) grantDefaults(ho views.NamingHolder) views.GrantForm {
	f := views.GrantForm{Kind: string(models.NamingCompany), HolderID: strconv.FormatUint(uint64(ho.Org.ID), 10),
		Names: ho.Org.NameKO + "\n" + ho.Org.NameEN, ValidFrom: models.DateOf(h.now()).String()}
	if ho.Org.NameEN == "" || ho.Org.NameEN == ho.Org.NameKO {
		f.Names = ho.Org.NameKO
	}
	ko := h.cat.For(i18n.Korean)
	if a := ho.Agreement; a != nil {
		if from, to, ok := a.Period(); ok {
			if today := models.DateOf(h.now()); from.Before(today) {
				from = today
			}
			f.ValidFrom, f.ValidTo = from.String(), to.String()
		}
		f.Basis = ko.T("naming.basis.decision", map[string]any{"Number": a.Number})
	} else {
		f.Basis = ko.T("naming.basis.manual")
	}
	return f
}
