package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// The support summary: data, talent and GPUs reported together, per team
// and for the programme, for one month's GPUs (the allocations and their
// telemetry) and everything data and talent recorded so far.

// TeamSupport is one team's support.
type TeamSupport struct {
	Org            Organisation
	DemandLines    int // demand lines the team filed
	Purchases      int // joint purchases that go to the team
	Delivered      int // of them, delivered
	Projects       int // dataset construction projects
	ProjectsActive int // of them, planned or in progress
	Talent         map[TalentKind]int
	Allocations    int     // GPU allocations in the month
	GPUHours       float64 // GPU-hours lent in the month (whole periods)
	BusyGPUHours   float64 // busy GPU-hours the telemetry saw in the month
}

// add sums o into t.
func (t *TeamSupport) add(o TeamSupport) {
	t.DemandLines += o.DemandLines
	t.Purchases += o.Purchases
	t.Delivered += o.Delivered
	t.Projects += o.Projects
	t.ProjectsActive += o.ProjectsActive
	for k, n := range o.Talent {
		t.Talent[k] += n
	}
	t.Allocations += o.Allocations
	t.GPUHours += o.GPUHours
	t.BusyGPUHours += o.BusyGPUHours
}

// SupportSummary returns the support of each team u may see (the ministry
// and auditors: every team with an agreement in force; a company: its own,
// when it is one) with the month's GPUs, and the total of those teams.
func SupportSummary(ctx context.Context, db *gorm.DB, m Month, u *User, now time.Time) ([]TeamSupport, TeamSupport, error) {
	total := TeamSupport{Talent: map[TalentKind]int{}}
	own, ok := u.OrganisationScope()
	if !ok {
		return nil, total, nil
	}
	teams, err := AgreementTeams(ctx, db)
	if err != nil {
		return nil, total, err
	}
	var out []TeamSupport
	index := map[uint]int{}
	for _, o := range teams {
		if own != nil && o.ID != *own {
			continue
		}
		index[o.ID] = len(out)
		out = append(out, TeamSupport{Org: o, Talent: map[TalentKind]int{}})
	}
	if len(out) == 0 {
		return nil, total, nil
	}
	ids := make([]uint, 0, len(out))
	for _, t := range out {
		ids = append(ids, t.Org.ID)
	}
	type count struct {
		OrgID uint `gorm:"column:org_id"`
		Kind  string
		N     int
		Done  int
	}
	q := db.WithContext(ctx)
	scan := func(what string, rows *[]count, tx *gorm.DB) error {
		if err := tx.Scan(rows).Error; err != nil {
			return fmt.Errorf("store: support summary, %s: %w", what, err)
		}
		return nil
	}
	var demand, deliveries, projects, talent []count
	if err := scan("demand", &demand, q.Model(&DataDemand{}).Select("organisation_id AS org_id, COUNT(*) AS n").
		Where("organisation_id IN ?", ids).Group("organisation_id")); err != nil {
		return nil, total, err
	}
	if err := scan("deliveries", &deliveries, q.Model(&DataDelivery{}).
		Select("organisation_id AS org_id, COUNT(*) AS n, COUNT(delivered_at) AS done").
		Where("organisation_id IN ?", ids).Group("organisation_id")); err != nil {
		return nil, total, err
	}
	if err := scan("projects", &projects, q.Model(&DatasetProject{}).Select("organisation_id AS org_id, status AS kind, COUNT(*) AS n").
		Where("organisation_id IN ?", ids).Group("organisation_id, status")); err != nil {
		return nil, total, err
	}
	if err := scan("talent", &talent, q.Model(&TalentLine{}).Select("organisation_id AS org_id, kind, SUM(count) AS n").
		Where("organisation_id IN ?", ids).Group("organisation_id, kind")); err != nil {
		return nil, total, err
	}
	for _, c := range demand {
		out[index[c.OrgID]].DemandLines = c.N
	}
	for _, c := range deliveries {
		out[index[c.OrgID]].Purchases, out[index[c.OrgID]].Delivered = c.N, c.Done
	}
	for _, c := range projects {
		t := &out[index[c.OrgID]]
		t.Projects += c.N
		if ProjectStatus(c.Kind) == ProjectPlanned || ProjectStatus(c.Kind) == ProjectInProgress {
			t.ProjectsActive += c.N
		}
	}
	for _, c := range talent {
		out[index[c.OrgID]].Talent[TalentKind(c.Kind)] += c.N
	}
	gpus, _, err := ProgrammeMonth(ctx, db, m, now)
	if err != nil {
		return nil, total, err
	}
	for _, g := range gpus {
		i, ok := index[g.Org.ID]
		if !ok {
			continue
		}
		out[i].Allocations, out[i].GPUHours, out[i].BusyGPUHours = g.Allocations, g.AllocatedGPUHours(), g.Usage.ActiveSeconds/3600
	}
	for _, t := range out {
		total.add(t)
	}
	return out, total, nil
}

// PublicSupport is what the public page shows of the programme's support:
// aggregate figures only — never a price, a team's demand or a team's row.
type PublicSupport struct {
	Teams             int
	Purchases         int
	Deliveries        int // deliveries done, all teams
	SourcesCleared    int
	SourcesPublic     int // sources whose rights holder is a public institution
	Projects          int
	Talent            map[TalentKind]int
	FollowUps         int
	FollowUpsAccepted int // accepted or started
	GPUHours          float64
}

// ReadPublicSupport counts the programme's support for the public page;
// the GPUs are the month's.
func ReadPublicSupport(ctx context.Context, db *gorm.DB, m Month, now time.Time) (PublicSupport, error) {
	p := PublicSupport{Talent: map[TalentKind]int{}}
	teams, err := AgreementTeams(ctx, db)
	if err != nil {
		return p, err
	}
	p.Teams = len(teams)
	q := db.WithContext(ctx)
	var n64 int64
	counts := []struct {
		into *int
		tx   *gorm.DB
	}{
		{&p.Purchases, q.Model(&DataPurchase{})},
		{&p.Deliveries, q.Model(&DataDelivery{}).Where("delivered_at IS NOT NULL")},
		{&p.SourcesCleared, q.Model(&DataSource{}).Where("status = ?", ClearanceCleared)},
		{&p.SourcesPublic, q.Model(&DataSource{}).Where("public_institution = ?", true)},
		{&p.Projects, q.Model(&DatasetProject{}).Where("status <> ?", ProjectCancelled)},
		{&p.FollowUps, q.Model(&FollowUp{})},
		{&p.FollowUpsAccepted, q.Model(&FollowUp{}).Where("status IN ?", []FollowUpStatus{FollowUpAccepted, FollowUpStarted})},
	}
	for _, c := range counts {
		if err := c.tx.Count(&n64).Error; err != nil {
			return p, fmt.Errorf("store: public support: %w", err)
		}
		*c.into = int(n64)
	}
	var talent []struct {
		Kind string
		N    int
	}
	if err := q.Model(&TalentLine{}).Select("kind, SUM(count) AS n").Group("kind").Scan(&talent).Error; err != nil {
		return p, fmt.Errorf("store: public support, talent: %w", err)
	}
	for _, t := range talent {
		p.Talent[TalentKind(t.Kind)] = t.N
	}
	_, total, err := ProgrammeMonth(ctx, db, m, now)
	if err != nil {
		return p, err
	}
	p.GPUHours = total.AllocatedGPUHours()
	return p, nil
}
