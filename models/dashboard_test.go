package models

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// The dashboards' task rules on a fixed clock.

var dashNow = time.Date(2026, 11, 27, 14, 0, 0, 0, KST)

func TestAppealTasksOverdueFirst(t *testing.T) {
	at := func(h int) time.Time { return dashNow.Add(time.Duration(h) * time.Hour) }
	appeals := []Appeal{
		{ID: 1, Status: AppealReceived, AnswerBy: at(48)},
		{ID: 2, Status: AppealUnderReview, AnswerBy: at(-1)},
		{ID: 3, Status: AppealDismissed, AnswerBy: at(-100)}, // answered: no task
		{ID: 4, Status: AppealReceived, AnswerBy: at(2)},
		{ID: 5, Status: AppealReceived, AnswerBy: at(-30)},
		{ID: 6, Status: AppealReceived, AnswerBy: dashNow}, // due this instant: late
	}
	var ids []uint
	var overdue []bool
	for _, task := range appealTasks(appeals, dashNow) {
		ids = append(ids, task.Appeal.ID)
		overdue = append(overdue, task.Overdue(dashNow))
	}
	if want := []uint{5, 2, 6, 4, 1}; !slices.Equal(ids, want) {
		t.Errorf("order %v, want %v", ids, want)
	}
	if want := []bool{true, true, true, false, false}; !slices.Equal(overdue, want) {
		t.Errorf("overdue %v, want %v", overdue, want)
	}
}

func TestReportTasks(t *testing.T) {
	oct, nov := Month{First: NewDate(2026, 10, 1)}, Month{First: NewDate(2026, 11, 1)}
	sep := Month{First: NewDate(2026, 9, 1)}
	for _, tc := range []struct {
		name     string
		row      ReportMonthRow
		want     bool
		returned bool
		overdue  bool
	}{
		{"ended month, none saved, before due", ReportMonthRow{Month: oct, Due: "2026-11-30"}, true, false, false},
		{"ended month, none saved, past due", ReportMonthRow{Month: oct, Due: "2026-11-10"}, true, false, true},
		{"ended month, draft", ReportMonthRow{Month: sep, Due: "2026-10-12", Report: &UsageReport{State: ReportDraft}}, true, false, true},
		{"ended month, submitted", ReportMonthRow{Month: oct, Due: "2026-11-10", Report: &UsageReport{State: ReportSubmitted}}, false, false, false},
		{"ended month, signed off", ReportMonthRow{Month: oct, Due: "2026-11-10", Report: &UsageReport{State: ReportSignedOff}}, false, false, false},
		{"returned", ReportMonthRow{Month: oct, Due: "2026-11-10", Report: &UsageReport{State: ReportReturned}}, true, true, true},
		{"current month, none saved", ReportMonthRow{Month: nov, Due: "2026-12-10"}, false, false, false},
		{"current month, draft", ReportMonthRow{Month: nov, Due: "2026-12-10", Report: &UsageReport{State: ReportDraft}}, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := reportTasks([]ReportMonthRow{tc.row}, dashNow)
			if (len(got) == 1) != tc.want {
				t.Fatalf("tasks %d, want task %v", len(got), tc.want)
			}
			if !tc.want {
				return
			}
			if got[0].Returned != tc.returned || got[0].Overdue(dashNow) != tc.overdue {
				t.Errorf("returned %v overdue %v, want %v %v", got[0].Returned, got[0].Overdue(dashNow), tc.returned, tc.overdue)
			}
			due, _ := ParseDate(tc.row.Due)
			if want := due.AddDays(1).Start(); !got[0].Due.Equal(want) {
				t.Errorf("due %s, want the end of %s", got[0].Due, tc.row.Due)
			}
		})
	}
}

func TestStageTasks(t *testing.T) {
	at := func(h int) *time.Time { x := dashNow.Add(time.Duration(h) * time.Hour); return &x }
	frozen := dashNow.Add(-time.Hour)
	stages := []Stage{
		{ID: 1, OpinionsClose: at(24), ReportDue: at(200)}, // both open
		{ID: 2, OpinionsClose: at(24), FrozenAt: &frozen},  // frozen: no opinions
		{ID: 3, OpinionsClose: at(-1), ReportDue: at(-1)},  // both closed
		{ID: 4, OpinionsClose: at(5)},                      // opinion sent already
		{ID: 5, ReportDue: at(10)},                         // report sent already
		{ID: 6},                                            // nothing opened
	}
	got := stageTasks(stages, map[uint]bool{4: true}, map[uint]bool{5: true}, dashNow)
	type key struct {
		stage uint
		kind  string
	}
	var keys []key
	for _, s := range got {
		keys = append(keys, key{s.Stage.ID, s.Kind})
	}
	if want := []key{{1, StageTaskOpinion}, {1, StageTaskReport}}; !slices.Equal(keys, want) {
		t.Errorf("tasks %v, want %v", keys, want)
	}
}

func TestCompanyResults(t *testing.T) {
	corrected := uint(1)
	published := dashNow.Add(-48 * time.Hour)
	ds := []Decision{ // newest first, as ListDecisions returns them
		{ID: 3, SupersedesID: &corrected, PublishedAt: published, Entries: []DecisionEntry{{OrganisationID: 7, Rank: 4}}},
		{ID: 2, PublishedAt: published, Entries: []DecisionEntry{{OrganisationID: 8, Rank: 1}}},
		{ID: 1, PublishedAt: published.Add(-time.Hour), Entries: []DecisionEntry{{OrganisationID: 7, Rank: 5}}},
		{ID: 0, PublishedAt: published.AddDate(-1, 0, 0), Entries: []DecisionEntry{{OrganisationID: 7, Rank: 2, Selected: true}}},
	}
	window := func(d *Decision) (Window, error) {
		return AppealWindow(d.PublishedAt, AppealDays, RuleCivil, KoreanHolidays)
	}
	appeals := []Appeal{{ID: 9, DecisionID: 3, OrganisationID: 7}}
	got := companyResults(ds, 7, appeals, window, dashNow)
	var ids []uint
	for _, r := range got {
		ids = append(ids, r.Decision.ID)
	}
	if want := []uint{3, 0}; !slices.Equal(ids, want) {
		t.Fatalf("results %v, want the correction and last year's (not the corrected one, nor another's)", ids)
	}
	if !got[0].Open || got[0].Entry.Rank != 4 || len(got[0].Appeals) != 1 {
		t.Errorf("correction: open %v rank %d appeals %d", got[0].Open, got[0].Entry.Rank, len(got[0].Appeals))
	}
	if w, _ := window(&ds[0]); !got[0].Due.Equal(w.Closes) {
		t.Errorf("due %s, want the window's close %s", got[0].Due, w.Closes)
	}
	if got[1].Open || !got[1].Due.IsZero() {
		t.Errorf("last year's: open %v due %s, want closed", got[1].Open, got[1].Due)
	}
}

func TestSignatureTasks(t *testing.T) {
	ministry := AgreementParty{OrganisationID: 1, Role: SignerMinistry}
	lead := AgreementParty{OrganisationID: 7, Role: "lead"}
	member := AgreementParty{OrganisationID: 8, Role: "member"}
	version := func(status VersionStatus, signed ...uint) []AgreementVersion {
		v := AgreementVersion{Status: status, Parties: []AgreementParty{lead, member, ministry}}
		for _, o := range signed {
			v.Signatures = append(v.Signatures, AgreementSignature{OrganisationID: o})
		}
		return []AgreementVersion{v}
	}
	as := []Agreement{
		{Number: "A", Versions: version(VersionOut)},       // nobody signed
		{Number: "B", Versions: version(VersionOut, 7, 8)}, // the ministry only
		{Number: "C", Versions: version(VersionDraft)},     // not sent
		{Number: "D", Versions: version(VersionOut, 8)},    // the lead and the ministry
	}
	numbers := func(ts []SignTask) []string {
		var out []string
		for _, s := range ts {
			out = append(out, s.Agreement.Number)
		}
		return out
	}
	if got := numbers(signatureTasks(as, nil)); !slices.Equal(got, []string{"A", "B", "D"}) {
		t.Errorf("ministry's list %v", got)
	}
	lead7, member8 := uint(7), uint(8)
	if got := numbers(signatureTasks(as, &lead7)); !slices.Equal(got, []string{"A", "D"}) {
		t.Errorf("lead's list %v", got)
	}
	if got := numbers(signatureTasks(as, &member8)); !slices.Equal(got, []string{"A"}) {
		t.Errorf("member's list %v", got)
	}
	ts := signatureTasks(as, nil)
	if !ts[1].WaitsOnlyForMinistry() || len(ts[1].Missing) != 1 {
		t.Errorf("B: missing %v", ts[1].Missing)
	}
	if !ts[0].WaitsForMinistry() || ts[0].WaitsOnlyForMinistry() || !ts[2].WaitsForMinistry() || ts[2].WaitsOnlyForMinistry() {
		t.Error("A and D wait for the ministry among others")
	}
}

func TestTelemetryGapsAndFailingClusters(t *testing.T) {
	from := dashNow.Add(-10 * time.Hour)
	team := func(id uint, observedH float64) TeamMonth {
		return TeamMonth{Org: &Organisation{ID: id}, Usage: Usage{From: from, To: dashNow, Until: dashNow, Allocated: 1,
			ExpectedSeconds: 10 * 3600, ExpectedNamedSeconds: 10 * 3600, ObservedSeconds: observedH * 3600}}
	}
	teams := []TeamMonth{team(1, 10), team(2, 8.9), team(3, 2), {Org: &Organisation{ID: 4}}}
	var ids []uint
	for _, g := range telemetryGaps(teams, 90) {
		ids = append(ids, g.Team.Org.ID)
	}
	if want := []uint{3, 2}; !slices.Equal(ids, want) {
		t.Errorf("gaps %v, want %v (lowest coverage first; none for a team expecting nothing)", ids, want)
	}
	var names []string
	for _, h := range failingClusters([]ClusterHealth{{Cluster: Cluster{Name: "ok"}, State: ClusterOK}, {Cluster: Cluster{Name: "f"}, State: ClusterFailing},
		{Cluster: Cluster{Name: "w"}, State: ClusterWaiting}, {Cluster: Cluster{Name: "s"}, State: ClusterStale}, {Cluster: Cluster{Name: "p"}, State: ClusterPartial}}) {
		names = append(names, h.Name)
	}
	if want := []string{"f", "s", "p"}; !slices.Equal(names, want) {
		t.Errorf("failing %v, want %v", names, want)
	}
}

func TestDefaultDueDays(t *testing.T) {
	for _, tc := range []struct {
		closes time.Time
		want   string
	}{
		{time.Date(2025, 7, 21, 18, 0, 0, 0, KST), "2025-08-04"},       // a Monday, 14 days on
		{time.Date(2025, 9, 20, 18, 0, 0, 0, KST), "2025-10-10"},       // Saturday 10-04, then Chuseok and Hangul Day
		{time.Date(2025, 7, 21, 23, 59, 0, 0, time.UTC), "2025-08-05"}, // the close's KST day counts
	} {
		if got := DefaultReviewDue(&Call{ClosesAt: tc.closes}, KoreanHolidays).String(); got != tc.want {
			t.Errorf("closes %s: due %s, want %s", tc.closes, got, tc.want)
		}
	}
	if got := DefaultEvaluationDue(&Stage{EvaluatedOn: "2026-12-15"}).String(); got != "2026-12-15" {
		t.Errorf("stage due %s", got)
	}
	if got := DefaultEvaluationDue(&Stage{}); !got.IsZero() {
		t.Errorf("stage without a day: due %s, want none", got)
	}
}

func TestParseDue(t *testing.T) {
	def := NewDate(2026, 12, 11)
	for _, tc := range []struct {
		in   string
		want string
		err  bool
	}{
		{"", "2026-12-11", false},
		{"  ", "2026-12-11", false},
		{"2026-11-27", "2026-11-27", false}, // today
		{"2027-01-05", "2027-01-05", false},
		{"2026-11-26", "", true}, // yesterday
		{"2026-13-01", "", true},
		{"tomorrow", "", true},
	} {
		got, err := ParseDue(tc.in, def, dashNow)
		if tc.err {
			if !errors.Is(err, ErrInvalidDue) {
				t.Errorf("%q: %v, want ErrInvalidDue", tc.in, err)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("%q: %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestReviewOutstandingAndDue(t *testing.T) {
	app := &Application{Status: StatusUnderReview, Call: Call{Criteria: []Criterion{{}, {}}}}
	for _, tc := range []struct {
		name string
		a    ReviewAssignment
		app  *Application
		want bool
	}{
		{"undeclared", ReviewAssignment{}, app, true},
		{"declared, one of two scored", ReviewAssignment{Conflict: ConflictNone, Scores: []Score{{}}}, app, true},
		{"declared, all scored", ReviewAssignment{Conflict: ConflictNone, Scores: []Score{{}, {}}}, app, false},
		{"recused", ReviewAssignment{Conflict: ConflictRecused}, app, false},
		{"decided", ReviewAssignment{}, &Application{Status: StatusNotSelected}, false},
	} {
		if got := tc.a.Outstanding(tc.app); got != tc.want {
			t.Errorf("%s: outstanding %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		due     string
		overdue bool
	}{{"2026-11-26", true}, {"2026-11-27", false}, {"", false}} {
		a := ReviewAssignment{DueOn: tc.due}
		if got := a.Due().Overdue(dashNow); got != tc.overdue {
			t.Errorf("due %q: overdue %v, want %v", tc.due, got, tc.overdue)
		}
	}
}

func TestEvaluatorStagesOrder(t *testing.T) {
	decision := uint(1)
	stages := []Stage{{ID: 1, Number: 1, DecisionID: &decision}, {ID: 2, Number: 2}, {ID: 3, Number: 3}, {ID: 4, Number: 4}}
	es := []StageEvaluator{{StageID: 1, DueOn: "2026-06-01"}, {StageID: 2, DueOn: "2026-12-20"},
		{StageID: 3, DueOn: "2026-11-20"}, {StageID: 4}}
	var ids []uint
	for _, s := range evaluatorStages(stages, es, dashNow) {
		ids = append(ids, s.Stage.ID)
	}
	if want := []uint{3, 2, 4, 1}; !slices.Equal(ids, want) {
		t.Errorf("order %v, want %v (overdue, due, without a day, decided)", ids, want)
	}
}
