package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ApplicationStatus is where an application stands.
type ApplicationStatus string

// Application statuses.
const (
	StatusDraft       ApplicationStatus = "draft"
	StatusSubmitted   ApplicationStatus = "submitted"
	StatusUnderReview ApplicationStatus = "under_review"
	StatusSelected    ApplicationStatus = "selected"
	StatusNotSelected ApplicationStatus = "not_selected"
	StatusWithdrawn   ApplicationStatus = "withdrawn"
)

// ApplicationStatuses lists every status, in the order of the life cycle.
var ApplicationStatuses = []ApplicationStatus{StatusDraft, StatusSubmitted, StatusUnderReview,
	StatusSelected, StatusNotSelected, StatusWithdrawn}

// ApplicationAction is something done to an application.
type ApplicationAction string

// Application actions.
const (
	ActSubmit      ApplicationAction = "submit"
	ActWithdraw    ApplicationAction = "withdraw"
	ActStartReview ApplicationAction = "start_review"
	ActSelect      ApplicationAction = "select"
	ActNotSelect   ApplicationAction = "not_select"
)

// ApplicationActions lists every action.
var ApplicationActions = []ApplicationAction{ActSubmit, ActWithdraw, ActStartReview, ActSelect, ActNotSelect}

type transition struct {
	to    ApplicationStatus
	roles []Role
}

// applicationTransitions is the state machine: from → action → (to, who may).
// Selection and non-selection happen only by publishing a decision.
var applicationTransitions = map[ApplicationStatus]map[ApplicationAction]transition{
	StatusDraft: {
		ActSubmit:   {StatusSubmitted, []Role{RoleCompany}},
		ActWithdraw: {StatusWithdrawn, []Role{RoleCompany}},
	},
	StatusSubmitted: {
		ActWithdraw:    {StatusWithdrawn, []Role{RoleCompany}},
		ActStartReview: {StatusUnderReview, []Role{RoleOfficer, RoleAdmin}},
	},
	StatusUnderReview: {
		ActSelect:    {StatusSelected, []Role{RoleOfficer, RoleAdmin}},
		ActNotSelect: {StatusNotSelected, []Role{RoleOfficer, RoleAdmin}},
	},
	// A corrected decision, after an upheld appeal, may change a result.
	StatusSelected:    {ActNotSelect: {StatusNotSelected, []Role{RoleOfficer, RoleAdmin}}},
	StatusNotSelected: {ActSelect: {StatusSelected, []Role{RoleOfficer, RoleAdmin}}},
}

// ErrCallClosed is returned for company actions after the close instant.
var ErrCallClosed = errors.New("the call is closed")

// CallClosedError says when the call closed, for the message shown to the user.
type CallClosedError struct{ Closes time.Time }

func (e *CallClosedError) Error() string {
	return "the call closed at " + e.Closes.In(KST).Format("2006-01-02 15:04:05 KST")
}

// Is makes errors.Is(err, ErrCallClosed) true.
func (e *CallClosedError) Is(target error) bool { return target == ErrCallClosed }

// Errors of the review timing.
var (
	ErrCallNotOpen       = errors.New("the call is not open yet")
	ErrReviewBeforeClose = errors.New("review starts after the call closes")
)

// NextStatus applies the state machine: it returns the status an action
// leads to, or why it may not happen now. The rules of time: companies submit
// only while the call is open and withdraw only before it closes; review
// starts only after it closes.
func NextStatus(from ApplicationStatus, action ApplicationAction, role Role, call *Call, now time.Time) (ApplicationStatus, error) {
	t, ok := applicationTransitions[from][action]
	if !ok {
		return from, fmt.Errorf("application %s → %s: %w", from, action, ErrInvalidTransition)
	}
	allowed := false
	for _, r := range t.roles {
		allowed = allowed || r == role
	}
	if !allowed {
		return from, fmt.Errorf("application %s by %s: %w", action, role, ErrForbidden)
	}
	switch action {
	case ActSubmit:
		if err := call.CheckApplying(now); err != nil {
			return from, err
		}
	case ActWithdraw:
		if call.IsClosed(now) {
			return from, &CallClosedError{Closes: call.ClosesAt}
		}
	case ActStartReview:
		if !call.IsClosed(now) {
			return from, ErrReviewBeforeClose
		}
	}
	return t.to, nil
}

// Member roles in a consortium.
const (
	MemberLead     = "lead"
	MemberModel    = "model"    // model development
	MemberData     = "data"     // data provision
	MemberGPU      = "gpu"      // GPU or cloud provider
	MemberService  = "service"  // service partner
	MemberResearch = "research" // research
	// Roles of members recorded before the roles above; kept for their rows.
	MemberParticipant = "participant"
	MemberDemand      = "demand"
)

// MemberChoices are the roles a member may be given now (the lead's is fixed).
var MemberChoices = []string{MemberModel, MemberData, MemberGPU, MemberService, MemberResearch}

// MemberRoles lists the roles a consortium member can have, earlier ones included.
var MemberRoles = []string{MemberLead, MemberModel, MemberData, MemberGPU, MemberService, MemberResearch,
	MemberParticipant, MemberDemand}

// Application is a consortium's application to a call, led by one organisation.
type Application struct {
	ID          uint              `gorm:"primaryKey"`
	CallID      uint              `gorm:"not null;index;uniqueIndex:idx_app_call_lead"`
	Call        Call              `gorm:"constraint:OnDelete:RESTRICT"`
	LeadOrgID   uint              `gorm:"not null;index;uniqueIndex:idx_app_call_lead"`
	LeadOrg     Organisation      `gorm:"foreignKey:LeadOrgID;constraint:OnDelete:RESTRICT"`
	TitleKO     string            `gorm:"size:300;not null"`
	TitleEN     string            `gorm:"size:300;not null"`
	Summary     string            `gorm:"type:text;not null"`
	Status      ApplicationStatus `gorm:"size:16;not null;index"`
	Receipt     string            `gorm:"size:32"`
	SubmittedAt *time.Time
	Version     int `gorm:"not null;default:1"`
	// ConsortiumVersion counts the changes to the consortium; a change
	// request applies only to the version it was filed against.
	ConsortiumVersion int                   `gorm:"not null;default:0"`
	Members           []ConsortiumMember    `gorm:"constraint:OnDelete:CASCADE"`
	Documents         []ApplicationDocument `gorm:"constraint:OnDelete:CASCADE"`
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// ConsortiumMember is an organisation taking part in an application.
type ConsortiumMember struct {
	ID             uint         `gorm:"primaryKey"`
	ApplicationID  uint         `gorm:"not null;uniqueIndex:idx_member_app_org"`
	OrganisationID uint         `gorm:"not null;uniqueIndex:idx_member_app_org"`
	Organisation   Organisation `gorm:"constraint:OnDelete:RESTRICT"`
	Role           string       `gorm:"size:16;not null"`
	Share          int          `gorm:"not null;default:0"` // share of the work, percent
	GPUCount       int          `gorm:"not null;default:0"` // GPUs the member brings itself
	GPUModel       string       `gorm:"size:100;not null;default:''"`
	GPUNotes       string       `gorm:"type:text;not null;default:''"`
}

// ApplicationDocument is a file attached to an application, for one of the
// call's required documents.
type ApplicationDocument struct {
	ID                 uint       `gorm:"primaryKey"`
	ApplicationID      uint       `gorm:"not null;index"`
	RequiredDocumentID uint       `gorm:"not null;index"`
	FileID             uint       `gorm:"not null"`
	File               StoredFile `gorm:"constraint:OnDelete:RESTRICT"`
	CreatedAt          time.Time
}

// Validate checks the fields a company types.
func (a *Application) Validate() FieldErrors {
	errs := FieldErrors{}
	if strings.TrimSpace(a.TitleKO) == "" {
		errs.Add("title_ko", "form.required")
	}
	if strings.TrimSpace(a.TitleEN) == "" {
		errs.Add("title_en", "form.required")
	}
	errs.CheckText("title_ko", a.TitleKO, MaxApplicationTitle, SingleLine)
	errs.CheckText("title_en", a.TitleEN, MaxApplicationTitle, SingleLine)
	if strings.TrimSpace(a.Summary) == "" {
		errs.Add("summary", "form.required")
	}
	errs.CheckText("summary", a.Summary, MaxApplicationSummary, MultiLine)
	return errs
}

// Missing lists what keeps the application from being submitted: invalid
// fields and required documents without a file.
func (a *Application) Missing(call *Call) FieldErrors {
	errs := a.Validate()
	have := map[uint]bool{}
	for _, d := range a.Documents {
		have[d.RequiredDocumentID] = true
	}
	for _, rd := range call.Documents {
		if rd.Required && !have[rd.ID] {
			errs.Add(fmt.Sprintf("document.%d", rd.ID), "application.error.document_missing")
		}
	}
	return errs
}

// ReceiptNumber is the number acknowledging a submission.
func ReceiptNumber(appID uint, at time.Time) string {
	return fmt.Sprintf("KAI-%s-%05d", at.In(KST).Format("20060102"), appID)
}

// MaySee reports whether a user may read this application: whoever may see
// the lead organisation's data (User.MaySeeOrganisation).
func (a *Application) MaySee(u *User) bool { return u.MaySeeOrganisation(a.LeadOrgID) }

// MayEdit reports whether the lead's user may change the draft now.
func (a *Application) MayEdit(u *User, call *Call, now time.Time) bool {
	return u != nil && u.Role == RoleCompany && a.MaySee(u) && a.checkDraftOpen(call, now) == nil
}

// MaySubmit reports whether u may submit the application at now: u may
// edit it and the state machine lets u submit it.
func (a *Application) MaySubmit(u *User, now time.Time) bool {
	if !a.MayEdit(u, &a.Call, now) {
		return false
	}
	_, err := NextStatus(a.Status, ActSubmit, u.Role, &a.Call, now)
	return err == nil
}

// MayWithdraw reports whether u may withdraw the application at now: u may
// see it and the state machine lets u withdraw it.
func (a *Application) MayWithdraw(u *User, now time.Time) bool {
	if u == nil || !a.MaySee(u) {
		return false
	}
	_, err := NextStatus(a.Status, ActWithdraw, u.Role, &a.Call, now)
	return err == nil
}

// GetApplication loads an application with its call, lead, members and documents.
func GetApplication(ctx context.Context, db *gorm.DB, id uint) (*Application, error) {
	var a Application
	err := db.WithContext(ctx).Preload("LeadOrg").Preload("Members.Organisation").Preload("Documents.File").
		First(&a, id).Error
	if err != nil {
		return nil, notFound(fmt.Sprintf("store: application %d", id), err)
	}
	call, err := GetCall(ctx, db, a.CallID)
	if err != nil {
		return nil, err
	}
	a.Call = *call
	return &a, nil
}

// GetApplications loads applications as GetApplication does, each with its
// call, lead, members and documents, in a fixed number of queries whatever
// their number; an id that names no application is ErrNotFound.
func GetApplications(ctx context.Context, db *gorm.DB, ids []uint) (map[uint]*Application, error) {
	out := make(map[uint]*Application, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var apps []Application
	err := db.WithContext(ctx).Preload("LeadOrg").Preload("Members.Organisation").Preload("Documents.File").
		Where("id IN ?", ids).Find(&apps).Error
	if err != nil {
		return nil, fmt.Errorf("store: applications: %w", err)
	}
	callIDs := make([]uint, 0, len(apps))
	for _, a := range apps {
		callIDs = append(callIDs, a.CallID)
	}
	var calls []Call
	err = db.WithContext(ctx).Preload("Programme").
		Preload("Criteria", func(tx *gorm.DB) *gorm.DB { return tx.Order("position") }).
		Preload("Documents", func(tx *gorm.DB) *gorm.DB { return tx.Order("position") }).
		Where("id IN ?", callIDs).Find(&calls).Error
	if err != nil {
		return nil, fmt.Errorf("store: applications' calls: %w", err)
	}
	byID := make(map[uint]*Call, len(calls))
	for i := range calls {
		byID[calls[i].ID] = &calls[i]
	}
	for i := range apps {
		a := &apps[i]
		call, ok := byID[a.CallID]
		if !ok {
			return nil, fmt.Errorf("store: call %d: %w", a.CallID, ErrNotFound)
		}
		a.Call = *call
		out[a.ID] = a
	}
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			return nil, fmt.Errorf("store: application %d: %w", id, ErrNotFound)
		}
	}
	return out, nil
}

// ApplicationFilter narrows, sorts and pages the list of applications.
type ApplicationFilter struct {
	CallID    uint
	LeadOrgID uint
	Status    ApplicationStatus
	Query     string // in the title or the lead's name
	Sort      string // "submitted", "title", "lead", "status"; "-" prefix for descending
	Limit     int
	Offset    int
}

var applicationSorts = map[string]string{
	"submitted": "applications.submitted_at", "title": "applications.title_ko",
	"lead": "organisations.name_ko", "status": "applications.status", "id": "applications.id",
}

// ListApplications returns one page of applications and the total count.
func ListApplications(ctx context.Context, db *gorm.DB, f ApplicationFilter) ([]Application, int64, error) {
	q := db.WithContext(ctx).Model(&Application{}).Joins("JOIN organisations ON organisations.id = applications.lead_org_id")
	if f.CallID != 0 {
		q = q.Where("applications.call_id = ?", f.CallID)
	}
	if f.LeadOrgID != 0 {
		q = q.Where("applications.lead_org_id = ?", f.LeadOrgID)
	}
	if f.Status != "" {
		q = q.Where("applications.status = ?", f.Status)
	}
	if s := strings.TrimSpace(f.Query); s != "" {
		like := "%" + strings.ToLower(s) + "%"
		q = q.Where("LOWER(applications.title_ko) LIKE ? OR LOWER(applications.title_en) LIKE ? OR LOWER(organisations.name_ko) LIKE ? OR LOWER(organisations.name_en) LIKE ?",
			like, like, like, like)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("store: count applications: %w", err)
	}
	sortKey, desc := strings.CutPrefix(f.Sort, "-")
	col, ok := applicationSorts[sortKey]
	if !ok {
		col = "applications.id"
	}
	order := col
	if desc {
		order += " DESC"
	}
	if sortKey == "submitted" {
		// Drafts have no submission time: last either way, on both databases.
		order = "applications.submitted_at IS NULL, " + order
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	var apps []Application
	err := q.Preload("LeadOrg").Order(order).Order("applications.id").Limit(f.Limit).Offset(f.Offset).Find(&apps).Error
	if err != nil {
		return nil, 0, fmt.Errorf("store: list applications: %w", err)
	}
	return apps, total, nil
}
