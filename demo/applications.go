package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
)

// The demo story: SeedApplications replays the 2025 call of BRIEF.md on
// the call that Seed created, through the same store functions the
// portal uses, each at its historical instant (KST):
//
//	2025-06-16 10:00  the officer sets the criteria and required documents
//	2025-06-23 –      the 15 applicants draft, build their consortium, upload
//	2025-07-21 17:42  and submit (the last one 18 minutes before the close)
//	2025-07-22 –      four officers review: assignment, conflict of
//	2025-07-27        interest (one recusal), scores per criterion
//	2025-08-04 10:00  the selection of the five elite teams is published
//
// Consortium partners, titles, summaries, scores and ranks are illustrative
// demo data, not the real consortia or the panel's scores; the business
// registration numbers are invented (their check digits are valid).

// Instants of the demo story.
var (
	demoCriteriaAt = time.Date(2025, 6, 16, 10, 0, 0, 0, models.KST)
	demoDraftsFrom = time.Date(2025, 6, 23, 9, 30, 0, 0, models.KST)
	demoSubmitFrom = time.Date(2025, 7, 14, 10, 0, 0, 0, models.KST)
	demoLastSubmit = time.Date(2025, 7, 21, 17, 42, 10, 0, models.KST)
	demoReviewFrom = time.Date(2025, 7, 22, 10, 0, 0, 0, models.KST)
	demoConflictAt = time.Date(2025, 7, 23, 9, 0, 0, 0, models.KST)
	demoScoresFrom = time.Date(2025, 7, 24, 10, 0, 0, 0, models.KST)
	// DecisionAt is when the demo selection was published: 2025-08-04 10:00 KST.
	DecisionAt = time.Date(2025, 8, 4, 10, 0, 0, 0, models.KST)
)

// ProgrammeCode is the code of the demo programme Seed creates.
const ProgrammeCode = "sovereign-ai-2025"

var demoCriteria = []models.Criterion{
	{NameKO: "기술력", NameEN: "Technology", Weight: 40, MaxScore: 100},
	{NameKO: "글로벌 파급력", NameEN: "Global impact", Weight: 30, MaxScore: 100},
	{NameKO: "데이터·GPU 확보 계획", NameEN: "Data and GPU plan", Weight: 15, MaxScore: 100},
	{NameKO: "공공 활용·개방 계획", NameEN: "Public use and openness", Weight: 15, MaxScore: 100},
}

var demoDocuments = []models.RequiredDocument{
	{NameKO: "사업계획서", NameEN: "Business plan", Required: true},
	{NameKO: "컨소시엄 구성 확약서", NameEN: "Consortium commitment", Required: true},
	{NameKO: "보안 서약서", NameEN: "Security pledge", Required: false},
}

// demoPartner is an organisation that joins consortia without leading one.
type demoPartner struct {
	Code, NameKO, NameEN, Kind, BRN string
}

var demoPartners = []demoPartner{
	{"snu", "서울대학교", "Seoul National University", models.OrgUniversity, "214-82-01017"},
	{"korea-univ", "고려대학교", "Korea University", models.OrgUniversity, "135-82-02028"},
	{"postech", "포항공과대학교", "POSTECH", models.OrgUniversity, "506-82-03030"},
	{"yonsei", "연세대학교", "Yonsei University", models.OrgUniversity, "105-82-04044"},
	{"selectstar", "셀렉트스타", "SelectStar", models.OrgCompany, "220-81-15052"},
	{"crowdworks", "크라우드웍스", "Crowdworks", models.OrgCompany, "211-81-16061"},
	{"flitto", "플리토", "Flitto", models.OrgCompany, "120-81-17070"},
	{"rebellions", "리벨리온", "Rebellions", models.OrgCompany, "144-81-18089"},
	{"furiosaai", "퓨리오사AI", "FuriosaAI", models.OrgCompany, "220-81-19096"},
	{"nota", "노타", "Nota AI", models.OrgCompany, "214-81-20109"},
	{"krafton", "크래프톤", "Krafton", models.OrgCompany, "220-81-21118"},
	{"nhn-cloud", "NHN클라우드", "NHN Cloud", models.OrgCompany, "129-81-22129"},
	{"lg-uplus", "LG유플러스", "LG Uplus", models.OrgCompany, "220-81-23135"},
	{"testworks", "테스트웍스", "Testworks", models.OrgCompany, "107-81-24146"},
}

type demoMember struct{ Code, Role string }

// demoApplication is one applicant's application and the panel's view of it:
// Scores are the mean score per criterion (in demoCriteria's order).
type demoApplication struct {
	Org              string
	TitleKO, TitleEN string
	Summary          string
	Members          []demoMember
	Scores           [4]float64
	Pledge           bool // also uploads the optional security pledge
}

// demoApplications follow Organisations; their scores rank them in that
// order, so the five selected teams of BRIEF.md are ranks 1–5.
var demoApplications = []demoApplication{
	{"naver-cloud", "옴니모달 파운데이션 모델 하이퍼클로바X 옴니 개발", "HyperCLOVA X Omni: an omni-modal foundation model",
		"텍스트·음성·이미지를 함께 이해하는 옴니모달 모델을 처음부터 학습하고, 검색·지도·쇼핑 서비스와 공공 서비스에 적용합니다.",
		[]demoMember{{"snu", models.MemberResearch}, {"postech", models.MemberResearch}, {"selectstar", models.MemberData}}, [4]float64{92, 88, 90, 85}, true},
	{"upstage", "프런티어급 한국어 파운데이션 모델 솔라(Solar) 고도화", "Solar: a frontier-class Korean foundation model",
		"효율적인 모델 확장 기법으로 글로벌 최고 수준의 성능을 목표로 하고, 문서 이해 특화 모델을 공공·금융 현장에 보급합니다.",
		[]demoMember{{"flitto", models.MemberData}, {"nota", models.MemberModel}, {"korea-univ", models.MemberResearch}}, [4]float64{90, 89, 84, 86}, true},
	{"sk-telecom", "A.X 기반 한국형 대규모 언어모델 개발", "A.X: a Korean large language model at global scale",
		"통신·게임·모빌리티 데이터를 결합한 대규모 언어모델을 개발하고 국산 AI 반도체에서의 추론을 실증합니다.",
		[]demoMember{{"krafton", models.MemberModel}, {"rebellions", models.MemberGPU}, {"yonsei", models.MemberResearch}}, [4]float64{89, 86, 88, 84}, true},
	{"nc-ai", "VARCO 기반 산업 특화 멀티모달 파운데이션 모델", "VARCO: an industrial multimodal foundation model",
		"제조·유통·콘텐츠 산업의 멀티모달 데이터로 산업 특화 파운데이션 모델을 만들고 참여 기업의 현장에 적용합니다.",
		[]demoMember{{"nhn-cloud", models.MemberGPU}, {"crowdworks", models.MemberData}, {"korea-univ", models.MemberResearch}}, [4]float64{87, 85, 86, 88}, true},
	{"lg-ai-research", "엑사원(EXAONE) 차세대 추론형 파운데이션 모델", "EXAONE: a next-generation reasoning foundation model",
		"추론 능력을 강화한 차세대 모델을 개발하고 국산 NPU 추론 환경과 통신·제조 수요처에서 검증합니다.",
		[]demoMember{{"lg-uplus", models.MemberService}, {"furiosaai", models.MemberGPU}, {"snu", models.MemberResearch}}, [4]float64{88, 84, 85, 83}, true},
	{"lunit", "의료 특화 멀티모달 파운데이션 모델", "A medical multimodal foundation model",
		"영상·병리·임상 기록을 함께 학습하는 의료 특화 파운데이션 모델을 개발합니다.",
		[]demoMember{{"yonsei", models.MemberResearch}, {"testworks", models.MemberData}}, [4]float64{84, 80, 78, 82}, false},
	{"motif-technologies", "경량 고효율 한국어 파운데이션 모델", "A lean, efficient Korean foundation model",
		"적은 연산으로 높은 성능을 내는 경량 모델 구조와 학습 기법을 개발합니다.",
		[]demoMember{{"rebellions", models.MemberModel}}, [4]float64{83, 79, 76, 80}, false},
	{"bionexus", "바이오·헬스케어 지식 기반 파운데이션 모델", "A biomedical knowledge foundation model",
		"바이오 문헌과 실험 데이터를 학습한 지식 기반 모델로 신약 연구를 지원합니다.",
		[]demoMember{{"crowdworks", models.MemberData}}, [4]float64{80, 78, 77, 81}, false},
	{"sionic-ai", "기업용 검색증강 파운데이션 모델", "A retrieval-augmented foundation model for enterprises",
		"기업 문서 검색과 생성을 결합한 모델로 업무 자동화를 지원합니다.",
		[]demoMember{{"testworks", models.MemberData}}, [4]float64{79, 77, 75, 78}, false},
	{"junctionmed", "임상 문서 이해 파운데이션 모델", "A clinical document understanding foundation model",
		"진료 기록과 의료 문서를 이해하는 모델로 의료진의 기록 업무를 줄입니다.",
		[]demoMember{{"snu", models.MemberResearch}}, [4]float64{78, 75, 74, 77}, false},
	{"kakao", "카나나(Kanana) 기반 생활 밀착형 파운데이션 모델", "Kanana: an everyday-life foundation model",
		"메신저·지도·결제 등 생활 서비스에 쓰이는 대화형 파운데이션 모델을 개발합니다.",
		[]demoMember{{"selectstar", models.MemberData}}, [4]float64{76, 74, 80, 70}, false},
	{"kt", "믿:음(Mi:dm) 기반 공공·기업 특화 파운데이션 모델", "Mi:dm: a foundation model for public and enterprise use",
		"공공·기업 업무에 맞춘 파운데이션 모델과 보안이 강화된 전용 클라우드 제공 방안을 제시합니다.",
		[]demoMember{{"furiosaai", models.MemberModel}, {"postech", models.MemberResearch}}, [4]float64{75, 72, 79, 71}, false},
	{"konan-technology", "공공 문서 특화 파운데이션 모델", "A foundation model for public-sector documents",
		"행정 문서와 법령을 학습한 모델로 공공기관의 문서 업무를 지원합니다.",
		[]demoMember{{"flitto", models.MemberData}}, [4]float64{74, 70, 72, 75}, false},
	{"pion-corporation", "멀티에이전트 기반 파운데이션 모델", "A multi-agent foundation model",
		"여러 에이전트가 협업하는 구조의 파운데이션 모델을 개발합니다.",
		[]demoMember{{"testworks", models.MemberData}}, [4]float64{72, 69, 70, 72}, false},
	{"kaist", "오픈소스 학술 파운데이션 모델", "An open academic foundation model",
		"학습 데이터와 가중치를 모두 공개하는 학술용 파운데이션 모델을 개발합니다.",
		[]demoMember{{"postech", models.MemberResearch}, {"nota", models.MemberModel}}, [4]float64{70, 64, 66, 72}, false},
}

// demoReviewers review every application with the demo officer.
var demoReviewers = []demoUser{
	{"demo-reviewer-1", "한심사", "reviewer1@demo.k-ai.invalid", models.RoleOfficer, MinistryCode},
	{"demo-reviewer-2", "윤평가", "reviewer2@demo.k-ai.invalid", models.RoleOfficer, MinistryCode},
	{"demo-reviewer-3", "장검토", "reviewer3@demo.k-ai.invalid", models.RoleOfficer, MinistryCode},
}

// The one recusal of the story: the third reviewer has a conflict with KAIST.
const (
	demoRecusedReviewer = "demo-reviewer-3"
	demoRecusedFrom     = "kaist"
)

// demoOffsets spread the reviewers' scores around the mean: reviewer j gives
// criterion k the mean plus demoOffsets[(j+k)%4]; the four add up to zero.
var demoOffsets = [4]float64{2, -3, 1, 0}

// Notice of the demo decision, modelled on the ministry's announcement.
const (
	demoNoticeKO = "과학기술정보통신부는 「독자 AI 파운데이션 모델 프로젝트」 정예팀 공모에 신청한 15개 컨소시엄을 평가하여 5개 정예팀을 선정하였습니다. " +
		"기업 규모나 유형에 따른 할당 없이 글로벌 파급력을 갖춘 팀을 선정하였습니다.\n\n" +
		"선정된 정예팀은 8월 초 협약을 체결한 뒤 개발에 착수하며, 'K-AI 모델' 또는 'K-AI 기업' 명칭을 공식적으로 사용할 수 있습니다. " +
		"정예팀은 6개월마다 단계평가를 받으며, 단계평가마다 한 팀이 탈락합니다.\n\n" +
		"평가 절차에 중대한 하자가 확인되면 이의신청이 받아들여질 수 있습니다."
	demoNoticeEN = "The Ministry of Science and ICT evaluated the 15 consortia that applied to the call for elite teams of the Sovereign AI Foundation Model Project and selected five elite teams. " +
		"Teams were chosen for their global impact, with no quota by company size or type.\n\n" +
		"The selected teams sign their agreements with the ministry in early August and then start development; they may officially use the names \"K-AI model\" or \"K-AI company\". " +
		"Every six months a stage evaluation eliminates one team.\n\n" +
		"An objection can be upheld when a material defect in the evaluation procedure is found."
)

// SeedApplications replays the demo call's story (see the top of this
// file) after Seed: criteria and required documents, 15 submitted
// applications with their consortia and documents, four reviewers' scores
// and the published selection of 2025-08-04. It runs in one transaction and
// is idempotent: once the call has applications it changes nothing. files
// receives the generated PDF documents.
func SeedApplications(ctx context.Context, db *gorm.DB, files *models.FileStore, now time.Time) error {
	if files == nil {
		return errors.New("store: seed demo applications: no file store")
	}
	if now.Before(DecisionAt) {
		return fmt.Errorf("store: seed demo applications: the clock (%s) is before the story ends", now.In(models.KST).Format(time.RFC3339))
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockSeeding(tx); err != nil {
			return err
		}
		call, err := firstCall(ctx, tx)
		if err != nil {
			return fmt.Errorf("store: seed demo applications: the demo call (run Seed first): %w", err)
		}
		_, apps, err := models.ListApplications(ctx, tx, models.ApplicationFilter{CallID: call.ID, Limit: 1})
		if err != nil {
			return fmt.Errorf("store: seed demo applications: %w", err)
		}
		if apps > 0 {
			return nil
		}
		s := &demoSeeder{ctx: ctx, tx: tx, files: files, now: now, orgs: map[string]*models.Organisation{}, story: demoStory2025()}
		return s.run(call.ID)
	})
}

// firstCall returns the demo programme's first call, the 2025 call.
func firstCall(ctx context.Context, db *gorm.DB) (*models.Call, error) {
	prog, err := models.GetProgrammeByCode(ctx, db, ProgrammeCode)
	if err != nil {
		return nil, err
	}
	calls, err := models.ListCalls(ctx, db)
	if err != nil {
		return nil, err
	}
	var first *models.Call
	for i, c := range calls {
		if c.ProgrammeID == prog.ID && (first == nil || c.ID < first.ID) {
			first = &calls[i]
		}
	}
	if first == nil {
		return nil, fmt.Errorf("store: no call of programme %s: %w", ProgrammeCode, models.ErrNotFound)
	}
	return first, nil
}

// demoStory is one call's replay: who applies, when each step happens, who
// is selected and the notice of the decision.
type demoStory struct {
	pdfHeading string // the first line of the generated documents
	apps       []demoApplication
	selected   func(code string) bool
	draftsFrom time.Time     // the first draft; each next one draftStep later
	draftStep  time.Duration //
	submitFrom time.Time     // the first submission; each next one submitStep later
	submitStep time.Duration //
	lastSubmit time.Time     // the last application's submission, just before the close
	reviewFrom time.Time     // reviewers assigned
	conflictAt time.Time     // conflicts of interest declared
	scoresFrom time.Time     // the first reviewer's scores; each next reviewer a day later
	decisionAt time.Time     // the decision published
	// evaluator: the applications (by lead's code) that the demo's external
	// evaluator also reviews, with their declaration; they score a
	// no-conflict one at the panel's mean, so the ranking does not change.
	evaluator map[string]string
	noticeKO  string
	noticeEN  string
}

// demoStory2025 is the 2025 call's story (see the top of this file).
func demoStory2025() *demoStory {
	return &demoStory{
		pdfHeading: "Sovereign AI Foundation Model Project - 2025 call for elite teams",
		apps:       demoApplications, selected: demoSelected,
		draftsFrom: demoDraftsFrom, draftStep: 24*time.Hour + 17*time.Minute,
		submitFrom: demoSubmitFrom, submitStep: 6*time.Hour + 7*time.Minute, lastSubmit: demoLastSubmit,
		reviewFrom: demoReviewFrom, conflictAt: demoConflictAt, scoresFrom: demoScoresFrom,
		decisionAt: DecisionAt, noticeKO: demoNoticeKO, noticeEN: demoNoticeEN,
	}
}

// demoSeeder carries the state of one replay.
type demoSeeder struct {
	ctx       context.Context
	tx        *gorm.DB
	files     *models.FileStore
	now       time.Time
	story     *demoStory
	officer   *models.User
	reviewers []*models.User // the demo officer first
	orgs      map[string]*models.Organisation
	call      *models.Call
}

func (s *demoSeeder) run(callID uint) error {
	if err := s.staff(); err != nil {
		return err
	}
	if err := s.criteria(callID); err != nil {
		return err
	}
	_, err := s.replay()
	return err
}

// staff finds the demo officer and registers the demo reviewers.
func (s *demoSeeder) staff() error {
	var err error
	if s.officer, err = demoOfficer(s.ctx, s.tx); err != nil {
		return fmt.Errorf("store: seed demo applications: the demo officer: %w", err)
	}
	ministry, err := models.GetOrganisationByCode(s.ctx, s.tx, MinistryCode)
	if err != nil {
		return err
	}
	s.reviewers = []*models.User{s.officer}
	for _, d := range demoReviewers {
		u, err := models.UpsertUser(s.ctx, s.tx, models.Identity{Issuer: models.DemoIssuer, Subject: d.Subject, Email: d.Email,
			Name: d.Name, Role: d.Role, OrganisationID: &ministry.ID}, s.now)
		if err != nil {
			return err
		}
		s.reviewers = append(s.reviewers, u)
	}
	return nil
}

// replay applies, reviews and decides s.call as the story tells, and
// returns the published decision.
func (s *demoSeeder) replay() (*models.Decision, error) {
	if err := s.partners(); err != nil {
		return nil, err
	}
	var err error
	ids := make([]uint, len(s.story.apps))
	for i, d := range s.story.apps {
		if ids[i], err = s.apply(i, d); err != nil {
			return nil, fmt.Errorf("store: seed demo application of %s: %w", d.Org, err)
		}
	}
	for i, d := range s.story.apps {
		if err := s.review(i, ids[i], d); err != nil {
			return nil, fmt.Errorf("store: seed demo review of %s: %w", d.Org, err)
		}
	}
	return s.publish(ids)
}

// criteria gives the call its criteria and required documents, before it opens.
func (s *demoSeeder) criteria(callID uint) error {
	call, err := models.GetCall(s.ctx, s.tx, callID)
	if err != nil {
		return err
	}
	call.Criteria = append([]models.Criterion(nil), demoCriteria...)
	call.Documents = append([]models.RequiredDocument(nil), demoDocuments...)
	if err := models.SaveCall(s.ctx, s.tx, call, s.officer, demoCriteriaAt); err != nil {
		return err
	}
	s.call, err = models.GetCall(s.ctx, s.tx, callID)
	return err
}

// partners registers the consortium partners and finds the applicants.
func (s *demoSeeder) partners() error {
	for _, d := range Organisations {
		o, err := models.GetOrganisationByCode(s.ctx, s.tx, d.Code)
		if err != nil {
			return err
		}
		s.orgs[d.Code] = o
	}
	var created []string
	for _, p := range demoPartners {
		brn, err := models.ParseBusinessRegNo(p.BRN)
		if err != nil {
			return fmt.Errorf("store: seed partner %s: %w", p.Code, err)
		}
		at := demoCriteriaAt.UTC()
		o := models.Organisation{Code: p.Code, NameKO: p.NameKO, NameEN: p.NameEN, Kind: p.Kind,
			BusinessRegNo: string(brn), CreatedAt: at, UpdatedAt: at}
		made, err := models.EnsureOrganisation(s.ctx, s.tx, &o)
		if err != nil {
			return fmt.Errorf("store: seed partner: %w", err)
		}
		if made {
			created = append(created, p.NameKO)
		}
		s.orgs[p.Code] = &o
	}
	if len(created) == 0 {
		return nil
	}
	return models.RecordAudit(s.ctx, s.tx, models.ActorOf(nil), models.ActionSeed, "organisation", "demo-partners",
		fmt.Sprintf("demo consortium partners registered: %s", strings.Join(created, ", ")), demoCriteriaAt)
}

// applicant returns the company user who applies for an organisation: the
// seeded demo user where there is one, else a new demo user.
func (s *demoSeeder) applicant(o *models.Organisation) (*models.User, error) {
	u, err := demoUserWhere(s.ctx, s.tx, "of "+o.Code, func(u *models.User) bool {
		return u.Role == models.RoleCompany && u.OrganisationID != nil && *u.OrganisationID == o.ID
	})
	if err == nil || !errors.Is(err, models.ErrNotFound) {
		return u, err
	}
	return models.UpsertUser(s.ctx, s.tx, models.Identity{Issuer: models.DemoIssuer, Subject: "demo-company-" + o.Code,
		Email: "company@" + o.Code + ".demo.k-ai.invalid", Name: "담당자 (" + o.NameKO + ")",
		Role: models.RoleCompany, OrganisationID: &o.ID}, s.now)
}

// apply drafts, completes and submits one application, returning its id.
func (s *demoSeeder) apply(i int, d demoApplication) (uint, error) {
	lead, ok := s.orgs[d.Org]
	if !ok {
		return 0, fmt.Errorf("unknown organisation %q: %w", d.Org, models.ErrNotFound)
	}
	user, err := s.applicant(lead)
	if err != nil {
		return 0, err
	}
	at := s.story.draftsFrom.Add(time.Duration(i) * s.story.draftStep)
	a := &models.Application{CallID: s.call.ID, TitleKO: d.TitleKO, TitleEN: d.TitleEN, Summary: d.Summary,
		CreatedAt: at.UTC(), UpdatedAt: at.UTC()}
	if err := models.CreateApplication(s.ctx, s.tx, a, user, at); err != nil {
		return 0, err
	}
	if err := s.consortium(a, d, user, at); err != nil {
		return 0, err
	}
	policy := models.UploadPolicy{MaxBytes: 1 << 20, Allowed: []models.FileKind{models.FilePDF}}
	for k, rd := range s.call.Documents {
		if !rd.Required && !d.Pledge {
			continue
		}
		upAt := at.Add(time.Hour + time.Duration(k)*5*time.Minute)
		pdf := PDF([]string{
			s.story.pdfHeading,
			rd.NameEN,
			"Applicant: " + lead.NameEN,
			"Project: " + d.TitleEN,
			"Prepared " + upAt.In(models.KST).Format("2006-01-02 15:04 KST"),
			"Demo document generated by the portal's demo seed; not a real submission.",
		})
		name := fmt.Sprintf("%s_%s.pdf", rd.NameKO, lead.NameKO)
		f, err := s.files.Save(s.ctx, s.tx, name, bytes.NewReader(pdf), policy, user.ID, upAt.UTC())
		if err != nil {
			return 0, err
		}
		if err := models.AttachDocument(s.ctx, s.tx, a.ID, rd.ID, f, user, upAt); err != nil {
			return 0, err
		}
	}
	submitAt := s.story.submitFrom.Add(time.Duration(i) * s.story.submitStep)
	if i == len(s.story.apps)-1 {
		submitAt = s.story.lastSubmit
	}
	done, err := models.TransitionApplication(s.ctx, s.tx, a.ID, models.ActSubmit, user, submitAt)
	if err != nil {
		return 0, err
	}
	if !done {
		return 0, fmt.Errorf("submit made no change: %w", models.ErrInvalidTransition)
	}
	return a.ID, nil
}

// review assigns the four reviewers, records their declarations and scores.
func (s *demoSeeder) review(i int, appID uint, d demoApplication) error {
	step := time.Duration(i)
	for j, r := range s.reviewers {
		if err := models.AssignReviewer(s.ctx, s.tx, appID, r.ID, s.officer, s.story.reviewFrom.Add(step*4*time.Minute+time.Duration(j)*time.Minute)); err != nil {
			return err
		}
	}
	as, err := models.ListAssignments(s.ctx, s.tx, appID)
	if err != nil {
		return err
	}
	byReviewer := map[uint]models.ReviewAssignment{}
	for _, a := range as {
		byReviewer[a.ReviewerID] = a
	}
	for j, r := range s.reviewers {
		a := byReviewer[r.ID]
		conflict := models.ConflictNone
		if r.Subject == demoRecusedReviewer && d.Org == demoRecusedFrom {
			conflict = models.ConflictRecused
		}
		declAt := s.story.conflictAt.Add(time.Duration(j)*10*time.Minute + step*30*time.Second)
		if err := models.DeclareConflict(s.ctx, s.tx, a.ID, conflict, r, declAt); err != nil {
			return err
		}
		if conflict == models.ConflictRecused {
			continue
		}
		in := make([]models.ScoreInput, len(s.call.Criteria))
		for k, c := range s.call.Criteria {
			v := d.Scores[k] + demoOffsets[(j+k)%len(demoOffsets)]
			in[k] = models.ScoreInput{CriterionID: c.ID, Value: v, Comment: demoComment(c, v)}
		}
		scoredAt := s.story.scoresFrom.Add(time.Duration(j)*24*time.Hour + step*15*time.Minute)
		if err := models.SaveScores(s.ctx, s.tx, a.ID, in, r, scoredAt); err != nil {
			return err
		}
	}
	if conflict, ok := s.story.evaluator[d.Org]; ok {
		return s.evaluate(i, appID, d, conflict)
	}
	return nil
}

// evaluate has the demo's external evaluator review the application too:
// assigned after the panel, declaring conflict, and, with none, scoring
// every criterion at the panel's mean (the mean does not move).
func (s *demoSeeder) evaluate(i int, appID uint, d demoApplication, conflict string) error {
	ev, err := demoUserWhere(s.ctx, s.tx, DemoEvaluator, func(u *models.User) bool {
		return u.Subject == DemoEvaluator && u.Role == models.RoleReviewer
	})
	if errors.Is(err, models.ErrNotFound) {
		return nil // a demo seeded before evaluators existed: the panel alone reviews
	}
	if err != nil {
		return fmt.Errorf("store: seed demo evaluator: %w", err)
	}
	step := time.Duration(i)
	if err := models.AssignReviewer(s.ctx, s.tx, appID, ev.ID, s.officer,
		s.story.reviewFrom.Add(step*4*time.Minute+time.Duration(len(s.reviewers))*time.Minute)); err != nil {
		return err
	}
	as, err := models.AssignmentsOf(s.ctx, s.tx, ev.ID)
	if err != nil {
		return err
	}
	var a models.ReviewAssignment
	for _, x := range as {
		if x.ApplicationID == appID {
			a = x
		}
	}
	declAt := s.story.conflictAt.Add(time.Duration(len(s.reviewers))*10*time.Minute + step*30*time.Second)
	if err := models.DeclareConflict(s.ctx, s.tx, a.ID, conflict, ev, declAt); err != nil || conflict != models.ConflictNone {
		return err
	}
	in := make([]models.ScoreInput, len(s.call.Criteria))
	for k, c := range s.call.Criteria {
		in[k] = models.ScoreInput{CriterionID: c.ID, Value: d.Scores[k], Comment: demoComment(c, d.Scores[k])}
	}
	return models.SaveScores(s.ctx, s.tx, a.ID, in, ev, s.story.scoresFrom.Add(time.Duration(len(s.reviewers))*24*time.Hour+step*15*time.Minute))
}

// demoComment is a reviewer's short comment on one criterion's score.
func demoComment(c models.Criterion, v float64) string {
	switch {
	case v >= 88:
		return c.NameKO + ": 매우 우수함. 계획이 구체적이고 실현 가능성이 높음."
	case v >= 82:
		return c.NameKO + ": 우수함. 일부 세부 계획 보완 필요."
	case v >= 75:
		return c.NameKO + ": 양호함. 목표 대비 근거가 다소 부족함."
	}
	return c.NameKO + ": 보통. 실행 계획과 근거 보완이 필요함."
}

// publish checks that the ranking puts the story's selected teams (for
// 2025, those of BRIEF.md) on top and publishes the decision as the demo
// officer.
func (s *demoSeeder) publish(ids []uint) (*models.Decision, error) {
	sheets, err := models.LoadScoreSheets(s.ctx, s.tx, s.call)
	if err != nil {
		return nil, err
	}
	ranking := models.RankApplications(s.call.Criteria, sheets)
	want := map[uint]bool{}
	var selected []uint
	for i, d := range s.story.apps {
		if s.story.selected(d.Org) {
			want[ids[i]] = true
			selected = append(selected, ids[i])
		}
	}
	if len(selected) != s.call.Slots || len(ranking) != len(ids) {
		return nil, fmt.Errorf("store: seed demo decision: %d selected of %d ranked: %w", len(selected), len(ranking), models.ErrInvalid)
	}
	for _, r := range ranking[:len(selected)] {
		if !want[r.ApplicationID] {
			return nil, fmt.Errorf("store: seed demo decision: application %d ranks %d but was not selected: %w",
				r.ApplicationID, r.Rank, models.ErrInvalid)
		}
	}
	return models.PublishSelection(s.ctx, s.tx, models.PublishInput{CallID: s.call.ID, Selected: selected,
		NoticeKO: s.story.noticeKO, NoticeEN: s.story.noticeEN, CountingRule: models.RuleCivil}, s.officer, s.story.decisionAt)
}

func demoSelected(code string) bool {
	for _, d := range Organisations {
		if d.Code == code {
			return d.Selected
		}
	}
	return false
}

// PDF returns a small, valid one-page PDF showing the lines (ASCII,
// Helvetica), with a correct cross-reference table.
func PDF(lines []string) []byte {
	var content bytes.Buffer
	content.WriteString("BT /F1 12 Tf 72 770 Td 16 TL\n")
	for _, l := range lines {
		content.WriteString("(" + pdfEscape(l) + ") Tj T*\n")
	}
	content.WriteString("ET\n")
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

// pdfEscape keeps printable ASCII and escapes what a PDF string literal needs.
func pdfEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
