package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/views"
)

// Agreements (협약): officers prepare versions and send them out, each
// party's authorised signer signs the exact version by its hash, the
// ministry signs last; companies see their own agreements and what they
// must sign; auditors read all.

// loadAgreement loads the agreement of the route's :id if the user may see
// it (the ministry, auditors, and the users of its parties); otherwise it
// answers 404 and returns nil.
func (h *Handler) loadAgreement(c *gin.Context) *models.Agreement {
	id, ok := idParam(c, "id")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return nil
	}
	a, err := models.GetAgreement(c.Request.Context(), h.db, id)
	if err != nil {
		h.fail(c, err)
		return nil
	}
	if !a.MaySee(currentUser(c), a.PartyIDs()) {
		h.renderError(c, http.StatusNotFound, nil)
		return nil
	}
	return a
}

// showAgreementsPage lists the agreements the user may see, with their
// state and who still has to sign.
func (h *Handler) showAgreementsPage(c *gin.Context) {
	ctx := c.Request.Context()
	u := currentUser(c)
	own, ok := u.OrganisationScope()
	if !ok {
		h.renderError(c, http.StatusForbidden, nil)
		return
	}
	as, err := models.ListAgreements(ctx, h.db, own)
	if err != nil {
		h.fail(c, err)
		return
	}
	today := models.DateOf(h.now())
	v := views.AgreementsView{Ministry: u.Role.IsMinistry(), Today: today}
	if v.Ministry {
		if v.Candidates, err = models.AgreementCandidates(ctx, h.db); err != nil {
			h.fail(c, err)
			return
		}
	}
	if u.Role == models.RoleCompany {
		if v.Signer, err = models.IsSigner(ctx, h.db, u); err != nil {
			h.fail(c, err)
			return
		}
	}
	for i := range as {
		a := &as[i]
		r := views.AgreementRow{A: a, State: a.State(today), Pending: a.Pending()}
		if r.Pending != nil && r.Pending.Status == models.VersionOut {
			r.Waiting = r.Pending.Missing()
			for _, p := range r.Waiting {
				if own != nil && p.OrganisationID == *own {
					r.MustSign = true
				}
			}
		}
		v.Rows = append(v.Rows, r)
	}
	h.render(c, http.StatusOK, views.Agreements(h.page(c, "agreement.list.title"), v))
}

// agreementView is the agreement page's model for the user.
func (h *Handler) agreementView(c *gin.Context, a *models.Agreement) (views.AgreementView, error) {
	ctx := c.Request.Context()
	u := currentUser(c)
	today := models.DateOf(h.now())
	v := views.AgreementView{A: a, State: a.State(today), Today: today, InForce: a.InForce(), Pending: a.Pending(),
		Ministry: u.Role.IsMinistry(), Names: map[uint]string{}}
	lang := i18n.Lang(ctx)
	for _, ver := range a.Versions {
		for _, p := range ver.Parties {
			v.Names[p.OrganisationID] = views.OrgName(lang, p.Organisation)
		}
	}
	if v.Pending != nil {
		v.DiffFrom = v.InForce
		if v.DiffFrom == nil && len(a.Versions) > 1 {
			v.DiffFrom = &a.Versions[len(a.Versions)-2]
		}
		if v.DiffFrom != nil {
			v.Diff = models.DiffVersions(v.DiffFrom, v.Pending, v.Names)
		}
	}
	if p := v.Pending; p != nil && p.Status == models.VersionOut {
		switch {
		case v.Ministry:
			v.MaySign = len(p.Missing()) == 1 && a.Check(models.AgrCountersign, u.Role, today) == nil
		case u.Role == models.RoleCompany && u.OrganisationID != nil && p.Party(*u.OrganisationID) != nil &&
			p.SignatureOf(*u.OrganisationID) == nil:
			signer, err := models.IsSigner(ctx, h.db, u)
			if err != nil {
				return v, err
			}
			v.MaySign, v.SignerNeeded = signer, !signer
		}
	}
	ns, err := models.ListNotices(ctx, h.db, a.ID)
	if err != nil {
		return v, err
	}
	v.Notices = ns
	v.Notice = views.NoticeForm{ContactName: a.ContactName, ContactInfo: a.ContactInfo}
	v.Terminate = views.TerminateForm{Day: today.String()}
	return v, nil
}

// showAgreementPage shows one agreement: the version in force, the one
// being prepared or signed with its difference, the signatures, and what
// the user may do.
func (h *Handler) showAgreementPage(c *gin.Context) {
	a := h.loadAgreement(c)
	if a == nil {
		return
	}
	v, err := h.agreementView(c, a)
	if err != nil {
		h.fail(c, err)
		return
	}
	if id := c.Query("done"); id != "" {
		switch id {
		case "created", "prepared", "edited", "sent", "signed", "completed", "notice", "terminated":
			v.Done = "agreement.done." + id
		}
	}
	h.render(c, http.StatusOK, views.Agreement(h.page(c, "agreement.list.title"), v))
}

// showSignatureRecordPage is the printable record of the signatures.
func (h *Handler) showSignatureRecordPage(c *gin.Context) {
	a := h.loadAgreement(c)
	if a == nil {
		return
	}
	h.render(c, http.StatusOK, views.SignatureRecord(h.page(c, "agreement.record.title"),
		views.SignatureRecordView{A: a, Today: models.DateOf(h.now())}))
}

// downloadAgreementDocument sends a version's PDF to whoever may see the agreement.
func (h *Handler) downloadAgreementDocument(c *gin.Context) {
	a := h.loadAgreement(c)
	if a == nil {
		return
	}
	vid, ok := idParam(c, "vid")
	ver := a.Version(vid)
	if !ok || ver == nil || ver.Document == nil {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	h.sendStoredFile(c, ver.Document, fmt.Sprintf("agreement-%s-v%d.pdf", a.Number, ver.Number))
}

// signAgreement signs the version by the hash the form carries, after the
// confirmation page. A stale version or hash is refused on the agreement's
// page, naming the current one.
func (h *Handler) signAgreement(c *gin.Context) {
	a := h.loadAgreement(c)
	if a == nil {
		return
	}
	vid, ok := idParam(c, "vid")
	ver := a.Version(vid)
	if !ok || ver == nil {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	u := currentUser(c)
	hash := strings.TrimSpace(c.PostForm("hash"))
	if !confirmed(c) {
		cur := a.Pending()
		if cur != nil && cur.ID == ver.ID && ver.Status == models.VersionOut && hash == ver.Hash {
			party := ""
			if u.Role.IsMinistry() {
				party = i18n.T(c.Request.Context(), "agreement.party.ministry")
			} else if u.OrganisationID != nil {
				if p := ver.Party(*u.OrganisationID); p != nil {
					party = views.OrgName(i18n.Lang(c.Request.Context()), p.Organisation)
				}
			}
			h.renderConfirm(c, views.ConfirmView{TitleID: "agreement.sign_confirm.title", EffectID: "agreement.sign_confirm.effect",
				SubmitID: "agreement.sign", Action: c.Request.URL.Path, Back: fmt.Sprintf("/agreements/%d", a.ID)},
				views.SignSummary(h.page(c, "agreement.sign_confirm.title"), a, ver, party))
			return
		}
	}
	res, err := models.SignVersion(c.Request.Context(), h.db, a.ID, ver.ID, hash, u, h.now())
	var stale *models.StaleVersionError
	switch {
	case errors.As(err, &stale):
		h.refuseAgreement(c, a, http.StatusConflict, stale)
		return
	case errors.Is(err, models.ErrNotSigner), errors.Is(err, models.ErrMinistryFirst):
		h.refuseAgreement(c, a, http.StatusConflict, err)
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	done := "signed"
	if res.Completed {
		done = "completed"
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/agreements/%d?done=%s", a.ID, done))
}

// refuseAgreement shows the agreement's page again with why a signature
// was refused.
func (h *Handler) refuseAgreement(c *gin.Context, a *models.Agreement, status int, why error) {
	fresh, err := models.GetAgreement(c.Request.Context(), h.db, a.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	v, err := h.agreementView(c, fresh)
	if err != nil {
		h.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	var stale *models.StaleVersionError
	switch {
	case errors.As(why, &stale) && stale.Current > 0:
		v.Stale = i18n.T(ctx, "agreement.error.stale", map[string]any{"N": stale.Current, "Hash": stale.Hash})
	case errors.As(why, &stale):
		v.Stale = i18n.T(ctx, "agreement.error.stale_none")
	case errors.Is(why, models.ErrNotSigner):
		v.Stale = i18n.T(ctx, "agreement.not_signer")
	default:
		v.Stale = i18n.T(ctx, "agreement.error.ministry_first")
	}
	h.render(c, status, views.Agreement(h.page(c, "agreement.list.title"), v))
}

// versionForm reads a version's form.
func versionForm(c *gin.Context) views.VersionForm {
	f := views.VersionForm{ApplicationID: c.PostForm("application_id"), ContactName: c.PostForm("contact_name"),
		ContactInfo: c.PostForm("contact_info"), StartDate: c.PostForm("start_date"), EndDate: c.PostForm("end_date"),
		GPUCount: c.PostForm("gpu_count"), GPUModel: c.PostForm("gpu_model"), GrantCompany: c.PostForm("grant_company") == "1",
		GrantModel: c.PostForm("grant_model") == "1", ModelNames: c.PostForm("model_names"),
		Deliverables: c.PostForm("deliverables"), StageDates: c.PostForm("stage_dates"), Changes: c.PostForm("changes"),
		Budget: map[string]string{}}
	for k, vs := range postedForm(c) {
		if strings.HasPrefix(k, "budget.") && len(vs) > 0 {
			f.Budget[k] = vs[0]
		}
	}
	return f
}

// versionInput turns the form into the model's input, with the uploaded
// document if one was sent.
func (h *Handler) versionInput(c *gin.Context, f views.VersionForm) models.VersionInput {
	in := models.VersionInput{StartDate: f.StartDate, EndDate: f.EndDate, GPUCount: f.GPUCount, GPUModel: f.GPUModel,
		GrantCompany: f.GrantCompany, GrantModel: f.GrantModel, ModelNames: f.ModelNames, Deliverables: f.Deliverables,
		StageDates: f.StageDates, Changes: f.Changes, Files: h.files, Uploads: h.uploads}
	lines := map[[2]uint]*models.BudgetInput{}
	for k, val := range f.Budget {
		parts := strings.Split(k, ".")
		if len(parts) != 4 {
			continue
		}
		org, ok := parseID(parts[1])
		year, err := strconv.Atoi(parts[2])
		if !ok || err != nil {
			continue
		}
		key := [2]uint{org, uint(year)}
		b := lines[key]
		if b == nil {
			b = &models.BudgetInput{OrganisationID: org, Year: year}
			lines[key] = b
		}
		if parts[3] == "gov" {
			b.Government = val
		} else {
			b.OwnWon = val
		}
	}
	for _, b := range lines {
		in.Budget = append(in.Budget, *b)
	}
	if fh, err := c.FormFile("document"); err == nil {
		up := uploadedFile(fh)
		in.Document = &up
	}
	return in
}

// formFromVersion pre-fills the form with a version's terms.
func formFromVersion(ver *models.AgreementVersion) views.VersionForm {
	f := views.VersionForm{StartDate: ver.StartDate, EndDate: ver.EndDate, GPUCount: strconv.Itoa(ver.GPUCount),
		GPUModel: ver.GPUModel, GrantCompany: ver.GrantCompany, GrantModel: ver.GrantModel, ModelNames: ver.ModelNames,
		Deliverables: ver.Deliverables, StageDates: ver.StageDates, Changes: ver.Changes, Budget: map[string]string{}}
	for _, b := range ver.Budget {
		f.Budget[views.BudgetKey(b.OrganisationID, b.Year, "gov")] = strconv.FormatInt(b.GovernmentWon, 10)
		f.Budget[views.BudgetKey(b.OrganisationID, b.Year, "own")] = strconv.FormatInt(b.OwnWon, 10)
	}
	return f
}

// renderVersionForm shows a version's form with its parties and years.
func (h *Handler) renderVersionForm(c *gin.Context, status int, titleID string, v views.VersionFormView) {
	ctx := c.Request.Context()
	appID := uint(0)
	if v.A != nil {
		appID = v.A.ApplicationID
	} else if id, ok := parseID(strings.TrimSpace(v.Form.ApplicationID)); ok {
		appID = id
	}
	if appID != 0 {
		ps, err := models.PartiesFor(ctx, h.db, appID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			h.fail(c, err)
			return
		}
		v.Parties = ps
	}
	probe := models.AgreementVersion{StartDate: strings.TrimSpace(v.Form.StartDate), EndDate: strings.TrimSpace(v.Form.EndDate)}
	v.Years = probe.Years()
	v.MaxUploadMB = h.cfg.MaxUploadBytes >> 20
	if v.Errors == nil {
		v.Errors = models.FieldErrors{}
	}
	h.render(c, status, views.VersionFormPage(h.page(c, titleID), v))
}

// showNewAgreementPage is the form of a new agreement for a selected
// application (?application=<id> picks it).
func (h *Handler) showNewAgreementPage(c *gin.Context) {
	cands, err := models.AgreementCandidates(c.Request.Context(), h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	today := models.DateOf(h.now())
	f := views.VersionForm{ApplicationID: c.Query("application"), StartDate: today.String(),
		EndDate: models.NewDate(today.Year+1, 12, 31).String(), GPUCount: "500", GPUModel: "NVIDIA B200", GrantCompany: true,
		Budget: map[string]string{}}
	h.renderVersionForm(c, http.StatusOK, "agreement.new.title", views.VersionFormView{Candidates: cands, Form: f, Action: "/officer/agreements"})
}

// createAgreement saves a new agreement with its first version (a draft).
func (h *Handler) createAgreement(c *gin.Context) {
	ctx := c.Request.Context()
	f := versionForm(c)
	appID, _ := parseID(strings.TrimSpace(f.ApplicationID))
	a, errs, err := models.CreateAgreement(ctx, h.db, models.NewAgreement{ApplicationID: appID, ContactName: f.ContactName,
		ContactInfo: f.ContactInfo, Version: h.versionInput(c, f)}, currentUser(c), h.now())
	if err == nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/agreements/%d?done=created", a.ID))
		return
	}
	if !errors.Is(err, models.ErrInvalid) {
		h.fail(c, err)
		return
	}
	cands, cerr := models.AgreementCandidates(ctx, h.db)
	if cerr != nil {
		h.fail(c, cerr)
		return
	}
	h.renderVersionForm(c, http.StatusUnprocessableEntity, "agreement.new.title",
		views.VersionFormView{Candidates: cands, Form: f, Errors: errs, Action: "/officer/agreements"})
}

// showNewVersionPage is the form of an amendment (or of a corrected
// version of one out for signature), pre-filled with the latest version.
func (h *Handler) showNewVersionPage(c *gin.Context) {
	a := h.loadAgreement(c)
	if a == nil {
		return
	}
	today := models.DateOf(h.now())
	latest := a.Latest()
	correction := latest != nil && latest.Status == models.VersionOut
	action := models.AgrAmend
	if correction {
		action = models.AgrNewVersion
	}
	if err := a.Check(action, currentUser(c).Role, today); err != nil {
		h.fail(c, err)
		return
	}
	f := formFromVersion(latest)
	f.Changes = ""
	h.renderVersionForm(c, http.StatusOK, "agreement.version.title", views.VersionFormView{A: a, Form: f, Correction: correction,
		KeepsDoc: latest.Document.SHA256, Action: fmt.Sprintf("/officer/agreements/%d/versions", a.ID)})
}

// createVersion saves an amendment or a corrected version (a draft).
func (h *Handler) createVersion(c *gin.Context) {
	a := h.loadAgreement(c)
	if a == nil {
		return
	}
	f := versionForm(c)
	_, errs, err := models.PrepareVersion(c.Request.Context(), h.db, a.ID, h.versionInput(c, f), currentUser(c), h.now())
	if err == nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/agreements/%d?done=prepared", a.ID))
		return
	}
	if !errors.Is(err, models.ErrInvalid) {
		h.fail(c, err)
		return
	}
	latest := a.Latest()
	h.renderVersionForm(c, http.StatusUnprocessableEntity, "agreement.version.title", views.VersionFormView{A: a, Form: f, Errors: errs,
		Correction: latest.Status == models.VersionOut, KeepsDoc: latest.Document.SHA256,
		Action: fmt.Sprintf("/officer/agreements/%d/versions", a.ID)})
}

// draftOf returns the draft named by :vid, answering 404 or 409 otherwise.
func (h *Handler) draftOf(c *gin.Context, a *models.Agreement) *models.AgreementVersion {
	vid, ok := idParam(c, "vid")
	ver := a.Version(vid)
	if !ok || ver == nil {
		h.renderError(c, http.StatusNotFound, nil)
		return nil
	}
	if p := a.Pending(); p == nil || p.ID != ver.ID || ver.Status != models.VersionDraft {
		h.renderError(c, http.StatusConflict, nil)
		return nil
	}
	return ver
}

// showEditVersionPage is the form of the draft version.
func (h *Handler) showEditVersionPage(c *gin.Context) {
	a := h.loadAgreement(c)
	if a == nil {
		return
	}
	ver := h.draftOf(c, a)
	if ver == nil {
		return
	}
	keeps := ""
	if ver.Document != nil {
		keeps = ver.Document.SHA256
	}
	h.renderVersionForm(c, http.StatusOK, "agreement.edit.title", views.VersionFormView{A: a, Draft: ver, Form: formFromVersion(ver),
		KeepsDoc: keeps, Action: fmt.Sprintf("/officer/agreements/%d/versions/%d", a.ID, ver.ID)})
}

// updateVersion saves the draft's changes.
func (h *Handler) updateVersion(c *gin.Context) {
	a := h.loadAgreement(c)
	if a == nil {
		return
	}
	ver := h.draftOf(c, a)
	if ver == nil {
		return
	}
	f := versionForm(c)
	errs, err := models.UpdateAgreementDraft(c.Request.Context(), h.db, a.ID, ver.ID, h.versionInput(c, f), currentUser(c), h.now())
	if err == nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/agreements/%d?done=edited", a.ID))
		return
	}
	if !errors.Is(err, models.ErrInvalid) {
		h.fail(c, err)
		return
	}
	keeps := ""
	if ver.Document != nil {
		keeps = ver.Document.SHA256
	}
	h.renderVersionForm(c, http.StatusUnprocessableEntity, "agreement.edit.title", views.VersionFormView{A: a, Draft: ver, Form: f,
		Errors: errs, KeepsDoc: keeps, Action: fmt.Sprintf("/officer/agreements/%d/versions/%d", a.ID, ver.ID)})
}

// sendVersion sends the draft out for signature, after the confirmation
// page: from then on it cannot be changed.
func (h *Handler) sendVersion(c *gin.Context) {
	a := h.loadAgreement(c)
	if a == nil {
		return
	}
	ver := h.draftOf(c, a)
	if ver == nil {
		return
	}
	if !confirmed(c) {
		if err := a.Check(models.AgrSend, currentUser(c).Role, models.DateOf(h.now())); err != nil {
			h.fail(c, err)
			return
		}
		h.renderConfirm(c, views.ConfirmView{TitleID: "agreement.send_confirm.title", EffectID: "agreement.send_confirm.effect",
			SubmitID: "agreement.send", Action: c.Request.URL.Path, Back: fmt.Sprintf("/agreements/%d", a.ID)},
			views.SignSummary(h.page(c, "agreement.send_confirm.title"), a, ver, "—"))
		return
	}
	err := models.SendVersion(c.Request.Context(), h.db, a.ID, ver.ID, currentUser(c), h.now())
	var fe *models.FieldsError
	if errors.As(err, &fe) {
		h.renderError(c, http.StatusUnprocessableEntity, nil)
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/agreements/%d?done=sent", a.ID))
}

// recordNotice records a notification-only change (the contact person).
func (h *Handler) recordNotice(c *gin.Context) {
	a := h.loadAgreement(c)
	if a == nil {
		return
	}
	f := views.NoticeForm{ContactName: c.PostForm("contact_name"), ContactInfo: c.PostForm("contact_info")}
	errs, err := models.RecordNotice(c.Request.Context(), h.db, a.ID, models.Notice{ContactName: f.ContactName, ContactInfo: f.ContactInfo},
		currentUser(c), h.now())
	if err == nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/agreements/%d?done=notice", a.ID))
		return
	}
	if !errors.Is(err, models.ErrInvalid) {
		h.fail(c, err)
		return
	}
	v, verr := h.agreementView(c, a)
	if verr != nil {
		h.fail(c, verr)
		return
	}
	f.Errors = errs
	v.Notice = f
	h.render(c, http.StatusUnprocessableEntity, views.Agreement(h.page(c, "agreement.list.title"), v))
}

// terminateAgreement terminates (해약) an agreement in force, after the
// confirmation page: the team's names and GPU allocations end with it.
func (h *Handler) terminateAgreement(c *gin.Context) {
	a := h.loadAgreement(c)
	if a == nil {
		return
	}
	f := views.TerminateForm{Day: c.PostForm("day"), Reason: c.PostForm("reason")}
	in := models.Termination{Day: f.Day, Reason: f.Reason}
	u := currentUser(c)
	refuse := func(errs models.FieldErrors) {
		v, err := h.agreementView(c, a)
		if err != nil {
			h.fail(c, err)
			return
		}
		f.Errors = errs
		v.Terminate = f
		h.render(c, http.StatusUnprocessableEntity, views.Agreement(h.page(c, "agreement.list.title"), v))
	}
	if !confirmed(c) || editing(c) {
		day, errs, err := models.CheckTermination(a, in, u.Role, h.now())
		switch {
		case errors.Is(err, models.ErrInvalid):
			refuse(errs)
		case err != nil:
			h.fail(c, err)
		case editing(c):
			refuse(nil)
		default:
			h.renderConfirm(c, views.ConfirmView{TitleID: "agreement.terminate_confirm.title", EffectID: "agreement.terminate_confirm.effect",
				SubmitID: "agreement.terminate.submit", Action: c.Request.URL.Path, EditBack: true},
				views.TerminateSummary(h.page(c, "agreement.terminate_confirm.title"), a, day, strings.TrimSpace(f.Reason)))
		}
		return
	}
	errs, err := models.TerminateAgreement(c.Request.Context(), h.db, a.ID, in, u, h.now())
	switch {
	case errors.Is(err, models.ErrInvalid):
		refuse(errs)
	case err != nil:
		h.fail(c, err)
	default:
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/agreements/%d?done=terminated", a.ID))
	}
}

// showSignersPage lists the company users, marking the authorised signers.
func (h *Handler) showSignersPage(c *gin.Context) {
	h.renderSigners(c, http.StatusOK, "")
}

// renderSigners shows the signers' page, with a refusal when there is one.
func (h *Handler) renderSigners(c *gin.Context, status int, refusal string) {
	ctx := c.Request.Context()
	ss, err := models.ListSigners(ctx, h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	users, err := models.ListUsers(ctx, h.db)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := views.SignersView{Signers: ss, Error: refusal}
	for _, u := range users {
		if u.Role == models.RoleCompany && u.OrganisationID != nil {
			v.Users = append(v.Users, u)
		}
	}
	switch c.Query("done") {
	case "marked":
		v.Done = "agreement.signers.marked"
	case "unmarked":
		v.Done = "agreement.signers.unmarked"
	}
	h.render(c, status, views.Signers(h.page(c, "agreement.signers.title"), v))
}

// markSigner makes a company user an authorised signer.
func (h *Handler) markSigner(c *gin.Context) {
	id, ok := parseID(strings.TrimSpace(c.PostForm("user_id")))
	if !ok {
		h.renderSigners(c, http.StatusUnprocessableEntity, "agreement.signers.error")
		return
	}
	err := models.MarkSigner(c.Request.Context(), h.db, id, currentUser(c), h.now())
	switch {
	case errors.Is(err, models.ErrInvalid), errors.Is(err, models.ErrNotFound):
		h.renderSigners(c, http.StatusUnprocessableEntity, "agreement.signers.error")
	case err != nil:
		h.fail(c, err)
	default:
		c.Redirect(http.StatusSeeOther, "/officer/signers?done=marked")
	}
}

// unmarkSigner withdraws a user's authority to sign.
func (h *Handler) unmarkSigner(c *gin.Context) {
	id, ok := idParam(c, "uid")
	if !ok {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	if err := models.UnmarkSigner(c.Request.Context(), h.db, id, currentUser(c), h.now()); err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/officer/signers?done=unmarked")
}
