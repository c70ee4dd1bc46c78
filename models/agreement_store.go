package models

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Limits of the agreement's fields.
const (
	MaxAgreementText   = 10000 // deliverables, stage dates, changes
	MaxAgreementNames  = 2000  // model names
	MaxAgreementGPUs   = 100000
	MaxAgreementWon    = 1_000_000_000_000_000 // a quadrillion won
	MaxAgreementReason = 2000
)

// BudgetInput is one party's budget for one year as typed.
type BudgetInput struct {
	OrganisationID     uint
	Year               int
	Government, OwnWon string
}

// VersionInput is what an officer enters for a version.
type VersionInput struct {
	StartDate, EndDate string
	GPUCount           string
	GPUModel           string
	GrantCompany       bool
	GrantModel         bool
	ModelNames         string
	Deliverables       string
	StageDates         string
	Changes            string
	Budget             []BudgetInput
	// Document is the agreement's PDF; nil keeps the previous version's
	// (a first version needs one).
	Document *UploadedFile
	Files    *FileStore
	Uploads  UploadPolicy
}

// ParseWon reads an amount of won as typed: digits, with or without
// thousands separators.
func ParseWon(s string) (int64, bool) {
	s = strings.NewReplacer(",", "", " ", "", "원", "").Replace(strings.TrimSpace(s))
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > MaxAgreementWon {
		return 0, false
	}
	return n, true
}

// Validate checks the terms and returns them as a version (without
// document, parties or number); parties are the organisations a budget
// may name.
func (in VersionInput) Validate(parties []uint) (*AgreementVersion, FieldErrors) {
	errs := FieldErrors{}
	v := &AgreementVersion{GPUModel: strings.TrimSpace(in.GPUModel), GrantCompany: in.GrantCompany, GrantModel: in.GrantModel}
	from, err1 := ParseDate(strings.TrimSpace(in.StartDate))
	to, err2 := ParseDate(strings.TrimSpace(in.EndDate))
	if err1 != nil {
		errs.Add("start_date", "agreement.error.date")
	}
	if err2 != nil {
		errs.Add("end_date", "agreement.error.date")
	}
	if err1 == nil && err2 == nil {
		switch {
		case to.Before(from):
			errs.Add("end_date", "agreement.error.end_before_start")
		case to.Year-from.Year > 10:
			errs.Add("end_date", "agreement.error.too_long")
		}
		v.StartDate, v.EndDate = from.String(), to.String()
	}
	n, err := strconv.Atoi(strings.TrimSpace(in.GPUCount))
	if err != nil || n < 0 || n > MaxAgreementGPUs {
		errs.Add("gpu_count", "agreement.error.gpu_count")
	}
	v.GPUCount = n
	if v.GPUCount > 0 && v.GPUModel == "" {
		errs.Add("gpu_model", "form.required")
	}
	errs.CheckText("gpu_model", v.GPUModel, MaxClusterText, SingleLine)
	names := splitLines(in.ModelNames)
	v.ModelNames = strings.Join(names, "\n")
	errs.CheckText("model_names", in.ModelNames, MaxAgreementNames, MultiLine)
	for _, nm := range names {
		errs.CheckText("model_names", nm, MaxGrantName, SingleLine)
	}
	if in.GrantModel && len(names) == 0 {
		errs.Add("model_names", "agreement.error.model_names")
	}
	ms, ok := parseMilestones(in.Deliverables)
	if !ok {
		errs.Add("deliverables", "agreement.error.deliverables")
	}
	var lines []string
	for _, m := range ms {
		lines = append(lines, m.Due.String()+" "+m.Title)
	}
	v.Deliverables = strings.Join(lines, "\n")
	errs.CheckText("deliverables", in.Deliverables, MaxAgreementText, MultiLine)
	ds, ok := parseDates(in.StageDates)
	if !ok {
		errs.Add("stage_dates", "agreement.error.stage_dates")
	}
	lines = nil
	for _, d := range ds {
		lines = append(lines, d.String())
	}
	v.StageDates = strings.Join(lines, "\n")
	v.Changes = strings.TrimSpace(in.Changes)
	errs.CheckText("changes", v.Changes, MaxAgreementText, MultiLine)
	years := yearsOf(v.StartDate, v.EndDate)
	for _, b := range in.Budget {
		field := fmt.Sprintf("budget.%d.%d", b.OrganisationID, b.Year)
		gov, ok1 := ParseWon(b.Government)
		own, ok2 := ParseWon(b.OwnWon)
		if !ok1 || !ok2 {
			errs.Add(field, "agreement.error.won")
			continue
		}
		if !containsUint(parties, b.OrganisationID) || !containsInt(years, b.Year) {
			continue // a year outside the period, or not a party: not part of the terms
		}
		if gov == 0 && own == 0 {
			continue
		}
		v.Budget = append(v.Budget, AgreementBudget{OrganisationID: b.OrganisationID, Year: b.Year, GovernmentWon: gov, OwnWon: own})
	}
	return v, errs
}

func containsUint(s []uint, x uint) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func containsInt(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// lockAgreement serialises the writers of one agreement (signers, the
// officer preparing or terminating it): it touches the agreement's row,
// then takes the allocation lock (the effects may end allocations), both
// before any audit row, in that order everywhere.
func lockAgreement(ctx context.Context, tx *gorm.DB, id uint, now time.Time) error {
	res := tx.WithContext(ctx).Model(&Agreement{}).Where("id = ?", id).Update("updated_at", now.UTC())
	if res.Error != nil {
		return fmt.Errorf("store: lock agreement %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: agreement %d: %w", id, ErrNotFound)
	}
	return LockAllocations(tx)
}

// GetAgreement loads an agreement with its team, application, versions
// (with their parties, budget, signatures and document) and notices' count
// not included.
func GetAgreement(ctx context.Context, db *gorm.DB, id uint) (*Agreement, error) {
	var a Agreement
	err := db.WithContext(ctx).Preload("Organisation").Preload("Application").
		Preload("Versions", func(tx *gorm.DB) *gorm.DB { return tx.Order("number") }).
		Preload("Versions.Document").
		Preload("Versions.Parties", func(tx *gorm.DB) *gorm.DB { return tx.Order("position") }).
		Preload("Versions.Parties.Organisation").
		Preload("Versions.Budget", func(tx *gorm.DB) *gorm.DB { return tx.Order("organisation_id, year") }).
		Preload("Versions.Signatures", func(tx *gorm.DB) *gorm.DB { return tx.Order("signed_at, id") }).
		First(&a, id).Error
	if err != nil {
		return nil, notFound(fmt.Sprintf("store: agreement %d", id), err)
	}
	return &a, nil
}

// ListAgreements returns the agreements, by number: every one, or those in
// which the organisation orgID is a party (when not nil).
func ListAgreements(ctx context.Context, db *gorm.DB, orgID *uint) ([]Agreement, error) {
	q := db.WithContext(ctx).Preload("Organisation").
		Preload("Versions", func(tx *gorm.DB) *gorm.DB { return tx.Order("number") }).
		Preload("Versions.Parties", func(tx *gorm.DB) *gorm.DB { return tx.Order("position") }).
		Preload("Versions.Parties.Organisation").
		Preload("Versions.Signatures").Order("number")
	if orgID != nil {
		q = q.Where("organisation_id = ? OR id IN (?)", *orgID,
			db.Model(&AgreementVersion{}).Select("agreement_versions.agreement_id").
				Joins("JOIN agreement_parties ON agreement_parties.version_id = agreement_versions.id").
				Where("agreement_parties.organisation_id = ?", *orgID))
	}
	var as []Agreement
	if err := q.Find(&as).Error; err != nil {
		return nil, fmt.Errorf("store: list agreements: %w", err)
	}
	return as, nil
}

// ListNotices returns an agreement's notification-only changes, newest first.
func ListNotices(ctx context.Context, db *gorm.DB, agreementID uint) ([]AgreementNotice, error) {
	var ns []AgreementNotice
	if err := db.WithContext(ctx).Where("agreement_id = ?", agreementID).Order("at DESC, id DESC").Find(&ns).Error; err != nil {
		return nil, fmt.Errorf("store: agreement notices: %w", err)
	}
	return ns, nil
}

// AgreementCandidates returns the selected applications of the current
// programme that have no agreement yet, with their lead.
func AgreementCandidates(ctx context.Context, db *gorm.DB) ([]Application, error) {
	prog, err := CurrentProgramme(ctx, db)
	if err != nil {
		return nil, err
	}
	var apps []Application
	err = db.WithContext(ctx).Preload("LeadOrg").Joins("JOIN calls ON calls.id = applications.call_id").
		Where("calls.programme_id = ? AND applications.status = ?", prog.ID, StatusSelected).
		Where("applications.id NOT IN (?)", db.Model(&Agreement{}).Select("application_id")).
		Order("applications.id").Find(&apps).Error
	if err != nil {
		return nil, fmt.Errorf("store: agreement candidates: %w", err)
	}
	return apps, nil
}

// PartiesFor returns the parties an agreement for the application would
// have now, with their organisations.
func PartiesFor(ctx context.Context, db *gorm.DB, appID uint) ([]AgreementParty, error) {
	var app Application
	if err := db.WithContext(ctx).First(&app, appID).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: application %d", appID), err)
	}
	ps, err := agreementParties(ctx, db, &app)
	if err != nil {
		return nil, err
	}
	ids := make([]uint, len(ps))
	for i, p := range ps {
		ids[i] = p.OrganisationID
	}
	var orgs []Organisation
	if err := db.WithContext(ctx).Where("id IN ?", ids).Find(&orgs).Error; err != nil {
		return nil, fmt.Errorf("store: parties: %w", err)
	}
	for i := range ps {
		for j := range orgs {
			if orgs[j].ID == ps[i].OrganisationID {
				ps[i].Organisation = &orgs[j]
			}
		}
	}
	return ps, nil
}

// NewAgreement is an officer's new agreement: the selected application it
// is for, the contact person and its first version.
type NewAgreement struct {
	ApplicationID uint
	ContactName   string
	ContactInfo   string
	Version       VersionInput
}

// CreateAgreement prepares an agreement and its first version (a draft)
// for an application selected by a published decision.
func CreateAgreement(ctx context.Context, db *gorm.DB, in NewAgreement, by *User, now time.Time) (*Agreement, FieldErrors, error) {
	if by == nil || !by.Role.IsMinistry() {
		return nil, nil, fmt.Errorf("store: create agreement: %w", ErrForbidden)
	}
	errs := FieldErrors{}
	in.ContactName, in.ContactInfo = strings.TrimSpace(in.ContactName), strings.TrimSpace(in.ContactInfo)
	errs.CheckText("contact_name", in.ContactName, MaxOrganisationName, SingleLine)
	errs.CheckText("contact_info", in.ContactInfo, MaxOrganisationName, SingleLine)
	var a *Agreement
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := LockAllocations(tx); err != nil {
			return err
		}
		var app Application
		if err := tx.Preload("LeadOrg").Preload("Call").First(&app, in.ApplicationID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				errs.Add("application_id", "agreement.error.application")
				return ErrInvalid
			}
			return err
		}
		if app.Status != StatusSelected {
			errs.Add("application_id", "agreement.error.not_selected")
			return ErrInvalid
		}
		var n int64
		if err := tx.Model(&Agreement{}).Where("application_id = ?", app.ID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			errs.Add("application_id", "agreement.error.exists")
			return ErrInvalid
		}
		a = &Agreement{Number: "new-" + RandomToken(12), ProgrammeID: app.Call.ProgrammeID, ApplicationID: app.ID,
			OrganisationID: app.LeadOrgID, ContactName: in.ContactName, ContactInfo: in.ContactInfo,
			CreatedByID: by.ID, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
		if err := tx.Omit("Versions", "Application", "Organisation").Create(a).Error; err != nil {
			return fmt.Errorf("store: create agreement: %w", err)
		}
		// Numbered in the programme's order, without gaps (the allocation
		// lock, taken first, serialises creators on PostgreSQL).
		var seq int64
		if err := tx.Model(&Agreement{}).Where("programme_id = ?", a.ProgrammeID).Count(&seq).Error; err != nil {
			return err
		}
		a.Number = fmt.Sprintf("KAI-%d-%03d", DateOf(now).Year, seq)
		if err := tx.Model(a).Update("number", a.Number).Error; err != nil {
			return err
		}
		v, err := insertVersion(ctx, tx, a, &app, nil, in.Version, errs, by, now)
		if err != nil {
			return err
		}
		return RecordAudit(ctx, tx, ActorOf(by), "agreement.create", "agreement", fmt.Sprint(a.ID),
			fmt.Sprintf("%s for %s (application %d), version %d: %s – %s", a.Number, app.LeadOrg.NameKO, app.ID, v.Number, v.StartDate, v.EndDate), now)
	})
	if errors.Is(err, ErrInvalid) {
		return nil, errs, fmt.Errorf("store: create agreement: %w", ErrInvalid)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: create agreement: %w", err)
	}
	return a, nil, nil
}

// insertVersion validates the terms, stores the document and inserts a
// draft version numbered after prev (nil for the first), with the parties
// the application has now. Field problems are added to errs (ErrInvalid).
func insertVersion(ctx context.Context, tx *gorm.DB, a *Agreement, app *Application, prev *AgreementVersion, in VersionInput,
	errs FieldErrors, by *User, now time.Time) (*AgreementVersion, error) {
	parties, err := agreementParties(ctx, tx, app)
	if err != nil {
		return nil, err
	}
	ids := make([]uint, len(parties))
	for i, p := range parties {
		ids[i] = p.OrganisationID
	}
	v, verrs := in.Validate(ids)
	for f, m := range verrs {
		errs.Add(f, m)
	}
	doc, err := saveDocument(ctx, tx, in, prev == nil, errs, by, now)
	if err != nil {
		return nil, err
	}
	if errs.Any() {
		return nil, ErrInvalid
	}
	v.AgreementID, v.Number, v.Status, v.PreparedByID = a.ID, 1, VersionDraft, by.ID
	v.CreatedAt, v.UpdatedAt = now.UTC(), now.UTC()
	if prev != nil {
		v.Number = prev.Number + 1
		v.DocumentID = prev.DocumentID
	}
	if doc != nil {
		v.DocumentID = &doc.ID
	}
	budget := v.Budget
	v.Budget = nil
	if err := tx.Omit("Parties", "Budget", "Signatures", "Document").Create(v).Error; err != nil {
		return nil, fmt.Errorf("store: insert agreement version: %w", err)
	}
	for i := range parties {
		parties[i].VersionID = v.ID
	}
	if err := tx.Create(&parties).Error; err != nil {
		return nil, err
	}
	if err := saveBudget(tx, v.ID, budget); err != nil {
		return nil, err
	}
	v.Parties, v.Budget = parties, budget
	return v, nil
}

func saveBudget(tx *gorm.DB, versionID uint, budget []AgreementBudget) error {
	if err := tx.Where("version_id = ?", versionID).Delete(&AgreementBudget{}).Error; err != nil {
		return err
	}
	for i := range budget {
		budget[i].ID, budget[i].VersionID = 0, versionID
	}
	if len(budget) > 0 {
		return tx.Create(&budget).Error
	}
	return nil
}

// saveDocument stores the uploaded PDF, when there is one.
func saveDocument(ctx context.Context, tx *gorm.DB, in VersionInput, required bool, errs FieldErrors, by *User, now time.Time) (*StoredFile, error) {
	if in.Document == nil {
		if required {
			errs.Add("document", "agreement.error.document")
		}
		return nil, nil
	}
	if errs.Any() || in.Files == nil {
		return nil, nil // not stored for a form that is refused anyway
	}
	r, err := in.Document.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	policy := in.Uploads
	policy.Allowed = []FileKind{FilePDF}
	f, err := in.Files.Save(ctx, tx, in.Document.Name, r, policy, by.ID, now.UTC())
	switch {
	case errors.Is(err, ErrUploadTooLarge):
		errs.Add("document", "agreement.error.document_size")
		return nil, nil
	case errors.Is(err, ErrUploadType), errors.Is(err, ErrUploadEmpty):
		errs.Add("document", "agreement.error.document_type")
		return nil, nil
	case err != nil:
		return nil, err
	}
	return f, nil
}

// loadForWrite locks and loads the agreement and its application.
func loadForWrite(ctx context.Context, tx *gorm.DB, id uint, now time.Time) (*Agreement, *Application, error) {
	if err := lockAgreement(ctx, tx, id, now); err != nil {
		return nil, nil, err
	}
	a, err := GetAgreement(ctx, tx, id)
	if err != nil {
		return nil, nil, err
	}
	var app Application
	if err := tx.WithContext(ctx).Preload("LeadOrg").First(&app, a.ApplicationID).Error; err != nil {
		return nil, nil, notFound("store: agreement's application", err)
	}
	return a, &app, nil
}

// PrepareVersion makes a new draft version of an agreement: an amendment
// of one in force (which stays in force until the amendment is completed),
// or a corrected version of one out for signature (which is superseded, its
// signatures void).
func PrepareVersion(ctx context.Context, db *gorm.DB, agreementID uint, in VersionInput, by *User, now time.Time) (*AgreementVersion, FieldErrors, error) {
	if by == nil {
		return nil, nil, fmt.Errorf("store: prepare agreement version: %w", ErrForbidden)
	}
	errs := FieldErrors{}
	var v *AgreementVersion
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, app, err := loadForWrite(ctx, tx, agreementID, now)
		if err != nil {
			return err
		}
		today := DateOf(now)
		latest := a.Latest()
		action := AgrAmend
		if latest != nil && latest.Status == VersionOut {
			action = AgrNewVersion
		}
		if err := a.Check(action, by.Role, today); err != nil {
			return err
		}
		if v, err = insertVersion(ctx, tx, a, app, latest, in, errs, by, now); err != nil {
			return err
		}
		if action == AgrNewVersion {
			if err := tx.Model(&AgreementVersion{}).Where("id = ?", latest.ID).
				Updates(map[string]any{"status": VersionSuperseded, "updated_at": now.UTC()}).Error; err != nil {
				return err
			}
			if err := RecordAudit(ctx, tx, ActorOf(by), "agreement.supersede", "agreement", fmt.Sprint(a.ID),
				fmt.Sprintf("%s version %d (%s) superseded by version %d before it was completed", a.Number, latest.Number, latest.Hash, v.Number), now); err != nil {
				return err
			}
		}
		return RecordAudit(ctx, tx, ActorOf(by), "agreement.prepare", "agreement", fmt.Sprint(a.ID),
			fmt.Sprintf("%s version %d prepared: %s – %s", a.Number, v.Number, v.StartDate, v.EndDate), now)
	})
	if errors.Is(err, ErrInvalid) {
		return nil, errs, fmt.Errorf("store: prepare agreement version: %w", ErrInvalid)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: prepare agreement version: %w", err)
	}
	return v, nil, nil
}

// UpdateAgreementDraft changes the draft version's terms (and document, when one is
// sent). A version out for signature or signed is never changed.
func UpdateAgreementDraft(ctx context.Context, db *gorm.DB, agreementID, versionID uint, in VersionInput, by *User, now time.Time) (FieldErrors, error) {
	if by == nil {
		return nil, fmt.Errorf("store: edit agreement version: %w", ErrForbidden)
	}
	errs := FieldErrors{}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, app, err := loadForWrite(ctx, tx, agreementID, now)
		if err != nil {
			return err
		}
		cur := a.Version(versionID)
		if cur == nil {
			return fmt.Errorf("store: agreement %d version %d: %w", agreementID, versionID, ErrNotFound)
		}
		if p := a.Pending(); p == nil || p.ID != cur.ID || cur.Status != VersionDraft {
			return fmt.Errorf("store: agreement version %d is %s: %w", cur.Number, cur.Status, ErrInvalidTransition)
		}
		if err := a.Check(AgrEditDraft, by.Role, DateOf(now)); err != nil {
			return err
		}
		parties, err := agreementParties(ctx, tx, app)
		if err != nil {
			return err
		}
		ids := make([]uint, len(parties))
		for i, p := range parties {
			ids[i] = p.OrganisationID
		}
		v, verrs := in.Validate(ids)
		for f, m := range verrs {
			errs.Add(f, m)
		}
		doc, err := saveDocument(ctx, tx, in, false, errs, by, now)
		if err != nil {
			return err
		}
		if errs.Any() {
			return ErrInvalid
		}
		upd := map[string]any{"start_date": v.StartDate, "end_date": v.EndDate, "gpu_count": v.GPUCount, "gpu_model": v.GPUModel,
			"grant_company": v.GrantCompany, "grant_model": v.GrantModel, "model_names": v.ModelNames,
			"deliverables": v.Deliverables, "stage_dates": v.StageDates, "changes": v.Changes, "updated_at": now.UTC()}
		if doc != nil {
			upd["document_id"] = doc.ID
		}
		if err := tx.Model(&AgreementVersion{}).Where("id = ? AND status = ?", cur.ID, VersionDraft).Updates(upd).Error; err != nil {
			return err
		}
		// The parties follow the consortium until the version is sent.
		if err := tx.Where("version_id = ?", cur.ID).Delete(&AgreementParty{}).Error; err != nil {
			return err
		}
		for i := range parties {
			parties[i].VersionID = cur.ID
		}
		if err := tx.Create(&parties).Error; err != nil {
			return err
		}
		if err := saveBudget(tx, cur.ID, v.Budget); err != nil {
			return err
		}
		return RecordAudit(ctx, tx, ActorOf(by), "agreement.edit", "agreement", fmt.Sprint(a.ID),
			fmt.Sprintf("%s draft version %d changed: %s – %s", a.Number, cur.Number, v.StartDate, v.EndDate), now)
	})
	if errors.Is(err, ErrInvalid) {
		return errs, fmt.Errorf("store: edit agreement version: %w", ErrInvalid)
	}
	if err != nil {
		return nil, fmt.Errorf("store: edit agreement version: %w", err)
	}
	return nil, nil
}

// SendVersion sends the draft out for signature: its hash is fixed, and
// it can no longer be changed.
func SendVersion(ctx context.Context, db *gorm.DB, agreementID, versionID uint, by *User, now time.Time) error {
	if by == nil {
		return fmt.Errorf("store: send agreement version: %w", ErrForbidden)
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, _, err := loadForWrite(ctx, tx, agreementID, now)
		if err != nil {
			return err
		}
		cur := a.Version(versionID)
		if cur == nil {
			return fmt.Errorf("store: agreement %d version %d: %w", agreementID, versionID, ErrNotFound)
		}
		if p := a.Pending(); p == nil || p.ID != cur.ID || cur.Status != VersionDraft {
			return fmt.Errorf("store: agreement version %d is %s: %w", cur.Number, cur.Status, ErrInvalidTransition)
		}
		if err := a.Check(AgrSend, by.Role, DateOf(now)); err != nil {
			return err
		}
		if cur.Document == nil {
			return &FieldsError{Fields: FieldErrors{"document": "agreement.error.document"}}
		}
		cur.Hash = cur.ComputeHash(a.Number, cur.Document.SHA256)
		at := now.UTC()
		if err := tx.Model(&AgreementVersion{}).Where("id = ? AND status = ?", cur.ID, VersionDraft).
			Updates(map[string]any{"status": VersionOut, "hash": cur.Hash, "sent_at": at, "updated_at": at}).Error; err != nil {
			return err
		}
		if err := notifyAgreement(ctx, tx, NotifyAgreementSent, fmt.Sprintf("agreement-version:%d:sent", cur.ID), a, cur,
			false, nil, now); err != nil {
			return err
		}
		return RecordAudit(ctx, tx, ActorOf(by), "agreement.send", "agreement", fmt.Sprint(a.ID),
			fmt.Sprintf("%s version %d out for signature, hash %s (document %s)", a.Number, cur.Number, cur.Hash, cur.Document.SHA256), now)
	})
	if err != nil {
		return fmt.Errorf("store: send agreement version: %w", err)
	}
	return nil
}

// IsSigner reports whether the user is an authorised signer of their
// organisation.
func IsSigner(ctx context.Context, db *gorm.DB, u *User) (bool, error) {
	if u == nil || u.Role != RoleCompany || u.OrganisationID == nil {
		return false, nil
	}
	var n int64
	err := db.WithContext(ctx).Model(&AgreementSigner{}).Where("user_id = ? AND organisation_id = ?", u.ID, *u.OrganisationID).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("store: signer: %w", err)
	}
	return n > 0, nil
}

// SignResult is what became of a signature.
type SignResult struct {
	Signature *AgreementSignature
	Created   bool // false: the party had signed already (a second press)
	Completed bool // this signature completed the version
}

// SignVersion records the signature of the user's party on a version, by
// the hash the signer saw: a company's authorised signer for their
// organisation, an officer for the ministry, which signs after every other
// party. A party's second signature of the same version returns the first.
// A version that is not the one out for signature, or a hash that is not
// its hash, is refused with StaleVersionError. The ministry's signature
// completes the version: it comes into force, with its effects.
func SignVersion(ctx context.Context, db *gorm.DB, agreementID, versionID uint, hash string, by *User, now time.Time) (SignResult, error) {
	var res SignResult
	if by == nil {
		return res, fmt.Errorf("store: sign agreement: %w", ErrForbidden)
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, _, err := loadForWrite(ctx, tx, agreementID, now)
		if err != nil {
			return err
		}
		var orgID uint
		action := AgrSign
		if by.Role.IsMinistry() {
			m, err := ministryOrganisation(ctx, tx)
			if err != nil {
				return err
			}
			orgID, action = m.ID, AgrCountersign
		} else if by.Role == RoleCompany && by.OrganisationID != nil {
			orgID = *by.OrganisationID
		} else {
			return ErrForbidden
		}
		v := a.Version(versionID)
		if v != nil {
			if s := v.SignatureOf(orgID); s != nil && s.VersionHash == strings.TrimSpace(hash) {
				res.Signature = s
				return nil
			}
		}
		cur := a.Pending()
		if v == nil || cur == nil || cur.ID != v.ID || v.Status != VersionOut || strings.TrimSpace(hash) != v.Hash {
			stale := &StaleVersionError{}
			if cur != nil && cur.Status == VersionOut {
				stale.Current, stale.Hash = cur.Number, cur.Hash
			}
			return stale
		}
		if err := a.Check(action, by.Role, DateOf(now)); err != nil {
			return err
		}
		party := v.Party(orgID)
		if party == nil {
			return fmt.Errorf("store: organisation %d is not a party of %s: %w", orgID, a.Number, ErrForbidden)
		}
		if action == AgrSign {
			ok, err := IsSigner(ctx, tx, by)
			if err != nil {
				return err
			}
			if !ok {
				return ErrNotSigner
			}
		} else if len(v.Missing()) > 1 {
			return ErrMinistryFirst
		}
		s := &AgreementSignature{VersionID: v.ID, OrganisationID: orgID, OrganisationName: party.Organisation.NameKO,
			SignerID: by.ID, SignerName: by.DisplayName(), VersionHash: v.Hash, SignedAt: now.UTC().Truncate(time.Second)}
		if err := tx.Create(s).Error; err != nil {
			return fmt.Errorf("store: sign agreement: %w", err)
		}
		res.Signature, res.Created = s, true
		if err := RecordAudit(ctx, tx, ActorOf(by), "agreement.sign", "agreement", fmt.Sprint(a.ID),
			fmt.Sprintf("%s version %d signed for %s by %s, hash %s", a.Number, v.Number, party.Organisation.NameKO, by.DisplayName(), v.Hash), now); err != nil {
			return err
		}
		if err := notifyAgreement(ctx, tx, NotifyAgreementSigned, fmt.Sprintf("agreement-version:%d:signed:%d", v.ID, orgID), a, v,
			true, map[string]string{"party": party.Organisation.NameKO, "signed": kstSecond(s.SignedAt)}, now); err != nil {
			return err
		}
		if action != AgrCountersign {
			return nil
		}
		res.Completed = true
		return completeVersion(ctx, tx, a, v, by, now)
	})
	if err != nil {
		var stale *StaleVersionError
		if errors.As(err, &stale) {
			return res, err
		}
		return res, fmt.Errorf("store: sign agreement: %w", err)
	}
	return res, nil
}

// completeVersion puts a fully signed version in force and applies its
// effects: the K-AI names of its terms are granted for its period (the
// previous version's end the day before), and allocations reaching past
// its end are ended on it.
func completeVersion(ctx context.Context, tx *gorm.DB, a *Agreement, v *AgreementVersion, by *User, now time.Time) error {
	from, _ := ParseDate(v.StartDate)
	if today := DateOf(now); today.After(from) {
		from = today
	}
	at := now.UTC()
	if err := tx.Model(&AgreementVersion{}).Where("id = ? AND status = ?", v.ID, VersionOut).
		Updates(map[string]any{"status": VersionSigned, "completed_at": at, "effective_from": from.String(), "updated_at": at}).Error; err != nil {
		return err
	}
	if err := tx.Model(&Agreement{}).Where("id = ?", a.ID).Update("in_force_id", v.ID).Error; err != nil {
		return err
	}
	prev := a.InForce()
	v.Status, v.EffectiveFrom, v.CompletedAt = VersionSigned, from.String(), &at
	a.InForceID = &v.ID
	summary := fmt.Sprintf("%s version %d signed by every party; in force from %s to %s", a.Number, v.Number, from, v.EndDate)
	if prev != nil {
		summary += fmt.Sprintf(" (replacing version %d from that day)", prev.Number)
	}
	if err := RecordAudit(ctx, tx, ActorOf(nil), "agreement.complete", "agreement", fmt.Sprint(a.ID), summary, now); err != nil {
		return err
	}
	if err := notifyAgreement(ctx, tx, NotifyAgreementEffective, fmt.Sprintf("agreement-version:%d:effective", v.ID), a, v,
		false, map[string]string{"from": from.String()}, now); err != nil {
		return err
	}
	return applyNames(ctx, tx, a, v, from, by, now)
}

// applyNames grants the names of the version's terms from from to its end,
// exactly once (a unique index on the version and the kind), ends the
// agreement's earlier grants the day before, and ends the team's
// allocations that reach past the version's end.
func applyNames(ctx context.Context, tx *gorm.DB, a *Agreement, v *AgreementVersion, from Date, by *User, now time.Time) error {
	var old []NamingGrant
	if err := tx.Where("agreement_id = ? AND revoked_at IS NULL", a.ID).Find(&old).Error; err != nil {
		return err
	}
	reason := fmt.Sprintf("협약 %s 제%d차 변경으로 대체 (replaced by version %d)", a.Number, v.Number, v.Number)
	for _, g := range old {
		if g.AgreementVersionID != nil && *g.AgreementVersionID == v.ID {
			continue
		}
		if err := endGrant(ctx, tx, &g, from, reason, true, nil, now); err != nil {
			return err
		}
	}
	var org Organisation
	if err := tx.First(&org, a.OrganisationID).Error; err != nil {
		return err
	}
	basis := fmt.Sprintf("협약 %s 제%d판 (agreement %s version %d), %s – %s", a.Number, v.Number, a.Number, v.Number, from, v.EndDate)
	type grant struct {
		kind  NamingKind
		names string
	}
	var gs []grant
	if v.GrantCompany {
		names := org.NameKO
		if org.NameEN != "" && org.NameEN != org.NameKO {
			names += "\n" + org.NameEN
		}
		gs = append(gs, grant{NamingCompany, names})
	}
	if v.GrantModel && v.ModelNames != "" {
		gs = append(gs, grant{NamingModel, v.ModelNames})
	}
	for _, g := range gs {
		row := &NamingGrant{Kind: g.kind, HolderID: a.OrganisationID, Names: g.names, ValidFrom: from.String(), ValidTo: v.EndDate,
			Basis: basis, AgreementID: &a.ID, AgreementVersionID: &v.ID, GrantedByID: by.ID, GrantedAt: now.UTC()}
		if err := tx.Omit("Holder").Create(row).Error; err != nil {
			return fmt.Errorf("store: grant names of %s: %w", a.Number, err)
		}
		if err := RecordAudit(ctx, tx, ActorOf(nil), "naming.grant", "naming_grant", fmt.Sprint(row.ID),
			fmt.Sprintf("%s to organisation %d for %q from %s to %s, on agreement %s version %d", g.kind.Label(), a.OrganisationID,
				strings.ReplaceAll(g.names, "\n", ", "), row.ValidFrom, row.ValidTo, a.Number, v.Number), now); err != nil {
			return err
		}
	}
	end, _ := ParseDate(v.EndDate)
	return endAllocations(ctx, tx, a.OrganisationID, end, fmt.Sprintf("협약 %s 종료 (the agreement ends %s)", a.Number, end), by, now)
}

// endGrant makes a grant stop holding from day (the first day it no
// longer holds), with the reason: revoked, or, when it is replaced (an
// amendment) and has started, ended the day before by its ValidTo. One
// that has not started by day is revoked from its first day, so that it
// never holds. by is nil for the system.
func endGrant(ctx context.Context, tx *gorm.DB, g *NamingGrant, day Date, reason string, replaced bool, by *User, now time.Time) error {
	if end := g.End(); !end.IsZero() && end.Before(day) {
		return nil // it has ended already
	}
	from, _ := ParseDate(g.ValidFrom)
	upd := map[string]any{}
	if from.Before(day) && replaced {
		upd["valid_to"] = day.AddDays(-1).String()
	} else {
		if day.Before(from) {
			day = from
		}
		upd["revoked_on"], upd["revoked_at"], upd["revocation_reason"] = day.String(), now.UTC(), reason
		if by != nil {
			upd["revoked_by_id"] = by.ID
		}
	}
	if err := tx.Model(&NamingGrant{}).Where("id = ?", g.ID).Updates(upd).Error; err != nil {
		return fmt.Errorf("store: end grant %d: %w", g.ID, err)
	}
	return RecordAudit(ctx, tx, ActorOf(by), "naming.revoke", "naming_grant", fmt.Sprint(g.ID),
		fmt.Sprintf("no longer holds from %s: %s", day, reason), now)
}

// endAllocations ends the team's allocations (not its own GPUs) that run
// past last on last, with the reason; by (nil: the system) is recorded in
// the allocation's history when there is one.
func endAllocations(ctx context.Context, tx *gorm.DB, orgID uint, last Date, reason string, by *User, now time.Time) error {
	var as []Allocation
	if err := tx.Where("organisation_id = ? AND end_reason = '' AND period_to > ?", orgID, last.String()).
		Find(&as).Error; err != nil {
		return fmt.Errorf("store: allocations of %d: %w", orgID, err)
	}
	for _, al := range as {
		if al.OwnGPUs {
			continue
		}
		to := last
		if from, _ := ParseDate(al.PeriodFrom); to.Before(from) {
			to = from // it never started: it keeps its first day only, marked ended
		}
		if err := tx.Model(&Allocation{}).Where("id = ?", al.ID).
			Updates(map[string]any{"period_to": to.String(), "end_reason": reason, "updated_at": now.UTC()}).Error; err != nil {
			return err
		}
		if by != nil {
			c := AllocationChange{AllocationID: al.ID, Kind: ChangeEnd, Detail: fmt.Sprintf("%s → %s", al.PeriodTo, to), Reason: reason, ByID: by.ID, At: now.UTC()}
			if err := tx.Omit("By").Create(&c).Error; err != nil {
				return err
			}
		}
		if err := RecordAudit(ctx, tx, ActorOf(by), "allocation.end", "allocation", strconv.FormatUint(uint64(al.ID), 10),
			fmt.Sprintf("%s → %s: %s", al.PeriodTo, to, reason), now); err != nil {
			return err
		}
	}
	return nil
}

// lockTeamAgreements locks the rows of the teams' agreements, changing
// nothing: ending a team's standing writes to its agreement, and a signer
// of that agreement holds its row (lockAgreement) while it waits for the
// allocation lock. A caller ending several teams' standing locks them all
// before it takes the allocation lock or writes an audit row.
func lockTeamAgreements(ctx context.Context, tx *gorm.DB, orgIDs []uint) error {
	if len(orgIDs) == 0 {
		return nil
	}
	err := tx.WithContext(ctx).Model(&Agreement{}).Where("organisation_id IN ?", orgIDs).
		UpdateColumn("updated_at", gorm.Expr("updated_at")).Error
	if err != nil {
		return fmt.Errorf("store: lock the agreements of organisations %v: %w", orgIDs, err)
	}
	return nil
}

// EndTeamStanding ends a team's standing in the programme from day (the
// first day it no longer holds), for a reason (termination of its
// agreement, or a final elimination): every K-AI name it holds ends at
// once, each with the reason ("K-AI 모델" as well as "K-AI 기업"), its GPU
// allocations end the day before, and its agreement in force is marked
// terminated (an amendment still being prepared or signed is superseded). It runs in the caller's transaction tx, after the caller has
// taken the allocation lock; the system is the actor in the audit trail.
func EndTeamStanding(ctx context.Context, tx *gorm.DB, orgID uint, reason string, day Date) error {
	return endTeamStanding(ctx, tx, orgID, reason, day, nil)
}

// endTeamStanding is EndTeamStanding done by by (nil: the system).
func endTeamStanding(ctx context.Context, tx *gorm.DB, orgID uint, reason string, day Date, by *User) error {
	tx = tx.WithContext(ctx)
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return fmt.Errorf("store: end standing: a reason is required: %w", ErrInvalid)
	}
	now := tx.NowFunc()
	if err := lockTeamAgreements(ctx, tx, []uint{orgID}); err != nil {
		return err
	}
	if err := LockAllocations(tx); err != nil {
		return err
	}
	var gs []NamingGrant
	if err := tx.Where("holder_id = ? AND revoked_at IS NULL", orgID).Order("id").Find(&gs).Error; err != nil {
		return fmt.Errorf("store: end standing: %w", err)
	}
	for i := range gs {
		if err := endGrant(ctx, tx, &gs[i], day, reason, false, by, now); err != nil {
			return err
		}
	}
	if err := endAllocations(ctx, tx, orgID, day.AddDays(-1), reason, by, now); err != nil {
		return err
	}
	// A version still being prepared or signed will never be: it is
	// superseded, so that no signature can bring it (and its names) back.
	ending := tx.Model(&Agreement{}).Select("id").Where("organisation_id = ? AND in_force_id IS NOT NULL AND terminated_on = ''", orgID)
	if err := tx.Model(&AgreementVersion{}).Where("agreement_id IN (?) AND status IN ?", ending,
		[]VersionStatus{VersionDraft, VersionOut}).Updates(map[string]any{"status": VersionSuperseded, "updated_at": now.UTC()}).Error; err != nil {
		return fmt.Errorf("store: end standing: %w", err)
	}
	res := tx.Model(&Agreement{}).Where("organisation_id = ? AND in_force_id IS NOT NULL AND terminated_on = ''", orgID).
		Updates(map[string]any{"terminated_on": day.String(), "termination_reason": reason, "terminated_at": now.UTC(), "updated_at": now.UTC()})
	if res.Error != nil {
		return fmt.Errorf("store: end standing: %w", res.Error)
	}
	return RecordAudit(ctx, tx, ActorOf(by), "agreement.standing_end", "organisation", fmt.Sprint(orgID),
		fmt.Sprintf("standing ends from %s: %d names, agreements %d: %s", day, len(gs), res.RowsAffected, reason), now)
}

// Termination is an officer's termination (해약) of an agreement.
type Termination struct {
	Day    string // the first day the agreement no longer holds
	Reason string
}

// CheckTermination checks a termination against the agreement as loaded,
// changing nothing, for the confirmation page.
func CheckTermination(a *Agreement, in Termination, role Role, now time.Time) (Date, FieldErrors, error) {
	errs := FieldErrors{}
	if err := a.Check(AgrTerminate, role, DateOf(now)); err != nil {
		return Date{}, nil, err
	}
	reason := strings.TrimSpace(in.Reason)
	if reason == "" {
		errs.Add("reason", "form.required")
	}
	errs.CheckText("reason", reason, MaxAgreementReason, MultiLine)
	day, err := ParseDate(strings.TrimSpace(in.Day))
	switch {
	case err != nil:
		errs.Add("day", "agreement.error.date")
	case day.Before(DateOf(now)):
		errs.Add("day", "agreement.error.past")
	}
	if errs.Any() {
		return day, errs, fmt.Errorf("store: terminate agreement %d: %w", a.ID, ErrInvalid)
	}
	return day, nil, nil
}

// TerminateAgreement terminates an agreement in force from a day (today or
// later), with a reason: the team's standing ends (EndTeamStanding).
func TerminateAgreement(ctx context.Context, db *gorm.DB, id uint, in Termination, by *User, now time.Time) (FieldErrors, error) {
	if by == nil {
		return nil, fmt.Errorf("store: terminate agreement: %w", ErrForbidden)
	}
	var errs FieldErrors
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, _, err := loadForWrite(ctx, tx, id, now)
		if err != nil {
			return err
		}
		day, ferrs, err := CheckTermination(a, in, by.Role, now)
		if err != nil {
			errs = ferrs
			return err
		}
		reason := fmt.Sprintf("협약 %s 해약 (agreement terminated): %s", a.Number, strings.TrimSpace(in.Reason))
		if err := RecordAudit(ctx, tx, ActorOf(by), "agreement.terminate", "agreement", fmt.Sprint(a.ID),
			fmt.Sprintf("%s terminated from %s: %s", a.Number, day, strings.TrimSpace(in.Reason)), now); err != nil {
			return err
		}
		if err := endTeamStanding(ctx, tx, a.OrganisationID, reason, day, by); err != nil {
			return err
		}
		return tx.Model(&Agreement{}).Where("id = ?", a.ID).Updates(map[string]any{"terminated_by_id": by.ID,
			"termination_reason": strings.TrimSpace(in.Reason)}).Error
	})
	if err != nil {
		return errs, fmt.Errorf("store: terminate agreement: %w", err)
	}
	return nil, nil
}

// Notice is a notification-only change: the contact person.
type Notice struct {
	ContactName, ContactInfo string
}

// RecordNotice records a change that needs no signature (the contact
// person) on an agreement in force, keeping what it was.
func RecordNotice(ctx context.Context, db *gorm.DB, id uint, in Notice, by *User, now time.Time) (FieldErrors, error) {
	if by == nil {
		return nil, fmt.Errorf("store: agreement notice: %w", ErrForbidden)
	}
	errs := FieldErrors{}
	in.ContactName, in.ContactInfo = strings.TrimSpace(in.ContactName), strings.TrimSpace(in.ContactInfo)
	if in.ContactName == "" {
		errs.Add("contact_name", "form.required")
	}
	errs.CheckText("contact_name", in.ContactName, MaxOrganisationName, SingleLine)
	errs.CheckText("contact_info", in.ContactInfo, MaxOrganisationName, SingleLine)
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, _, err := loadForWrite(ctx, tx, id, now)
		if err != nil {
			return err
		}
		if err := a.Check(AgrNotice, by.Role, DateOf(now)); err != nil {
			return err
		}
		if errs.Any() {
			return ErrInvalid
		}
		before := strings.TrimSpace(a.ContactName + " " + a.ContactInfo)
		after := strings.TrimSpace(in.ContactName + " " + in.ContactInfo)
		if before == after {
			errs.Add("contact_name", "agreement.error.unchanged")
			return ErrInvalid
		}
		n := AgreementNotice{AgreementID: a.ID, Field: "contact", Before: before, After: after, ByID: by.ID, ByName: by.DisplayName(), At: now.UTC()}
		if err := tx.Create(&n).Error; err != nil {
			return err
		}
		if err := tx.Model(&Agreement{}).Where("id = ?", a.ID).
			Updates(map[string]any{"contact_name": in.ContactName, "contact_info": in.ContactInfo}).Error; err != nil {
			return err
		}
		return RecordAudit(ctx, tx, ActorOf(by), "agreement.notice", "agreement", fmt.Sprint(a.ID),
			fmt.Sprintf("%s contact person (notification, no signature): %q → %q", a.Number, before, after), now)
	})
	if errors.Is(err, ErrInvalid) {
		return errs, fmt.Errorf("store: agreement notice: %w", ErrInvalid)
	}
	if err != nil {
		return nil, fmt.Errorf("store: agreement notice: %w", err)
	}
	return nil, nil
}

// SignerRow is an authorised signer with their organisation.
type SignerRow struct {
	AgreementSigner
	Organisation Organisation
}

// ListSigners returns the authorised signers, by organisation.
func ListSigners(ctx context.Context, db *gorm.DB) ([]AgreementSigner, error) {
	var ss []AgreementSigner
	if err := db.WithContext(ctx).Preload("User").Preload("User.Organisation").Order("organisation_id, user_id").Find(&ss).Error; err != nil {
		return nil, fmt.Errorf("store: signers: %w", err)
	}
	return ss, nil
}

// MarkSigner makes a company user an authorised signer of their
// organisation; marking one twice changes nothing.
func MarkSigner(ctx context.Context, db *gorm.DB, userID uint, by *User, now time.Time) error {
	if by == nil || !by.Role.IsMinistry() {
		return fmt.Errorf("store: mark signer: %w", ErrForbidden)
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		u, err := GetUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if u.Role != RoleCompany || u.OrganisationID == nil {
			return fmt.Errorf("store: mark signer: user %d is not a company user: %w", userID, ErrInvalid)
		}
		var existing AgreementSigner
		err = tx.Where("user_id = ?", u.ID).Take(&existing).Error
		if err == nil && existing.OrganisationID == *u.OrganisationID {
			return nil
		}
		if err == nil {
			if err := tx.Delete(&existing).Error; err != nil {
				return err
			}
		} else if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		s := AgreementSigner{UserID: u.ID, OrganisationID: *u.OrganisationID, MarkedByID: by.ID, MarkedAt: now.UTC()}
		if err := tx.Omit("User").Create(&s).Error; err != nil {
			return fmt.Errorf("store: mark signer: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), "agreement.signer_mark", "user", fmt.Sprint(u.ID),
			fmt.Sprintf("%s authorised to sign agreements for organisation %d", u.DisplayName(), *u.OrganisationID), now)
	})
}

// UnmarkSigner withdraws a user's authority to sign; for a user who is
// not a signer it changes nothing.
func UnmarkSigner(ctx context.Context, db *gorm.DB, userID uint, by *User, now time.Time) error {
	if by == nil || !by.Role.IsMinistry() {
		return fmt.Errorf("store: unmark signer: %w", ErrForbidden)
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := GetUser(ctx, tx, userID); err != nil {
			return err
		}
		var s AgreementSigner
		err := tx.Preload("User").Where("user_id = ?", userID).Take(&s).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil // not (or no longer) a signer: a second press changes nothing
		} else if err != nil {
			return err
		}
		if err := tx.Delete(&s).Error; err != nil {
			return err
		}
		return RecordAudit(ctx, tx, ActorOf(by), "agreement.signer_unmark", "user", fmt.Sprint(userID),
			fmt.Sprintf("%s no longer authorised to sign for organisation %d", s.User.DisplayName(), s.OrganisationID), now)
	})
}

// TeamAgreement returns the team's agreement in the current programme
// that has a version in force (completed), or ErrNoAgreement.
func TeamAgreement(ctx context.Context, db *gorm.DB, orgID uint) (*Agreement, error) {
	prog, err := CurrentProgramme(ctx, db)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNoAgreement
	}
	if err != nil {
		return nil, err
	}
	var a Agreement
	err = db.WithContext(ctx).Where("organisation_id = ? AND programme_id = ? AND in_force_id IS NOT NULL", orgID, prog.ID).
		Order("id DESC").Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNoAgreement
	}
	if err != nil {
		return nil, fmt.Errorf("store: team agreement: %w", err)
	}
	return GetAgreement(ctx, db, a.ID)
}

// CheckStanding is the eligibility rule for K-AI names and GPU
// allocations: the team's agreement in this programme holds on every day
// from from to to (completed, started by from, not ended or terminated
// before to). It returns the agreement, or ErrNoAgreement.
func CheckStanding(ctx context.Context, db *gorm.DB, orgID uint, from, to Date) (*Agreement, error) {
	a, err := TeamAgreement(ctx, db, orgID)
	if err != nil {
		return nil, err
	}
	if !a.HoldsFor(from, to) {
		return a, ErrNoAgreement
	}
	return a, nil
}

// AgreementTeams returns the organisations that lead an agreement of the
// current programme with a version in force and not terminated, by Korean
// name: the teams names and GPUs can go to.
func AgreementTeams(ctx context.Context, db *gorm.DB) ([]Organisation, error) {
	prog, err := CurrentProgramme(ctx, db)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var orgs []Organisation
	err = db.WithContext(ctx).Where("id IN (?)",
		db.Model(&Agreement{}).Select("organisation_id").
			Where("programme_id = ? AND in_force_id IS NOT NULL AND terminated_on = ''", prog.ID)).
		Order("name_ko").Find(&orgs).Error
	if err != nil {
		return nil, fmt.Errorf("store: agreement teams: %w", err)
	}
	return orgs, nil
}

// AgreementRef is what the public registry shows of the agreement a name
// rests on: its number and period, never the document.
type AgreementRef struct {
	Number   string
	From, To string
}

// GrantAgreements returns, for the grants that rest on an agreement, the
// agreement's number and period by grant id.
func GrantAgreements(ctx context.Context, db *gorm.DB, grants []NamingGrant) (map[uint]AgreementRef, error) {
	out := map[uint]AgreementRef{}
	var ids []uint
	for _, g := range grants {
		if g.AgreementID != nil {
			ids = append(ids, *g.AgreementID)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	var as []Agreement
	if err := db.WithContext(ctx).Where("id IN ?", ids).Find(&as).Error; err != nil {
		return nil, fmt.Errorf("store: grants' agreements: %w", err)
	}
	byID := map[uint]Agreement{}
	for _, a := range as {
		byID[a.ID] = a
	}
	for _, g := range grants {
		if g.AgreementID == nil {
			continue
		}
		a := byID[*g.AgreementID]
		out[g.ID] = AgreementRef{Number: a.Number, From: g.ValidFrom, To: g.ValidTo}
	}
	return out, nil
}
