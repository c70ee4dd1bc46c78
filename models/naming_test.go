package models_test

import (
	"strings"
	"testing"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

func day(s string) models.Date {
	d, err := models.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestNamingGrantHoldsOn(t *testing.T) {
	t.Parallel()
	// From 2025-08-05 to 2026-08-04 inclusive, unless revoked earlier.
	bounded := models.NamingGrant{ValidFrom: "2025-08-05", ValidTo: "2026-08-04"}
	open := models.NamingGrant{ValidFrom: "2025-08-05"}
	revoked := models.NamingGrant{ValidFrom: "2025-08-05", RevokedOn: "2026-02-01"}
	revokedLate := models.NamingGrant{ValidFrom: "2025-08-05", ValidTo: "2026-08-04", RevokedOn: "2027-01-01"}
	revokedAtOnce := models.NamingGrant{ValidFrom: "2025-08-05", RevokedOn: "2025-08-05"}
	broken := models.NamingGrant{ValidFrom: "someday"}
	cases := []struct {
		name string
		g    models.NamingGrant
		on   string
		want bool
	}{
		{"day before from", bounded, "2025-08-04", false},
		{"on from", bounded, "2025-08-05", true},
		{"in between", bounded, "2026-01-01", true},
		{"on to", bounded, "2026-08-04", true},
		{"day after to", bounded, "2026-08-05", false},
		{"open-ended, before from", open, "2025-08-04", false},
		{"open-ended, on from", open, "2025-08-05", true},
		{"open-ended, years later", open, "2030-12-31", true},
		{"revoked: the day before RevokedOn", revoked, "2026-01-31", true},
		{"revoked: on RevokedOn", revoked, "2026-02-01", false},
		{"revoked: after", revoked, "2026-03-01", false},
		{"revocation after to: to still ends it", revokedLate, "2026-08-05", false},
		{"revocation after to: on to", revokedLate, "2026-08-04", true},
		{"revoked on the first day: never held", revokedAtOnce, "2025-08-05", false},
		{"unreadable from", broken, "2025-08-05", false},
	}
	for _, tc := range cases {
		if got := tc.g.HoldsOn(day(tc.on)); got != tc.want {
			t.Errorf("%s: HoldsOn(%s) = %v, want %v", tc.name, tc.on, got, tc.want)
		}
	}
	// End is the last day that holds.
	for _, tc := range []struct {
		g    models.NamingGrant
		want models.Date
	}{
		{bounded, day("2026-08-04")}, {open, models.Date{}}, {revoked, day("2026-01-31")}, {revokedLate, day("2026-08-04")},
		{models.NamingGrant{ValidFrom: "2025-08-05", ValidTo: "2026-08-04", RevokedOn: "2026-03-01"}, day("2026-02-28")},
	} {
		if got := tc.g.End(); got != tc.want {
			t.Errorf("End of %+v = %v, want %v", tc.g, got, tc.want)
		}
	}
}

func TestNamingGrantCovers(t *testing.T) {
	t.Parallel()
	g := models.NamingGrant{Names: "Solar Pro 2\n솔라 프로\n  \nK-AI 업스테이지\n"}
	if got := g.NameList(); len(got) != 3 {
		t.Errorf("NameList = %q, want the three non-blank names", got)
	}
	cases := []struct {
		name string
		want bool
	}{
		{"Solar Pro 2", true},
		{"solar pro 2", true}, // case
		{"SOLAR-PRO-2", true}, // hyphens
		{"SolarPro2", true},   // no spaces
		{"  solar   pro  2 ", true},
		{"solar_pro.2", true}, // other punctuation
		{"solar pro", false},  // a prefix is another name
		{"solar pro 22", false},
		{"솔라 프로", true},
		{"솔라프로", true}, // Korean without the space
		{"솔라-프로", true},
		{"솔라 프로 2", false},
		{"k-ai 업스테이지", true},
		{"KAI업스테이지", true},
		{"업스테이지", false},
		{"", false},
		{"  - - ", false}, // nothing left to compare
	}
	for _, tc := range cases {
		if got := g.Covers(tc.name); got != tc.want {
			t.Errorf("Covers(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
	if (&models.NamingGrant{Names: " \n - \n"}).Covers("-") {
		t.Error("a grant of punctuation covers punctuation")
	}
	if models.NamingModel.Label() != "K-AI 모델" || models.NamingCompany.Label() != "K-AI 기업" {
		t.Errorf("labels %q, %q", models.NamingModel.Label(), models.NamingCompany.Label())
	}
}

func TestGrantInputValidate(t *testing.T) {
	t.Parallel()
	ok := models.GrantInput{Kind: models.NamingModel, HolderID: 3, Names: "Solar Pro 2", ValidFrom: "2025-08-05",
		ValidTo: "2026-08-04", Basis: "2025-08-04 선정 결과 공고"}
	cases := []struct {
		name string
		edit func(*models.GrantInput)
		want map[string]string
	}{
		{"valid", func(*models.GrantInput) {}, nil},
		{"open-ended", func(in *models.GrantInput) { in.ValidTo = "" }, nil},
		{"one day", func(in *models.GrantInput) { in.ValidTo = in.ValidFrom }, nil},
		{"company name", func(in *models.GrantInput) { in.Kind = models.NamingCompany }, nil},
		{"no kind", func(in *models.GrantInput) { in.Kind = "" }, map[string]string{"kind": "naming.error.kind"}},
		{"unknown kind", func(in *models.GrantInput) { in.Kind = "brand" }, map[string]string{"kind": "naming.error.kind"}},
		{"no holder", func(in *models.GrantInput) { in.HolderID = 0 }, map[string]string{"holder_id": "form.required"}},
		{"blank names", func(in *models.GrantInput) { in.Names = " \n \n" }, map[string]string{"names": "form.required"}},
		{"no from", func(in *models.GrantInput) { in.ValidFrom = "" }, map[string]string{"valid_from": "naming.error.date"}},
		{"slashes", func(in *models.GrantInput) { in.ValidFrom = "2025/08/05" }, map[string]string{"valid_from": "naming.error.date"}},
		{"month 13", func(in *models.GrantInput) { in.ValidFrom = "2025-13-01" }, map[string]string{"valid_from": "naming.error.date"}},
		{"bad to", func(in *models.GrantInput) { in.ValidTo = "next year" }, map[string]string{"valid_to": "naming.error.date"}},
		{"to before from", func(in *models.GrantInput) { in.ValidTo = "2025-08-04" }, map[string]string{"valid_to": "naming.error.to_before_from"}},
		{"bad from, so to is not compared", func(in *models.GrantInput) { in.ValidFrom, in.ValidTo = "x", "2020-01-01" },
			map[string]string{"valid_from": "naming.error.date"}},
		{"no basis", func(in *models.GrantInput) { in.Basis = "  " }, map[string]string{"basis": "form.required"}},
	}
	for _, tc := range cases {
		in := ok
		tc.edit(&in)
		got := in.Validate()
		if len(got) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		for f, id := range tc.want {
			if got[f] != id {
				t.Errorf("%s: %s = %q, want %q", tc.name, f, got[f], id)
			}
		}
	}
}

func TestNamingStore(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := newWorld(t, db, clock)
		d, apps := w.decide(w.call, standardApplicants, publishAt, nil)
		at := kst(2025, 8, 5, 9, 0, 0)
		// Upstage's agreement (granting no name itself) holds from 08-05;
		// kakao, selected too, has none.
		giveAgreement(t, db, apps["upstage"], "2025-08-05", "2027-12-31", false, w.officer, kst(2025, 8, 4, 16, 0, 0))
		grant := func(code, names, from string) models.GrantInput {
			return models.GrantInput{Kind: models.NamingModel, HolderID: w.org(code).ID, Names: names, ValidFrom: from,
				Basis: "선정 결과 공고", DecisionID: &d.ID}
		}

		// Only a team whose agreement holds for the dates holds a name.
		_, err := models.GrantName(ctx, db, grant("kakao", "Kanana", "2025-08-05"), w.officer, at)
		wantErr(t, "grant to a team selected without an agreement", err, models.ErrNotSelected)
		_, err = models.GrantName(ctx, db, grant("upstage", "Solar", "2025-08-04"), w.officer, at)
		wantErr(t, "grant from before the agreement", err, models.ErrNotSelected)
		_, err = models.GrantName(ctx, db, grant("kaist", "KAIST LLM", "2025-08-05"), w.officer, at)
		wantErr(t, "grant to a team not selected", err, models.ErrNotSelected)
		_, err = models.GrantName(ctx, db, grant("lunit", "Lunit FM", "2025-08-05"), w.officer, at)
		wantErr(t, "grant to an organisation that did not apply", err, models.ErrNotSelected)
		_, err = models.GrantName(ctx, db, grant("upstage", "Solar", "2025-08-05"), w.company("upstage"), at)
		wantErr(t, "grant by a company", err, models.ErrForbidden)
		_, err = models.GrantName(ctx, db, grant("upstage", " ", "2025-08-05"), w.officer, at)
		wantErr(t, "grant without names", err, models.ErrInvalid)
		if n := count(t, db, &models.NamingGrant{}); n != 0 {
			t.Fatalf("%d grants after refusals", n)
		}

		g, err := models.GrantName(ctx, db, grant("upstage", "  Solar Pro 2 \n\n솔라 프로\n", " 2025-08-05 "), w.officer, at)
		if err != nil || g.Names != "Solar Pro 2\n솔라 프로" || g.ValidFrom != "2025-08-05" || g.ValidTo != "2027-12-31" || g.AgreementID == nil ||
			g.HolderID != w.org("upstage").ID || g.GrantedByID != w.officer.ID {
			t.Fatalf("GrantName = %+v, %v", g, err)
		}
		if n := countAudit(t, db, "naming.grant", ""); n != 1 {
			t.Errorf("naming.grant rows = %d, want 1", n)
		}

		verify := func(name, on string) models.Verification {
			t.Helper()
			v, err := models.VerifyName(ctx, db, name, day(on))
			if err != nil {
				t.Fatalf("VerifyName(%q, %s): %v", name, on, err)
			}
			return v
		}
		if v := verify(" solar-pro-2 ", "2025-08-10"); !v.Valid || v.Grant == nil || v.Grant.ID != g.ID || v.Name != "solar-pro-2" ||
			v.Grant.Holder.NameKO != "업스테이지" {
			t.Errorf("verify a granted name: %+v", v)
		}
		if v := verify("Unknown Model", "2025-08-10"); v.Valid || v.Grant != nil {
			t.Errorf("verify an unknown name: %+v, want invalid without a grant", v)
		}
		if v := verify("솔라프로", "2025-08-04"); v.Valid || v.Grant == nil || v.Grant.ID != g.ID {
			t.Errorf("verify before the grant starts: %+v, want invalid, naming the grant", v)
		}

		// Revocation: a date not before the start and a reason; once.
		revAt := kst(2026, 1, 20, 10, 0, 0)
		wantErr(t, "revoke before the start", models.RevokeName(ctx, db, g.ID, "2025-08-04", "탈락", w.officer, revAt), models.ErrInvalid)
		wantErr(t, "revoke without a reason", models.RevokeName(ctx, db, g.ID, "2026-02-01", " ", w.officer, revAt), models.ErrInvalid)
		wantErr(t, "revoke with a bad date", models.RevokeName(ctx, db, g.ID, "2026-02-30", "탈락", w.officer, revAt), models.ErrInvalid)
		wantErr(t, "revoke by a company", models.RevokeName(ctx, db, g.ID, "2026-02-01", "탈락", w.company("kakao"), revAt), models.ErrForbidden)
		wantErr(t, "revoke nothing", models.RevokeName(ctx, db, g.ID+100, "2026-02-01", "탈락", w.officer, revAt), models.ErrNotFound)
		wantErr(t, "revoke", models.RevokeName(ctx, db, g.ID, "2026-02-01", " 1차 단계평가 탈락 ", w.officer, revAt), nil)
		wantErr(t, "revoke twice", models.RevokeName(ctx, db, g.ID, "2026-03-01", "다시", w.officer, revAt), models.ErrInvalidTransition)
		grants, err := models.ListGrants(ctx, db)
		if err != nil || len(grants) != 1 || grants[0].RevokedOn != "2026-02-01" || grants[0].RevocationReason != "1차 단계평가 탈락" ||
			grants[0].RevokedAt == nil || !grants[0].RevokedAt.Equal(revAt) || grants[0].RevokedByID == nil {
			t.Errorf("after revocation: %+v, %v; want the row kept with its revocation", grants, err)
		}
		if n := countAudit(t, db, "naming.revoke", ""); n != 1 {
			t.Errorf("naming.revoke rows = %d, want 1", n)
		}
		if v := verify("Solar Pro 2", "2026-01-31"); !v.Valid || v.Grant.ID != g.ID {
			t.Errorf("the day before the revocation: %+v, want valid", v)
		}
		if v := verify("Solar Pro 2", "2026-02-01"); v.Valid || v.Grant == nil || v.Grant.ID != g.ID || v.Grant.RevokedOn != "2026-02-01" {
			t.Errorf("on the revocation day: %+v, want invalid, naming the revoked grant", v)
		}

		// A new grant for the same name: the current one answers.
		g2, err := models.GrantName(ctx, db, grant("upstage", "SOLAR PRO 2", "2026-03-01"), w.officer, kst(2026, 2, 25, 10, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		if v := verify("solar pro 2", "2026-04-01"); !v.Valid || v.Grant == nil || v.Grant.ID != g2.ID {
			t.Errorf("with an old revoked and a new grant: %+v, want the new one (%d)", v, g2.ID)
		}
		if v := verify("solar pro 2", "2026-01-15"); !v.Valid || v.Grant.ID != g.ID {
			t.Errorf("on a day only the old one held: %+v, want the old one (%d)", v, g.ID)
		}
		// The Korean name was only in the old grant.
		if v := verify("솔라 프로", "2026-04-01"); v.Valid || v.Grant == nil || v.Grant.ID != g.ID {
			t.Errorf("a name of the revoked grant only: %+v, want invalid, naming the old grant", v)
		}
		if grants, _ := models.ListGrants(ctx, db); len(grants) != 2 || grants[0].ID != g2.ID ||
			!strings.Contains(grants[1].Holder.NameKO, "업스테이지") {
			t.Errorf("ListGrants newest first: %+v", grants)
		}
		chainOK(t, db)
	})
}
