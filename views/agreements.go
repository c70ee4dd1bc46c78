package views

import (
	"fmt"

	"kaiportal/models"
)

// Agreements (협약): the officers' list with who still has to sign, the
// company's own with what it must do, one agreement with its versions,
// signatures and differences, the form of a version, the signature record
// and the authorised signers.

// AgreementRow is one agreement in the list.
type AgreementRow struct {
	A       *models.Agreement
	State   models.AgreementState
	Pending *models.AgreementVersion // the version being prepared or signed, if any
	Waiting []models.AgreementParty  // who still has to sign the pending version
	// MustSign: the user's organisation has still to sign the pending version.
	MustSign bool
}

// AgreementsView is the list of agreements.
type AgreementsView struct {
	Rows       []AgreementRow
	Candidates []models.Application // selected applications without an agreement (officers)
	Ministry   bool
	Signer     bool // the company user is an authorised signer
	Today      models.Date
}

// AgreementView is one agreement.
type AgreementView struct {
	A        *models.Agreement
	State    models.AgreementState
	Today    models.Date
	InForce  *models.AgreementVersion
	Pending  *models.AgreementVersion
	Names    map[uint]string // organisation names by id, for the budget and the difference
	Diff     []models.FieldChange
	DiffFrom *models.AgreementVersion // the version the pending one is compared with
	Notices  []models.AgreementNotice
	Ministry bool
	// MaySign: the user may sign the pending version now (an authorised
	// signer of a party that has not signed; or an officer once every other
	// party has).
	MaySign      bool
	SignerNeeded bool   // a company user of a party who is not an authorised signer
	Stale        string // the refusal of a stale signature, in words
	Done         string
	Notice       NoticeForm
	Terminate    TerminateForm
}

// NoticeForm is the notification-only change as typed.
type NoticeForm struct {
	ContactName, ContactInfo string
	Errors                   models.FieldErrors
}

// TerminateForm is a termination as typed.
type TerminateForm struct {
	Day, Reason string
	Errors      models.FieldErrors
}

// VersionForm is a version's terms as typed. Budget is keyed
// "<organisation id>.<year>.gov" and ".own".
type VersionForm struct {
	ApplicationID            string
	ContactName, ContactInfo string
	StartDate, EndDate       string
	GPUCount, GPUModel       string
	GrantCompany, GrantModel bool
	ModelNames               string
	Deliverables, StageDates string
	Changes                  string
	Budget                   map[string]string
}

// BudgetKey is the form key of a party's budget line for a year.
func BudgetKey(orgID uint, year int, part string) string {
	return fmt.Sprintf("budget.%d.%d.%s", orgID, year, part)
}

// VersionFormView is the page of a version's form: a new agreement (A is
// nil), a new version (an amendment or a correction), or a draft's edit.
type VersionFormView struct {
	A           *models.Agreement
	Draft       *models.AgreementVersion // the draft being edited
	Candidates  []models.Application     // for a new agreement
	Parties     []models.AgreementParty
	Years       []int
	Form        VersionForm
	Errors      models.FieldErrors
	Action      string
	Correction  bool   // a new version while one is out for signature: that one is superseded
	KeepsDoc    string // the SHA-256 of the document kept when none is sent
	MaxUploadMB int64
}

// SignatureRecordView is the printable record of every signature.
type SignatureRecordView struct {
	A     *models.Agreement
	Today models.Date
}

// SignersView is the list of authorised signers and the company users
// who can be made one.
type SignersView struct {
	Signers []models.AgreementSigner
	Users   []models.User
	Done    string
	Error   string // why a marking was refused
}

// IsSigner reports whether the user is among the signers.
func (v SignersView) IsSigner(userID uint) bool {
	for _, s := range v.Signers {
		if s.UserID == userID {
			return true
		}
	}
	return false
}

// AgreementStateID is the message id of a state.
func AgreementStateID(s models.AgreementState) string { return "agreement.state." + string(s) }

// VersionStatusID is the message id of a version's status.
func VersionStatusID(s models.VersionStatus) string { return "agreement.version_status." + string(s) }

func agreementStateClass(s models.AgreementState) string {
	switch s {
	case models.AgreementEffective:
		return "krds-badge bg-success"
	case models.AgreementSigned, models.AgreementOut:
		return "krds-badge bg-light-primary"
	case models.AgreementTerminated:
		return "krds-badge bg-danger"
	}
	return "krds-badge bg-gray"
}

// PartyRoleID is the message id of a party's role.
func PartyRoleID(role string) string { return "agreement.party." + role }

// AgreementFieldID is the message id of a field in the difference.
func AgreementFieldID(f string) string { return "agreement.field." + f }

func shortHash(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}
