package models

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Data support (데이터 지원): the joint purchase of data (데이터 공동구매)
// driven by the teams' demand, and the copyright-clearance ledger
// (저작권) of the data sources.
//
// Officers open a demand survey with a closing instant; until that
// instant a team (an organisation with an agreement in force) files
// demand lines. Officers read the demand aggregated by dataset and
// provider, record the purchase (contract, price, licence terms, the use
// it is bought for, its sources and the teams that get it), and deliver it
// to each team — which the clearance rule refuses while any of its sources
// is not cleared for the purchase's use at the delivery instant.
//
// A team sees its own demand, the purchases delivered (or to be
// delivered) to it without their price, and the clearance status of the
// sources those purchases use; never another team's demand or a price.

// Audit actions of data support.
const (
	ActionSurveyOpen      = "data.survey_open"
	ActionDemandFile      = "data.demand_file"
	ActionPurchaseRecord  = "data.purchase_record"
	ActionDeliveryDone    = "data.delivery"
	ActionSourceRecord    = "data.source_record"
	ActionSourceUpdate    = "data.source_update"
	ActionDeliveryRefused = "data.delivery_refused"
)

// DataUse is what a dataset may be used for.
type DataUse string

// Uses a source can be cleared for.
const (
	UseTraining       DataUse = "training"
	UseEvaluation     DataUse = "evaluation"
	UseRedistribution DataUse = "redistribution"
)

// DataUses lists every use.
var DataUses = []DataUse{UseTraining, UseEvaluation, UseRedistribution}

// ClearanceStatus is where the copyright negotiation of a source stands.
type ClearanceStatus string

// Clearance statuses.
const (
	ClearanceNegotiating ClearanceStatus = "negotiating"
	ClearanceCleared     ClearanceStatus = "cleared"
	ClearanceRefused     ClearanceStatus = "refused"
	ClearanceExpired     ClearanceStatus = "expired"
)

// ClearanceStatuses lists every status.
var ClearanceStatuses = []ClearanceStatus{ClearanceNegotiating, ClearanceCleared, ClearanceRefused, ClearanceExpired}

// Demand priorities: 1 is the highest.
const (
	PriorityHigh   = 1
	PriorityMedium = 2
	PriorityLow    = 3
)

// DataSurvey is a joint-purchase demand survey (수요조사).
type DataSurvey struct {
	ID          uint      `gorm:"primaryKey"`
	Title       string    `gorm:"size:200;not null"`
	Description string    `gorm:"type:text;not null;default:''"`
	ClosesAt    time.Time `gorm:"not null"` // demand is accepted before this instant
	CreatedByID uint      `gorm:"not null"`
	CreatedAt   time.Time
}

// OpenAt reports whether the survey takes demand at the instant now.
func (s *DataSurvey) OpenAt(now time.Time) bool { return now.Before(s.ClosesAt) }

// DataDemand is one team's demand line in a survey.
type DataDemand struct {
	ID             uint         `gorm:"primaryKey"`
	SurveyID       uint         `gorm:"not null;index"`
	OrganisationID uint         `gorm:"not null;index"`
	Organisation   Organisation `gorm:"foreignKey:OrganisationID"`
	Dataset        string       `gorm:"size:200;not null"`
	Provider       string       `gorm:"size:200;not null"`
	Volume         string       `gorm:"size:100;not null"` // as the team states it: "2 TB", "10M documents"
	PriceMin       int64        `gorm:"not null"`          // won
	PriceMax       int64        `gorm:"not null"`          // won
	Purpose        string       `gorm:"type:text;not null"`
	Priority       int          `gorm:"not null"`
	FiledByID      uint         `gorm:"not null"`
	CreatedAt      time.Time
}

// MaySee reports whether u may read the demand line: its team's users,
// the ministry and auditors.
func (d *DataDemand) MaySee(u *User) bool { return u.MaySeeOrganisation(d.OrganisationID) }

// DataSource is one entry of the copyright-clearance ledger: a source of
// data, who holds its rights, and what the negotiation cleared.
type DataSource struct {
	ID                uint            `gorm:"primaryKey"`
	Name              string          `gorm:"size:200;not null"`
	RightsHolder      string          `gorm:"size:200;not null"`
	PublicInstitution bool            `gorm:"not null"` // negotiated first
	Status            ClearanceStatus `gorm:"size:16;not null"`
	LicenceTerms      string          `gorm:"type:text;not null;default:''"`
	Training          bool            `gorm:"not null"`
	Evaluation        bool            `gorm:"not null"`
	Redistribution    bool            `gorm:"not null"`
	ExpiresOn         string          `gorm:"size:10;not null;default:''"` // last day of the clearance (KST), "" for none
	UpdatedAt         time.Time
}

// Permits reports whether the clearance names the use.
func (s *DataSource) Permits(use DataUse) bool {
	switch use {
	case UseTraining:
		return s.Training
	case UseEvaluation:
		return s.Evaluation
	case UseRedistribution:
		return s.Redistribution
	}
	return false
}

// Uses lists the uses the clearance names.
func (s *DataSource) Uses() []DataUse {
	var out []DataUse
	for _, u := range DataUses {
		if s.Permits(u) {
			out = append(out, u)
		}
	}
	return out
}

// ExpiredAt reports whether the clearance has expired at the instant:
// marked expired, or past its last day (KST).
func (s *DataSource) ExpiredAt(at time.Time) bool {
	if s.Status == ClearanceExpired {
		return true
	}
	if s.ExpiresOn == "" {
		return false
	}
	last, err := ParseDate(s.ExpiresOn)
	return err == nil && DateOf(at).After(last)
}

// StatusAt is the status as it holds at the instant: a cleared source past
// its expiry is expired.
func (s *DataSource) StatusAt(at time.Time) ClearanceStatus {
	if s.Status == ClearanceCleared && s.ExpiredAt(at) {
		return ClearanceExpired
	}
	return s.Status
}

// NotClearedReason says why a source may not be delivered for a use.
type NotClearedReason string

// Reasons a source is not cleared.
const (
	ReasonNegotiating NotClearedReason = "negotiating" // the negotiation is not finished
	ReasonRefused     NotClearedReason = "refused"     // the rights holder refused
	ReasonExpired     NotClearedReason = "expired"     // the clearance expired before the delivery instant
	ReasonUse         NotClearedReason = "use"         // cleared, but not for this use
)

// NotClearedError refuses a delivery: the source named is not cleared for
// the use at the delivery instant. errors.Is(err, ErrConflict) holds.
type NotClearedError struct {
	SourceID uint
	Source   string
	Use      DataUse
	Reason   NotClearedReason
}

func (e *NotClearedError) Error() string {
	return fmt.Sprintf("the source %q is not cleared for %s (%s)", e.Source, e.Use, e.Reason)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *NotClearedError) Is(target error) bool { return target == ErrConflict }

// ClearedFor is the clearance rule for one source: nil when the source may
// be delivered for the use at the instant, else why not. An expiry counts
// at the delivery instant: a clearance whose last day is over is not one.
func (s *DataSource) ClearedFor(use DataUse, at time.Time) error {
	refuse := func(r NotClearedReason) error {
		return &NotClearedError{SourceID: s.ID, Source: s.Name, Use: use, Reason: r}
	}
	switch {
	case s.Status == ClearanceNegotiating:
		return refuse(ReasonNegotiating)
	case s.Status == ClearanceRefused:
		return refuse(ReasonRefused)
	case s.ExpiredAt(at):
		return refuse(ReasonExpired)
	case !s.Permits(use):
		return refuse(ReasonUse)
	}
	return nil
}

// CheckClearance is the delivery rule: a dataset may be delivered for a use
// only when every one of its sources is cleared for that use at the
// instant. The first source that is not (by name) is the refusal.
func CheckClearance(sources []DataSource, use DataUse, at time.Time) error {
	sorted := slices.Clone(sources)
	slices.SortFunc(sorted, func(a, b DataSource) int { return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	for i := range sorted {
		if err := sorted[i].ClearedFor(use, at); err != nil {
			return err
		}
	}
	return nil
}

// DataPurchase is a joint purchase: the contract the ministry signed for a
// dataset, its price and licence terms, the use it was bought for, the
// sources it draws on and the teams that get it.
type DataPurchase struct {
	ID           uint           `gorm:"primaryKey"`
	SurveyID     *uint          `gorm:"index"`
	Dataset      string         `gorm:"size:200;not null"`
	Provider     string         `gorm:"size:200;not null"`
	Contract     string         `gorm:"size:100;not null"` // contract number
	Price        int64          `gorm:"not null"`          // won
	LicenceTerms string         `gorm:"type:text;not null"`
	Use          DataUse        `gorm:"size:16;not null"`
	CreatedByID  uint           `gorm:"not null"`
	CreatedAt    time.Time      `gorm:"not null"`
	Sources      []DataSource   `gorm:"many2many:data_purchase_sources"`
	Deliveries   []DataDelivery `gorm:"foreignKey:PurchaseID"`
}

// Recipient reports whether the organisation is one of the teams that get
// the purchase.
func (p *DataPurchase) Recipient(orgID uint) bool {
	return slices.ContainsFunc(p.Deliveries, func(d DataDelivery) bool { return d.OrganisationID == orgID })
}

// MaySee reports whether u may read the purchase: the ministry and
// auditors, and the users of the teams that get it (without its price).
func (p *DataPurchase) MaySee(u *User) bool {
	own, ok := u.OrganisationScope()
	return ok && (own == nil || p.Recipient(*own))
}

// MaySeePrice reports whether u may read the price and contract figures:
// the ministry and auditors only.
func MaySeePrice(u *User) bool {
	own, ok := u.OrganisationScope()
	return ok && own == nil
}

// DataDelivery is a purchase's delivery to one team: planned when the
// purchase is recorded, done once delivered.
type DataDelivery struct {
	ID             uint         `gorm:"primaryKey"`
	PurchaseID     uint         `gorm:"not null;uniqueIndex:idx_delivery_team"`
	OrganisationID uint         `gorm:"not null;uniqueIndex:idx_delivery_team;index"`
	Organisation   Organisation `gorm:"foreignKey:OrganisationID"`
	DeliveredAt    *time.Time
	DeliveredByID  *uint
}

// Delivered reports whether the delivery is done.
func (d *DataDelivery) Delivered() bool { return d.DeliveredAt != nil }

// DemandGroup is the demand for one dataset from one provider, summed over
// the teams that filed it.
type DemandGroup struct {
	Dataset, Provider string
	Lines             int   // demand lines
	Teams             int   // distinct teams
	PriceMin          int64 // lowest price any team named
	PriceMax          int64 // highest price any team named
	TopPriority       int   // the most urgent priority filed
}

// demandKey is how lines are grouped: dataset and provider, trimmed,
// spaces collapsed, case folded.
func demandKey(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// AggregateDemand groups demand lines by dataset and provider (the same
// names written with other spaces or case are one group), with the number
// of lines and distinct teams, the price range named and the most urgent
// priority; by teams, then lines, descending, then by name.
func AggregateDemand(lines []DataDemand) []DemandGroup {
	type key struct{ d, p string }
	groups := map[key]*DemandGroup{}
	teams := map[key]map[uint]bool{}
	var order []key
	for _, l := range lines {
		k := key{demandKey(l.Dataset), demandKey(l.Provider)}
		g, ok := groups[k]
		if !ok {
			g = &DemandGroup{Dataset: strings.TrimSpace(l.Dataset), Provider: strings.TrimSpace(l.Provider),
				PriceMin: l.PriceMin, PriceMax: l.PriceMax, TopPriority: l.Priority}
			groups[k], teams[k] = g, map[uint]bool{}
			order = append(order, k)
		}
		g.Lines++
		teams[k][l.OrganisationID] = true
		g.PriceMin, g.PriceMax = min(g.PriceMin, l.PriceMin), max(g.PriceMax, l.PriceMax)
		g.TopPriority = min(g.TopPriority, l.Priority)
	}
	out := make([]DemandGroup, 0, len(order))
	for _, k := range order {
		g := groups[k]
		g.Teams = len(teams[k])
		out = append(out, *g)
	}
	slices.SortStableFunc(out, func(a, b DemandGroup) int {
		return cmp.Or(cmp.Compare(b.Teams, a.Teams), cmp.Compare(b.Lines, a.Lines),
			strings.Compare(demandKey(a.Dataset), demandKey(b.Dataset)), strings.Compare(demandKey(a.Provider), demandKey(b.Provider)))
	})
	return out
}

// Inputs of the data forms, as the forms send them.
type (
	SurveyInput struct {
		Title, Description, ClosesAt string // ClosesAt: "2006-01-02T15:04:05" (KST), seconds optional
	}
	DemandInput struct {
		Dataset, Provider, Volume, PriceMin, PriceMax, Purpose, Priority string
	}
	PurchaseInput struct {
		Dataset, Provider, Contract, Price, LicenceTerms, Use string
		Sources                                               []string // source ids
		Teams                                                 []string // organisation ids
	}
	SourceInput struct {
		Name, RightsHolder, Status, LicenceTerms, ExpiresOn string
		PublicInstitution                                   bool
		Uses                                                []string
	}
)

// ParseKSTInstant reads an instant given in KST to the second, as a
// datetime-local field sends it ("2006-01-02T15:04" or with seconds).
func ParseKSTInstant(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, KST); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("models: parse instant %q", s)
}

// textField checks a required text of at most max runes.
func textField(errs FieldErrors, field, v string, max int) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		errs.Add(field, "support.error.required")
	case utf8.RuneCountInString(v) > max:
		errs.Add(field, "support.error.too_long")
	}
	return v
}

// wonField reads an amount in won: digits, commas allowed.
func wonField(errs FieldErrors, field, v string) int64 {
	n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(v), ",", ""), 10, 64)
	if err != nil || n < 0 || n > 1e15 {
		errs.Add(field, "support.error.amount")
		return 0
	}
	return n
}

// Check validates a survey; now is when it is opened: it must close later.
func (in SurveyInput) Check(now time.Time) (*DataSurvey, FieldErrors) {
	errs := FieldErrors{}
	s := &DataSurvey{Title: textField(errs, "title", in.Title, 200), Description: strings.TrimSpace(in.Description)}
	at, err := ParseKSTInstant(in.ClosesAt)
	switch {
	case err != nil:
		errs.Add("closes_at", "support.error.instant")
	case !at.After(now):
		errs.Add("closes_at", "support.error.closes_past")
	}
	s.ClosesAt = at.UTC()
	return s, errs
}

// Check validates a demand line.
func (in DemandInput) Check() (*DataDemand, FieldErrors) {
	errs := FieldErrors{}
	d := &DataDemand{Dataset: textField(errs, "dataset", in.Dataset, 200), Provider: textField(errs, "provider", in.Provider, 200),
		Volume: textField(errs, "volume", in.Volume, 100), Purpose: textField(errs, "purpose", in.Purpose, 4000)}
	d.PriceMin, d.PriceMax = wonField(errs, "price_min", in.PriceMin), wonField(errs, "price_max", in.PriceMax)
	if !errs.Has("price_min") && !errs.Has("price_max") && d.PriceMax < d.PriceMin {
		errs.Add("price_max", "support.error.price_range")
	}
	p, err := strconv.Atoi(strings.TrimSpace(in.Priority))
	if err != nil || p < PriorityHigh || p > PriorityLow {
		errs.Add("priority", "support.error.priority")
	}
	d.Priority = p
	return d, errs
}

// Check validates a ledger entry.
func (in SourceInput) Check() (*DataSource, FieldErrors) {
	errs := FieldErrors{}
	s := &DataSource{Name: textField(errs, "name", in.Name, 200), RightsHolder: textField(errs, "rights_holder", in.RightsHolder, 200),
		PublicInstitution: in.PublicInstitution, LicenceTerms: strings.TrimSpace(in.LicenceTerms),
		Status: ClearanceStatus(in.Status)}
	if !slices.Contains(ClearanceStatuses, s.Status) {
		errs.Add("status", "support.error.status")
	}
	for _, u := range in.Uses {
		switch DataUse(u) {
		case UseTraining:
			s.Training = true
		case UseEvaluation:
			s.Evaluation = true
		case UseRedistribution:
			s.Redistribution = true
		default:
			errs.Add("uses", "support.error.use")
		}
	}
	if e := strings.TrimSpace(in.ExpiresOn); e != "" {
		d, err := ParseDate(e)
		if err != nil {
			errs.Add("expires_on", "support.error.date")
		}
		s.ExpiresOn = d.String()
	}
	if s.Status == ClearanceCleared && len(s.Uses()) == 0 {
		errs.Add("uses", "support.error.cleared_no_use")
	}
	return s, errs
}

// ErrSurveyClosed refuses demand after the survey's closing instant.
var ErrSurveyClosed = fmt.Errorf("the demand survey is closed: %w", ErrConflict)

// ErrNotTeam refuses a step reserved to the teams (organisations with an
// agreement in force).
var ErrNotTeam = fmt.Errorf("only a team with an agreement in force may do this: %w", ErrForbidden)

// IsNotCleared returns the refusal of a delivery, if err is one.
func IsNotCleared(err error) (*NotClearedError, bool) {
	var nc *NotClearedError
	ok := errors.As(err, &nc)
	return nc, ok
}

// ExpiryAhead is a cleared source whose clearance ends within the window.
type ExpiryAhead struct {
	Source   DataSource
	LastDay  Date
	DaysLeft int // days from today to the last day (0: today)
}

// ExpiriesAhead lists the sources whose clearance ends between today and
// today+days (KST), soonest first; those already past are not "ahead".
func ExpiriesAhead(sources []DataSource, now time.Time, days int) []ExpiryAhead {
	today := DateOf(now)
	var out []ExpiryAhead
	for _, s := range sources {
		if s.ExpiresOn == "" || s.Status != ClearanceCleared {
			continue
		}
		last, err := ParseDate(s.ExpiresOn)
		if err != nil || last.Before(today) || last.After(today.AddDays(days)) {
			continue
		}
		n := int(last.Start().Sub(today.Start()).Hours() / 24)
		out = append(out, ExpiryAhead{Source: s, LastDay: last, DaysLeft: n})
	}
	slices.SortFunc(out, func(a, b ExpiryAhead) int {
		return cmp.Or(a.LastDay.Compare(b.LastDay), strings.Compare(a.Source.Name, b.Source.Name))
	})
	return out
}
