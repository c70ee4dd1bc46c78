package models

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// MaySee reports whether u may read the request: whoever may see the
// lead's data, and the invited organisation's users its invitation.
func (r *ConsortiumRequest) MaySee(u *User, leadOrgID uint) bool {
	if u.MaySeeOrganisation(leadOrgID) {
		return true
	}
	return r.Kind == RequestAdd && u != nil && u.Role == RoleCompany && u.MaySeeOrganisation(r.OrganisationID)
}

// loadRequest locks the request's application (lockConsortium) and loads
// the request with its application (and call) as they now stand, in tx;
// one the user may not see is ErrNotFound, like one that does not exist.
func loadRequest(ctx context.Context, tx *gorm.DB, id uint, by *User) (*ConsortiumRequest, error) {
	if err := lockConsortium(ctx, tx, id); err != nil {
		return nil, err
	}
	var r ConsortiumRequest
	if err := tx.WithContext(ctx).Preload("Application.Call").Preload("Organisation").First(&r, id).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: consortium request %d", id), err)
	}
	if !r.MaySee(by, r.Application.LeadOrgID) {
		return nil, fmt.Errorf("store: consortium request %d: %w", id, ErrNotFound)
	}
	return &r, nil
}

// lockConsortium serialises the writers of one application's consortium
// (the lead, the invited organisations, the officers deciding): it locks the
// row of the application that request reqID is about, changing nothing,
// before any audit row, as lockAgreement does for an agreement. Two
// decisions, or a decision and an answer, about one consortium otherwise
// each held what the other waited for: one the request's or the
// application's row, the other the audit lock.
func lockConsortium(ctx context.Context, tx *gorm.DB, reqID uint) error {
	tx = tx.WithContext(ctx)
	res := tx.Model(&Application{}).Where("id = (?)", tx.Model(&ConsortiumRequest{}).Select("application_id").Where("id = ?", reqID)).
		UpdateColumn("consortium_version", gorm.Expr("consortium_version"))
	if res.Error != nil {
		return fmt.Errorf("store: lock the application of consortium request %d: %w", reqID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: consortium request %d: %w", reqID, ErrNotFound)
	}
	return nil
}

// GetConsortiumRequest loads a request the user may see, with its
// application's lead and its organisation.
func GetConsortiumRequest(ctx context.Context, db *gorm.DB, id uint, by *User) (*ConsortiumRequest, error) {
	var r ConsortiumRequest
	if err := db.WithContext(ctx).Preload("Application.LeadOrg").Preload("Organisation").First(&r, id).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: consortium request %d", id), err)
	}
	if !r.MaySee(by, r.Application.LeadOrgID) {
		return nil, fmt.Errorf("store: consortium request %d: %w", id, ErrNotFound)
	}
	return &r, nil
}

// members loads the application's members in tx.
func members(ctx context.Context, tx *gorm.DB, appID uint) ([]ConsortiumMember, error) {
	var ms []ConsortiumMember
	if err := tx.WithContext(ctx).Where("application_id = ?", appID).Order("id").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("store: members of application %d: %w", appID, err)
	}
	return ms, nil
}

// bumpConsortium moves the application's consortium version on from
// base; another change in between makes it a *StaleRequestError.
func bumpConsortium(tx *gorm.DB, appID uint, base int, reqID uint, now time.Time) error {
	res := tx.Model(&Application{}).Where("id = ? AND consortium_version = ?", appID, base).
		Updates(map[string]any{"consortium_version": base + 1, "updated_at": now.UTC()})
	if res.Error != nil {
		return fmt.Errorf("store: consortium version of application %d: %w", appID, res.Error)
	}
	if res.RowsAffected == 0 {
		return &StaleRequestError{RequestID: reqID, Filed: base, Now: base + 1}
	}
	return nil
}

// openRequestFor reports whether the application has an open request
// about the organisation.
func openRequestFor(ctx context.Context, tx *gorm.DB, appID, orgID uint) (bool, error) {
	var n int64
	err := tx.WithContext(ctx).Model(&ConsortiumRequest{}).
		Where("application_id = ? AND organisation_id = ? AND status IN ?", appID, orgID, []RequestStatus{RequestInvited, RequestPending}).
		Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("store: open requests of application %d: %w", appID, err)
	}
	return n > 0, nil
}

// invite records an invitation of orgID to a's consortium with its audit
// row, in tx: refused as a field error when the organisation is a member
// already, has an invitation open, or its share would take the
// consortium past 100 %.
func invite(ctx context.Context, tx *gorm.DB, a *Application, stage string, orgID uint, t MemberTerms, note string,
	orgField string, by *User, now time.Time) (*ConsortiumRequest, error) {
	ms, err := members(ctx, tx, a.ID)
	if err != nil {
		return nil, err
	}
	r := &ConsortiumRequest{ApplicationID: a.ID, Stage: stage, Kind: RequestAdd, OrganisationID: orgID,
		Role: t.Role, Share: t.Share, GPUCount: t.GPUCount, GPUModel: t.GPUModel, GPUNotes: t.GPUNotes, Note: note,
		Status: RequestInvited, BaseVersion: a.ConsortiumVersion, FiledByID: by.ID, FiledAt: now.UTC()}
	if _, err := CheckRequestAgainst(ms, r); err != nil {
		if errors.Is(err, ErrSharesOver100) {
			return nil, &FieldsError{Fields: FieldErrors{"share": "consortium.error.share_total"}}
		}
		return nil, &FieldsError{Fields: FieldErrors{orgField: "application.error.member_duplicate"}}
	}
	open, err := openRequestFor(ctx, tx, a.ID, orgID)
	if err != nil {
		return nil, err
	}
	if open {
		return nil, &FieldsError{Fields: FieldErrors{orgField: "consortium.error.invitation_open"}}
	}
	if err := tx.Create(r).Error; err != nil {
		return nil, fmt.Errorf("store: invite organisation %d: %w", orgID, err)
	}
	return r, RecordAudit(ctx, tx, ActorOf(by), ActionConsortiumInvite, "application", fmt.Sprint(a.ID),
		fmt.Sprintf("request %d: organisation %d invited (%s), waiting for its consent", r.ID, orgID, t), now)
}

// parseMemberOrg reads the organisation picked for a member: an applicant
// other than the lead.
func parseMemberOrg(ctx context.Context, tx *gorm.DB, s string, a *Application, errs FieldErrors, field string) (uint, error) {
	id, perr := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	org, err := GetOrganisation(ctx, tx, uint(id))
	switch {
	case perr != nil || id == 0 || errors.Is(err, ErrNotFound) || (err == nil && !org.IsApplicant()):
		errs.Add(field, "application.error.member_org")
	case err != nil:
		return 0, err
	case org.ID == a.LeadOrgID:
		errs.Add(field, "application.error.member_duplicate")
	default:
		return org.ID, nil
	}
	return 0, nil
}

// addMemberRow makes the organisation a member with the terms, with the
// audit row, in tx.
func addMemberRow(ctx context.Context, tx *gorm.DB, appID, orgID uint, t MemberTerms, by *User, now time.Time) (*ConsortiumMember, error) {
	m := ConsortiumMember{ApplicationID: appID, OrganisationID: orgID, Role: t.Role, Share: t.Share,
		GPUCount: t.GPUCount, GPUModel: t.GPUModel, GPUNotes: t.GPUNotes}
	if err := tx.Create(&m).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, fmt.Errorf("store: add member: already a member: %w", ErrConflict)
		}
		return nil, fmt.Errorf("store: add member: %w", err)
	}
	return &m, RecordAudit(ctx, tx, ActorOf(by), "application.member_add", "application", fmt.Sprint(appID),
		fmt.Sprintf("organisation %d added as %s", orgID, t), now)
}

// AnswerInvitation is the invited organisation's answer (ReqAccept or
// ReqDecline). Accepting a draft's invitation makes the organisation a
// member at once, while the draft may still change; accepting a selected
// team's invitation sends the request on to the officers. Answering again
// what was answered is done already; ErrNotFound when the user may not
// see the invitation, ErrForbidden when they may see it but not answer it.
func AnswerInvitation(ctx context.Context, db *gorm.DB, id uint, action RequestAction, by *User, now time.Time) error {
	if action != ReqAccept && action != ReqDecline {
		return fmt.Errorf("store: answer invitation: %s: %w", action, ErrInvalid)
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, err := loadRequest(ctx, tx, id, by)
		if err != nil {
			return err
		}
		party := PartyOf(by, r.Application.LeadOrgID, r)
		if party == PartyInvitee && r.AnsweredAt != nil && (action == ReqDecline) == (r.Status == RequestDeclined) {
			return nil // answered so already: a double click
		}
		to, err := NextRequestStatus(r.Stage, r.Status, action, party)
		if err != nil {
			return err
		}
		a := &r.Application
		if action == ReqAccept {
			switch r.Stage {
			case StageDraft:
				if err := a.checkDraftOpen(&a.Call, now); err != nil {
					return err
				}
			case StageChange:
				if a.Status != StatusSelected {
					return fmt.Errorf("store: application %d is %s: %w", a.ID, a.Status, ErrInvalidTransition)
				}
			}
		}
		at := now.UTC()
		res := tx.Model(&ConsortiumRequest{}).Where("id = ? AND status = ?", r.ID, r.Status).
			Updates(map[string]any{"status": to, "answered_by_id": by.ID, "answered_at": at, "updated_at": at})
		if res.Error != nil {
			return fmt.Errorf("store: answer invitation %d: %w", r.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: answer invitation %d: changed meanwhile: %w", r.ID, ErrConflict)
		}
		kind := ActionConsortiumAccept
		if action == ReqDecline {
			kind = ActionConsortiumDecline
		}
		if err := RecordAudit(ctx, tx, ActorOf(by), kind, "application", fmt.Sprint(a.ID),
			fmt.Sprintf("request %d: organisation %d %s the invitation (%s)", r.ID, r.OrganisationID, to, r.Terms()), now); err != nil {
			return err
		}
		if to != RequestAccepted {
			return nil
		}
		ms, err := members(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		if _, err := CheckRequestAgainst(ms, r); err != nil {
			return fmt.Errorf("store: accept invitation %d: %w: %w", r.ID, ErrConflict, err)
		}
		if _, err := addMemberRow(ctx, tx, a.ID, r.OrganisationID, r.Terms(), by, now); err != nil {
			return err
		}
		return tx.Model(&Application{}).Where("id = ?", a.ID).
			Update("consortium_version", gorm.Expr("consortium_version + 1")).Error
	})
}

// WithdrawConsortiumRequest is the lead taking back an invitation or a
// change request that is still open.
func WithdrawConsortiumRequest(ctx context.Context, db *gorm.DB, id uint, by *User, now time.Time) (*ConsortiumRequest, error) {
	var out *ConsortiumRequest
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, err := loadRequest(ctx, tx, id, by)
		if err != nil {
			return err
		}
		out = r
		party := PartyOf(by, r.Application.LeadOrgID, r)
		if party == PartyLead && r.Status == RequestWithdrawn {
			return nil
		}
		to, err := NextRequestStatus(r.Stage, r.Status, ReqWithdraw, party)
		if err != nil {
			return err
		}
		res := tx.Model(&ConsortiumRequest{}).Where("id = ? AND status = ?", r.ID, r.Status).
			Updates(map[string]any{"status": to, "updated_at": now.UTC()})
		if res.Error != nil {
			return fmt.Errorf("store: withdraw consortium request %d: %w", r.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: withdraw consortium request %d: changed meanwhile: %w", r.ID, ErrConflict)
		}
		return RecordAudit(ctx, tx, ActorOf(by), ActionConsortiumWithdraw, "application", fmt.Sprint(r.ApplicationID),
			fmt.Sprintf("request %d (%s, organisation %d) withdrawn", r.ID, r.Kind, r.OrganisationID), now)
	})
	return out, err
}

// ChangeInput is a change request as the lead's form sent it.
type ChangeInput struct {
	Kind           string
	OrganisationID string // the organisation to add
	MemberID       string // the member to change or remove
	Terms          MemberTermsInput
	Note           string
}

// FileConsortiumRequest files the lead's change to a selected team's
// consortium: an addition (an invitation that the organisation must
// accept before an officer sees it), a removal or a change of a member's
// terms (waiting for an officer). Refused fields are a *FieldsError;
// ErrNotFound when the user may not see the application;
// ErrInvalidTransition when it is not selected.
func FileConsortiumRequest(ctx context.Context, db *gorm.DB, appID uint, in ChangeInput, by *User, now time.Time) (*ConsortiumRequest, error) {
	var out *ConsortiumRequest
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, err := loadVisibleApplication(ctx, tx, appID, by)
		if err != nil {
			return err
		}
		if by.Role != RoleCompany {
			return fmt.Errorf("store: consortium request by %s: %w", by.Role, ErrForbidden)
		}
		if a.Status != StatusSelected {
			return fmt.Errorf("store: application %d is %s, not selected: %w", a.ID, a.Status, ErrInvalidTransition)
		}
		ms, err := members(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		errs := FieldErrors{}
		note := strings.TrimSpace(in.Note)
		if note == "" {
			errs.Add("note", "form.required")
		}
		errs.CheckText("note", note, MaxRequestNote, MultiLine)
		var m *ConsortiumMember
		var orgID uint
		switch in.Kind {
		case RequestAdd:
			if orgID, err = parseMemberOrg(ctx, tx, in.OrganisationID, a, errs, "organisation_id"); err != nil {
				return err
			}
		case RequestChange, RequestRemove:
			mid, _ := strconv.ParseUint(strings.TrimSpace(in.MemberID), 10, 32)
			for i := range ms {
				if ms[i].ID == uint(mid) {
					m = &ms[i]
				}
			}
			if m == nil {
				errs.Add("member_id", "consortium.error.member")
			} else if in.Kind == RequestRemove && m.Role == MemberLead {
				errs.Add("member_id", "consortium.error.remove_lead")
			} else {
				orgID = m.OrganisationID
			}
		default:
			errs.Add("kind", "consortium.error.kind")
		}
		var t MemberTerms
		if in.Kind != RequestRemove {
			var terrs FieldErrors
			t, terrs = ParseMemberTerms(in.Terms, m != nil && m.Role == MemberLead)
			for f, msg := range terrs {
				errs.Add(f, msg)
			}
		}
		if errs.Any() {
			return &FieldsError{Fields: errs}
		}
		if in.Kind == RequestAdd {
			out, err = invite(ctx, tx, a, StageChange, orgID, t, note, "organisation_id", by, now)
			return err
		}
		r := &ConsortiumRequest{ApplicationID: a.ID, Stage: StageChange, Kind: in.Kind, OrganisationID: orgID, MemberID: m.ID,
			Role: t.Role, Share: t.Share, GPUCount: t.GPUCount, GPUModel: t.GPUModel, GPUNotes: t.GPUNotes, Note: note,
			Status: RequestPending, BaseVersion: a.ConsortiumVersion, FiledByID: by.ID, FiledAt: now.UTC()}
		if _, err := CheckRequestAgainst(ms, r); errors.Is(err, ErrSharesOver100) {
			return &FieldsError{Fields: FieldErrors{"share": "consortium.error.share_total"}}
		} else if err != nil {
			return err
		}
		open, err := openRequestFor(ctx, tx, a.ID, orgID)
		if err != nil {
			return err
		}
		if open {
			return &FieldsError{Fields: FieldErrors{"member_id": "consortium.error.request_open"}}
		}
		if err := tx.Create(r).Error; err != nil {
			return fmt.Errorf("store: file consortium request: %w", err)
		}
		out = r
		summary := fmt.Sprintf("request %d: remove member %d (organisation %d)", r.ID, m.ID, orgID)
		if in.Kind == RequestChange {
			summary = fmt.Sprintf("request %d: change member %d (organisation %d): %s → %s", r.ID, m.ID, orgID, m.Terms(), t)
		}
		return RecordAudit(ctx, tx, ActorOf(by), ActionConsortiumRequest, "application", fmt.Sprint(a.ID), summary, now)
	})
	return out, err
}

// CheckConsortiumDecision checks an officer's decision without making it
// (the confirmation page asks only for one that can be made): the request
// is pending, the user an officer, a refusal has its reason.
func CheckConsortiumDecision(ctx context.Context, db *gorm.DB, id uint, action RequestAction, reason string, by *User) (*ConsortiumRequest, error) {
	r, err := GetConsortiumRequest(ctx, db, id, by)
	if err != nil {
		return nil, err
	}
	if err := checkDecision(r, action, reason, by); err != nil {
		return r, err
	}
	return r, nil
}

func checkDecision(r *ConsortiumRequest, action RequestAction, reason string, by *User) error {
	if action != ReqApprove && action != ReqRefuse {
		return fmt.Errorf("store: decide consortium request: %s: %w", action, ErrInvalid)
	}
	errs := FieldErrors{}
	reason = strings.TrimSpace(reason)
	if action == ReqRefuse && reason == "" {
		errs.Add("reason", "form.required")
	}
	errs.CheckText("reason", reason, MaxRequestReason, MultiLine)
	if errs.Any() {
		return &FieldsError{Fields: errs}
	}
	_, err := NextRequestStatus(r.Stage, r.Status, action, PartyOf(by, r.Application.LeadOrgID, r))
	return err
}

// DecideConsortiumRequest is an officer's approval or refusal of a
// pending change request. Approving applies the change to the consortium
// in the same transaction — only to the consortium the request was filed
// against: a request the consortium has moved past since is refused as
// stale (recorded so) and answered with a *StaleRequestError. A refusal
// needs its reason.
func DecideConsortiumRequest(ctx context.Context, db *gorm.DB, id uint, action RequestAction, reason string, by *User, now time.Time) error {
	var stale *StaleRequestError
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, err := loadRequest(ctx, tx, id, by)
		if err != nil {
			return err
		}
		if err := checkDecision(r, action, reason, by); err != nil {
			return err
		}
		reason = strings.TrimSpace(reason)
		a := &r.Application
		at := now.UTC()
		if action == ReqApprove && a.ConsortiumVersion != r.BaseVersion {
			stale = &StaleRequestError{RequestID: r.ID, Filed: r.BaseVersion, Now: a.ConsortiumVersion}
			res := tx.Model(&ConsortiumRequest{}).Where("id = ? AND status = ?", r.ID, RequestPending).
				Updates(map[string]any{"status": RequestRefused, "decided_by_id": by.ID, "decided_at": at,
					"reason": "stale: " + stale.Error(), "updated_at": at})
			if res.Error != nil {
				return fmt.Errorf("store: refuse stale request %d: %w", r.ID, res.Error)
			}
			return RecordAudit(ctx, tx, ActorOf(by), ActionConsortiumStale, "application", fmt.Sprint(a.ID),
				fmt.Sprintf("request %d refused: %s", r.ID, stale.Error()), now)
		}
		updates := map[string]any{"decided_by_id": by.ID, "decided_at": at, "reason": reason, "updated_at": at}
		kind := ActionConsortiumRefuse
		summary := fmt.Sprintf("request %d (%s, organisation %d) refused: %s", r.ID, r.Kind, r.OrganisationID, reason)
		if action == ReqApprove {
			if a.Status != StatusSelected {
				return fmt.Errorf("store: application %d is %s: %w", a.ID, a.Status, ErrInvalidTransition)
			}
			// The version moves before the change is applied, whose audit
			// row (an addition's) is written inside applyRequest.
			if err := bumpConsortium(tx, a.ID, r.BaseVersion, r.ID, now); err != nil {
				return err
			}
			before, err := applyRequest(ctx, tx, r, by, now)
			if err != nil {
				return err
			}
			updates["status"], updates["before"] = RequestApproved, before
			kind = ActionConsortiumApprove
			summary = fmt.Sprintf("request %d (%s, organisation %d) approved and applied", r.ID, r.Kind, r.OrganisationID)
		} else {
			updates["status"] = RequestRefused
		}
		res := tx.Model(&ConsortiumRequest{}).Where("id = ? AND status = ?", r.ID, RequestPending).Updates(updates)
		if res.Error != nil {
			return fmt.Errorf("store: decide consortium request %d: %w", r.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: decide consortium request %d: changed meanwhile: %w", r.ID, ErrConflict)
		}
		return RecordAudit(ctx, tx, ActorOf(by), kind, "application", fmt.Sprint(a.ID), summary, now)
	})
	if err == nil && stale != nil {
		return stale
	}
	return err
}

// applyRequest makes the approved change to the consortium in tx and
// returns the member's terms before it.
func applyRequest(ctx context.Context, tx *gorm.DB, r *ConsortiumRequest, by *User, now time.Time) (string, error) {
	ms, err := members(ctx, tx, r.ApplicationID)
	if err != nil {
		return "", err
	}
	m, err := CheckRequestAgainst(ms, r)
	if err != nil {
		return "", fmt.Errorf("store: apply consortium request %d: %w: %w", r.ID, ErrConflict, err)
	}
	switch r.Kind {
	case RequestAdd:
		_, err := addMemberRow(ctx, tx, r.ApplicationID, r.OrganisationID, r.Terms(), by, now)
		return "", err
	case RequestRemove:
		if err := tx.Delete(&ConsortiumMember{}, m.ID).Error; err != nil {
			return "", fmt.Errorf("store: remove member %d: %w", m.ID, err)
		}
		return m.Terms().String(), RecordAudit(ctx, tx, ActorOf(by), "application.member_remove", "application",
			fmt.Sprint(r.ApplicationID), fmt.Sprintf("member %d (organisation %d) removed", m.ID, m.OrganisationID), now)
	}
	if !requestRoleOK(m, r.Role) {
		return "", fmt.Errorf("store: member %d: role %q: %w", m.ID, r.Role, ErrInvalid)
	}
	t := r.Terms()
	err = tx.Model(&ConsortiumMember{}).Where("id = ?", m.ID).Updates(map[string]any{"role": t.Role, "share": t.Share,
		"gpu_count": t.GPUCount, "gpu_model": t.GPUModel, "gpu_notes": t.GPUNotes}).Error
	if err != nil {
		return "", fmt.Errorf("store: change member %d: %w", m.ID, err)
	}
	return m.Terms().String(), nil
}

// ConsortiumRequests lists an application's requests, newest first, with
// their organisations.
func ConsortiumRequests(ctx context.Context, db *gorm.DB, appID uint) ([]ConsortiumRequest, error) {
	var rs []ConsortiumRequest
	err := db.WithContext(ctx).Preload("Organisation").Where("application_id = ?", appID).Order("id DESC").Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("store: consortium requests of application %d: %w", appID, err)
	}
	return rs, nil
}

// InvitationsFor lists the invitations an organisation received, newest
// first, each with the application and its lead (what the invited
// organisation is asked to join, and nothing else of it).
func InvitationsFor(ctx context.Context, db *gorm.DB, orgID uint) ([]ConsortiumRequest, error) {
	var rs []ConsortiumRequest
	err := db.WithContext(ctx).Preload("Application.LeadOrg").
		Where("organisation_id = ? AND kind = ?", orgID, RequestAdd).Order("id DESC").Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("store: invitations of organisation %d: %w", orgID, err)
	}
	return rs, nil
}

// PendingConsortiumRequests lists the change requests waiting for an
// officer, oldest first, with the application's lead and the organisation.
func PendingConsortiumRequests(ctx context.Context, db *gorm.DB) ([]ConsortiumRequest, error) {
	var rs []ConsortiumRequest
	err := db.WithContext(ctx).Preload("Application.LeadOrg").Preload("Organisation").
		Where("status = ?", RequestPending).Order("id").Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("store: pending consortium requests: %w", err)
	}
	return rs, nil
}

// SelectedConsortia lists the selected applications with their leads and
// members, by lead name.
func SelectedConsortia(ctx context.Context, db *gorm.DB) ([]Application, error) {
	var apps []Application
	err := db.WithContext(ctx).Preload("LeadOrg").Preload("Members", membersInOrder).Preload("Members.Organisation").Preload("Call").
		Where("status = ?", StatusSelected).Order("call_id DESC").Order("id").Find(&apps).Error
	if err != nil {
		return nil, fmt.Errorf("store: selected consortia: %w", err)
	}
	for i := range apps {
		SortMembers(apps[i].Members)
	}
	return apps, nil
}

// SortMembers puts the lead first, then the members in the order they joined.
func SortMembers(ms []ConsortiumMember) {
	slices.SortStableFunc(ms, func(a, b ConsortiumMember) int {
		if (a.Role == MemberLead) != (b.Role == MemberLead) {
			if a.Role == MemberLead {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// ConsortiumParties returns the lead and the current members of an
// application's consortium, lead first: the parties of its agreement.
func ConsortiumParties(ctx context.Context, db *gorm.DB, applicationID uint) ([]ConsortiumParty, error) {
	var ms []ConsortiumMember
	err := db.WithContext(ctx).Preload("Organisation").Where("application_id = ?", applicationID).Find(&ms).Error
	if err != nil {
		return nil, fmt.Errorf("store: consortium parties of application %d: %w", applicationID, err)
	}
	SortMembers(ms)
	out := make([]ConsortiumParty, 0, len(ms))
	for _, m := range ms {
		out = append(out, ConsortiumParty{OrganisationID: m.OrganisationID, NameKO: m.Organisation.NameKO,
			NameEN: m.Organisation.NameEN, Role: m.Role, Share: m.Share, Lead: m.Role == MemberLead})
	}
	return out, nil
}

// SetDraftMemberTerms changes a member's terms (for the lead's own row, its
// share and GPUs) while the application is a draft: the lead's consortium
// is still its own proposal. Refused fields are a *FieldsError (the shares
// may not pass 100 %); ErrNotFound for a member of another application.
func SetDraftMemberTerms(ctx context.Context, db *gorm.DB, appID, memberID uint, in MemberTermsInput, by *User, now time.Time) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockDraft(ctx, tx, appID, by, now); err != nil {
			return err
		}
		ms, err := members(ctx, tx, appID)
		if err != nil {
			return err
		}
		var m *ConsortiumMember
		for i := range ms {
			if ms[i].ID == memberID {
				m = &ms[i]
			}
		}
		if m == nil {
			return fmt.Errorf("store: member %d of application %d: %w", memberID, appID, ErrNotFound)
		}
		t, errs := ParseMemberTerms(in, m.Role == MemberLead)
		if errs.Any() {
			return &FieldsError{Fields: errs}
		}
		r := &ConsortiumRequest{Kind: RequestChange, MemberID: m.ID, Share: t.Share}
		if SharesAfter(ms, r) > 100 {
			return &FieldsError{Fields: FieldErrors{"share": "consortium.error.share_total"}}
		}
		err = tx.Model(&ConsortiumMember{}).Where("id = ?", m.ID).Updates(map[string]any{"role": t.Role, "share": t.Share,
			"gpu_count": t.GPUCount, "gpu_model": t.GPUModel, "gpu_notes": t.GPUNotes}).Error
		if err != nil {
			return fmt.Errorf("store: member %d terms: %w", m.ID, err)
		}
		if err := tx.Model(&Application{}).Where("id = ?", appID).
			Update("consortium_version", gorm.Expr("consortium_version + 1")).Error; err != nil {
			return fmt.Errorf("store: member %d terms: %w", m.ID, err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), ActionConsortiumTerms, "application", fmt.Sprint(appID),
			fmt.Sprintf("member %d (organisation %d): %s → %s", m.ID, m.OrganisationID, m.Terms(), t), now)
	})
}

// CountOpenInvitations counts the invitations waiting for the organisation's answer.
func CountOpenInvitations(ctx context.Context, db *gorm.DB, orgID uint) (int64, error) {
	var n int64
	err := db.WithContext(ctx).Model(&ConsortiumRequest{}).
		Where("organisation_id = ? AND kind = ? AND status = ?", orgID, RequestAdd, RequestInvited).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("store: open invitations of organisation %d: %w", orgID, err)
	}
	return n, nil
}

// lapseDraftInvitations closes the draft's invitations still unanswered
// when it stops being a draft (submitted or withdrawn): the consortium it
// was submitted with is the one the panel reviews. One audit row names how
// many lapsed.
func lapseDraftInvitations(ctx context.Context, tx *gorm.DB, appID uint, by *User, now time.Time) error {
	res := tx.WithContext(ctx).Model(&ConsortiumRequest{}).
		Where("application_id = ? AND stage = ? AND status = ?", appID, StageDraft, RequestInvited).
		Updates(map[string]any{"status": RequestLapsed, "updated_at": now.UTC()})
	if res.Error != nil {
		return fmt.Errorf("store: lapse invitations of application %d: %w", appID, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil
	}
	return RecordAudit(ctx, tx, ActorOf(by), ActionConsortiumLapse, "application", fmt.Sprint(appID),
		fmt.Sprintf("%d unanswered invitation(s) lapsed: the application is no longer a draft", res.RowsAffected), now)
}
