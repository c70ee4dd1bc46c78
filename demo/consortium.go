package demo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
)

// demoTerms are the selected teams' consortium terms in the demo story:
// each party's share of the work and the GPUs it brings itself, keyed by
// lead and then by party (the lead under its own code). Illustrative demo
// data, not the teams' real agreements.
var demoTerms = map[string]map[string]models.MemberTerms{
	"naver-cloud": {
		"naver-cloud": {Share: 65, GPUCount: 1000, GPUModel: "NVIDIA H100", GPUNotes: "자체 데이터센터(각 세종)"},
		"snu":         {Share: 10}, "postech": {Share: 10}, "selectstar": {Share: 10},
	},
	"upstage": {
		"upstage": {Share: 60, GPUCount: 128, GPUModel: "NVIDIA H100"},
		"flitto":  {Share: 15}, "nota": {Share: 15}, "korea-univ": {Share: 10},
	},
	"sk-telecom": {
		"sk-telecom": {Share: 55, GPUCount: 512, GPUModel: "NVIDIA H200"},
		"krafton":    {Share: 20}, "yonsei": {Share: 10},
		"rebellions": {Share: 15, GPUCount: 64, GPUModel: "Rebellions ATOM", GPUNotes: "추론 검증용 NPU"},
	},
	"nc-ai": {
		"nc-ai":      {Share: 60},
		"nhn-cloud":  {Share: 20, GPUCount: 256, GPUModel: "NVIDIA H100", GPUNotes: "광주 AI 데이터센터"},
		"crowdworks": {Share: 10}, "korea-univ": {Share: 10},
	},
	"lg-ai-research": {
		"lg-ai-research": {Share: 65, GPUCount: 256, GPUModel: "NVIDIA A100"},
		"lg-uplus":       {Share: 15}, "snu": {Share: 10},
		"furiosaai": {Share: 10, GPUCount: 32, GPUModel: "FuriosaAI RNGD"},
	},
}

// termsInput is the form a terms struct would have been typed in.
func termsInput(t models.MemberTerms) models.MemberTermsInput {
	return models.MemberTermsInput{Role: t.Role, Share: strconv.Itoa(t.Share), GPUCount: strconv.Itoa(t.GPUCount),
		GPUModel: t.GPUModel, GPUNotes: t.GPUNotes}
}

// consortium builds a draft's consortium as its users would: the lead
// invites each partner with its terms, the partner's company user accepts
// five minutes later, and the lead sets its own share and GPUs.
func (s *demoSeeder) consortium(a *models.Application, d demoApplication, lead *models.User, at time.Time) error {
	terms := demoTerms[d.Org]
	for k, m := range d.Members {
		org, ok := s.orgs[m.Code]
		if !ok {
			return fmt.Errorf("unknown partner %q: %w", m.Code, models.ErrNotFound)
		}
		t := terms[m.Code]
		t.Role = m.Role
		invitedAt := at.Add(time.Duration(k+1) * 10 * time.Minute)
		r, err := models.InviteMember(s.ctx, s.tx, a.ID, org.ID, t, lead, invitedAt)
		if err != nil {
			return err
		}
		partner, err := s.applicant(org)
		if err != nil {
			return err
		}
		if err := models.AnswerInvitation(s.ctx, s.tx, r.ID, models.ReqAccept, partner, invitedAt.Add(5*time.Minute)); err != nil {
			return err
		}
	}
	own, ok := terms[d.Org]
	if !ok {
		return nil
	}
	var m models.ConsortiumMember
	if err := s.tx.Where("application_id = ? AND role = ?", a.ID, models.MemberLead).First(&m).Error; err != nil {
		return err
	}
	return models.SetDraftMemberTerms(s.ctx, s.tx, a.ID, m.ID, termsInput(own), lead,
		at.Add(time.Duration(len(d.Members)+1)*10*time.Minute))
}

// demoConsortiumAt is when the selected teams' consortium changes of the
// demo begin, after the selection of 2025-08-04.
var demoConsortiumAt = time.Date(2025, 8, 18, 10, 0, 0, 0, models.KST)

// SeedConsortia plays the consortium changes after the demo selection:
// Naver Cloud asks to raise Selectstar's share (approved by the demo
// officer) and then to record POSTECH's own GPUs (waiting for an officer);
// Upstage invites KAIST as a research partner (waiting for KAIST's demo
// user to accept). It is idempotent: once a change request exists it
// changes nothing.
func SeedConsortia(ctx context.Context, db *gorm.DB, now time.Time) error {
	if now.Before(demoConsortiumAt.Add(3 * 24 * time.Hour)) {
		return fmt.Errorf("store: seed demo consortia: the clock (%s) is before the changes", now.In(models.KST).Format(time.RFC3339))
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockSeeding(tx); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&models.ConsortiumRequest{}).Where("stage = ?", models.StageChange).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		full, err := firstSelection(ctx, tx)
		if err != nil {
			return fmt.Errorf("store: seed demo consortia: the demo decision (run SeedApplications first): %w", err)
		}
		officer, err := demoOfficer(ctx, tx)
		if err != nil {
			return err
		}
		app := func(code string) (*models.Application, *models.User, error) {
			org, err := models.GetOrganisationByCode(ctx, tx, code)
			if err != nil {
				return nil, nil, err
			}
			var a models.Application
			if err := tx.Where("call_id = ? AND lead_org_id = ?", full.CallID, org.ID).First(&a).Error; err != nil {
				return nil, nil, fmt.Errorf("store: seed demo consortia: %s's application: %w", code, err)
			}
			lead, err := demoUserWhere(ctx, tx, "of "+code, func(u *models.User) bool {
				return u.Role == models.RoleCompany && u.OrganisationID != nil && *u.OrganisationID == org.ID
			})
			return &a, lead, err
		}
		member := func(a *models.Application, code string) (string, error) {
			org, err := models.GetOrganisationByCode(ctx, tx, code)
			if err != nil {
				return "", err
			}
			var m models.ConsortiumMember
			if err := tx.Where("application_id = ? AND organisation_id = ?", a.ID, org.ID).First(&m).Error; err != nil {
				return "", fmt.Errorf("store: seed demo consortia: member %s: %w", code, err)
			}
			return strconv.FormatUint(uint64(m.ID), 10), nil
		}

		naver, naverUser, err := app("naver-cloud")
		if err != nil {
			return err
		}
		sel, err := member(naver, "selectstar")
		if err != nil {
			return err
		}
		raise, err := models.FileConsortiumRequest(ctx, tx, naver.ID, models.ChangeInput{Kind: models.RequestChange, MemberID: sel,
			Terms: models.MemberTermsInput{Role: models.MemberData, Share: "15"},
			Note:  "정부 데이터셋 벤치마크용 한국어 데이터 구축 범위가 늘어 셀렉트스타의 분담 비율을 높입니다."}, naverUser, demoConsortiumAt)
		if err != nil {
			return fmt.Errorf("store: seed demo consortia: %w", err)
		}
		if err := models.DecideConsortiumRequest(ctx, tx, raise.ID, models.ReqApprove, "", officer,
			demoConsortiumAt.Add(24*time.Hour)); err != nil {
			return fmt.Errorf("store: seed demo consortia: approve: %w", err)
		}
		postech, err := member(naver, "postech")
		if err != nil {
			return err
		}
		if _, err := models.FileConsortiumRequest(ctx, tx, naver.ID, models.ChangeInput{Kind: models.RequestChange, MemberID: postech,
			Terms: models.MemberTermsInput{Role: models.MemberResearch, Share: "10", GPUCount: "16", GPUModel: "NVIDIA A100",
				GPUNotes: "포항공대 슈퍼컴퓨팅센터 보유분, 평가 실험용"},
			Note: "POSTECH가 자체 보유 GPU를 평가 실험에 투입하기로 하여 기록합니다."}, naverUser, demoConsortiumAt.Add(48*time.Hour)); err != nil {
			return fmt.Errorf("store: seed demo consortia: %w", err)
		}

		upstage, upstageUser, err := app("upstage")
		if err != nil {
			return err
		}
		kaist, err := models.GetOrganisationByCode(ctx, tx, "kaist")
		if err != nil {
			return err
		}
		if _, err := models.FileConsortiumRequest(ctx, tx, upstage.ID, models.ChangeInput{Kind: models.RequestAdd,
			OrganisationID: strconv.FormatUint(uint64(kaist.ID), 10),
			Terms:          models.MemberTermsInput{Role: models.MemberResearch, Share: "0"},
			Note:           "한국어 추론 평가셋 공동 연구를 위해 KAIST를 연구기관으로 초청합니다."}, upstageUser, demoConsortiumAt.Add(72*time.Hour)); err != nil {
			return fmt.Errorf("store: seed demo consortia: %w", err)
		}
		return nil
	})
}
