package handlers

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// The programme story: one builder for the objects the tests act on. Each
// step goes through the models, as the people of the programme would
// through the portal, at the test clock's instant; a step that fails stops
// the test. The steps compose: the authorisation matrix tells the whole
// story once per database, an area's test only the part it needs.

// story is the portal with the demo programme seeded and the steps that
// add to it.
type story struct {
	t     testing.TB
	app   *testApp
	orgs  map[string]*models.Organisation // by code
	users map[string]*models.User         // by subject
}

// newStory starts the portal (newTestApp) for a story.
func newStory(t testing.TB, kind testdb.Kind, env map[string]string) *story {
	t.Helper()
	return storyOf(t, newTestApp(t, kind, env))
}

// storyOf tells a story on a portal already started.
func storyOf(t testing.TB, app *testApp) *story {
	return &story{t: t, app: app, orgs: map[string]*models.Organisation{}, users: map[string]*models.User{}}
}

func (s *story) now() time.Time { return s.app.clock.Now() }

// org is the organisation with the code (the demo's: upstage, kaist, naver-cloud, kakao, ...).
func (s *story) org(code string) *models.Organisation {
	s.t.Helper()
	if o, ok := s.orgs[code]; ok {
		return o
	}
	o, err := models.GetOrganisationByCode(s.t.Context(), s.app.db, code)
	if err != nil {
		s.t.Fatalf("organisation %s: %v", code, err)
	}
	s.orgs[code] = o
	return o
}

// user is the demo user with the subject (demo-officer, demo-admin,
// demo-auditor, demo-company-upstage, demo-company-kaist).
func (s *story) user(subject string) *models.User {
	s.t.Helper()
	if u, ok := s.users[subject]; ok {
		return u
	}
	var u models.User
	if err := s.app.db.Where("issuer = ? AND subject = ?", models.DemoIssuer, subject).First(&u).Error; err != nil {
		s.t.Fatalf("demo user %s: %v", subject, err)
	}
	s.users[subject] = &u
	return &u
}

// companyUser is the user who acts for an organisation: its demo user, or
// one registered for the story when the demo has none.
func (s *story) companyUser(code string) *models.User {
	s.t.Helper()
	subject := "demo-company-" + code
	if u, ok := s.users[subject]; ok {
		return u
	}
	var u models.User
	err := s.app.db.Where("issuer = ? AND subject = ?", models.DemoIssuer, subject).First(&u).Error
	if err == nil {
		s.users[subject] = &u
		return &u
	}
	org := s.org(code)
	nu, err := models.UpsertUser(s.t.Context(), s.app.db, models.Identity{Issuer: "story", Subject: "company-" + code,
		Email: "company@" + code + ".example", Name: org.NameKO + " 담당자", Role: models.RoleCompany, OrganisationID: &org.ID}, s.now())
	if err != nil {
		s.t.Fatalf("user of %s: %v", code, err)
	}
	s.users[subject] = nu
	return nu
}

// signIn is a browser signed in as the demo user with the subject.
func (s *story) signIn(subject string) *testClient {
	s.t.Helper()
	c := s.app.client()
	c.signInDemo(subject)
	return c
}

// officer is the demo officer, who runs the calls and reviews in the story.
func (s *story) officer() *models.User { return s.user("demo-officer") }

// saveCall saves a call (in the current programme unless it names one) and
// returns it as stored, with its criteria and documents.
func (s *story) saveCall(c *models.Call) *models.Call {
	s.t.Helper()
	ctx := s.t.Context()
	if c.ProgrammeID == 0 {
		prog, err := models.CurrentProgramme(ctx, s.app.db)
		if err != nil {
			s.t.Fatal(err)
		}
		c.ProgrammeID = prog.ID
	}
	if err := models.SaveCall(ctx, s.app.db, c, s.officer(), s.now()); err != nil {
		s.t.Fatalf("save call %s: %v", c.TitleKO, err)
	}
	stored, err := models.GetCall(ctx, s.app.db, c.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	return stored
}

// newCall saves a call open from opens to closes, for five teams, scored on
// one criterion (기술력, out of 10), with the documents named required.
func (s *story) newCall(title string, opens, closes time.Time, documents ...string) *models.Call {
	s.t.Helper()
	c := &models.Call{TitleKO: title, TitleEN: title + " (EN)", DescriptionKO: "시험 공모", DescriptionEN: "Test call",
		OpensAt: opens, ClosesAt: closes, Slots: 5,
		Criteria: []models.Criterion{{NameKO: "기술력", NameEN: "Technology", Weight: 100, MaxScore: 10}}}
	for _, d := range documents {
		c.Documents = append(c.Documents, models.RequiredDocument{NameKO: d, NameEN: d + " (EN)", Required: true})
	}
	return s.saveCall(c)
}

// draft starts the organisation's application to the call, led by it.
func (s *story) draft(call *models.Call, code string) *models.Application {
	s.t.Helper()
	org := s.org(code)
	a := &models.Application{CallID: call.ID, TitleKO: org.NameKO + " 파운데이션 모델", TitleEN: org.NameEN + " foundation model",
		Summary: "컨소시엄 개요"}
	if err := models.CreateApplication(s.t.Context(), s.app.db, a, s.companyUser(code), s.now()); err != nil {
		s.t.Fatalf("application of %s: %v", code, err)
	}
	if len(a.Members) == 0 || a.LeadOrgID != s.org(code).ID {
		s.t.Fatalf("application of %s: lead %d, %d members", code, a.LeadOrgID, len(a.Members))
	}
	return a
}

// lead is the user of the application's lead organisation.
func (s *story) lead(a *models.Application) *models.User {
	s.t.Helper()
	for code, o := range s.orgs {
		if o.ID == a.LeadOrgID {
			return s.companyUser(code)
		}
	}
	s.t.Fatalf("application %d: lead organisation %d unknown to the story", a.ID, a.LeadOrgID)
	return nil
}

// storyFile is a file as someone uploads it.
type storyFile struct {
	name    string
	content []byte
}

// storePDF is a small PDF named name.
func storePDF(name string) storyFile { return storyFile{name, offPDF} }

// store keeps a file in the portal's file store, uploaded by the user.
func (s *story) store(f storyFile, by *models.User) *models.StoredFile {
	s.t.Helper()
	sf, err := s.app.h.files.Save(s.t.Context(), s.app.db, f.name, bytes.NewReader(f.content), s.app.h.uploads, by.ID, s.now())
	if err != nil {
		s.t.Fatalf("store %s: %v", f.name, err)
	}
	return sf
}

// attach uploads the file for the call's doc-th required document and
// returns the application document's id.
func (s *story) attach(a *models.Application, call *models.Call, doc int, f storyFile) uint {
	s.t.Helper()
	ctx := s.t.Context()
	by := s.lead(a)
	rd := call.Documents[doc].ID
	if err := models.AttachDocument(ctx, s.app.db, a.ID, rd, s.store(f, by), by, s.now()); err != nil {
		s.t.Fatalf("attach %s to application %d: %v", f.name, a.ID, err)
	}
	var d models.ApplicationDocument
	if err := s.app.db.Where("application_id = ? AND required_document_id = ?", a.ID, rd).Order("id DESC").First(&d).Error; err != nil {
		s.t.Fatal(err)
	}
	return d.ID
}

// member adds an organisation to the draft's consortium, as the lead's
// invitation and the organisation's acceptance, and returns the member's id.
func (s *story) member(a *models.Application, code, role string) uint {
	s.t.Helper()
	org := s.org(code)
	r, err := models.InviteMember(s.t.Context(), s.app.db, a.ID, org.ID, models.MemberTerms{Role: role}, s.lead(a), s.now())
	if err != nil {
		s.t.Fatalf("invite %s to application %d: %v", code, a.ID, err)
	}
	if err := models.AnswerInvitation(s.t.Context(), s.app.db, r.ID, models.ReqAccept, s.companyUser(code), s.now()); err != nil {
		s.t.Fatalf("%s accepts application %d's invitation: %v", code, a.ID, err)
	}
	var m models.ConsortiumMember
	if err := s.app.db.Where("application_id = ? AND organisation_id = ?", a.ID, org.ID).First(&m).Error; err != nil {
		s.t.Fatal(err)
	}
	return m.ID
}

// submit submits the application.
func (s *story) submit(a *models.Application) {
	s.t.Helper()
	if _, err := models.TransitionApplication(s.t.Context(), s.app.db, a.ID, models.ActSubmit, s.lead(a), s.now()); err != nil {
		s.t.Fatalf("submit application %d: %v", a.ID, err)
	}
}

// apply is a complete submission: the draft, a PDF for each required
// document, submitted.
func (s *story) apply(call *models.Call, code string) *models.Application {
	s.t.Helper()
	a := s.draft(call, code)
	for i := range call.Documents {
		s.attach(a, call, i, storePDF("plan.pdf"))
	}
	s.submit(a)
	return a
}

// assign makes the reviewer review the application and returns the assignment's id.
func (s *story) assign(a *models.Application, reviewer *models.User) uint {
	s.t.Helper()
	ctx := s.t.Context()
	if err := models.AssignReviewer(ctx, s.app.db, a.ID, reviewer.ID, s.officer(), s.now()); err != nil {
		s.t.Fatalf("assign %s to application %d: %v", reviewer.Subject, a.ID, err)
	}
	as, err := models.ListAssignments(ctx, s.app.db, a.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, as := range as {
		if as.ReviewerID == reviewer.ID {
			return as.ID
		}
	}
	s.t.Fatalf("no assignment of %s to application %d", reviewer.Subject, a.ID)
	return 0
}

// score has the reviewer assigned, declare no conflict and give the scores,
// one per criterion of the call in order; it returns the assignment's id.
func (s *story) score(a *models.Application, call *models.Call, reviewer *models.User, scores ...float64) uint {
	s.t.Helper()
	ctx := s.t.Context()
	id := s.assign(a, reviewer)
	if err := models.DeclareConflict(ctx, s.app.db, id, models.ConflictNone, reviewer, s.now()); err != nil {
		s.t.Fatal(err)
	}
	var in []models.ScoreInput
	for i, v := range scores {
		in = append(in, models.ScoreInput{CriterionID: call.Criteria[i].ID, Value: v, Comment: "의견"})
	}
	if err := models.SaveScores(ctx, s.app.db, id, in, reviewer, s.now()); err != nil {
		s.t.Fatalf("scores for application %d: %v", a.ID, err)
	}
	return id
}

// publish publishes the call's selection under the Civil Act rule.
func (s *story) publish(call *models.Call, selected ...*models.Application) *models.Decision {
	s.t.Helper()
	ctx := s.t.Context()
	in := models.PublishInput{CallID: call.ID, NoticeKO: "선정 결과를 알립니다. 이의신청은 10일간 받습니다.",
		NoticeEN: "Selection result.", CountingRule: models.RuleCivil}
	for _, a := range selected {
		in.Selected = append(in.Selected, a.ID)
	}
	d, err := models.PublishSelection(ctx, s.app.db, in, s.officer(), s.now())
	if err != nil {
		s.t.Fatalf("publish the selection of call %d: %v", call.ID, err)
	}
	if d, err = models.GetDecision(ctx, s.app.db, d.ID); err != nil {
		s.t.Fatal(err)
	}
	return d
}

// storyCall is a call of the story with its applications by organisation
// code, and its decision once published.
type storyCall struct {
	*models.Call
	apps     map[string]*models.Application
	decision *models.Decision
}

// closedCall opens a call a day before the clock that closes an hour after
// it, with one required document (사업계획서); each organisation applies
// completely, then the clock passes the close by a minute.
func (s *story) closedCall(title string, codes ...string) *storyCall {
	s.t.Helper()
	now := s.now()
	c := &storyCall{Call: s.newCall(title, now.Add(-24*time.Hour), now.Add(time.Hour), "사업계획서"),
		apps: map[string]*models.Application{}}
	for _, code := range codes {
		c.apps[code] = s.apply(c.Call, code)
	}
	s.app.clock.Set(c.ClosesAt.Add(time.Minute))
	return c
}

// applicant is an organisation in a decided call: its score and whether it is selected.
type applicant struct {
	code     string
	score    float64
	selected bool
}

// decidedCall is a closedCall whose applications the demo officer scores
// and whose selection is published, one minute after the close.
func (s *story) decidedCall(title string, applicants ...applicant) *storyCall {
	s.t.Helper()
	var codes []string
	for _, a := range applicants {
		codes = append(codes, a.code)
	}
	c := s.closedCall(title, codes...)
	var selected []*models.Application
	for _, a := range applicants {
		s.score(c.apps[a.code], c.Call, s.officer(), a.score)
		if a.selected {
			selected = append(selected, c.apps[a.code])
		}
	}
	c.decision = s.publish(c.Call, selected...)
	return c
}

// fileAppeal files an appeal of the organisation against the decision, with the evidence.
func (s *story) fileAppeal(d *models.Decision, code, statement string, evidence ...storyFile) *models.Appeal {
	s.t.Helper()
	ctx := s.t.Context()
	by := s.companyUser(code)
	var files []*models.StoredFile
	for _, f := range evidence {
		files = append(files, s.store(f, by))
	}
	in := models.AppealInput{DecisionID: d.ID, Ground: models.GroundProceduralDefect, Statement: statement,
		IdempotencyKey: fmt.Sprintf("story-%s-%d-%d", code, d.ID, s.now().UnixNano())}
	a, _, err := models.FileAppeal(ctx, s.app.db, in, files, by, s.app.cfg.AppealAnswerDays, s.now())
	if err != nil {
		s.t.Fatalf("appeal of %s against decision %d: %v", code, d.ID, err)
	}
	if a, err = models.GetAppeal(ctx, s.app.db, a.ID); err != nil {
		s.t.Fatal(err)
	}
	return a
}

// appealStep moves the appeal on as the demo officer (start_review, or
// uphold or dismiss with the reasons).
func (s *story) appealStep(a *models.Appeal, action models.AppealAction, reasons string) {
	s.t.Helper()
	if err := models.DecideAppeal(s.t.Context(), s.app.db, a.ID, action, reasons, s.officer(), s.now()); err != nil {
		s.t.Fatalf("%s appeal %d: %v", action, a.ID, err)
	}
}

// answerAppeal reviews the appeal and answers it (uphold or dismiss) with the reasons.
func (s *story) answerAppeal(a *models.Appeal, action models.AppealAction, reasons string) {
	s.t.Helper()
	s.appealStep(a, models.AppealStartReview, "")
	s.appealStep(a, action, reasons)
}

// demoSelection seeds the demo's 2025 story (its call's 15 applications,
// reviewed, and the selection published on 2025-08-04) and returns that
// decision.
func (s *story) demoSelection() *models.Decision {
	s.t.Helper()
	ctx := s.t.Context()
	if err := demo.SeedApplications(ctx, s.app.db, s.app.h.files, s.now()); err != nil {
		s.t.Fatalf("seed the demo story: %v", err)
	}
	ds, err := models.ListDecisions(ctx, s.app.db)
	if err != nil || len(ds) != 1 {
		s.t.Fatalf("decisions = %d, %v; want the demo selection", len(ds), err)
	}
	d, err := models.GetDecision(ctx, s.app.db, ds[0].ID)
	if err != nil {
		s.t.Fatal(err)
	}
	return d
}

// holiday adds a one-off public holiday, as the demo administrator.
func (s *story) holiday(date, nameKO, nameEN string) *models.ExtraHoliday {
	s.t.Helper()
	h, err := models.AddExtraHoliday(s.t.Context(), s.app.db, date, nameKO, nameEN, s.user("demo-admin"), s.now())
	if err != nil {
		s.t.Fatalf("holiday %s: %v", date, err)
	}
	return h
}

// holidayListCSV is the official list of a year's public holidays as the
// built-in table has it.
func holidayListCSV(year int) string {
	var b strings.Builder
	b.WriteString("date,name_ko\n")
	for _, h := range models.KoreanHolidays.Year(year) {
		fmt.Fprintf(&b, "%s,%s\n", h.Date, h.Name)
	}
	return b.String()
}

// holidayList imports the year's official list (the built-in table's days)
// as the demo administrator; it waits to be confirmed.
func (s *story) holidayList(year int) *models.HolidayList {
	s.t.Helper()
	l, err := models.ImportHolidayList(s.t.Context(), s.app.db, year, fmt.Sprintf("%d.csv", year),
		[]byte(holidayListCSV(year)), s.user("demo-admin"), s.now())
	if err != nil {
		s.t.Fatalf("import the %d list: %v", year, err)
	}
	return l
}

// cluster registers a simulated B200 cluster whose nodes of eight GPUs
// (kt-gn001, kt-gn002, ...) have been discovered.
func (s *story) cluster(name string, nodes int) (*models.Cluster, []models.GPU) {
	s.t.Helper()
	ctx := s.t.Context()
	c := &models.Cluster{Name: name, Provider: "KT Cloud", Region: "KR-Central", GPUModel: "NVIDIA B200",
		GPUCount: 8 * nodes, SourceKind: models.SourceSimulator, PollSeconds: 15, SimSeed: 7}
	if _, err := models.SaveCluster(ctx, s.app.db, nil, c, false, s.officer(), s.now()); err != nil {
		s.t.Fatalf("cluster %s: %v", name, err)
	}
	var seen []models.SeenGPU
	for i := range 8 * nodes {
		seen = append(seen, models.SeenGPU{UUID: fmt.Sprintf("GPU-%08d-0000-0000-0000-%012d", i, c.ID),
			Node: fmt.Sprintf("kt-gn%03d", i/8+1), Index: i % 8, Model: "NVIDIA B200"})
	}
	if err := models.RecordGPUs(ctx, s.app.db, c.ID, seen, s.now()); err != nil {
		s.t.Fatal(err)
	}
	gpus, err := models.ListClusterGPUs(ctx, s.app.db, c.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	return c, gpus
}

// allocate gives the organisation the GPUs of the cluster's nodes (as its
// own) for the month around the clock.
func (s *story) allocate(c *models.Cluster, code string, nodes ...string) *models.Allocation {
	s.t.Helper()
	today := models.DateOf(s.now())
	a, errs, err := models.CreateAllocation(s.t.Context(), s.app.db, models.AllocationInput{OrganisationID: s.org(code).ID,
		ClusterID: c.ID, BlockKind: models.BlockCustom, GPUCount: 8 * len(nodes), From: today.AddDays(-20).String(),
		To: today.AddDays(10).String(), OwnGPUs: true, Nodes: nodes}, s.officer(), s.now())
	if err != nil {
		s.t.Fatalf("allocate to %s: %v %v", code, err, errs)
	}
	return a
}

// grant gives the organisation, selected by the decision, the right to
// the names (one a line) of the kind from the day from (the decision's day
// when "").
func (s *story) grant(code string, d *models.Decision, kind models.NamingKind, names, from string) *models.NamingGrant {
	s.t.Helper()
	if from == "" {
		from = models.DateOf(d.PublishedAt).String()
	}
	g, err := models.GrantName(s.t.Context(), s.app.db, models.GrantInput{Kind: kind, HolderID: s.org(code).ID,
		Names: names, ValidFrom: from, Basis: "시험 부여", DecisionID: &d.ID}, s.officer(), s.now())
	if err != nil {
		s.t.Fatalf("grant %s to %s: %v", names, code, err)
	}
	return g
}

// agreements puts an agreement in force for each team the decision
// selected, from the decision's day to the end of 2027, signed by a signer
// of each party and the demo officer on that day; with names false its
// terms grant no K-AI name (the tests grant them).
func (s *story) agreements(d *models.Decision, names bool) map[string]*models.Agreement {
	s.t.Helper()
	ctx, db := s.t.Context(), s.app.db
	at := d.PublishedAt.Add(time.Hour)
	day := models.DateOf(d.PublishedAt).String()
	out := map[string]*models.Agreement{}
	officer := s.officer()
	for _, e := range d.Entries {
		if !e.Selected {
			continue
		}
		var app models.Application
		if err := db.Where("call_id = ? AND lead_org_id = ?", d.CallID, e.OrganisationID).First(&app).Error; err != nil {
			s.t.Fatal(err)
		}
		pdf := demo.PDF([]string{"Agreement " + day})
		in := models.VersionInput{StartDate: day, EndDate: "2027-12-31", GPUCount: "500", GPUModel: "NVIDIA B200",
			GrantCompany: names, GrantModel: names, ModelNames: "Model " + itoa(e.OrganisationID),
			Document: &models.UploadedFile{Name: "a.pdf", Size: int64(len(pdf)), Open: func() (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(pdf)), nil
			}}, Files: s.app.h.files, Uploads: models.UploadPolicy{MaxBytes: 1 << 20}}
		a, errs, err := models.CreateAgreement(ctx, db, models.NewAgreement{ApplicationID: app.ID, Version: in}, officer, at)
		if err != nil {
			s.t.Fatalf("agreement: %v %v", err, errs)
		}
		a, _ = models.GetAgreement(ctx, db, a.ID)
		v := a.Versions[0]
		if err := models.SendVersion(ctx, db, a.ID, v.ID, officer, at); err != nil {
			s.t.Fatal(err)
		}
		a, _ = models.GetAgreement(ctx, db, a.ID)
		v = a.Versions[0]
		for _, p := range v.Parties {
			signer := officer
			if p.Role != models.SignerMinistry {
				orgID := p.OrganisationID
				u, err := models.UpsertUser(ctx, db, models.Identity{Issuer: "test-signer", Subject: "signer-" + itoa(orgID),
					Name: "서명권자 " + itoa(orgID), Role: models.RoleCompany, OrganisationID: &orgID}, at)
				if err != nil {
					s.t.Fatal(err)
				}
				if err := models.MarkSigner(ctx, db, u.ID, officer, at); err != nil {
					s.t.Fatal(err)
				}
				signer = u
			}
			if _, err := models.SignVersion(ctx, db, a.ID, v.ID, v.Hash, signer, at); err != nil {
				s.t.Fatalf("sign for %d: %v", p.OrganisationID, err)
			}
		}
		a, _ = models.GetAgreement(ctx, db, a.ID)
		out[a.Organisation.Code] = a
	}
	return out
}

// demoCompany returns the demo sign-in user of the organisation
// ("demo-company-<code>"), registering one as the demo seed does for
// organisations without one, so that a browser can sign in as it.
func (s *story) demoCompany(code string) *models.User {
	s.t.Helper()
	org := s.org(code)
	u, err := models.UpsertUser(s.t.Context(), s.app.db, models.Identity{Issuer: models.DemoIssuer, Subject: "demo-company-" + code,
		Email: "company@" + code + ".demo.k-ai.invalid", Name: "담당자 (" + org.NameKO + ")",
		Role: models.RoleCompany, OrganisationID: &org.ID}, s.now())
	if err != nil {
		s.t.Fatalf("demo user of %s: %v", code, err)
	}
	return u
}

// consortiumRequest files the lead's change to a selected team's consortium
// and returns the request.
func (s *story) consortiumRequest(appID uint, in models.ChangeInput) *models.ConsortiumRequest {
	s.t.Helper()
	a, err := models.GetApplication(s.t.Context(), s.app.db, appID)
	if err != nil {
		s.t.Fatal(err)
	}
	if in.Note == "" {
		in.Note = "구성 변경"
	}
	r, err := models.FileConsortiumRequest(s.t.Context(), s.app.db, appID, in, s.lead(a), s.now())
	if err != nil {
		s.t.Fatalf("consortium request on application %d: %v", appID, err)
	}
	return r
}

// inviteTo invites the organisation to a selected team's consortium (a
// change request waiting for its consent) and returns the request.
func (s *story) inviteTo(appID uint, code, role string) *models.ConsortiumRequest {
	s.t.Helper()
	return s.consortiumRequest(appID, models.ChangeInput{Kind: models.RequestAdd, OrganisationID: itoa(s.org(code).ID),
		Terms: models.MemberTermsInput{Role: role}})
}

// inviteToDraft invites the organisation to a draft's consortium and returns the invitation.
func (s *story) inviteToDraft(a *models.Application, code, role string) *models.ConsortiumRequest {
	s.t.Helper()
	r, err := models.InviteMember(s.t.Context(), s.app.db, a.ID, s.org(code).ID, models.MemberTerms{Role: role}, s.lead(a), s.now())
	if err != nil {
		s.t.Fatalf("invite %s to application %d: %v", code, a.ID, err)
	}
	return r
}

// memberOf returns the id of the organisation's membership of the application.
func (s *story) memberOf(appID uint, code string) uint {
	s.t.Helper()
	var m models.ConsortiumMember
	if err := s.app.db.Where("application_id = ? AND organisation_id = ?", appID, s.org(code).ID).First(&m).Error; err != nil {
		s.t.Fatalf("member %s of application %d: %v", code, appID, err)
	}
	return m.ID
}

// firstDocument is the id of the application's first document.
func (s *story) firstDocument(a *models.Application) uint {
	s.t.Helper()
	var d models.ApplicationDocument
	if err := s.app.db.Where("application_id = ?", a.ID).Order("id").First(&d).Error; err != nil {
		s.t.Fatalf("the documents of application %d: %v", a.ID, err)
	}
	return d.ID
}
