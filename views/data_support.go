package views

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"kaiportal/models"
)

// DataHomeView is the data-support page: the demand surveys, the joint
// purchases the user may see and, for a team, the clearance status of the
// sources its purchases use.
type DataHomeView struct {
	Now       time.Time
	Ministry  bool                 // may open surveys
	SeePrice  bool                 // the ministry and auditors
	Team      *models.Organisation // a company user's organisation
	Surveys   []models.DataSurvey
	Purchases []models.DataPurchase
	Sources   []models.DataSource // a team's: those its purchases use
	Form      models.SurveyInput
	Errors    models.FieldErrors
	Notice    string
}

// SurveyView is one demand survey: a team's own demand and its form, or
// the ministry's aggregation, lines and purchase form.
type SurveyView struct {
	Now       time.Time
	Survey    *models.DataSurvey
	Programme bool // the ministry and auditors: every team's demand, aggregated
	Ministry  bool // may record purchases
	CanFile   bool // a team while the survey is open
	NotTeam   bool // a company user whose organisation is not a team
	Demand    []models.DataDemand
	Groups    []models.DemandGroup
	Purchases []models.DataPurchase
	Sources   []models.DataSource   // the ledger, for the purchase form
	Teams     []models.Organisation // the teams, for the purchase form
	Form      models.DemandInput
	Purchase  models.PurchaseInput
	Errors    models.FieldErrors
	Notice    string
}

// PurchaseView is one joint purchase.
type PurchaseView struct {
	Now        time.Time
	P          *models.DataPurchase
	SeePrice   bool
	CanDeliver bool
	Refusal    *models.NotClearedError
	Notice     string
}

// SourcesView is the copyright-clearance ledger.
type SourcesView struct {
	Now      time.Time
	Sources  []models.DataSource
	Expiring []models.ExpiryAhead
	Days     int
	CanEdit  bool
	Form     models.SourceInput // the new entry as typed
	EditID   uint               // the entry whose update failed
	Edit     models.SourceInput
	Errors   models.FieldErrors
	Notice   string
}

// Won formats an amount in won with thousands separators.
func Won(n int64) string { return groupThousands(strconv.FormatInt(n, 10)) }

// groupThousands puts a comma between each three digits of the whole part
// of a formatted number ("-1234567.5" → "-1,234,567.5").
func groupThousands(s string) string {
	sign, digits := "", s
	if strings.HasPrefix(digits, "-") {
		sign, digits = "-", digits[1:]
	}
	whole, frac, hasFrac := strings.Cut(digits, ".")
	if strings.Trim(whole, "0123456789") != "" { // NaN, ±Inf
		return s
	}
	var b strings.Builder
	b.WriteString(sign)
	for i := range len(whole) {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(whole[i])
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// SourceFormOf is the form of a stored ledger entry.
func SourceFormOf(s models.DataSource) models.SourceInput {
	in := models.SourceInput{Name: s.Name, RightsHolder: s.RightsHolder, Status: string(s.Status), LicenceTerms: s.LicenceTerms,
		ExpiresOn: s.ExpiresOn, PublicInstitution: s.PublicInstitution}
	for _, u := range s.Uses() {
		in.Uses = append(in.Uses, string(u))
	}
	return in
}

// editFor is what an entry's update form shows: what was typed when it
// failed, else the entry as stored.
func (v SourcesView) editFor(s models.DataSource) (models.SourceInput, models.FieldErrors) {
	if v.EditID == s.ID {
		return v.Edit, v.Errors
	}
	return SourceFormOf(s), nil
}

// newErrors are the errors of the new-entry form.
func (v SourcesView) newErrors() models.FieldErrors {
	if v.EditID != 0 {
		return nil
	}
	return v.Errors
}

func clearanceClass(s models.ClearanceStatus) string {
	switch s {
	case models.ClearanceCleared:
		return "bg-success"
	case models.ClearanceNegotiating:
		return "bg-information"
	case models.ClearanceRefused:
		return "bg-danger"
	}
	return "bg-gray"
}

func priorityID(p int) string { return "support.priority." + strconv.Itoa(p) }

func checkedIn(vs []string, v string) bool { return slices.Contains(vs, v) }

func surveyURL(id uint) string { return "/data/surveys/" + uintStr(id) }

func purchaseURL(id uint) string { return "/data/purchases/" + uintStr(id) }

// dash shows "—" for an empty value.
func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// deliveredCount counts the purchase's deliveries done.
func deliveredCount(p models.DataPurchase) int {
	n := 0
	for _, d := range p.Deliveries {
		if d.Delivered() {
			n++
		}
	}
	return n
}

// ProjectsView lists the dataset construction projects the user may see,
// with the form of a new one for the ministry.
type ProjectsView struct {
	Projects []models.DatasetProject
	CanEdit  bool
	Teams    []models.Organisation
	Form     models.ProjectInput
	Errors   models.FieldErrors
	Notice   string
}

// ProjectView is one project, with its update form for the ministry.
type ProjectView struct {
	P       *models.DatasetProject
	CanEdit bool
	Form    models.ProjectInput
	Errors  models.FieldErrors
	Notice  string
}

// ProjectFormOf is the form of a stored project.
func ProjectFormOf(p *models.DatasetProject) models.ProjectInput {
	return models.ProjectInput{Title: p.Title, Scope: p.Scope, Provider: p.Provider, Milestones: p.Milestones,
		Status: string(p.Status), Deliverables: p.Deliverables}
}

func projectStatusClass(s models.ProjectStatus) string {
	switch s {
	case models.ProjectInProgress:
		return "bg-information"
	case models.ProjectCompleted:
		return "bg-success"
	case models.ProjectCancelled:
		return "bg-danger"
	}
	return "bg-gray"
}

func followUpStatusClass(s models.FollowUpStatus) string {
	switch s {
	case models.FollowUpAccepted, models.FollowUpStarted:
		return "bg-success"
	case models.FollowUpDeclined:
		return "bg-danger"
	}
	return "bg-information"
}
