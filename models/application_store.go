package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// CreateApplication starts a draft led by the user's organisation while
// the call is open (Call.CheckApplying). One
// application per lead and call: a second one is ErrConflict.
func CreateApplication(ctx context.Context, db *gorm.DB, a *Application, by *User, now time.Time) error {
	if by == nil || by.Role != RoleCompany || by.OrganisationID == nil {
		return fmt.Errorf("store: create application: %w", ErrForbidden)
	}
	if errs := a.Validate(); errs.Any() {
		return fmt.Errorf("store: create application: %w", ErrInvalid)
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var call Call
		if err := tx.First(&call, a.CallID).Error; err != nil {
			return notFound("store: create application: call", err)
		}
		if err := call.CheckApplying(now); err != nil {
			return fmt.Errorf("store: create application: %w", err)
		}
		a.LeadOrgID = *by.OrganisationID
		a.Status = StatusDraft
		a.Version = 1
		a.Members = []ConsortiumMember{{OrganisationID: a.LeadOrgID, Role: MemberLead}}
		if err := tx.Create(a).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return fmt.Errorf("store: create application: this organisation already applied: %w", ErrConflict)
			}
			return fmt.Errorf("store: create application: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), "application.create", "application", fmt.Sprint(a.ID),
			"draft created: "+a.TitleKO, now)
	})
}

// UpdateDraft saves the typed fields of a draft if nobody changed it since
// the editor loaded version a.Version (ErrConflict otherwise).
func UpdateDraft(ctx context.Context, db *gorm.DB, a *Application, by *User, now time.Time) error {
	if errs := a.Validate(); errs.Any() {
		return fmt.Errorf("store: update application: %w", ErrInvalid)
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		cur, err := lockDraft(ctx, tx, a.ID, by, now)
		if err != nil {
			return err
		}
		res := tx.Model(&Application{}).Where("id = ? AND version = ? AND status = ?", a.ID, a.Version, StatusDraft).
			Updates(map[string]any{"title_ko": a.TitleKO, "title_en": a.TitleEN, "summary": a.Summary,
				"version": a.Version + 1, "updated_at": now.UTC()})
		if res.Error != nil {
			return fmt.Errorf("store: update application %d: %w", a.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: update application %d: changed since it was loaded (version %d, now %d): %w",
				a.ID, a.Version, cur.Version, ErrConflict)
		}
		a.Version++
		return RecordAudit(ctx, tx, ActorOf(by), "application.update", "application", fmt.Sprint(a.ID), "draft saved", now)
	})
}

// lockDraft loads an application that the user may still edit.
func lockDraft(ctx context.Context, tx *gorm.DB, id uint, by *User, now time.Time) (*Application, error) {
	a, err := loadVisibleApplication(ctx, tx, id, by)
	if err != nil {
		return nil, err
	}
	if err := a.checkDraftOpen(&a.Call, now); err != nil {
		return nil, err
	}
	return a, nil
}

// loadVisibleApplication loads an application with its call; one the user
// may not see is ErrNotFound, like one that does not exist.
func loadVisibleApplication(ctx context.Context, tx *gorm.DB, id uint, by *User) (*Application, error) {
	var a Application
	if err := tx.WithContext(ctx).Preload("Call").First(&a, id).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: application %d", id), err)
	}
	if !a.MaySee(by) {
		return nil, fmt.Errorf("store: application %d: %w", id, ErrNotFound)
	}
	return &a, nil
}

// checkDraftOpen says whether the draft may still be changed at now (the
// rule MayEdit applies for its user): ErrInvalidTransition once it is no
// longer a draft, a *CallClosedError once its call closed.
func (a *Application) checkDraftOpen(call *Call, now time.Time) error {
	if a.Status != StatusDraft {
		return fmt.Errorf("store: application %d is %s: %w", a.ID, a.Status, ErrInvalidTransition)
	}
	if call.IsClosed(now) {
		return &CallClosedError{Closes: call.ClosesAt}
	}
	return nil
}

// InviteMember invites an organisation to a draft's consortium with the
// terms; it joins when its company user accepts (AnswerInvitation).
func InviteMember(ctx context.Context, db *gorm.DB, appID, orgID uint, t MemberTerms, by *User, now time.Time) (*ConsortiumRequest, error) {
	if !validMemberRole(t.Role) {
		return nil, fmt.Errorf("store: invite member: role %q: %w", t.Role, ErrInvalid)
	}
	var r *ConsortiumRequest
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, err := lockDraft(ctx, tx, appID, by, now)
		if err != nil {
			return err
		}
		org, err := GetOrganisation(ctx, tx, orgID)
		if err != nil {
			return err
		}
		if !org.IsApplicant() || org.ID == a.LeadOrgID {
			return fmt.Errorf("store: invite organisation %d: %w", orgID, ErrInvalid)
		}
		r, err = invite(ctx, tx, a, StageDraft, orgID, t, "", "organisation_id", by, now)
		return err
	})
	return r, err
}

// validMemberRole reports whether a member may be given the role now (any
// of MemberChoices: never the lead's, nor a role kept only for old rows).
func validMemberRole(role string) bool {
	return slices.Contains(MemberChoices, role)
}

// MemberInput is an organisation to add to a consortium as the form sent
// it: one picked from the list (OrganisationID, the id as sent), or one
// given by its names and business registration number.
type MemberInput struct {
	OrganisationID string
	NameKO, NameEN string
	BusinessRegNo  string
	Role           string
	Terms          MemberTermsInput // share and own GPUs (Terms.Role is ignored: Role is the role)
}

// AddConsortiumMember invites the organisation of a member form to the
// draft appID's consortium, registering an organisation given by name and
// number unless one with that number exists, in one transaction with the
// audit rows. The organisation joins only when its company user accepts
// the invitation (AnswerInvitation). Refused fields (the role, share and
// GPUs, an unknown or ministry organisation, the lead itself, names, a
// business registration number of the wrong form or check digit, an
// organisation already a member or already invited) are a *FieldsError;
// else ErrNotFound when the user may not see the application, and
// ErrInvalidTransition or a *CallClosedError once it may not change.
func AddConsortiumMember(ctx context.Context, db *gorm.DB, appID uint, in MemberInput, by *User, now time.Time) error {
	orgField := "organisation_id"
	if in.OrganisationID == "" {
		orgField = "business_reg_no"
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, err := loadVisibleApplication(ctx, tx, appID, by)
		if err != nil {
			return err
		}
		in.Terms.Role = in.Role
		terms, errs := ParseMemberTerms(in.Terms, false)
		var orgID uint
		var brn BusinessRegNo
		if in.OrganisationID != "" {
			id, perr := strconv.ParseUint(in.OrganisationID, 10, 32)
			org, err := GetOrganisation(ctx, tx, uint(id))
			switch {
			case perr != nil || id == 0 || errors.Is(err, ErrNotFound) || (err == nil && !org.IsApplicant()):
				errs.Add("organisation_id", "application.error.member_org")
			case err != nil:
				return err
			case org.ID == a.LeadOrgID:
				errs.Add("organisation_id", "application.error.member_duplicate")
			default:
				orgID = org.ID
			}
		} else {
			for field, msg := range ValidateOrganisationNames(in.NameKO, in.NameEN) {
				errs.Add(field, msg)
			}
			var err error
			brn, err = ParseBusinessRegNo(in.BusinessRegNo)
			switch {
			case in.BusinessRegNo == "":
				errs.Add("business_reg_no", "form.required")
			case errors.Is(err, ErrBRNCheckDigit):
				errs.Add("business_reg_no", "application.error.brn_check_digit")
			case err != nil:
				errs.Add("business_reg_no", "application.error.brn_format")
			}
		}
		if errs.Any() {
			return &FieldsError{Fields: errs}
		}
		if err := a.checkDraftOpen(&a.Call, now); err != nil {
			return err
		}
		if orgID == 0 {
			if orgID, err = FindOrRegisterOrganisation(ctx, tx, brn, in.NameKO, in.NameEN, by, now); err != nil {
				return err
			}
			if orgID == a.LeadOrgID {
				return &FieldsError{Fields: FieldErrors{orgField: "application.error.member_duplicate"}}
			}
		}
		_, err = invite(ctx, tx, a, StageDraft, orgID, terms, "", orgField, by, now)
		return err
	})
	if errors.Is(err, ErrConflict) && !errors.As(err, new(*FieldsError)) {
		return &FieldsError{Fields: FieldErrors{orgField: "application.error.member_duplicate"}}
	}
	return err
}

// RemoveMember removes a non-lead member from a draft.
func RemoveMember(ctx context.Context, db *gorm.DB, appID, memberID uint, by *User, now time.Time) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockDraft(ctx, tx, appID, by, now); err != nil {
			return err
		}
		res := tx.Where("id = ? AND application_id = ? AND role <> ?", memberID, appID, MemberLead).Delete(&ConsortiumMember{})
		if res.Error != nil {
			return fmt.Errorf("store: remove member: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: remove member %d: %w", memberID, ErrNotFound)
		}
		if err := tx.Model(&Application{}).Where("id = ?", appID).
			Update("consortium_version", gorm.Expr("consortium_version + 1")).Error; err != nil {
			return fmt.Errorf("store: remove member: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), "application.member_remove", "application", fmt.Sprint(appID),
			fmt.Sprintf("member %d removed", memberID), now)
	})
}

// AttachDocument records an uploaded file as the draft's document for one
// of the call's required documents, replacing an earlier one.
func AttachDocument(ctx context.Context, db *gorm.DB, appID, requiredDocID uint, file *StoredFile, by *User, now time.Time) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, err := lockDraft(ctx, tx, appID, by, now)
		if err != nil {
			return err
		}
		rd, err := requiredDocument(ctx, tx, a, requiredDocID)
		if errors.Is(err, ErrUnknownDocument) {
			return fmt.Errorf("store: attach document: %w: %w", ErrNotFound, err)
		}
		if err != nil {
			return err
		}
		return attachDocument(ctx, tx, appID, rd, file, by, now)
	})
}

// ErrUnknownDocument refuses a file for a document the call does not require.
var ErrUnknownDocument = errors.New("the call asks for no such document")

// requiredDocument loads one of the application's call's required
// documents, as ErrUnknownDocument when the call has no such document.
func requiredDocument(ctx context.Context, tx *gorm.DB, a *Application, id uint) (*RequiredDocument, error) {
	var rd RequiredDocument
	err := tx.WithContext(ctx).Where("id = ? AND call_id = ?", id, a.CallID).First(&rd).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil, fmt.Errorf("store: required document %d of call %d: %w", id, a.CallID, ErrUnknownDocument)
	case err != nil:
		return nil, fmt.Errorf("store: required document %d: %w", id, err)
	}
	return &rd, nil
}

// attachDocument makes file the application's document for rd, with its
// audit row, in tx.
func attachDocument(ctx context.Context, tx *gorm.DB, appID uint, rd *RequiredDocument, file *StoredFile, by *User, now time.Time) error {
	if err := tx.Where("application_id = ? AND required_document_id = ?", appID, rd.ID).
		Delete(&ApplicationDocument{}).Error; err != nil {
		return fmt.Errorf("store: attach document: %w", err)
	}
	d := ApplicationDocument{ApplicationID: appID, RequiredDocumentID: rd.ID, FileID: file.ID, CreatedAt: now.UTC()}
	if err := tx.Create(&d).Error; err != nil {
		return fmt.Errorf("store: attach document: %w", err)
	}
	return RecordAudit(ctx, tx, ActorOf(by), "application.document", "application", fmt.Sprint(appID),
		fmt.Sprintf("%s: %s (sha256 %s, %d bytes)", rd.NameKO, file.Name, file.SHA256, file.Size), now)
}

// UploadDocument stores a file sent for one of the call's required
// documents and makes it the draft's document for it, replacing an
// earlier one, in one transaction with its audit row. The draft is checked
// before anything is stored: ErrNotFound when the user may not see it, a
// *CallClosedError once its call closed, ErrInvalidTransition once it is no
// longer a draft; then ErrUnknownDocument, ErrUploadMissing (file nil) and
// the upload rules (ErrUploadEmpty, ErrUploadTooLarge, ErrUploadType: the
// type is decided by the content).
func UploadDocument(ctx context.Context, db *gorm.DB, store *FileStore, p UploadPolicy, appID, requiredDocID uint,
	file *UploadedFile, by *User, now time.Time) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, err := loadVisibleApplication(ctx, tx, appID, by)
		if err != nil {
			return err
		}
		// The close instant is the answer even for an application no longer a draft.
		if a.Call.IsClosed(now) {
			return &CallClosedError{Closes: a.Call.ClosesAt}
		}
		if err := a.checkDraftOpen(&a.Call, now); err != nil {
			return err
		}
		rd, err := requiredDocument(ctx, tx, a, requiredDocID)
		if err != nil {
			return err
		}
		if file == nil {
			return fmt.Errorf("store: upload document: %w", ErrUploadMissing)
		}
		r, err := file.Open()
		if err != nil {
			return fmt.Errorf("store: open upload: %w", err)
		}
		defer r.Close()
		stored, err := store.Save(ctx, tx, file.Name, r, p, by.ID, now)
		if err != nil {
			return err
		}
		return attachDocument(ctx, tx, appID, rd, stored, by, now)
	})
}

// TransitionApplication applies an action through the state machine. A
// repeated submit or withdraw (a double click) finds the application
// already there and succeeds without a second change: done reports whether
// this call made the change.
func TransitionApplication(ctx context.Context, db *gorm.DB, appID uint, action ApplicationAction, by *User, now time.Time) (done bool, err error) {
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var a Application
		if err := tx.Preload("Documents").First(&a, appID).Error; err != nil {
			return notFound(fmt.Sprintf("store: application %d", appID), err)
		}
		if !a.MaySee(by) {
			return fmt.Errorf("store: application %d: %w", appID, ErrNotFound)
		}
		call, err := GetCall(ctx, tx, a.CallID)
		if err != nil {
			return err
		}
		if repeated(a.Status, action) {
			return nil
		}
		to, err := NextStatus(a.Status, action, by.Role, call, now)
		if err != nil {
			return err
		}
		if action == ActSubmit {
			if missing := a.Missing(call); missing.Any() {
				return fmt.Errorf("store: submit application %d: incomplete: %w", appID, ErrInvalid)
			}
		}
		updates := map[string]any{"status": to, "version": a.Version + 1, "updated_at": now.UTC()}
		if action == ActSubmit {
			at := now.UTC()
			updates["submitted_at"] = at
			updates["receipt"] = ReceiptNumber(a.ID, now)
		}
		// The status in the WHERE makes two concurrent submits change the row once.
		res := tx.Model(&Application{}).Where("id = ? AND status = ?", a.ID, a.Status).Updates(updates)
		if res.Error != nil {
			return fmt.Errorf("store: %s application %d: %w", action, appID, res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		done = true
		if a.Status == StatusDraft {
			if err := lapseDraftInvitations(ctx, tx, a.ID, by, now); err != nil {
				return err
			}
		}
		summary := fmt.Sprintf("%s → %s", a.Status, to)
		if action == ActSubmit {
			summary += ", receipt " + ReceiptNumber(a.ID, now)
		}
		return RecordAudit(ctx, tx, ActorOf(by), "application."+string(action), "application", fmt.Sprint(appID), summary, now)
	})
	return done, err
}

// repeated reports whether the application already is where the action leads.
func repeated(s ApplicationStatus, a ApplicationAction) bool {
	return (a == ActSubmit && s == StatusSubmitted) || (a == ActWithdraw && s == StatusWithdrawn)
}
