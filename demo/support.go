package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
)

// The demo's data support: the copyright-clearance ledger (public
// institutions first: one source cleared for good, one whose clearance
// ends in about six weeks, one refused; a private publisher still
// negotiating); the demand survey of the second half of 2025, closed, with
// the teams' demand and the purchase of the news corpus delivered to three
// teams; and the survey of the next half-year, open for another two weeks,
// where Upstage has filed a line.

var (
	demoSurveyOpened  = time.Date(2025, 9, 1, 10, 0, 0, 0, models.KST)
	demoSurveyCloses  = time.Date(2025, 9, 30, 18, 0, 0, 0, models.KST)
	demoPurchaseAt    = time.Date(2025, 10, 15, 14, 0, 0, 0, models.KST)
	demoDeliveriesAt  = time.Date(2025, 10, 20, 10, 0, 0, 0, models.KST)
	demoExpiringAfter = 45 // days from the day the demo is loaded
)

// demoDemand is one demand line of the closed survey.
type demoDemand struct {
	team, dataset, provider, volume, min, max, purpose string
	priority                                           int
}

var demoDemands = []demoDemand{
	{"naver-cloud", "뉴스 기사 말뭉치 2015–2024", "한국언론진흥재단", "1.2 TB", "200,000,000", "400,000,000", "한국어 사전학습", 1},
	{"upstage", "뉴스 기사 말뭉치 2015–2024", "한국언론진흥재단", "1 TB", "150,000,000", "350,000,000", "한국어 사전학습 및 시사 질의응답", 1},
	{"sk-telecom", "뉴스 기사 말뭉치 2015-2024", "한국언론진흥재단", "800 GB", "100,000,000", "300,000,000", "통신 고객 상담 모델의 시사 지식", 2},
	{"lg-ai-research", "법률 판례 해설", "(주)한국법률출판", "50만 건", "80,000,000", "150,000,000", "법률 추론 평가", 2},
	{"nc-ai", "방송 자막", "한국방송공사", "30만 시간", "300,000,000", "600,000,000", "음성·자막 멀티모달 학습", 3},
}

// SeedSupport seeds the data and talent support of the demo (after SeedAgreements:
// the teams are the organisations with an agreement in force). It is
// idempotent: once a survey exists it changes nothing.
func SeedSupport(ctx context.Context, db *gorm.DB, files *models.FileStore, now time.Time) error {
	if now.Before(demoDeliveriesAt.Add(24 * time.Hour)) {
		return fmt.Errorf("store: seed demo support: the clock (%s) is before the deliveries", now.In(models.KST).Format(time.RFC3339))
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockSeeding(tx); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&models.DataSurvey{}).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		officer, err := demoOfficer(ctx, tx)
		if err != nil {
			return err
		}
		company := func(code string) (*models.User, *models.Organisation, error) {
			org, err := models.GetOrganisationByCode(ctx, tx, code)
			if err != nil {
				return nil, nil, err
			}
			u, err := demoUserWhere(ctx, tx, "of "+code, func(u *models.User) bool {
				return u.Role == models.RoleCompany && u.OrganisationID != nil && *u.OrganisationID == org.ID
			})
			return u, org, err
		}
		id := func(n uint) string { return strconv.FormatUint(uint64(n), 10) }

		// The ledger.
		expiring := models.DateOf(now).AddDays(demoExpiringAfter).String()
		sources := []models.SourceInput{
			{Name: "모두의 말뭉치 — 신문", RightsHolder: "국립국어원", PublicInstitution: true, Status: "cleared",
				LicenceTerms: "비영리·연구 및 사업 참여 팀의 모델 학습·평가 이용 허락, 원문 재배포 불가", Uses: []string{"training", "evaluation"}},
			{Name: "빅카인즈 뉴스 기사 2015–2024", RightsHolder: "한국언론진흥재단", PublicInstitution: true, Status: "cleared",
				LicenceTerms: "사업 기간 중 학습 이용, 기사 원문 노출 금지", Uses: []string{"training"}, ExpiresOn: expiring},
			{Name: "방송 자막 아카이브", RightsHolder: "한국방송공사", PublicInstitution: true, Status: "refused",
				LicenceTerms: "출연자 초상권·저작인접권 정리 불가로 이용 불허"},
			{Name: "법률 판례 해설서", RightsHolder: "(주)한국법률출판", Status: "negotiating",
				LicenceTerms: "평가 목적 이용 조건 협의 중"},
		}
		var ledger []*models.DataSource
		for i, in := range sources {
			s, err := models.RecordSource(ctx, tx, in, officer, demoSurveyOpened.Add(time.Duration(i)*time.Hour))
			if err != nil {
				return fmt.Errorf("store: seed demo support: source %s: %w", in.Name, err)
			}
			ledger = append(ledger, s)
		}

		// The closed survey, its demand and the news purchase.
		closed, err := models.OpenSurvey(ctx, tx, models.SurveyInput{Title: "2025년 하반기 데이터 공동구매 수요조사",
			Description: "정예팀이 함께 구매할 데이터셋의 수요를 받습니다. 데이터셋·공급기관·규모·희망 가격·활용 목적·우선순위를 적어 주십시오.",
			ClosesAt:    demoSurveyCloses.Format("2006-01-02T15:04:05")}, officer, demoSurveyOpened)
		if err != nil {
			return fmt.Errorf("store: seed demo support: survey: %w", err)
		}
		for i, d := range demoDemands {
			u, _, err := company(d.team)
			if err != nil {
				return err
			}
			_, err = models.FileDemand(ctx, tx, closed.ID, models.DemandInput{Dataset: d.dataset, Provider: d.provider, Volume: d.volume,
				PriceMin: d.min, PriceMax: d.max, Purpose: d.purpose, Priority: strconv.Itoa(d.priority)}, u,
				demoSurveyOpened.Add(time.Duration(i+1)*24*time.Hour))
			if err != nil {
				return fmt.Errorf("store: seed demo support: demand of %s: %w", d.team, err)
			}
		}
		var teams []string
		for _, code := range []string{"naver-cloud", "upstage", "sk-telecom"} {
			_, org, err := company(code)
			if err != nil {
				return err
			}
			teams = append(teams, id(org.ID))
		}
		p, err := models.RecordPurchase(ctx, tx, closed.ID, models.PurchaseInput{Dataset: "뉴스 기사 말뭉치 2015–2024",
			Provider: "한국언론진흥재단", Contract: "과기정통부-데이터-2025-017", Price: "690,000,000",
			LicenceTerms: "사업 참여 팀의 모델 학습 이용, 사업 기간 한정, 기사 원문 재배포 금지", Use: string(models.UseTraining),
			Sources: []string{id(ledger[0].ID), id(ledger[1].ID)}, Teams: teams}, officer, demoPurchaseAt)
		if err != nil {
			return fmt.Errorf("store: seed demo support: purchase: %w", err)
		}
		for i, d := range p.Deliveries {
			if _, err := models.Deliver(ctx, tx, p.ID, d.ID, officer, demoDeliveriesAt.Add(time.Duration(i)*time.Hour)); err != nil {
				return fmt.Errorf("store: seed demo support: delivery: %w", err)
			}
		}

		// Two dataset construction projects.
		for _, pr := range []struct{ team, title, scope, provider, status, milestones, deliverables string }{
			{"upstage", "한국어 추론 평가셋 구축", "수학·법률·행정 분야 한국어 추론 문항 2만 개와 풀이", "셀렉트스타", string(models.ProjectInProgress),
				"2025-11-30 문항 설계 확정\n2026-02-28 1만 문항 납품\n2026-06-30 2만 문항 및 검수 보고서", "문항 데이터셋(JSONL), 검수 보고서"},
			{"naver-cloud", "공공 민원 대화 데이터셋", "국민신문고 민원 상담 대화 50만 건의 비식별화와 의도 태깅", "한국지능정보사회진흥원", string(models.ProjectPlanned),
				"2026-01-31 비식별화 기준 확정\n2026-05-31 데이터셋 납품", "대화 데이터셋, 비식별화 처리 기록"},
		} {
			_, org, err := company(pr.team)
			if err != nil {
				return err
			}
			if _, err := models.CreateProject(ctx, tx, models.ProjectInput{OrganisationID: id(org.ID), Title: pr.title, Scope: pr.scope,
				Provider: pr.provider, Status: pr.status, Milestones: pr.milestones, Deliverables: pr.deliverables}, officer,
				demoDeliveriesAt.Add(48*time.Hour)); err != nil {
				return fmt.Errorf("store: seed demo support: project %s: %w", pr.title, err)
			}
		}

		// Talent lines of the second half of 2025, each with its evidence.
		for i, tl := range []struct {
			team, kind, count, note string
		}{
			{"naver-cloud", string(models.TalentResearchers), "12", "박사후연구원 인건비 지원"},
			{"naver-cloud", string(models.TalentHires), "5", "파운데이션 모델 엔지니어 신규 채용"},
			{"upstage", string(models.TalentTraining), "40", "AI 전문인재 양성과정 교육 인원"},
			{"upstage", string(models.TalentResearchers), "8", "대학 연구실 공동연구 인력"},
			{"sk-telecom", string(models.TalentHires), "3", ""},
			{"lg-ai-research", string(models.TalentTraining), "25", "산학 인턴십"},
		} {
			_, org, err := company(tl.team)
			if err != nil {
				return err
			}
			pdf := PDF([]string{"Talent support evidence", tl.team, tl.kind})
			up := models.UploadedFile{Name: "인재지원_증빙_" + tl.team + ".pdf", Size: int64(len(pdf)),
				Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(pdf)), nil }}
			if _, err := models.RecordTalent(ctx, tx, models.TalentInput{OrganisationID: id(org.ID), Kind: tl.kind, Period: "2025-H2",
				Count: tl.count, Note: tl.note, Evidence: &up, Files: files,
				Uploads: models.UploadPolicy{MaxBytes: 10 << 20, Allowed: []models.FileKind{models.FilePDF}}}, officer,
				demoDeliveriesAt.Add(time.Duration(72+i)*time.Hour)); err != nil {
				return fmt.Errorf("store: seed demo support: talent of %s: %w", tl.team, err)
			}
		}

		// Follow-up programmes for the applicants ranked 6–10 of the selection.
		sel, err := firstSelection(ctx, tx)
		if err != nil {
			return fmt.Errorf("store: seed demo support: the demo decision: %w", err)
		}
		programmes := []FollowUpSeed{
			{"의료 특화 AI 모델 개발 지원사업", "정보통신산업진흥원 AI융합팀 02-0000-0101", models.FollowUpStarted, "의료 영상 특화 모델 과제로 협약 체결"},
			{"산업 특화 sLLM 실증 지원사업", "정보통신산업진흥원 02-0000-0102", models.FollowUpAccepted, "착수 회의 일정 조율 중"},
			{"바이오 특화 AI 모델 개발 지원사업", "한국보건산업진흥원 043-000-0103", models.FollowUpProposed, ""},
			{"AI 검색·에이전트 특화 모델 지원사업", "정보통신산업진흥원 02-0000-0104", models.FollowUpDeclined, "자체 투자 계획으로 참여하지 않기로 함"},
			{"의료 특화 AI 모델 개발 지원사업", "정보통신산업진흥원 AI융합팀 02-0000-0101", models.FollowUpProposed, "2차 공모 안내 예정"},
		}
		for _, e := range sel.Entries {
			i := e.Rank - 6
			if e.Selected || i < 0 || i >= len(programmes) {
				continue
			}
			pr := programmes[i]
			if _, err := models.SaveFollowUp(ctx, tx, sel.CallID, e.OrganisationID, models.FollowUpInput{Programme: pr.Programme,
				Contact: pr.Contact, Status: string(pr.Status), Notes: pr.Notes}, officer, demoSurveyOpened.Add(time.Duration(i)*time.Hour)); err != nil {
				return fmt.Errorf("store: seed demo support: follow-up of rank %d: %w", e.Rank, err)
			}
		}

		// The open survey: closes two weeks after the day the demo is
		// loaded, at 18:00:00 KST.
		day := models.DateOf(now).AddDays(14)
		open, err := models.OpenSurvey(ctx, tx, models.SurveyInput{Title: fmt.Sprintf("%d년 상반기 데이터 공동구매 수요조사", day.Year),
			Description: "다음 반기 공동구매 대상 데이터셋의 수요를 받습니다.",
			ClosesAt:    day.String() + "T18:00:00"}, officer, now.Add(-24*time.Hour))
		if err != nil {
			return fmt.Errorf("store: seed demo support: open survey: %w", err)
		}
		u, _, err := company("upstage")
		if err != nil {
			return err
		}
		if _, err := models.FileDemand(ctx, tx, open.ID, models.DemandInput{Dataset: "공공 행정 문서", Provider: "행정안전부",
			Volume: "200만 건", PriceMin: "0", PriceMax: "50,000,000", Purpose: "공공 서비스 질의응답 미세조정", Priority: "1"},
			u, now.Add(-time.Hour)); err != nil {
			return fmt.Errorf("store: seed demo support: open demand: %w", err)
		}
		return nil
	})
}

// FollowUpSeed is one follow-up the demo records.
type FollowUpSeed struct {
	Programme, Contact string
	Status             models.FollowUpStatus
	Notes              string
}
