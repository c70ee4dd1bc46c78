package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
)

// The demo's additional call: so that a new user can file an appeal (이의신청)
// on the day the demo is loaded, SeedAdditionalCall replays a second,
// smaller call whose every instant is set relative to the seed's now rather
// than to 2025. Its selection is published at 10:00 KST on the last working
// day before now (at most four days back, else the day before), so its
// 10-day appeal window is open at now; KAIST, whose demo user can sign in,
// is among the applicants not selected. Like the 2025 story it is
// illustrative demo data, played through the portal's own store functions:
//
//	decision day − 31 days  09:00  the call opens (its criteria set three days before)
//	decision day −  7 days  18:00  the call closes (the last submission 18 minutes before)
//	decision day −  6 to −2 days   four reviewers assign, declare and score
//	decision day            10:00  one team selected, three not

// Titles of the additional call; the English title identifies it, so that
// seeding twice changes nothing.
const (
	demoAdditionalTitleKO = "독자 AI 파운데이션 모델 프로젝트 추가 정예팀 공모"
	demoAdditionalTitleEN = "Additional call for an elite team, Sovereign AI Foundation Model Project"
)

// demoAdditionalScores are the panel's mean scores per criterion (in
// demoCriteria's order) for the additional call's applicants, who also
// applied in 2025 and reuse that application's titles and consortia.
// Their order is the ranking; only the first is selected.
var demoAdditionalScores = []struct {
	Org    string
	Scores [4]float64
}{
	{"motif-technologies", [4]float64{87, 85, 82, 84}},
	{"lunit", [4]float64{83, 80, 79, 82}},
	{"kaist", [4]float64{79, 72, 75, 80}},
	{"konan-technology", [4]float64{75, 70, 72, 74}},
}

// AdditionalDecisionAt is when the additional call's selection is
// published for a demo loaded at now: 10:00 KST on the last working day
// (neither a weekend nor a public holiday) before now's KST date, looking at
// most four days back, else 10:00 KST on the day before.
func AdditionalDecisionAt(now time.Time) time.Time {
	today := models.DateOf(now)
	day := today.AddDays(-1)
	for back := 1; back <= 4; back++ {
		if d := today.AddDays(-back); !models.IsDayOff(d, models.KoreanHolidays) {
			day = d
			break
		}
	}
	return day.Start().Add(10 * time.Hour)
}

// demoAdditionalStory is the additional call's story for a demo loaded at
// now; its notice states the closing instant of the appeal window as the
// portal will enforce it.
func demoAdditionalStory(ctx context.Context, tx *gorm.DB, now time.Time) (*demoStory, *models.Call, error) {
	decisionAt := AdditionalDecisionAt(now)
	day := models.DateOf(decisionAt)
	closeDay := day.AddDays(-7)
	call := &models.Call{TitleKO: demoAdditionalTitleKO, TitleEN: demoAdditionalTitleEN,
		DescriptionKO: "정예팀 1개를 추가로 선발합니다. 2025년 공모와 같은 평가 항목으로 평가합니다.\n\n" +
			"데모 안내: 이 공모의 일정은 데모 데이터를 불러온 날을 기준으로 정해지므로, 선정 결과에 대한 이의신청 기간이 열려 있습니다. " +
			"선정되지 않은 신청기관(KAIST)의 데모 사용자로 로그인하면 바로 이의신청을 해 볼 수 있습니다.",
		DescriptionEN: "One more elite team is selected, on the criteria of the 2025 call.\n\n" +
			"Demo note: this call's dates are set relative to the day the demo data was loaded, so the appeal window of its result is open. " +
			"Sign in as the demo user of an applicant that was not selected (KAIST) to file an appeal right away.",
		OpensAt:   closeDay.AddDays(-24).Start().Add(9 * time.Hour).UTC(),
		ClosesAt:  closeDay.Start().Add(18 * time.Hour).UTC(),
		Slots:     1,
		Criteria:  append([]models.Criterion(nil), demoCriteria...),
		Documents: append([]models.RequiredDocument(nil), demoDocuments[:2]...),
	}
	var apps []demoApplication
	for i, a := range demoAdditionalScores {
		found := false
		for _, d := range demoApplications {
			if d.Org == a.Org {
				d.Scores, d.Pledge = a.Scores, false
				apps = append(apps, d)
				found = true
			}
		}
		if !found {
			return nil, nil, fmt.Errorf("store: seed demo additional call: no 2025 application of %s (%d): %w", a.Org, i, models.ErrInvalid)
		}
	}
	selected := demoAdditionalScores[0].Org
	// The notice states the window as the portal will enforce it; only when
	// the holiday table cannot say (after 2030) does it state the rule alone.
	windowKO := "공고일의 다음 날부터 10일 이내에 이의신청을 할 수 있으며, 기간의 마지막 날이 토요일이나 공휴일이면 그다음 날까지 할 수 있습니다."
	windowEN := "within 10 days from the day after the announcement; when the last day is a Saturday or a public holiday, the period ends on the next working day."
	w, err := models.DecisionWindow(ctx, tx, &models.Decision{PublishedAt: decisionAt, CountingRule: models.RuleCivil}, now)
	switch {
	case err == nil:
		windowKO = fmt.Sprintf("공고일의 다음 날부터 10일 이내, 곧 %s 24:00(한국 표준시)까지 이의신청을 할 수 있습니다.", w.LastDay)
		windowEN = fmt.Sprintf("within 10 days from the day after the announcement, that is until 24:00 Korea Standard Time on %s.", w.LastDay)
	case !errors.Is(err, models.ErrNoHolidayData):
		return nil, nil, err
	}
	story := &demoStory{
		pdfHeading: "Sovereign AI Foundation Model Project - additional call for an elite team",
		apps:       apps,
		selected:   func(code string) bool { return code == selected },
		draftsFrom: call.OpensAt.Add(30 * time.Minute), draftStep: 24*time.Hour + 17*time.Minute,
		submitFrom: closeDay.AddDays(-3).Start().Add(10 * time.Hour), submitStep: 6*time.Hour + 7*time.Minute,
		lastSubmit: call.ClosesAt.Add(-18 * time.Minute),
		reviewFrom: closeDay.AddDays(1).Start().Add(10 * time.Hour),
		conflictAt: closeDay.AddDays(2).Start().Add(9 * time.Hour),
		scoresFrom: closeDay.AddDays(2).Start().Add(10 * time.Hour),
		decisionAt: decisionAt,
		evaluator:  map[string]string{selected: models.ConflictNone, "kaist": models.ConflictRecused},
		noticeKO: "과학기술정보통신부는 「독자 AI 파운데이션 모델 프로젝트」 추가 정예팀 공모에 신청한 4개 컨소시엄을 평가하여 정예팀 1개를 추가로 선정하였습니다.\n\n" +
			"평가 결과에 이의가 있는 신청기관은 " + windowKO,
		noticeEN: "The Ministry of Science and ICT evaluated the 4 consortia that applied to the additional call for an elite team of the Sovereign AI Foundation Model Project and selected one more elite team.\n\n" +
			"Applicants that object to the result may file an objection " + windowEN,
	}
	return story, call, nil
}

// SeedAdditionalCall adds the demo's additional call (see the top of
// this file) to the demo programme, with its four applications, reviews and
// published selection, all dated relative to now, in one transaction. It
// needs Seed first and is idempotent: once the call exists it changes
// nothing, so its appeal window is open on the day the demo was loaded.
// files receives the generated PDF documents.
func SeedAdditionalCall(ctx context.Context, db *gorm.DB, files *models.FileStore, now time.Time) error {
	if files == nil {
		return errors.New("store: seed demo additional call: no file store")
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockSeeding(tx); err != nil {
			return err
		}
		prog, err := models.GetProgrammeByCode(ctx, tx, ProgrammeCode)
		if err != nil {
			return fmt.Errorf("store: seed demo additional call: the demo programme (run Seed first): %w", err)
		}
		calls, err := models.ListCalls(ctx, tx)
		if err != nil {
			return fmt.Errorf("store: seed demo additional call: %w", err)
		}
		for _, c := range calls {
			if c.ProgrammeID == prog.ID && c.TitleEN == demoAdditionalTitleEN {
				return nil
			}
		}
		story, call, err := demoAdditionalStory(ctx, tx, now)
		if err != nil {
			return err
		}
		s := &demoSeeder{ctx: ctx, tx: tx, files: files, now: now, orgs: map[string]*models.Organisation{}, story: story}
		if err := s.staff(); err != nil {
			return err
		}
		call.ProgrammeID = prog.ID
		if err := models.SaveCall(ctx, tx, call, s.officer, call.OpensAt.Add(-3*24*time.Hour+time.Hour)); err != nil {
			return fmt.Errorf("store: seed demo additional call: %w", err)
		}
		if s.call, err = models.GetCall(ctx, tx, call.ID); err != nil {
			return err
		}
		_, err = s.replay()
		return err
	})
}
