package models_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestAgreementStateMachine walks every state × pending version × action ×
// role through CheckAgreementAction against the table the product
// promises:
//
//	draft              edit, send                     ministry
//	out_for_signature  sign                           company (a party's signer)
//	                   countersign, new_version       ministry
//	signed, effective  amend, notice, terminate       ministry
//	  + amendment draft  edit, send (no second amend) ministry
//	  + amendment out    sign (company); countersign, new_version (ministry); no second amend
//	ended, terminated  nothing
func TestAgreementStateMachine(t *testing.T) {
	t.Parallel()
	ministry := []models.Role{models.RoleOfficer, models.RoleAdmin}
	company := []models.Role{models.RoleCompany}
	type key struct {
		state   models.AgreementState
		pending models.VersionStatus
	}
	want := map[key]map[models.AgreementAction][]models.Role{
		{models.AgreementDraft, ""}: {models.AgrEditDraft: ministry, models.AgrSend: ministry},
		{models.AgreementOut, ""}:   {models.AgrSign: company, models.AgrCountersign: ministry, models.AgrNewVersion: ministry},
	}
	for _, s := range []models.AgreementState{models.AgreementSigned, models.AgreementEffective} {
		want[key{s, ""}] = map[models.AgreementAction][]models.Role{models.AgrAmend: ministry, models.AgrNotice: ministry, models.AgrTerminate: ministry}
		want[key{s, models.VersionDraft}] = map[models.AgreementAction][]models.Role{models.AgrNotice: ministry, models.AgrTerminate: ministry,
			models.AgrEditDraft: ministry, models.AgrSend: ministry}
		want[key{s, models.VersionOut}] = map[models.AgreementAction][]models.Role{models.AgrNotice: ministry, models.AgrTerminate: ministry,
			models.AgrSign: company, models.AgrCountersign: ministry, models.AgrNewVersion: ministry}
	}
	roles := append(slices.Clone(models.Roles), models.Role("superuser"))
	n := 0
	for _, state := range models.AgreementStates {
		for _, pending := range []models.VersionStatus{"", models.VersionDraft, models.VersionOut} {
			if pending != "" && state != models.AgreementSigned && state != models.AgreementEffective {
				continue // only an agreement in force has an amendment pending
			}
			for _, action := range models.AgreementActions {
				allowed, possible := want[key{state, pending}][action]
				for _, role := range roles {
					n++
					err := models.CheckAgreementAction(state, pending, action, role)
					switch {
					case !possible:
						if !errors.Is(err, models.ErrInvalidTransition) {
							t.Errorf("%s/%s %s by %s: %v, want ErrInvalidTransition", state, pending, action, role, err)
						}
					case slices.Contains(allowed, role):
						if err != nil {
							t.Errorf("%s/%s %s by %s: %v, want allowed", state, pending, action, role, err)
						}
					default:
						if !errors.Is(err, models.ErrForbidden) {
							t.Errorf("%s/%s %s by %s: %v, want ErrForbidden", state, pending, action, role, err)
						}
					}
				}
			}
		}
	}
	t.Logf("%d state × action × role cases", n)
}

// TestAgreementStateFromDates: the state on each day follows from the
// versions' dates and the termination, to the day.
func TestAgreementStateFromDates(t *testing.T) {
	t.Parallel()
	v1 := models.AgreementVersion{ID: 1, Number: 1, Status: models.VersionSigned, StartDate: "2025-08-11", EndDate: "2027-12-31", EffectiveFrom: "2025-08-11"}
	id := uint(1)
	signed := models.Agreement{Versions: []models.AgreementVersion{v1}, InForceID: &id}
	terminated := signed
	terminated.TerminatedOn = "2026-03-01"
	draft := models.Agreement{Versions: []models.AgreementVersion{{ID: 1, Number: 1, Status: models.VersionDraft}}}
	out := models.Agreement{Versions: []models.AgreementVersion{{ID: 1, Number: 1, Status: models.VersionOut}}}
	amending := signed
	amending.Versions = []models.AgreementVersion{v1, {ID: 2, Number: 2, Status: models.VersionOut, StartDate: "2025-08-11", EndDate: "2028-06-30"}}
	cases := []struct {
		name string
		a    models.Agreement
		on   string
		want models.AgreementState
	}{
		{"draft", draft, "2025-08-01", models.AgreementDraft},
		{"out for signature", out, "2025-08-01", models.AgreementOut},
		{"signed, the day before the start", signed, "2025-08-10", models.AgreementSigned},
		{"effective on the start date", signed, "2025-08-11", models.AgreementEffective},
		{"effective on the last day", signed, "2027-12-31", models.AgreementEffective},
		{"ended the day after", signed, "2028-01-01", models.AgreementEnded},
		{"terminated: the day before still effective", terminated, "2026-02-28", models.AgreementEffective},
		{"terminated from its day", terminated, "2026-03-01", models.AgreementTerminated},
		{"terminated, long after", terminated, "2029-01-01", models.AgreementTerminated},
		{"an amendment out: the previous version stays in force", amending, "2026-01-01", models.AgreementEffective},
	}
	for _, tc := range cases {
		if got := tc.a.State(day(tc.on)); got != tc.want {
			t.Errorf("%s: State(%s) = %s, want %s", tc.name, tc.on, got, tc.want)
		}
	}
	if amending.PendingStatus() != models.VersionOut || amending.InForce().Number != 1 {
		t.Errorf("amending: pending %s, in force %+v", amending.PendingStatus(), amending.InForce())
	}
	if !signed.HoldsFor(day("2025-09-01"), day("2027-12-31")) || signed.HoldsFor(day("2025-08-10"), day("2025-09-01")) ||
		signed.HoldsFor(day("2025-09-01"), day("2028-01-01")) || terminated.HoldsFor(day("2026-01-01"), day("2026-03-01")) {
		t.Error("HoldsFor does not follow the period")
	}
}

// agreementWorld is a world whose selection chose upstage (with lunit as a
// consortium member) and kakao; upstage's and lunit's users are
// authorised signers.
type agreementWorld struct {
	*world
	apps       map[string]*models.Application
	lead, memb *models.User
}

func newAgreementWorld(t *testing.T, db *gorm.DB, clock *testdb.Clock) *agreementWorld {
	t.Helper()
	w := newWorld(t, db, clock)
	_, apps := w.decide(w.call, standardApplicants, publishAt, nil)
	m := models.ConsortiumMember{ApplicationID: apps["upstage"].ID, OrganisationID: w.org("lunit").ID, Role: models.MemberResearch}
	if err := db.Create(&m).Error; err != nil {
		t.Fatal(err)
	}
	aw := &agreementWorld{world: w, apps: apps, lead: w.company("upstage"), memb: w.company("lunit")}
	for _, u := range []*models.User{aw.lead, aw.memb} {
		if err := models.MarkSigner(t.Context(), db, u.ID, w.officer, publishAt); err != nil {
			t.Fatal(err)
		}
	}
	return aw
}

func agreementPDF(label string) *models.UploadedFile {
	b := demo.PDF([]string{"Agreement " + label})
	return &models.UploadedFile{Name: "협약서.pdf", Size: int64(len(b)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}}
}

func (w *agreementWorld) terms(start, end, model string) models.VersionInput {
	return models.VersionInput{StartDate: start, EndDate: end, GPUCount: "500", GPUModel: "NVIDIA B200",
		GrantCompany: true, GrantModel: true, ModelNames: model, Deliverables: "2025-12-31 1차 모델 공개\n2026-06-30 2차 모델",
		StageDates: "2025-12-15\n2026-06-15", Document: agreementPDF(start + model), Files: w.files, Uploads: pdfPolicy,
		Budget: []models.BudgetInput{{OrganisationID: w.org("upstage").ID, Year: 2025, Government: "10,000,000,000", OwnWon: "2,000,000,000"}}}
}

// sign signs the version by the hash in the database.
func (w *agreementWorld) sign(a *models.Agreement, number int, u *models.User, at time.Time) (models.SignResult, error) {
	w.t.Helper()
	got, err := models.GetAgreement(w.t.Context(), w.db, a.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, v := range got.Versions {
		if v.Number == number {
			return models.SignVersion(w.t.Context(), w.db, a.ID, v.ID, v.Hash, u, at)
		}
	}
	w.t.Fatalf("no version %d", number)
	return models.SignResult{}, nil
}

func (w *agreementWorld) load(a *models.Agreement) *models.Agreement {
	w.t.Helper()
	got, err := models.GetAgreement(w.t.Context(), w.db, a.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return got
}

// inForce creates, sends and has everyone sign an agreement for upstage.
func (w *agreementWorld) inForce(start, end string, at time.Time) *models.Agreement {
	w.t.Helper()
	ctx := w.t.Context()
	a, errs, err := models.CreateAgreement(ctx, w.db, models.NewAgreement{ApplicationID: w.apps["upstage"].ID, ContactName: "김담당",
		Version: w.terms(start, end, "Solar Pro")}, w.officer, at)
	if err != nil {
		w.t.Fatalf("CreateAgreement: %v %v", err, errs)
	}
	a = w.load(a)
	if err := models.SendVersion(ctx, w.db, a.ID, a.Versions[0].ID, w.officer, at); err != nil {
		w.t.Fatal(err)
	}
	for _, u := range []*models.User{w.lead, w.memb, w.officer} {
		if _, err := w.sign(a, 1, u, at.Add(time.Minute)); err != nil {
			w.t.Fatalf("sign by %s: %v", u.Name, err)
		}
	}
	return w.load(a)
}

func TestAgreementSigning(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newAgreementWorld(t, db, clock)
		at := kst(2025, 8, 6, 10, 0, 0)

		// Only the ministry prepares, for a selected application only, with a PDF.
		_, _, err := models.CreateAgreement(ctx, db, models.NewAgreement{ApplicationID: w.apps["upstage"].ID, Version: w.terms("2025-08-11", "2027-12-31", "Solar Pro")}, w.lead, at)
		wantErr(t, "a company prepares", err, models.ErrForbidden)
		_, errs, err := models.CreateAgreement(ctx, db, models.NewAgreement{ApplicationID: w.apps["kaist"].ID, Version: w.terms("2025-08-11", "2027-12-31", "X")}, w.officer, at)
		if !errors.Is(err, models.ErrInvalid) || errs["application_id"] != "agreement.error.not_selected" {
			t.Errorf("not selected: %v %v", err, errs)
		}
		bad := w.terms("2025-08-11", "2025-08-01", "Solar Pro")
		bad.Document = nil
		bad.Budget = append(bad.Budget, models.BudgetInput{OrganisationID: w.org("upstage").ID, Year: 2025, Government: "십억"})
		_, errs, _ = models.CreateAgreement(ctx, db, models.NewAgreement{ApplicationID: w.apps["upstage"].ID, Version: bad}, w.officer, at)
		if errs["end_date"] != "agreement.error.end_before_start" || errs["document"] != "agreement.error.document" ||
			errs[fmt.Sprintf("budget.%d.2025", w.org("upstage").ID)] != "agreement.error.won" {
			t.Errorf("bad terms: %v", errs)
		}
		notPDF := w.terms("2025-08-11", "2027-12-31", "Solar Pro")
		notPDF.Document = &models.UploadedFile{Name: "a.pdf", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte("hello"))), nil }}
		_, errs, _ = models.CreateAgreement(ctx, db, models.NewAgreement{ApplicationID: w.apps["upstage"].ID, Version: notPDF}, w.officer, at)
		if errs["document"] != "agreement.error.document_type" {
			t.Errorf("not a PDF: %v", errs)
		}
		a, errs, err := models.CreateAgreement(ctx, db, models.NewAgreement{ApplicationID: w.apps["upstage"].ID, ContactName: "김담당",
			Version: w.terms("2025-08-11", "2027-12-31", "Solar Pro")}, w.officer, at)
		if err != nil {
			t.Fatalf("CreateAgreement: %v %v", err, errs)
		}
		a = w.load(a)
		v1 := a.Versions[0]
		if a.Number != "KAI-2025-001" || len(v1.Parties) != 3 || v1.Parties[0].Role != models.SignerLead || v1.Parties[1].Role != models.SignerMember ||
			v1.Parties[2].Role != models.SignerMinistry || v1.Document == nil || len(v1.Budget) != 1 || v1.Budget[0].GovernmentWon != 10_000_000_000 {
			t.Fatalf("agreement %+v version %+v", a, v1)
		}
		if a.State(models.DateOf(at)) != models.AgreementDraft {
			t.Errorf("state %s, want draft", a.State(models.DateOf(at)))
		}
		// A draft is edited; not signed.
		in := w.terms("2025-08-11", "2027-12-31", "Solar Pro\nSolar Mini")
		in.Document = nil
		if _, err := models.UpdateAgreementDraft(ctx, db, a.ID, v1.ID, in, w.officer, at); err != nil {
			t.Fatal(err)
		}
		_, err = models.SignVersion(ctx, db, a.ID, v1.ID, "", w.lead, at)
		var stale *models.StaleVersionError
		if !errors.As(err, &stale) || stale.Current != 0 {
			t.Errorf("sign a draft: %v, want a stale version refusal", err)
		}
		wantErr(t, "send by a company", models.SendVersion(ctx, db, a.ID, v1.ID, w.lead, at), models.ErrForbidden)
		wantErr(t, "send", models.SendVersion(ctx, db, a.ID, v1.ID, w.officer, at), nil)
		wantErr(t, "send twice", models.SendVersion(ctx, db, a.ID, v1.ID, w.officer, at), models.ErrInvalidTransition)
		_, err = models.UpdateAgreementDraft(ctx, db, a.ID, v1.ID, in, w.officer, at)
		wantErr(t, "edit once out for signature", err, models.ErrInvalidTransition)
		a = w.load(a)
		v1 = a.Versions[0]
		if v1.Hash == "" || v1.Hash != v1.ComputeHash(a.Number, v1.Document.SHA256) || v1.ModelNames != "Solar Pro\nSolar Mini" {
			t.Fatalf("sent version %+v", v1)
		}

		// Signers: a company user who is not authorised, a wrong hash, the ministry before the parties.
		signAt := kst(2025, 8, 7, 14, 30, 15)
		other := w.company("kakao")
		_, err = models.SignVersion(ctx, db, a.ID, v1.ID, v1.Hash, other, signAt)
		wantErr(t, "a company that is not a party", err, models.ErrForbidden)
		if err := models.UnmarkSigner(ctx, db, w.memb.ID, w.officer, signAt); err != nil {
			t.Fatal(err)
		}
		_, err = models.SignVersion(ctx, db, a.ID, v1.ID, v1.Hash, w.memb, signAt)
		wantErr(t, "a member's user no longer authorised", err, models.ErrNotSigner)
		if err := models.MarkSigner(ctx, db, w.memb.ID, w.officer, signAt); err != nil {
			t.Fatal(err)
		}
		_, err = models.SignVersion(ctx, db, a.ID, v1.ID, "0123", w.lead, signAt)
		if !errors.As(err, &stale) || stale.Current != 1 || stale.Hash != v1.Hash || !errors.Is(err, models.ErrConflict) {
			t.Errorf("wrong hash: %v, want a refusal naming version 1", err)
		}
		_, err = models.SignVersion(ctx, db, a.ID, v1.ID, v1.Hash, w.officer, signAt)
		wantErr(t, "ministry first", err, models.ErrMinistryFirst)

		// The lead signs; a second press returns the first signature.
		r1, err := models.SignVersion(ctx, db, a.ID, v1.ID, v1.Hash, w.lead, signAt)
		r2, err2 := models.SignVersion(ctx, db, a.ID, v1.ID, v1.Hash, w.lead, signAt.Add(time.Second))
		if err != nil || err2 != nil || !r1.Created || r2.Created || r1.Signature.ID != r2.Signature.ID || !r2.Signature.SignedAt.Equal(signAt) {
			t.Fatalf("double press: %+v %v / %+v %v", r1, err, r2, err2)
		}
		if n := countAudit(t, db, "agreement.sign", ""); n != 1 {
			t.Errorf("agreement.sign rows after a double press: %d", n)
		}
		if _, err := models.SignVersion(ctx, db, a.ID, v1.ID, v1.Hash, w.memb, signAt); err != nil {
			t.Fatal(err)
		}
		// Nothing holds before the ministry signs.
		if v, _ := models.VerifyName(ctx, db, "Solar Pro", day("2025-09-01")); v.Valid {
			t.Errorf("a name valid before the agreement is signed: %+v", v)
		}
		r, err := models.SignVersion(ctx, db, a.ID, v1.ID, v1.Hash, w.officer, kst(2025, 8, 8, 11, 0, 0))
		if err != nil || !r.Completed {
			t.Fatalf("ministry signs: %+v %v", r, err)
		}
		// Pressed again: nothing more.
		if r, err := models.SignVersion(ctx, db, a.ID, v1.ID, v1.Hash, w.officer, kst(2025, 8, 8, 11, 0, 5)); err != nil || r.Created || r.Completed {
			t.Errorf("ministry presses again: %+v %v", r, err)
		}
		a = w.load(a)
		if a.InForce() == nil || a.InForce().EffectiveFrom != "2025-08-11" || a.State(day("2025-08-10")) != models.AgreementSigned ||
			a.State(day("2025-08-11")) != models.AgreementEffective {
			t.Fatalf("completed: %+v", a.InForce())
		}
		// Its names: granted once, for its period, answering from the start date.
		grants, _ := models.ListGrants(ctx, db)
		if len(grants) != 2 || countAudit(t, db, "agreement.complete", "") != 1 {
			t.Fatalf("%d grants, %d completions: want 2 grants once", len(grants), countAudit(t, db, "agreement.complete", ""))
		}
		for _, g := range grants {
			if g.AgreementID == nil || *g.AgreementID != a.ID || g.ValidFrom != "2025-08-11" || g.ValidTo != "2027-12-31" {
				t.Errorf("grant %+v", g)
			}
		}
		for _, tc := range []struct {
			name, on string
			want     bool
		}{{"Solar Mini", "2025-08-10", false}, {"Solar Mini", "2025-08-11", true}, {"업스테이지", "2025-08-11", true},
			{"Upstage", "2027-12-31", true}, {"Solar Pro", "2028-01-01", false}} {
			if v, _ := models.VerifyName(ctx, db, tc.name, day(tc.on)); v.Valid != tc.want {
				t.Errorf("verify %s on %s: %v, want %v", tc.name, tc.on, v.Valid, tc.want)
			}
		}

		// An amendment: the previous version stays in force until it is completed.
		amendAt := kst(2026, 2, 2, 10, 0, 0)
		in = w.terms("2025-08-11", "2027-12-31", "Solar Pro 2")
		in.Changes = "모델명 변경"
		v2, _, err := models.PrepareVersion(ctx, db, a.ID, in, w.officer, amendAt)
		if err != nil || v2.Number != 2 {
			t.Fatalf("amendment: %+v %v", v2, err)
		}
		_, _, err = models.PrepareVersion(ctx, db, a.ID, in, w.officer, amendAt)
		wantErr(t, "a second amendment while one is a draft", err, models.ErrInvalidTransition)
		wantErr(t, "send the amendment", models.SendVersion(ctx, db, a.ID, v2.ID, w.officer, amendAt), nil)
		if _, err := w.sign(a, 2, w.lead, amendAt); err != nil {
			t.Fatal(err)
		}
		if v, _ := models.VerifyName(ctx, db, "Solar Mini", day("2026-02-03")); !v.Valid {
			t.Errorf("the version in force while the amendment is out: %+v", v)
		}
		if cur, err := models.CheckStanding(ctx, db, w.org("upstage").ID, day("2026-02-03"), day("2026-12-31")); err != nil || cur.InForce().Number != 1 {
			t.Errorf("standing while amending: %v", err)
		}
		// A corrected amendment supersedes the one out; the old one's signature is void and signing it is refused.
		v3, _, err := models.PrepareVersion(ctx, db, a.ID, in, w.officer, amendAt.Add(time.Hour))
		if err != nil || v3.Number != 3 {
			t.Fatalf("correction: %+v %v", v3, err)
		}
		wantErr(t, "send the correction", models.SendVersion(ctx, db, a.ID, v3.ID, w.officer, amendAt.Add(time.Hour)), nil)
		a = w.load(a)
		old := a.Versions[1]
		_, err = models.SignVersion(ctx, db, a.ID, old.ID, old.Hash, w.memb, amendAt.Add(2*time.Hour))
		if !errors.As(err, &stale) || stale.Current != 3 || stale.Hash != a.Versions[2].Hash || old.Status != models.VersionSuperseded {
			t.Errorf("sign the superseded version: %v (%s), want a refusal naming version 3", err, old.Status)
		}
		compAt := kst(2026, 2, 10, 9, 0, 0)
		for _, u := range []*models.User{w.lead, w.memb, w.officer} {
			if _, err := w.sign(a, 3, u, compAt); err != nil {
				t.Fatalf("sign v3 by %s: %v", u.Name, err)
			}
		}
		a = w.load(a)
		if a.InForce().Number != 3 || a.InForce().EffectiveFrom != "2026-02-10" {
			t.Errorf("amendment in force: %+v", a.InForce())
		}
		for _, tc := range []struct {
			name, on string
			want     bool
		}{{"Solar Mini", "2026-02-09", true}, {"Solar Mini", "2026-02-10", false}, {"Solar Pro 2", "2026-02-09", false},
			{"Solar Pro 2", "2026-02-10", true}, {"업스테이지", "2026-02-09", true}, {"업스테이지", "2026-02-10", true}} {
			if v, _ := models.VerifyName(ctx, db, tc.name, day(tc.on)); v.Valid != tc.want {
				t.Errorf("after the amendment, verify %s on %s: %v, want %v", tc.name, tc.on, v.Valid, tc.want)
			}
		}
		diff := models.DiffVersions(&a.Versions[0], &a.Versions[2], map[uint]string{})
		fields := map[string]bool{}
		for _, c := range diff {
			fields[c.Field] = true
		}
		if !fields["model_names"] || !fields["document"] || fields["period"] {
			t.Errorf("diff v1 → v3: %+v", diff)
		}

		// A notification-only change: no new version, no signature.
		if _, err := models.RecordNotice(ctx, db, a.ID, models.Notice{ContactName: "박새담당", ContactInfo: "02-000-0000"}, w.officer, compAt); err != nil {
			t.Fatal(err)
		}
		if a2 := w.load(a); len(a2.Versions) != 3 || a2.ContactName != "박새담당" {
			t.Errorf("after a notice: %d versions, contact %q", len(a2.Versions), a2.ContactName)
		}
		if ns, _ := models.ListNotices(ctx, db, a.ID); len(ns) != 1 || ns[0].Before != "김담당" {
			t.Errorf("notices %+v", ns)
		}
		chainOK(t, db)
	})
}

// TestAgreementSimultaneousSignatures: two parties signing at the same
// moment both count; one party pressing twice at once signs once.
func TestAgreementSimultaneousSignatures(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newAgreementWorld(t, db, clock)
		at := kst(2025, 8, 6, 10, 0, 0)
		a, _, err := models.CreateAgreement(ctx, db, models.NewAgreement{ApplicationID: w.apps["upstage"].ID,
			Version: w.terms("2025-08-11", "2027-12-31", "Solar Pro")}, w.officer, at)
		if err != nil {
			t.Fatal(err)
		}
		a = w.load(a)
		if err := models.SendVersion(ctx, db, a.ID, a.Versions[0].ID, w.officer, at); err != nil {
			t.Fatal(err)
		}
		a = w.load(a)
		v := a.Versions[0]
		signers := []*models.User{w.lead, w.memb, w.lead, w.memb}
		var wg sync.WaitGroup
		errs := make([]error, len(signers))
		for i, u := range signers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = models.SignVersion(ctx, db, a.ID, v.ID, v.Hash, u, at.Add(time.Minute))
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("signer %d: %v", i, err)
			}
		}
		if n := count(t, db, &models.AgreementSignature{}); n != 2 {
			t.Errorf("%d signatures, want both parties once", n)
		}
		if n := countAudit(t, db, "agreement.sign", ""); n != 2 {
			t.Errorf("%d agreement.sign rows, want 2", n)
		}
		// The ministry's double press at once completes once, granting once.
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := models.SignVersion(ctx, db, a.ID, v.ID, v.Hash, w.officer, at.Add(time.Hour)); err != nil {
					t.Errorf("ministry: %v", err)
				}
			}()
		}
		wg.Wait()
		if n := count(t, db, &models.NamingGrant{}); n != 2 || countAudit(t, db, "agreement.complete", "") != 1 {
			t.Errorf("%d grants, %d completions", n, countAudit(t, db, "agreement.complete", ""))
		}
		chainOK(t, db)
	})
}

// TestAgreementEligibility: names and GPUs go to a team whose agreement in
// this programme holds for the dates, never to a team merely selected.
func TestAgreementEligibility(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newAgreementWorld(t, db, clock)
		at := kst(2025, 8, 6, 10, 0, 0)
		upstage, kakao := w.org("upstage").ID, w.org("kakao").ID
		grant := func(org uint, from, to string) error {
			_, err := models.GrantName(ctx, db, models.GrantInput{Kind: models.NamingModel, HolderID: org, Names: "X", ValidFrom: from, ValidTo: to, Basis: "b"}, w.officer, at)
			return err
		}
		// Before any agreement: selected, but not eligible.
		wantErr(t, "name to a selected team without agreement", grant(upstage, "2025-09-01", ""), models.ErrNotSelected)
		if teams, _ := models.AgreementTeams(ctx, db); len(teams) != 0 {
			t.Errorf("teams without agreements: %+v", teams)
		}
		w.inForce("2025-08-11", "2026-12-31", at)
		cases := []struct {
			name     string
			org      uint
			from, to string
			ok       bool
		}{
			{"inside the period", upstage, "2025-09-01", "2026-06-30", true},
			{"the whole period", upstage, "2025-08-11", "2026-12-31", true},
			{"starting the day before", upstage, "2025-08-10", "2026-06-30", false},
			{"ending the day after", upstage, "2025-09-01", "2027-01-01", false},
			{"selected in the call, no agreement", kakao, "2025-09-01", "2026-06-30", false},
		}
		for _, tc := range cases {
			_, err := models.CheckStanding(ctx, db, tc.org, day(tc.from), day(tc.to))
			if (err == nil) != tc.ok {
				t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
			}
			err = grant(tc.org, tc.from, tc.to)
			if (err == nil) != tc.ok {
				t.Errorf("grant %s: %v, want ok=%v", tc.name, err, tc.ok)
			}
		}
		// An open-ended manual grant ends with the agreement.
		g, err := models.GrantName(ctx, db, models.GrantInput{Kind: models.NamingModel, HolderID: upstage, Names: "Y", ValidFrom: "2025-09-01", Basis: "b"}, w.officer, at)
		if err != nil || g.ValidTo != "2026-12-31" || g.AgreementID == nil {
			t.Errorf("open-ended grant: %+v %v", g, err)
		}
		if teams, _ := models.AgreementTeams(ctx, db); len(teams) != 1 || teams[0].ID != upstage {
			t.Errorf("AgreementTeams = %+v", teams)
		}
		// GPUs: the same rule, by the allocation's dates.
		f := newGPUFixture(t, db)
		for _, tc := range cases {
			a, errs, err := models.CreateAllocation(ctx, db, models.AllocationInput{OrganisationID: tc.org, ClusterID: f.cluster.ID,
				BlockKind: models.BlockCustom, GPUCount: 1, UUIDs: []string{f.gpus[len(f.allocationsOf(t))%8].UUID}, From: tc.from, To: tc.to}, f.officer, f.now)
			if ok := err == nil; ok != tc.ok || (!ok && errs["organisation_id"] != "gpu.error.not_selected") {
				t.Errorf("allocate %s: %v %v, want ok=%v", tc.name, err, errs, tc.ok)
			}
			_ = a
		}
	})
}

func (f *gpuFixture) allocationsOf(t *testing.T) []models.AllocationRow {
	rows, err := models.ListAllocations(t.Context(), f.db, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestAgreementTermination: terminating ends every name at once, each with
// the reason, and the allocations; running the standing's end again
// changes nothing.
func TestAgreementTermination(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newAgreementWorld(t, db, clock)
		at := kst(2025, 8, 6, 10, 0, 0)
		a := w.inForce("2025-08-11", "2027-12-31", at)
		f := newGPUFixture(t, db)
		alloc, errs, err := models.CreateAllocation(ctx, db, models.AllocationInput{OrganisationID: a.OrganisationID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 8, Nodes: []string{"node-a", "node-b"}, From: "2025-09-01", To: "2027-12-31"}, f.officer, f.now)
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		// An amendment out for signature when the agreement is terminated.
		amendAt := kst(2026, 1, 10, 10, 0, 0)
		in := w.terms("2025-08-11", "2027-12-31", "Solar Pro 3")
		v2, _, err := models.PrepareVersion(ctx, db, a.ID, in, w.officer, amendAt)
		if err != nil {
			t.Fatal(err)
		}
		if err := models.SendVersion(ctx, db, a.ID, v2.ID, w.officer, amendAt); err != nil {
			t.Fatal(err)
		}
		termAt := kst(2026, 1, 20, 10, 0, 0)
		_, err = models.TerminateAgreement(ctx, db, a.ID, models.Termination{Day: "2026-02-01", Reason: "협약 위반"}, w.lead, termAt)
		wantErr(t, "terminate by a company", err, models.ErrForbidden)
		errs, err = models.TerminateAgreement(ctx, db, a.ID, models.Termination{Day: "2026-01-19", Reason: " "}, w.officer, termAt)
		if !errors.Is(err, models.ErrInvalid) || errs["day"] != "agreement.error.past" || errs["reason"] != "form.required" {
			t.Errorf("bad termination: %v %v", err, errs)
		}
		if _, err := models.TerminateAgreement(ctx, db, a.ID, models.Termination{Day: "2026-02-01", Reason: "협약 위반"}, w.officer, termAt); err != nil {
			t.Fatal(err)
		}
		a = w.load(a)
		if a.State(day("2026-01-31")) != models.AgreementEffective || a.State(day("2026-02-01")) != models.AgreementTerminated {
			t.Errorf("states around the termination: %s %s", a.State(day("2026-01-31")), a.State(day("2026-02-01")))
		}
		grants, _ := models.ListGrants(ctx, db)
		for _, g := range grants {
			if g.RevokedOn != "2026-02-01" || g.RevocationReason == "" {
				t.Errorf("grant after termination: %+v", g)
			}
		}
		for _, name := range []string{"Solar Pro", "업스테이지"} {
			if v, _ := models.VerifyName(ctx, db, name, day("2026-01-31")); !v.Valid {
				t.Errorf("%s the day before the termination: invalid", name)
			}
			if v, _ := models.VerifyName(ctx, db, name, day("2026-02-01")); v.Valid {
				t.Errorf("%s from the termination: still valid", name)
			}
		}
		if got := w.load(a).Version(v2.ID); got.Status != models.VersionSuperseded {
			t.Errorf("the amendment out at the termination: %s, want superseded", got.Status)
		}
		if _, err := w.sign(a, 2, w.lead, termAt); err == nil {
			t.Error("the superseded amendment was signed after the termination")
		}
		got, err := models.GetAllocation(ctx, db, alloc.ID)
		if err != nil || got.PeriodTo != "2026-01-31" || !got.Ended() {
			t.Errorf("allocation after termination: %+v %v", got, err)
		}
		wantErr(t, "terminate twice", func() error {
			_, err := models.TerminateAgreement(ctx, db, a.ID, models.Termination{Day: "2026-02-01", Reason: "again"}, w.officer, kst(2026, 2, 2, 10, 0, 0))
			return err
		}(), models.ErrInvalidTransition)
		// The standing's end (a final elimination) once more: nothing left to end.
		before := countAudit(t, db, "naming.revoke", "")
		if err := db.Transaction(func(tx *gorm.DB) error {
			return models.EndTeamStanding(ctx, tx, a.OrganisationID, "최종 탈락", day("2026-03-01"))
		}); err != nil {
			t.Fatal(err)
		}
		if after := countAudit(t, db, "naming.revoke", ""); after != before {
			t.Errorf("naming.revoke rows %d → %d: ended twice", before, after)
		}
		chainOK(t, db)
	})
}

// TestRevokeCompanyEndsModels: revoking a team's "K-AI 기업" ends its
// "K-AI 모델" from the same day, with the same reason.
func TestRevokeCompanyEndsModels(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newAgreementWorld(t, db, clock)
		w.inForce("2025-08-11", "2027-12-31", kst(2025, 8, 6, 10, 0, 0))
		grants, _ := models.ListGrants(ctx, db)
		var company *models.NamingGrant
		for i := range grants {
			if grants[i].Kind == models.NamingCompany {
				company = &grants[i]
			}
		}
		if err := models.RevokeName(ctx, db, company.ID, "2026-03-01", "단계평가 탈락", w.officer, kst(2026, 2, 20, 9, 0, 0)); err != nil {
			t.Fatal(err)
		}
		if v, _ := models.VerifyName(ctx, db, "Solar Pro", day("2026-03-01")); v.Valid || v.Grant == nil || v.Grant.RevocationReason != "단계평가 탈락" {
			t.Errorf("the model name after the company's revocation: %+v", v)
		}
		if v, _ := models.VerifyName(ctx, db, "Solar Pro", day("2026-02-28")); !v.Valid {
			t.Errorf("the model name the day before: %+v", v)
		}
	})
}

// giveAgreement puts an agreement for a selected application in force
// through the model functions, as the officer and the lead's signer do
// (the lead's signer is created when missing); with names false the terms
// grant no K-AI name.
func giveAgreement(t *testing.T, db *gorm.DB, app *models.Application, start, end string, names bool, officer *models.User, at time.Time) *models.Agreement {
	t.Helper()
	ctx := t.Context()
	if _, err := models.GetOrganisationByCode(ctx, db, "msit"); err != nil {
		if err := db.Create(&models.Organisation{Code: "msit", NameKO: "과학기술정보통신부", NameEN: "MSIT", Kind: models.OrgMinistry}).Error; err != nil {
			t.Fatal(err)
		}
	}
	files, err := models.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	in := models.VersionInput{StartDate: start, EndDate: end, GPUCount: "0", Document: agreementPDF(start), Files: files, Uploads: pdfPolicy}
	if names {
		in.GrantCompany, in.GrantModel, in.ModelNames = true, true, "Model of "+fmt.Sprint(app.LeadOrgID)
	}
	a, errs, err := models.CreateAgreement(ctx, db, models.NewAgreement{ApplicationID: app.ID, Version: in}, officer, at)
	if err != nil {
		t.Fatalf("giveAgreement: %v %v", err, errs)
	}
	got, err := models.GetAgreement(ctx, db, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	v := got.Versions[0]
	if err := models.SendVersion(ctx, db, a.ID, v.ID, officer, at); err != nil {
		t.Fatal(err)
	}
	got, _ = models.GetAgreement(ctx, db, a.ID)
	v = got.Versions[0]
	for _, p := range v.Parties {
		signer := officer
		if p.Role != models.SignerMinistry {
			orgID := p.OrganisationID
			signer, err = models.UpsertUser(ctx, db, models.Identity{Issuer: "test", Subject: fmt.Sprintf("signer-%d", orgID), Name: "서명권자",
				Role: models.RoleCompany, OrganisationID: &orgID}, at)
			if err != nil {
				t.Fatal(err)
			}
			if err := models.MarkSigner(ctx, db, signer.ID, officer, at); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := models.SignVersion(ctx, db, a.ID, v.ID, v.Hash, signer, at); err != nil {
			t.Fatalf("giveAgreement: sign for %d: %v", p.OrganisationID, err)
		}
	}
	got, _ = models.GetAgreement(ctx, db, a.ID)
	return got
}

// TestAllocationPeriodStaysInAgreement: a lent block's period cannot be
// extended past the team's agreement.
func TestAllocationPeriodStaysInAgreement(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newAgreementWorld(t, db, clock)
		a := w.inForce("2025-08-11", "2027-06-30", kst(2025, 8, 6, 10, 0, 0))
		f := newGPUFixture(t, db)
		alloc, errs, err := models.CreateAllocation(ctx, db, models.AllocationInput{OrganisationID: a.OrganisationID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 4, Nodes: []string{"node-a"}, From: "2026-12-01", To: "2027-03-31"}, f.officer, f.now)
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		errs, err = models.ChangeAllocationPeriod(ctx, db, alloc.ID, models.PeriodChange{To: "2027-07-31", Reason: "연장"}, f.officer, f.now)
		if !errors.Is(err, models.ErrInvalid) || errs["to"] != "gpu.error.not_selected" {
			t.Errorf("extend past the agreement: %v %v", err, errs)
		}
		if _, err := models.ChangeAllocationPeriod(ctx, db, alloc.ID, models.PeriodChange{To: "2027-06-30", Reason: "연장"}, f.officer, f.now); err != nil {
			t.Errorf("extend to the agreement's last day: %v", err)
		}
	})
}
