package models_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestClearanceRule: a dataset is delivered for a use only when every
// source is cleared for that use at the delivery instant; an expiry counts
// at that instant (KST), and the refusal names the source.
func TestClearanceRule(t *testing.T) {
	t.Parallel()
	at := kst(2026, 3, 10, 10, 0, 0)
	cleared := func(name, expires string, uses ...models.DataUse) models.DataSource {
		s := models.DataSource{Name: name, Status: models.ClearanceCleared, ExpiresOn: expires}
		for _, u := range uses {
			switch u {
			case models.UseTraining:
				s.Training = true
			case models.UseEvaluation:
				s.Evaluation = true
			case models.UseRedistribution:
				s.Redistribution = true
			}
		}
		return s
	}
	with := func(s models.DataSource, st models.ClearanceStatus) models.DataSource { s.Status = st; return s }
	for _, tc := range []struct {
		name    string
		sources []models.DataSource
		use     models.DataUse
		at      time.Time
		source  string // "" when allowed
		reason  models.NotClearedReason
	}{
		{"all cleared for training", []models.DataSource{cleared("국립국어원 말뭉치", "", models.UseTraining), cleared("기상청 관측자료", "2026-12-31", models.UseTraining, models.UseEvaluation)},
			models.UseTraining, at, "", ""},
		{"one source still negotiating", []models.DataSource{cleared("A", "", models.UseTraining), with(cleared("B 협상중", "", models.UseTraining), models.ClearanceNegotiating)},
			models.UseTraining, at, "B 협상중", models.ReasonNegotiating},
		{"refused", []models.DataSource{with(cleared("거절된 자료", "", models.UseTraining), models.ClearanceRefused)},
			models.UseTraining, at, "거절된 자료", models.ReasonRefused},
		{"marked expired", []models.DataSource{with(cleared("만료", "", models.UseTraining), models.ClearanceExpired)},
			models.UseTraining, at, "만료", models.ReasonExpired},
		{"cleared for evaluation only", []models.DataSource{cleared("평가용", "", models.UseEvaluation)},
			models.UseTraining, at, "평가용", models.ReasonUse},
		{"redistribution not cleared", []models.DataSource{cleared("학습용", "", models.UseTraining, models.UseEvaluation)},
			models.UseRedistribution, at, "학습용", models.ReasonUse},
		{"last day is still cleared (23:59:59 KST)", []models.DataSource{cleared("말일", "2026-03-10", models.UseTraining)},
			models.UseTraining, kst(2026, 3, 10, 23, 59, 59), "", ""},
		{"the day after the last day is expired (00:00:00 KST)", []models.DataSource{cleared("말일", "2026-03-10", models.UseTraining)},
			models.UseTraining, kst(2026, 3, 11, 0, 0, 0), "말일", models.ReasonExpired},
		{"the first source not cleared by name is named", []models.DataSource{with(cleared("나", "", models.UseTraining), models.ClearanceRefused),
			with(cleared("가", "", models.UseTraining), models.ClearanceNegotiating)},
			models.UseTraining, at, "가", models.ReasonNegotiating},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := models.CheckClearance(tc.sources, tc.use, tc.at)
			if tc.source == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			nc, ok := models.IsNotCleared(err)
			if !ok || nc.Source != tc.source || nc.Reason != tc.reason || nc.Use != tc.use || !errors.Is(err, models.ErrConflict) {
				t.Fatalf("got %v, want %q refused as %s", err, tc.source, tc.reason)
			}
		})
	}
}

// TestAggregateDemand: demand lines group by dataset and provider whatever
// their spacing or case, counting lines and distinct teams.
func TestAggregateDemand(t *testing.T) {
	t.Parallel()
	lines := []models.DataDemand{
		{OrganisationID: 1, Dataset: "뉴스 말뭉치", Provider: "한국언론진흥재단", PriceMin: 100, PriceMax: 300, Priority: 2},
		{OrganisationID: 2, Dataset: " 뉴스  말뭉치", Provider: "한국언론진흥재단 ", PriceMin: 50, PriceMax: 200, Priority: 1},
		{OrganisationID: 2, Dataset: "뉴스 말뭉치", Provider: "한국언론진흥재단", PriceMin: 80, PriceMax: 400, Priority: 3},
		{OrganisationID: 3, Dataset: "Legal QA", Provider: "Acme", PriceMin: 10, PriceMax: 20, Priority: 3},
		{OrganisationID: 3, Dataset: "legal qa", Provider: "ACME", PriceMin: 5, PriceMax: 20, Priority: 2},
		{OrganisationID: 1, Dataset: "뉴스 말뭉치", Provider: "다른 공급자", PriceMin: 1, PriceMax: 2, Priority: 3},
	}
	got := models.AggregateDemand(lines)
	want := []models.DemandGroup{
		{Dataset: "뉴스 말뭉치", Provider: "한국언론진흥재단", Lines: 3, Teams: 2, PriceMin: 50, PriceMax: 400, TopPriority: 1},
		{Dataset: "Legal QA", Provider: "Acme", Lines: 2, Teams: 1, PriceMin: 5, PriceMax: 20, TopPriority: 2},
		{Dataset: "뉴스 말뭉치", Provider: "다른 공급자", Lines: 1, Teams: 1, PriceMin: 1, PriceMax: 2, TopPriority: 3},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("group %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestExpiriesAhead lists the cleared sources ending within the window.
func TestExpiriesAhead(t *testing.T) {
	t.Parallel()
	now := kst(2026, 3, 10, 9, 0, 0)
	sources := []models.DataSource{
		{Name: "곧", Status: models.ClearanceCleared, ExpiresOn: "2026-03-20"},
		{Name: "오늘", Status: models.ClearanceCleared, ExpiresOn: "2026-03-10"},
		{Name: "지남", Status: models.ClearanceCleared, ExpiresOn: "2026-03-09"},
		{Name: "멀리", Status: models.ClearanceCleared, ExpiresOn: "2026-09-01"},
		{Name: "거절", Status: models.ClearanceRefused, ExpiresOn: "2026-03-15"},
	}
	got := models.ExpiriesAhead(sources, now, 90)
	if len(got) != 2 || got[0].Source.Name != "오늘" || got[0].DaysLeft != 0 || got[1].Source.Name != "곧" || got[1].DaysLeft != 10 {
		t.Errorf("got %+v", got)
	}
}

// TestDataJointPurchase: a team files demand until the survey's closing
// instant (to the second); a company without an agreement in force may
// not; the officer records the purchase for the teams; the delivery is
// refused while a source is not cleared and done once it is; each team
// sees only its own demand and delivery, and never a price.
func TestDataJointPurchase(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newAgreementWorld(t, db, clock)
		at := kst(2025, 8, 6, 10, 0, 0)
		w.inForce("2025-08-11", "2027-12-31", at)
		giveAgreement(t, db, w.apps["kakao"], "2025-08-11", "2027-12-31", false, w.officer, at)
		kakaoUser := w.company("kakao")
		upstage, kakao := w.org("upstage").ID, w.org("kakao").ID
		now := kst(2025, 9, 1, 9, 0, 0)

		_, err := models.OpenSurvey(ctx, db, models.SurveyInput{Title: "x", ClosesAt: "2025-09-01T08:59:59"}, w.officer, now)
		if !errors.Is(err, models.ErrInvalid) {
			t.Errorf("closing in the past: %v", err)
		}
		s, err := models.OpenSurvey(ctx, db, models.SurveyInput{Title: "2025 하반기 공동구매 수요조사", ClosesAt: "2025-09-30T18:00:00"}, w.officer, now)
		if err != nil {
			t.Fatal(err)
		}
		demand := models.DemandInput{Dataset: "뉴스 말뭉치", Provider: "한국언론진흥재단", Volume: "2 TB", PriceMin: "100,000,000",
			PriceMax: "300,000,000", Purpose: "사전학습", Priority: "1"}
		if _, err := models.FileDemand(ctx, db, s.ID, demand, w.lead, kst(2025, 9, 30, 17, 59, 59)); err != nil {
			t.Fatalf("last second: %v", err)
		}
		if _, err := models.FileDemand(ctx, db, s.ID, demand, kakaoUser, kst(2025, 9, 30, 18, 0, 0)); !errors.Is(err, models.ErrSurveyClosed) {
			t.Errorf("at the closing instant: %v", err)
		}
		if _, err := models.FileDemand(ctx, db, s.ID, demand, kakaoUser, now); err != nil {
			t.Fatal(err)
		}
		if _, err := models.FileDemand(ctx, db, s.ID, demand, w.users["kaist"], now); !errors.Is(err, models.ErrNotTeam) {
			t.Errorf("not a team: %v", err)
		}
		bad := demand
		bad.PriceMax, bad.Priority = "1", "9"
		var fe *models.FieldsError
		if _, err := models.FileDemand(ctx, db, s.ID, bad, w.lead, now); !errors.As(err, &fe) || !fe.Fields.Has("price_max") || !fe.Fields.Has("priority") {
			t.Errorf("bad demand: %v", err)
		}
		own, _ := models.SurveyDemand(ctx, db, s.ID, w.lead)
		all, _ := models.SurveyDemand(ctx, db, s.ID, w.officer)
		if len(own) != 1 || own[0].OrganisationID != upstage || len(all) != 2 {
			t.Errorf("demand seen: own %d, all %d", len(own), len(all))
		}
		if g := models.AggregateDemand(all); len(g) != 1 || g[0].Teams != 2 {
			t.Errorf("aggregate: %+v", g)
		}

		src, err := models.RecordSource(ctx, db, models.SourceInput{Name: "신문 기사 2015–2024", RightsHolder: "한국언론진흥재단",
			PublicInstitution: true, Status: "negotiating"}, w.officer, now)
		if err != nil {
			t.Fatal(err)
		}
		in := models.PurchaseInput{Dataset: "뉴스 말뭉치", Provider: "한국언론진흥재단", Contract: "2025-DATA-001", Price: "250,000,000",
			LicenceTerms: "학습 목적 이용", Use: "training", Sources: []string{uintStr(src.ID)}, Teams: []string{uintStr(upstage), uintStr(kakao)}}
		withKaist := in
		withKaist.Teams = append(withKaist.Teams, uintStr(w.org("kaist").ID))
		if _, err := models.RecordPurchase(ctx, db, s.ID, withKaist, w.officer, now); !errors.As(err, &fe) || fe.Fields["teams"] != "support.error.not_team" {
			t.Errorf("purchase for a non-team: %v", err)
		}
		p, err := models.RecordPurchase(ctx, db, s.ID, in, w.officer, now)
		if err != nil {
			t.Fatal(err)
		}
		_, err = models.Deliver(ctx, db, p.ID, p.Deliveries[0].ID, w.officer, now)
		if nc, ok := models.IsNotCleared(err); !ok || nc.Source != "신문 기사 2015–2024" {
			t.Fatalf("delivery with a source negotiating: %v", err)
		}
		if n := auditCount(t, db, models.ActionDeliveryRefused); n != 1 {
			t.Errorf("refusals recorded: %d", n)
		}
		if _, err := models.UpdateSource(ctx, db, src.ID, models.SourceInput{Name: src.Name, RightsHolder: src.RightsHolder,
			PublicInstitution: true, Status: "cleared", Uses: []string{"training"}, ExpiresOn: "2025-12-31"}, w.officer, now); err != nil {
			t.Fatal(err)
		}
		if _, err := models.Deliver(ctx, db, p.ID, p.Deliveries[0].ID, w.officer, now); err != nil {
			t.Fatalf("delivery once cleared: %v", err)
		}
		if _, err := models.Deliver(ctx, db, p.ID, p.Deliveries[0].ID, w.officer, now); !errors.Is(err, models.ErrConflict) {
			t.Errorf("delivered twice: %v", err)
		}
		if _, err := models.Deliver(ctx, db, p.ID, p.Deliveries[1].ID, w.officer, kst(2026, 1, 1, 0, 0, 0)); err == nil {
			t.Error("delivered after the clearance expired")
		}

		seen, err := models.GetPurchase(ctx, db, p.ID, w.lead)
		if err != nil || seen.Price != 0 || seen.Contract != "" || len(seen.Deliveries) != 1 || seen.Deliveries[0].OrganisationID != upstage {
			t.Errorf("the team's view: %+v %v", seen, err)
		}
		if _, err := models.GetPurchase(ctx, db, p.ID, w.users["kaist"]); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("another organisation reads the purchase: %v", err)
		}
		if full, _ := models.GetPurchase(ctx, db, p.ID, w.auditor); full.Price != 250000000 || len(full.Deliveries) != 2 {
			t.Errorf("the auditor's view: %+v", full)
		}
		if srcs, _ := models.TeamSources(ctx, db, kakao); len(srcs) != 1 {
			t.Errorf("kakao's sources: %+v", srcs)
		}
		if srcs, _ := models.TeamSources(ctx, db, w.org("kaist").ID); len(srcs) != 0 {
			t.Errorf("kaist's sources: %+v", srcs)
		}
	})
}

func auditCount(t *testing.T, db *gorm.DB, action string) int64 {
	t.Helper()
	var n int64
	if err := db.Model(&models.AuditEntry{}).Where("action = ?", action).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDatasetProjects: a project goes to a team only; milestones are
// dated lines kept in date order; a team lists only its own.
func TestDatasetProjects(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newAgreementWorld(t, db, clock)
		at := kst(2025, 8, 6, 10, 0, 0)
		w.inForce("2025-08-11", "2027-12-31", at)
		now := kst(2025, 9, 1, 9, 0, 0)
		in := models.ProjectInput{OrganisationID: uintStr(w.org("kaist").ID), Title: "평가셋", Scope: "범위", Provider: "기관",
			Status: "planned", Milestones: "2026-06-30 2차\n2026-01-31 1차"}
		var fe *models.FieldsError
		if _, err := models.CreateProject(ctx, db, in, w.officer, now); !errors.As(err, &fe) || fe.Fields["organisation_id"] != "support.error.not_team" {
			t.Errorf("project for a non-team: %v", err)
		}
		in.OrganisationID = uintStr(w.org("upstage").ID)
		p, err := models.CreateProject(ctx, db, in, w.officer, now)
		if err != nil {
			t.Fatal(err)
		}
		if ms := p.MilestoneList(); len(ms) != 2 || ms[0].Title != "1차" {
			t.Errorf("milestones: %+v", ms)
		}
		in.Milestones = "6월 말"
		if _, err := models.UpdateProject(ctx, db, p.ID, in, w.officer, now); !errors.As(err, &fe) || !fe.Fields.Has("milestones") {
			t.Errorf("bad milestones: %v", err)
		}
		if own, _ := models.ListProjects(ctx, db, w.users["kaist"]); len(own) != 0 {
			t.Errorf("kaist lists %d projects", len(own))
		}
		if own, _ := models.ListProjects(ctx, db, w.lead); len(own) != 1 {
			t.Errorf("upstage lists %d projects", len(own))
		}
	})
}

// TestRecordTalent: a line needs a team, a kind, a half-year and a count;
// its evidence is checked like every upload.
func TestRecordTalent(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newAgreementWorld(t, db, clock)
		w.inForce("2025-08-11", "2027-12-31", kst(2025, 8, 6, 10, 0, 0))
		now := kst(2025, 9, 1, 9, 0, 0)
		upstage := uintStr(w.org("upstage").ID)
		script := []byte("#!/bin/sh\necho hi\n")
		for _, tc := range []struct {
			name   string
			in     models.TalentInput
			fields []string
		}{
			{"not a team", models.TalentInput{OrganisationID: uintStr(w.org("kaist").ID), Kind: "hires", Period: "2025-H2", Count: "3"}, []string{"organisation_id"}},
			{"bad kind, period and count", models.TalentInput{OrganisationID: upstage, Kind: "interns", Period: "2025-Q3", Count: "-1"}, []string{"kind", "period", "count"}},
			{"evidence not accepted", models.TalentInput{OrganisationID: upstage, Kind: "hires", Period: "2025-H2", Count: "3",
				Evidence: &models.UploadedFile{Name: "a.pdf", Size: int64(len(script)), Open: func() (io.ReadCloser, error) {
					return io.NopCloser(bytes.NewReader(script)), nil
				}}}, []string{"evidence"}},
			{"valid", models.TalentInput{OrganisationID: upstage, Kind: "hires", Period: "2025-H2", Count: "3"}, nil},
		} {
			tc.in.Files, tc.in.Uploads = w.files, pdfPolicy
			_, err := models.RecordTalent(ctx, db, tc.in, w.officer, now)
			var fe *models.FieldsError
			if tc.fields == nil {
				if err != nil {
					t.Errorf("%s: %v", tc.name, err)
				}
				continue
			}
			if !errors.As(err, &fe) || len(fe.Fields) != len(tc.fields) {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			for _, f := range tc.fields {
				if !fe.Fields.Has(f) {
					t.Errorf("%s: no message for %s: %v", tc.name, f, fe.Fields)
				}
			}
		}
		if own, _ := models.ListTalent(ctx, db, w.users["kaist"]); len(own) != 0 {
			t.Errorf("kaist lists %d lines", len(own))
		}
	})
}

// TestSaveFollowUp: a follow-up is kept for an applicant ranked after the
// slots only, once per applicant; a company lists only its own.
func TestSaveFollowUp(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newAgreementWorld(t, db, clock)
		now := kst(2025, 9, 1, 9, 0, 0)
		in := models.FollowUpInput{Programme: "특화 모델 지원사업", Contact: "02-000-0000", Status: "proposed"}
		if _, err := models.SaveFollowUp(ctx, db, w.call.ID, w.org("upstage").ID, in, w.officer, now); !errors.Is(err, models.ErrSelected) {
			t.Errorf("selected: %v", err)
		}
		if _, err := models.SaveFollowUp(ctx, db, w.call.ID, w.org("lunit").ID, in, w.officer, now); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("not ranked: %v", err)
		}
		var fe *models.FieldsError
		if _, err := models.SaveFollowUp(ctx, db, w.call.ID, w.org("kaist").ID, models.FollowUpInput{Status: "pending"}, w.officer, now); !errors.As(err, &fe) || len(fe.Fields) != 3 {
			t.Errorf("empty: %v", err)
		}
		first, err := models.SaveFollowUp(ctx, db, w.call.ID, w.org("kaist").ID, in, w.officer, now)
		if err != nil {
			t.Fatal(err)
		}
		in.Status = "accepted"
		second, err := models.SaveFollowUp(ctx, db, w.call.ID, w.org("kaist").ID, in, w.officer, now)
		if err != nil || second.ID != first.ID || second.Rank != 3 {
			t.Fatalf("update: %+v %v", second, err)
		}
		if own, _ := models.ListFollowUps(ctx, db, w.users["kaist"]); len(own) != 1 || own[0].Status != models.FollowUpAccepted {
			t.Errorf("kaist's: %+v", own)
		}
		if own, _ := models.ListFollowUps(ctx, db, w.lead); len(own) != 0 {
			t.Errorf("upstage's: %+v", own)
		}
	})
}
