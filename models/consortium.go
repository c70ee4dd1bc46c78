package models

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The consortium (컨소시엄) of an application: the lead and its members, each
// with a role, a share of the work and the GPUs it brings itself. A member
// joins only with its consent: the lead invites an organisation, and that
// organisation's company user accepts or declines. While the application is
// a draft an accepted invitation adds the member at once; once the
// application is selected every change — adding, removing or changing a
// member — is a request that an officer approves or refuses, and an added
// member's request reaches the officer only after the member accepted.
// Approving applies the change in the same transaction, and only to the
// consortium the request was filed against (ConsortiumVersion).

// Audit actions of the consortium.
const (
	ActionConsortiumInvite   = "consortium.invite"
	ActionConsortiumAccept   = "consortium.accept"
	ActionConsortiumDecline  = "consortium.decline"
	ActionConsortiumWithdraw = "consortium.withdraw"
	ActionConsortiumRequest  = "consortium.request"
	ActionConsortiumApprove  = "consortium.approve"
	ActionConsortiumRefuse   = "consortium.refuse"
	ActionConsortiumStale    = "consortium.stale"
	ActionConsortiumTerms    = "consortium.terms"
	ActionConsortiumLapse    = "consortium.lapse"
)

// Request stages: a draft's invitation, or a selected team's change request.
const (
	StageDraft  = "draft"
	StageChange = "change"
)

// Kinds of consortium request.
const (
	RequestAdd    = "add"
	RequestRemove = "remove"
	RequestChange = "change"
)

// RequestKinds lists the kinds of consortium request.
var RequestKinds = []string{RequestAdd, RequestRemove, RequestChange}

// RequestStatus is where a consortium request stands.
type RequestStatus string

// Request statuses.
const (
	RequestInvited   RequestStatus = "invited"   // waiting for the invited organisation's answer
	RequestPending   RequestStatus = "pending"   // waiting for an officer
	RequestAccepted  RequestStatus = "accepted"  // a draft's invitation accepted: the member joined
	RequestApproved  RequestStatus = "approved"  // applied to the consortium
	RequestRefused   RequestStatus = "refused"   // an officer said no, with a reason
	RequestDeclined  RequestStatus = "declined"  // the invited organisation said no
	RequestWithdrawn RequestStatus = "withdrawn" // the lead took it back
	RequestLapsed    RequestStatus = "lapsed"    // a draft's invitation unanswered when the draft was submitted or withdrawn
)

// RequestStatuses lists every status.
var RequestStatuses = []RequestStatus{RequestInvited, RequestPending, RequestAccepted, RequestApproved,
	RequestRefused, RequestDeclined, RequestWithdrawn, RequestLapsed}

// Open reports whether the request still waits for someone.
func (s RequestStatus) Open() bool { return s == RequestInvited || s == RequestPending }

// RequestAction is something done to a consortium request.
type RequestAction string

// Request actions.
const (
	ReqAccept   RequestAction = "accept"
	ReqDecline  RequestAction = "decline"
	ReqWithdraw RequestAction = "withdraw"
	ReqApprove  RequestAction = "approve"
	ReqRefuse   RequestAction = "refuse"
)

// RequestActions lists every action.
var RequestActions = []RequestAction{ReqAccept, ReqDecline, ReqWithdraw, ReqApprove, ReqRefuse}

// Party is who acts on a request, as the request sees them.
type Party string

// Parties of a request.
const (
	PartyLead    Party = "lead"    // a company user of the lead organisation
	PartyInvitee Party = "invitee" // a company user of the invited organisation
	PartyOfficer Party = "officer" // an officer or administrator
	PartyOther   Party = "other"   // anyone else: another company, an auditor, a reviewer
)

// Parties lists every party.
var Parties = []Party{PartyLead, PartyInvitee, PartyOfficer, PartyOther}

type requestTransition struct {
	to RequestStatus
	by Party
}

// requestTransitions is the state machine of each stage: from → action →
// (to, who may).
var requestTransitions = map[string]map[RequestStatus]map[RequestAction]requestTransition{
	StageDraft: {
		RequestInvited: {
			ReqAccept:   {RequestAccepted, PartyInvitee},
			ReqDecline:  {RequestDeclined, PartyInvitee},
			ReqWithdraw: {RequestWithdrawn, PartyLead},
		},
	},
	StageChange: {
		RequestInvited: {
			ReqAccept:   {RequestPending, PartyInvitee},
			ReqDecline:  {RequestDeclined, PartyInvitee},
			ReqWithdraw: {RequestWithdrawn, PartyLead},
		},
		RequestPending: {
			ReqApprove:  {RequestApproved, PartyOfficer},
			ReqRefuse:   {RequestRefused, PartyOfficer},
			ReqWithdraw: {RequestWithdrawn, PartyLead},
		},
	},
}

// NextRequestStatus applies the state machine: the status an action leads
// to, ErrInvalidTransition when the request's status has no such step, or
// ErrForbidden when the party may not take it.
func NextRequestStatus(stage string, from RequestStatus, action RequestAction, by Party) (RequestStatus, error) {
	t, ok := requestTransitions[stage][from][action]
	if !ok {
		return from, fmt.Errorf("consortium request %s → %s: %w", from, action, ErrInvalidTransition)
	}
	if t.by != by {
		return from, fmt.Errorf("consortium request %s by %s: %w", action, by, ErrForbidden)
	}
	return t.to, nil
}

// PartyOf says which party u is to a request of an application led by leadOrgID.
func PartyOf(u *User, leadOrgID uint, r *ConsortiumRequest) Party {
	switch {
	case u == nil:
		return PartyOther
	case u.Role == RoleOfficer || u.Role == RoleAdmin:
		return PartyOfficer
	case u.Role != RoleCompany || u.OrganisationID == nil:
		return PartyOther
	case *u.OrganisationID == leadOrgID:
		return PartyLead
	case r.Kind == RequestAdd && *u.OrganisationID == r.OrganisationID:
		return PartyInvitee
	}
	return PartyOther
}

// ConsortiumRequest is an invitation to join a consortium or a change to a
// selected team's consortium, with its answers. Decided requests are the
// consortium's history.
type ConsortiumRequest struct {
	ID             uint         `gorm:"primaryKey"`
	ApplicationID  uint         `gorm:"not null;index"`
	Application    Application  `gorm:"constraint:OnDelete:CASCADE"`
	Stage          string       `gorm:"size:16;not null"`
	Kind           string       `gorm:"size:16;not null"`
	OrganisationID uint         `gorm:"not null;index"` // the organisation concerned
	Organisation   Organisation `gorm:"constraint:OnDelete:RESTRICT"`
	MemberID       uint         `gorm:"not null;default:0"` // the member changed or removed; 0 for an addition
	// The terms proposed (an addition or a change).
	Role     string        `gorm:"size:16;not null;default:''"`
	Share    int           `gorm:"not null;default:0"`
	GPUCount int           `gorm:"not null;default:0"`
	GPUModel string        `gorm:"size:100;not null;default:''"`
	GPUNotes string        `gorm:"type:text;not null;default:''"`
	Note     string        `gorm:"type:text;not null;default:''"` // the lead's explanation
	Status   RequestStatus `gorm:"size:16;not null;index"`
	// BaseVersion is the application's ConsortiumVersion the request was filed against.
	BaseVersion  int  `gorm:"not null;default:0"`
	FiledByID    uint `gorm:"not null"`
	FiledAt      time.Time
	AnsweredByID *uint // the invited organisation's user
	AnsweredAt   *time.Time
	DecidedByID  *uint // the officer
	DecidedAt    *time.Time
	Reason       string `gorm:"type:text;not null;default:''"` // the officer's reason
	Before       string `gorm:"type:text;not null;default:''"` // the member's terms before an applied change
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Text limits of the consortium's fields.
const (
	MaxGPUModel      = 100  // ConsortiumMember.GPUModel, ConsortiumRequest.GPUModel: varchar(100)
	MaxGPUNotes      = 2000 // GPUNotes: text
	MaxRequestNote   = 2000 // ConsortiumRequest.Note: text
	MaxRequestReason = 2000 // ConsortiumRequest.Reason: text
	MaxOwnGPUs       = 100000
)

// MemberTerms are a member's role, share of the work (percent) and own GPUs.
type MemberTerms struct {
	Role     string
	Share    int
	GPUCount int
	GPUModel string
	GPUNotes string
}

// Terms returns the member's terms.
func (m *ConsortiumMember) Terms() MemberTerms {
	return MemberTerms{Role: m.Role, Share: m.Share, GPUCount: m.GPUCount, GPUModel: m.GPUModel, GPUNotes: m.GPUNotes}
}

// Terms returns the terms the request proposes.
func (r *ConsortiumRequest) Terms() MemberTerms {
	return MemberTerms{Role: r.Role, Share: r.Share, GPUCount: r.GPUCount, GPUModel: r.GPUModel, GPUNotes: r.GPUNotes}
}

// String summarises the terms for the audit trail and the history.
func (t MemberTerms) String() string {
	s := fmt.Sprintf("role %s, share %d%%, own GPUs %d", t.Role, t.Share, t.GPUCount)
	if t.GPUModel != "" {
		s += " " + t.GPUModel
	}
	return s
}

// MemberTermsInput is a member's terms as a form sent them.
type MemberTermsInput struct {
	Role, Share, GPUCount, GPUModel, GPUNotes string
}

// ParseMemberTerms checks typed terms: a role a member may be given (the
// lead's own row keeps MemberLead), a whole share from 0 to 100, a GPU
// count from 0, a model named when GPUs are counted.
func ParseMemberTerms(in MemberTermsInput, lead bool) (MemberTerms, FieldErrors) {
	errs := FieldErrors{}
	t := MemberTerms{Role: in.Role, GPUModel: strings.TrimSpace(in.GPUModel), GPUNotes: strings.TrimSpace(in.GPUNotes)}
	if lead {
		t.Role = MemberLead
	} else if !validMemberRole(in.Role) {
		errs.Add("role", "application.error.member_role")
	}
	t.Share = parseWhole(errs, "share", in.Share, 0, 100, "consortium.error.share")
	t.GPUCount = parseWhole(errs, "gpu_count", in.GPUCount, 0, MaxOwnGPUs, "consortium.error.gpu_count")
	if t.GPUCount > 0 && t.GPUModel == "" && !errs.Has("gpu_count") {
		errs.Add("gpu_model", "consortium.error.gpu_model")
	}
	errs.CheckText("gpu_model", t.GPUModel, MaxGPUModel, SingleLine)
	errs.CheckText("gpu_notes", t.GPUNotes, MaxGPUNotes, MultiLine)
	return t, errs
}

// parseWhole reads a whole number in [lo, hi] ("15" or "15%"); empty is 0.
func parseWhole(errs FieldErrors, field, s string, lo, hi int, msg string) int {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		errs.Add(field, msg)
		return 0
	}
	return n
}

// ErrSharesOver100 refuses a consortium whose shares would add up to more than 100 %.
var ErrSharesOver100 = errors.New("the shares of work would add up to more than 100%")

// SharesAfter is the total share of the consortium once the request is
// applied to members.
func SharesAfter(members []ConsortiumMember, r *ConsortiumRequest) int {
	total := 0
	for _, m := range members {
		switch {
		case r.Kind != RequestAdd && m.ID == r.MemberID && r.Kind == RequestRemove:
		case r.Kind != RequestAdd && m.ID == r.MemberID:
			total += r.Share
		default:
			total += m.Share
		}
	}
	if r.Kind == RequestAdd {
		total += r.Share
	}
	return total
}

// CheckRequestAgainst checks a request against the consortium as it is:
// the organisation to add is not a member yet, the member to change or
// remove still is (and the lead is never removed), and the shares stay
// within 100 %. It returns the member concerned (nil for an addition).
func CheckRequestAgainst(members []ConsortiumMember, r *ConsortiumRequest) (*ConsortiumMember, error) {
	var m *ConsortiumMember
	for i := range members {
		if r.Kind == RequestAdd && members[i].OrganisationID == r.OrganisationID {
			return nil, fmt.Errorf("consortium: organisation %d is already a member: %w", r.OrganisationID, ErrConflict)
		}
		if r.Kind != RequestAdd && members[i].ID == r.MemberID {
			m = &members[i]
		}
	}
	if r.Kind != RequestAdd && m == nil {
		return nil, fmt.Errorf("consortium: member %d: %w", r.MemberID, ErrNotFound)
	}
	if r.Kind == RequestRemove && m.Role == MemberLead {
		return nil, fmt.Errorf("consortium: the lead cannot be removed: %w", ErrInvalid)
	}
	if SharesAfter(members, r) > 100 {
		return nil, fmt.Errorf("consortium: %w", ErrSharesOver100)
	}
	return m, nil
}

// StaleRequestError refuses a request filed against a consortium that has
// changed since: it was refused and must be filed again.
type StaleRequestError struct {
	RequestID  uint
	Filed, Now int
}

func (e *StaleRequestError) Error() string {
	return fmt.Sprintf("consortium request %d was filed against consortium version %d, which is now %d", e.RequestID, e.Filed, e.Now)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *StaleRequestError) Is(target error) bool { return target == ErrConflict }

// ConsortiumParty is a party of a team's consortium, for the agreement.
type ConsortiumParty struct {
	OrganisationID uint
	NameKO, NameEN string
	Role           string
	Share          int
	Lead           bool
}

// requestRoleOK reports whether a request's role fits its member: the
// lead's stays the lead's.
func requestRoleOK(m *ConsortiumMember, role string) bool {
	if m != nil && m.Role == MemberLead {
		return role == MemberLead
	}
	return role != MemberLead && slices.Contains(MemberRoles, role)
}
