package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
)

// Organisation is one applicant of the 2025 call, as BRIEF.md lists them.
type Organisation struct {
	Code, NameKO, NameEN, Kind string
	Selected                   bool
}

// Organisations are the 15 applicants of the call and the ministry.
var Organisations = []Organisation{
	{"naver-cloud", "네이버클라우드", "Naver Cloud", models.OrgCompany, true},
	{"upstage", "업스테이지", "Upstage", models.OrgCompany, true},
	{"sk-telecom", "SK텔레콤", "SK Telecom", models.OrgCompany, true},
	{"nc-ai", "NC AI", "NC AI", models.OrgCompany, true},
	{"lg-ai-research", "LG AI연구원", "LG AI Research", models.OrgCompany, true},
	{"lunit", "루닛", "Lunit", models.OrgCompany, false},
	{"motif-technologies", "모티프테크놀로지스", "Motif Technologies", models.OrgCompany, false},
	{"bionexus", "바이오넥서스", "Bionexus", models.OrgCompany, false},
	{"sionic-ai", "사이오닉에이아이", "Sionic AI", models.OrgCompany, false},
	{"junctionmed", "정션메드", "JunctionMed", models.OrgCompany, false},
	{"kakao", "카카오", "Kakao", models.OrgCompany, false},
	{"kt", "KT", "KT", models.OrgCompany, false},
	{"konan-technology", "코난테크놀로지", "Konan Technology", models.OrgCompany, false},
	{"pion-corporation", "파이온코퍼레이션", "Pion Corporation", models.OrgCompany, false},
	{"kaist", "한국과학기술원(KAIST)", "KAIST", models.OrgUniversity, false},
}

// MinistryCode is the organisation code of the ministry.
const MinistryCode = "msit"

// demoUser is a seeded account for the demo sign-in.
type demoUser struct {
	Subject, Name, Email string
	Role                 models.Role
	OrgCode              string
}

var demoUsers = []demoUser{
	{"demo-officer", "김정책", "officer@demo.k-ai.invalid", models.RoleOfficer, MinistryCode},
	{"demo-admin", "이시스템", "admin@demo.k-ai.invalid", models.RoleAdmin, MinistryCode},
	{"demo-auditor", "박점검", "auditor@demo.k-ai.invalid", models.RoleAuditor, ""},
	{"demo-company-upstage", "최업스 (업스테이지)", "company@upstage.demo.k-ai.invalid", models.RoleCompany, "upstage"},
	{"demo-company-kaist", "정카이 (KAIST)", "company@kaist.demo.k-ai.invalid", models.RoleCompany, "kaist"},
	// An external evaluator (평가위원): an outside expert with no organisation
	// in the portal, who sees only the applications assigned to them.
	{DemoEvaluator, "서전문", "evaluator@demo.k-ai.invalid", models.RoleReviewer, ""},
}

// DemoEvaluator is the demo's external evaluator (RoleReviewer). In the
// additional call they review the first-ranked application (no conflict,
// scored) and recuse themselves from KAIST's.
const DemoEvaluator = "demo-reviewer"

// Seed loads the demo programme: the programme, its 2025 call, the 15
// applicants, the ministry and one demo user per role (two company users, one
// selected team and one not selected). It is idempotent: a second run changes
// nothing and writes no audit row.
func Seed(ctx context.Context, db *gorm.DB, now time.Time) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		_, err := models.GetProgrammeByCode(ctx, tx, ProgrammeCode)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, models.ErrNotFound):
			return fmt.Errorf("store: seed: %w", err)
		}
		prog := models.Programme{Code: ProgrammeCode,
			NameKO: "독자 AI 파운데이션 모델 프로젝트", NameEN: "Sovereign AI Foundation Model Project",
			MinistryKO: "과학기술정보통신부", MinistryEN: "Ministry of Science and ICT"}
		kst := time.FixedZone("KST", 9*60*60)
		call := models.Call{
			TitleKO:       "2025년 독자 AI 파운데이션 모델 프로젝트 정예팀 공모",
			TitleEN:       "2025 call for elite teams, Sovereign AI Foundation Model Project",
			DescriptionKO: "글로벌 수준의 AI 파운데이션 모델을 개발할 정예팀 5개를 선발합니다. 기업 규모나 유형에 따른 할당은 없습니다.",
			DescriptionEN: "Five elite teams are selected to build foundation models of global standing. There is no quota by company size or type.",
			// Demo dates, consistent with the announcement of 2025-08-04.
			OpensAt:  time.Date(2025, 6, 20, 9, 0, 0, 0, kst).UTC(),
			ClosesAt: time.Date(2025, 7, 21, 18, 0, 0, 0, kst).UTC(),
			Slots:    5,
		}
		if err := models.CreateProgramme(ctx, tx, &prog, &call); err != nil {
			return fmt.Errorf("store: seed: %w", err)
		}
		orgs := map[string]uint{}
		all := append([]Organisation{{MinistryCode, "과학기술정보통신부", "Ministry of Science and ICT", models.OrgMinistry, false}}, Organisations...)
		for _, d := range all {
			o := models.Organisation{Code: d.Code, NameKO: d.NameKO, NameEN: d.NameEN, Kind: d.Kind}
			if _, err := models.EnsureOrganisation(ctx, tx, &o); err != nil {
				return fmt.Errorf("store: seed: %w", err)
			}
			orgs[d.Code] = o.ID
		}
		for _, d := range demoUsers {
			id := models.Identity{Issuer: models.DemoIssuer, Subject: d.Subject, Email: d.Email, Name: d.Name, Role: d.Role}
			if d.OrgCode != "" {
				orgID, ok := orgs[d.OrgCode]
				if !ok {
					return errors.New("store: seed: unknown organisation " + d.OrgCode)
				}
				id.OrganisationID = &orgID
			}
			if _, err := models.UpsertUser(ctx, tx, id, now); err != nil {
				return err
			}
		}
		summary := fmt.Sprintf("demo programme seeded: 1 call, %d organisations, %d users", len(all), len(demoUsers))
		return models.RecordAudit(ctx, tx, models.ActorOf(nil), models.ActionSeed, "programme", prog.Code, summary, now)
	})
}
