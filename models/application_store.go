package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// CreateApplication starts a draft led by the user's organisation. One
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
		if call.IsClosed(now) {
			return &CallClosedError{Closes: call.ClosesAt}
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
	var a Application
	if err := tx.Preload("Call").First(&a, id).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: application %d", id), err)
	}
	if !a.MaySee(by) {
		return nil, fmt.Errorf("store: application %d: %w", id, ErrNotFound)
	}
	if a.Status != StatusDraft {
		return nil, fmt.Errorf("store: application %d is %s: %w", id, a.Status, ErrInvalidTransition)
	}
	if a.Call.IsClosed(now) {
		return nil, &CallClosedError{Closes: a.Call.ClosesAt}
	}
	return &a, nil
}

// AddMember adds an organisation to a draft's consortium.
func AddMember(ctx context.Context, db *gorm.DB, appID, orgID uint, role string, by *User, now time.Time) error {
	valid := false
	for _, r := range MemberRoles {
		valid = valid || (r == role && r != MemberLead)
	}
	if !valid {
		return fmt.Errorf("store: add member: role %q: %w", role, ErrInvalid)
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockDraft(ctx, tx, appID, by, now); err != nil {
			return err
		}
		m := ConsortiumMember{ApplicationID: appID, OrganisationID: orgID, Role: role}
		if err := tx.Create(&m).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return fmt.Errorf("store: add member: already a member: %w", ErrConflict)
			}
			return fmt.Errorf("store: add member: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), "application.member_add", "application", fmt.Sprint(appID),
			fmt.Sprintf("organisation %d added as %s", orgID, role), now)
	})
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
		var rd RequiredDocument
		if err := tx.Where("id = ? AND call_id = ?", requiredDocID, a.CallID).First(&rd).Error; err != nil {
			return notFound("store: attach document: required document", err)
		}
		if err := tx.Where("application_id = ? AND required_document_id = ?", appID, requiredDocID).
			Delete(&ApplicationDocument{}).Error; err != nil {
			return fmt.Errorf("store: attach document: %w", err)
		}
		d := ApplicationDocument{ApplicationID: appID, RequiredDocumentID: requiredDocID, FileID: file.ID, CreatedAt: now.UTC()}
		if err := tx.Create(&d).Error; err != nil {
			return fmt.Errorf("store: attach document: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), "application.document", "application", fmt.Sprint(appID),
			fmt.Sprintf("%s: %s (sha256 %s, %d bytes)", rd.NameKO, file.Name, file.SHA256, file.Size), now)
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
