package models

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// An agreement (협약) between a selected team (the lead of a selected
// application and its consortium members) and the ministry. It is the
// team's standing in the programme: the K-AI names and the GPU allocations
// follow from an agreement in force, and end with it.
//
// An agreement has versions. An officer prepares a version (a draft, which
// can be edited), sends it out for signature (its hash is then fixed and it
// can no longer be edited), each party's authorised signer signs it by its
// hash, and the ministry signs last. The last signature puts the version in
// force, from the later of its start date and the day it was completed. An
// amendment (협약 변경) is a new version that needs every signature again;
// until it is completed the previous version stays in force. A change that
// is only a notification (the contact person) is recorded without a new
// version.

// AgreementState is where an agreement stands on a given day.
type AgreementState string

// Agreement states. Effective, ended and terminated follow from the dates.
const (
	AgreementDraft      AgreementState = "draft"
	AgreementOut        AgreementState = "out_for_signature"
	AgreementSigned     AgreementState = "signed"
	AgreementEffective  AgreementState = "effective"
	AgreementEnded      AgreementState = "ended"
	AgreementTerminated AgreementState = "terminated"
)

// AgreementStates lists every state, in the order of the life cycle.
var AgreementStates = []AgreementState{AgreementDraft, AgreementOut, AgreementSigned, AgreementEffective,
	AgreementEnded, AgreementTerminated}

// VersionStatus is where one version stands.
type VersionStatus string

// Version statuses.
const (
	VersionDraft      VersionStatus = "draft"
	VersionOut        VersionStatus = "out_for_signature"
	VersionSigned     VersionStatus = "signed"
	VersionSuperseded VersionStatus = "superseded" // replaced by a newer version before it was completed
)

// AgreementAction is something done to an agreement.
type AgreementAction string

// Agreement actions.
const (
	AgrEditDraft   AgreementAction = "edit"        // change the draft version
	AgrSend        AgreementAction = "send"        // send the draft out for signature
	AgrSign        AgreementAction = "sign"        // a party's authorised signer signs
	AgrCountersign AgreementAction = "countersign" // the ministry signs, last
	AgrNewVersion  AgreementAction = "new_version" // a corrected version while one is out (the old one is superseded)
	AgrAmend       AgreementAction = "amend"       // an amendment of an agreement in force
	AgrNotice      AgreementAction = "notice"      // a notification-only change
	AgrTerminate   AgreementAction = "terminate"   // 해약
)

// AgreementActions lists every action.
var AgreementActions = []AgreementAction{AgrEditDraft, AgrSend, AgrSign, AgrCountersign, AgrNewVersion,
	AgrAmend, AgrNotice, AgrTerminate}

var ministryRoles = []Role{RoleOfficer, RoleAdmin}

// agreementRules says, for the state of the version concerned (the
// agreement's pending version for editing, sending and signing; the
// agreement itself for the rest), which actions are possible and by whom.
// "pending:<status>" rows are about the version being prepared or signed;
// the others about the agreement's state.
var agreementRules = map[AgreementState]map[AgreementAction][]Role{
	AgreementDraft:     {AgrEditDraft: ministryRoles, AgrSend: ministryRoles},
	AgreementOut:       {AgrSign: {RoleCompany}, AgrCountersign: ministryRoles, AgrNewVersion: ministryRoles},
	AgreementSigned:    {AgrAmend: ministryRoles, AgrNotice: ministryRoles, AgrTerminate: ministryRoles},
	AgreementEffective: {AgrAmend: ministryRoles, AgrNotice: ministryRoles, AgrTerminate: ministryRoles},
}

// pendingRules is the same for an amendment being prepared or signed while
// an earlier version is in force: the amendment's own status decides.
var pendingRules = map[VersionStatus]map[AgreementAction][]Role{
	VersionDraft: {AgrEditDraft: ministryRoles, AgrSend: ministryRoles},
	VersionOut:   {AgrSign: {RoleCompany}, AgrCountersign: ministryRoles, AgrNewVersion: ministryRoles},
}

// CheckAgreementAction is the state machine: whether role may do action to
// an agreement in state, with pending the status of a version being
// prepared or signed ("" when none). It returns ErrInvalidTransition when
// the action is not possible in that state and ErrForbidden when it is,
// but not for that role.
func CheckAgreementAction(state AgreementState, pending VersionStatus, action AgreementAction, role Role) error {
	roles, ok := agreementRules[state][action]
	if !ok && (state == AgreementSigned || state == AgreementEffective) {
		roles, ok = pendingRules[pending][action]
	}
	// While an amendment is prepared or out, a second one is not started.
	if ok && action == AgrAmend && pending != "" {
		ok = false
	}
	if !ok {
		return fmt.Errorf("agreement %s → %s: %w", state, action, ErrInvalidTransition)
	}
	if !slices.Contains(roles, role) {
		return fmt.Errorf("agreement %s by %s: %w", action, role, ErrForbidden)
	}
	return nil
}

// Agreement is one team's agreement with the ministry in a programme.
type Agreement struct {
	ID             uint         `gorm:"primaryKey"`
	Number         string       `gorm:"size:32;not null;uniqueIndex"` // e.g. KAI-2025-001
	ProgrammeID    uint         `gorm:"not null;index"`
	ApplicationID  uint         `gorm:"not null;uniqueIndex"`
	Application    *Application `gorm:"constraint:OnDelete:RESTRICT"`
	OrganisationID uint         `gorm:"not null;index"` // the lead: the team
	Organisation   *Organisation
	// The contact person: a change is a notification, not a new version.
	ContactName string `gorm:"size:200;not null;default:''"`
	ContactInfo string `gorm:"size:200;not null;default:''"`
	// InForceID is the latest completed version; nil until the first is.
	InForceID         *uint
	TerminatedOn      string `gorm:"size:10;not null;default:''"` // the first day it no longer holds
	TerminationReason string `gorm:"type:text;not null;default:''"`
	TerminatedAt      *time.Time
	TerminatedByID    *uint
	CreatedByID       uint `gorm:"not null"`
	CreatedAt         time.Time
	UpdatedAt         time.Time
	Versions          []AgreementVersion `gorm:"constraint:OnDelete:RESTRICT"`
}

// AgreementVersion is one version of the agreement's document and terms.
type AgreementVersion struct {
	ID           uint          `gorm:"primaryKey"`
	AgreementID  uint          `gorm:"not null;uniqueIndex:idx_agreement_version"`
	Number       int           `gorm:"not null;uniqueIndex:idx_agreement_version"` // 1 is the original; later ones are amendments
	Status       VersionStatus `gorm:"size:24;not null"`
	DocumentID   *uint
	Document     *StoredFile `gorm:"constraint:OnDelete:RESTRICT"`
	StartDate    string      `gorm:"size:10;not null"` // 2006-01-02, KST, first day
	EndDate      string      `gorm:"size:10;not null"` // last day, included
	GPUCount     int         `gorm:"column:gpu_count;not null"`
	GPUModel     string      `gorm:"column:gpu_model;size:120;not null"`
	GrantCompany bool        `gorm:"not null"` // "K-AI 기업"
	GrantModel   bool        `gorm:"not null"` // "K-AI 모델", for ModelNames
	ModelNames   string      `gorm:"type:text;not null"`
	Deliverables string      `gorm:"type:text;not null"` // "2006-01-02 title" a line: deliverables and milestones
	StageDates   string      `gorm:"type:text;not null"` // one date a line: the stage evaluations
	Changes      string      `gorm:"type:text;not null"` // for an amendment: what changes and why
	// Hash is the SHA-256 of the version (document and terms), fixed when it
	// is sent out: each signature names it.
	Hash          string `gorm:"size:64;not null;default:''"`
	PreparedByID  uint   `gorm:"not null"`
	SentAt        *time.Time
	CompletedAt   *time.Time
	EffectiveFrom string `gorm:"size:10;not null;default:''"` // set when completed
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Parties       []AgreementParty     `gorm:"foreignKey:VersionID;constraint:OnDelete:CASCADE"`
	Budget        []AgreementBudget    `gorm:"foreignKey:VersionID;constraint:OnDelete:CASCADE"`
	Signatures    []AgreementSignature `gorm:"foreignKey:VersionID;constraint:OnDelete:RESTRICT"`
}

// Roles of an agreement's parties.
const (
	SignerLead     = "lead"
	SignerMember   = "member"
	SignerMinistry = "ministry"
)

// AgreementParty is one party of a version, fixed when the version is
// prepared: the lead, each consortium member, and the ministry.
type AgreementParty struct {
	ID             uint          `gorm:"primaryKey"`
	VersionID      uint          `gorm:"not null;uniqueIndex:idx_agreement_party"`
	OrganisationID uint          `gorm:"not null;uniqueIndex:idx_agreement_party"`
	Organisation   *Organisation `gorm:"constraint:OnDelete:RESTRICT"`
	Role           string        `gorm:"size:16;not null"`
	Position       int           `gorm:"not null"`
}

// AgreementBudget is one party's budget for one year of a version.
type AgreementBudget struct {
	ID             uint  `gorm:"primaryKey"`
	VersionID      uint  `gorm:"not null;uniqueIndex:idx_agreement_budget"`
	OrganisationID uint  `gorm:"not null;uniqueIndex:idx_agreement_budget"`
	Year           int   `gorm:"not null;uniqueIndex:idx_agreement_budget"`
	GovernmentWon  int64 `gorm:"not null"` // 정부출연금
	OwnWon         int64 `gorm:"not null"` // 자부담 (the party's own share)
}

// AgreementSignature is one party's signature of one version: recorded
// once (the unique index), with the hash the signer saw.
type AgreementSignature struct {
	ID               uint      `gorm:"primaryKey"`
	VersionID        uint      `gorm:"not null;uniqueIndex:idx_agreement_signature"`
	OrganisationID   uint      `gorm:"not null;uniqueIndex:idx_agreement_signature"`
	OrganisationName string    `gorm:"size:200;not null"`
	SignerID         uint      `gorm:"not null;index"`
	SignerName       string    `gorm:"size:200;not null"`
	VersionHash      string    `gorm:"size:64;not null"`
	SignedAt         time.Time `gorm:"not null"`
}

// AgreementSigner marks a company user as an authorised signer of their
// organisation's agreements.
type AgreementSigner struct {
	ID             uint `gorm:"primaryKey"`
	UserID         uint `gorm:"not null;uniqueIndex"`
	User           *User
	OrganisationID uint `gorm:"not null;index"`
	MarkedByID     uint `gorm:"not null"`
	MarkedAt       time.Time
}

// AgreementNotice is a change that needs no signature (the contact
// person), recorded with what it was before.
type AgreementNotice struct {
	ID          uint      `gorm:"primaryKey"`
	AgreementID uint      `gorm:"not null;index"`
	Field       string    `gorm:"size:32;not null"`
	Before      string    `gorm:"type:text;not null"`
	After       string    `gorm:"type:text;not null"`
	ByID        uint      `gorm:"not null"`
	ByName      string    `gorm:"size:200;not null"`
	At          time.Time `gorm:"not null"`
}

// Errors of signing.
var (
	ErrNotSigner     = errors.New("the user is not an authorised signer of a party")
	ErrMinistryFirst = errors.New("the ministry signs after every other party")
	ErrNoAgreement   = errors.New("the team has no agreement in force for those dates")
)

// StaleVersionError refuses a signature of a version that is not the one
// out for signature, or whose hash is not the one the signer saw; it names
// the current one. It matches ErrConflict.
type StaleVersionError struct {
	Current int    // the version out for signature (or in force); 0 when none
	Hash    string // its hash
}

func (e *StaleVersionError) Error() string {
	if e.Current == 0 {
		return "the version signed is not the current one, and no version is out for signature"
	}
	return fmt.Sprintf("the version signed is not the current one: version %d (%s) is", e.Current, e.Hash)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *StaleVersionError) Is(target error) bool { return target == ErrConflict }

// Latest returns the newest version, or nil.
func (a *Agreement) Latest() *AgreementVersion {
	var v *AgreementVersion
	for i := range a.Versions {
		if v == nil || a.Versions[i].Number > v.Number {
			v = &a.Versions[i]
		}
	}
	return v
}

// Version returns the version with the given id, or nil.
func (a *Agreement) Version(id uint) *AgreementVersion {
	for i := range a.Versions {
		if a.Versions[i].ID == id {
			return &a.Versions[i]
		}
	}
	return nil
}

// InForce returns the version in force (the latest completed one), or nil.
func (a *Agreement) InForce() *AgreementVersion {
	if a.InForceID == nil {
		return nil
	}
	return a.Version(*a.InForceID)
}

// First returns the first completed version: it decides when the
// agreement took effect. Nil when none is completed.
func (a *Agreement) First() *AgreementVersion {
	var v *AgreementVersion
	for i := range a.Versions {
		w := &a.Versions[i]
		if w.Status == VersionSigned && (v == nil || w.Number < v.Number) {
			v = w
		}
	}
	return v
}

// Pending returns the version being prepared or signed (a draft or one out
// for signature), or nil.
func (a *Agreement) Pending() *AgreementVersion {
	if v := a.Latest(); v != nil && (v.Status == VersionDraft || v.Status == VersionOut) {
		return v
	}
	return nil
}

// Period returns the first day the agreement holds (the first version's
// effective day) and its last day (the version in force's end, or the day
// before termination); ok is false when no version is completed.
func (a *Agreement) Period() (from, to Date, ok bool) {
	first, cur := a.First(), a.InForce()
	if first == nil || cur == nil {
		return from, to, false
	}
	from, _ = ParseDate(first.EffectiveFrom)
	to, _ = ParseDate(cur.EndDate)
	if a.TerminatedOn != "" {
		if t, err := ParseDate(a.TerminatedOn); err == nil && !t.After(to) {
			to = t.AddDays(-1)
		}
	}
	return from, to, true
}

// State is the agreement's state on day today (KST): draft or out for
// signature before any version is completed; signed before it takes
// effect; effective in its period; ended after it; terminated from the day
// of termination.
func (a *Agreement) State(today Date) AgreementState {
	if a.TerminatedOn != "" {
		if t, err := ParseDate(a.TerminatedOn); err == nil && !today.Before(t) {
			return AgreementTerminated
		}
	}
	from, to, ok := a.Period()
	if !ok {
		if v := a.Latest(); v != nil && v.Status == VersionOut {
			return AgreementOut
		}
		return AgreementDraft
	}
	switch {
	case today.Before(from):
		return AgreementSigned
	case today.After(to):
		if a.TerminatedOn != "" {
			return AgreementTerminated
		}
		return AgreementEnded
	}
	return AgreementEffective
}

// PendingStatus is the status of the version being prepared or signed
// while an earlier one is in force; "" when none, or when no version is in
// force yet (the agreement's own state says it then).
func (a *Agreement) PendingStatus() VersionStatus {
	if a.InForceID == nil {
		return ""
	}
	if p := a.Pending(); p != nil {
		return p.Status
	}
	return ""
}

// Check applies CheckAgreementAction to the agreement on day today.
func (a *Agreement) Check(action AgreementAction, role Role, today Date) error {
	return CheckAgreementAction(a.State(today), a.PendingStatus(), action, role)
}

// HoldsFor reports whether the agreement is in force on every day from
// from to to: the team's standing for names and GPUs.
func (a *Agreement) HoldsFor(from, to Date) bool {
	start, end, ok := a.Period()
	return ok && !from.Before(start) && !to.After(end) && !to.Before(from)
}

// MaySee reports whether u may read the agreement: the ministry and
// auditors, and the users of any of its parties.
func (a *Agreement) MaySee(u *User, parties []uint) bool {
	if u.MaySeeOrganisation(a.OrganisationID) {
		return true
	}
	if u == nil || u.Role != RoleCompany || u.OrganisationID == nil {
		return false
	}
	return slices.Contains(parties, *u.OrganisationID)
}

// PartyIDs returns the organisations of every version's parties.
func (a *Agreement) PartyIDs() []uint {
	var ids []uint
	for _, v := range a.Versions {
		for _, p := range v.Parties {
			if !slices.Contains(ids, p.OrganisationID) {
				ids = append(ids, p.OrganisationID)
			}
		}
	}
	if !slices.Contains(ids, a.OrganisationID) {
		ids = append(ids, a.OrganisationID)
	}
	return ids
}

// Missing returns the parties of v that have not signed yet, in order.
func (v *AgreementVersion) Missing() []AgreementParty {
	signed := map[uint]bool{}
	for _, s := range v.Signatures {
		signed[s.OrganisationID] = true
	}
	var out []AgreementParty
	for _, p := range v.Parties {
		if !signed[p.OrganisationID] {
			out = append(out, p)
		}
	}
	return out
}

// SignatureOf returns the signature of an organisation, or nil.
func (v *AgreementVersion) SignatureOf(orgID uint) *AgreementSignature {
	for i := range v.Signatures {
		if v.Signatures[i].OrganisationID == orgID {
			return &v.Signatures[i]
		}
	}
	return nil
}

// Party returns the party for an organisation, or nil.
func (v *AgreementVersion) Party(orgID uint) *AgreementParty {
	for i := range v.Parties {
		if v.Parties[i].OrganisationID == orgID {
			return &v.Parties[i]
		}
	}
	return nil
}

// ModelNameList returns the model names.
func (v *AgreementVersion) ModelNameList() []string { return splitLines(v.ModelNames) }

// Milestone is a deliverable or milestone with its due date.
type Milestone struct {
	Due   Date
	Title string
}

// MilestoneList returns the deliverables and milestones.
func (v *AgreementVersion) MilestoneList() []Milestone {
	ms, _ := parseMilestones(v.Deliverables)
	return ms
}

// StageDateList returns the stage evaluation dates.
func (v *AgreementVersion) StageDateList() []Date {
	ds, _ := parseDates(v.StageDates)
	return ds
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// parseMilestones reads "YYYY-MM-DD title" lines.
func parseMilestones(s string) ([]Milestone, bool) {
	var out []Milestone
	ok := true
	for _, l := range splitLines(s) {
		day, title, _ := strings.Cut(l, " ")
		d, err := ParseDate(day)
		title = strings.TrimSpace(title)
		if err != nil || title == "" {
			ok = false
			continue
		}
		out = append(out, Milestone{Due: d, Title: title})
	}
	slices.SortStableFunc(out, func(a, b Milestone) int { return a.Due.Compare(b.Due) })
	return out, ok
}

func parseDates(s string) ([]Date, bool) {
	var out []Date
	ok := true
	for _, l := range splitLines(s) {
		d, err := ParseDate(l)
		if err != nil {
			ok = false
			continue
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Date) int { return a.Compare(b) })
	return out, ok
}

// ComputeHash is the version's hash: SHA-256 over the agreement number,
// the version number, the document's SHA-256, the terms and the parties,
// each length-prefixed.
func (v *AgreementVersion) ComputeHash(agreementNumber, documentSHA string) string {
	h := sha256.New()
	fields := []string{"kai-agreement-v1", agreementNumber, strconv.Itoa(v.Number), documentSHA, v.StartDate, v.EndDate,
		strconv.Itoa(v.GPUCount), v.GPUModel, strconv.FormatBool(v.GrantCompany), strconv.FormatBool(v.GrantModel),
		v.ModelNames, v.Deliverables, v.StageDates, v.Changes}
	budget := slices.Clone(v.Budget)
	slices.SortFunc(budget, func(a, b AgreementBudget) int {
		if a.OrganisationID != b.OrganisationID {
			return int(a.OrganisationID) - int(b.OrganisationID)
		}
		return a.Year - b.Year
	})
	for _, b := range budget {
		fields = append(fields, fmt.Sprintf("budget %d %d %d %d", b.OrganisationID, b.Year, b.GovernmentWon, b.OwnWon))
	}
	parties := slices.Clone(v.Parties)
	slices.SortFunc(parties, func(a, b AgreementParty) int { return a.Position - b.Position })
	for _, p := range parties {
		fields = append(fields, fmt.Sprintf("party %d %s", p.OrganisationID, p.Role))
	}
	for _, f := range fields {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// BudgetOf returns a party's budget for a year (zero when none).
func (v *AgreementVersion) BudgetOf(orgID uint, year int) AgreementBudget {
	for _, b := range v.Budget {
		if b.OrganisationID == orgID && b.Year == year {
			return b
		}
	}
	return AgreementBudget{OrganisationID: orgID, Year: year}
}

// Years returns the calendar years of the version's period.
func (v *AgreementVersion) Years() []int {
	return yearsOf(v.StartDate, v.EndDate)
}

func yearsOf(start, end string) []int {
	from, err1 := ParseDate(start)
	to, err2 := ParseDate(end)
	if err1 != nil || err2 != nil || to.Before(from) || to.Year-from.Year > 10 {
		return nil
	}
	var out []int
	for y := from.Year; y <= to.Year; y++ {
		out = append(out, y)
	}
	return out
}

// FieldChange is one field that differs between two versions.
type FieldChange struct {
	Field         string // message id suffix: agreement.field.<Field>
	Before, After string
}

// DiffVersions compares two versions field by field, in the order of the
// form; names is the organisations' display names for the budget rows.
func DiffVersions(a, b *AgreementVersion, names map[uint]string) []FieldChange {
	var out []FieldChange
	add := func(field, x, y string) {
		if x != y {
			out = append(out, FieldChange{Field: field, Before: x, After: y})
		}
	}
	sha := func(v *AgreementVersion) string {
		if v.Document != nil {
			return v.Document.SHA256
		}
		return ""
	}
	add("document", sha(a), sha(b))
	add("period", a.StartDate+" – "+a.EndDate, b.StartDate+" – "+b.EndDate)
	add("gpus", fmt.Sprintf("%d × %s", a.GPUCount, a.GPUModel), fmt.Sprintf("%d × %s", b.GPUCount, b.GPUModel))
	add("grant_company", strconv.FormatBool(a.GrantCompany), strconv.FormatBool(b.GrantCompany))
	add("grant_model", strconv.FormatBool(a.GrantModel), strconv.FormatBool(b.GrantModel))
	add("model_names", strings.Join(a.ModelNameList(), ", "), strings.Join(b.ModelNameList(), ", "))
	add("deliverables", strings.Join(splitLines(a.Deliverables), "\n"), strings.Join(splitLines(b.Deliverables), "\n"))
	add("stage_dates", strings.Join(splitLines(a.StageDates), ", "), strings.Join(splitLines(b.StageDates), ", "))
	type key struct {
		org  uint
		year int
	}
	var keys []key
	seen := map[key]bool{}
	for _, v := range []*AgreementVersion{a, b} {
		for _, bu := range v.Budget {
			k := key{bu.OrganisationID, bu.Year}
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	slices.SortFunc(keys, func(x, y key) int {
		if x.org != y.org {
			return int(x.org) - int(y.org)
		}
		return x.year - y.year
	})
	money := func(b AgreementBudget) string {
		return fmt.Sprintf("%s / %s", FormatWon(b.GovernmentWon), FormatWon(b.OwnWon))
	}
	for _, k := range keys {
		x, y := a.BudgetOf(k.org, k.year), b.BudgetOf(k.org, k.year)
		if x.GovernmentWon != y.GovernmentWon || x.OwnWon != y.OwnWon {
			out = append(out, FieldChange{Field: "budget", Before: fmt.Sprintf("%s %d: %s", names[k.org], k.year, money(x)),
				After: fmt.Sprintf("%s %d: %s", names[k.org], k.year, money(y))})
		}
	}
	var pa, pb []string
	for _, p := range a.Parties {
		pa = append(pa, names[p.OrganisationID])
	}
	for _, p := range b.Parties {
		pb = append(pb, names[p.OrganisationID])
	}
	add("parties", strings.Join(pa, ", "), strings.Join(pb, ", "))
	return out
}

// FormatWon writes an amount of won with thousands separators (no unit).
func FormatWon(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
