package models_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestNextRequestStatus walks every stage × status × action × party: the
// steps listed are the only ones, each for its one party.
func TestNextRequestStatus(t *testing.T) {
	t.Parallel()
	type step struct {
		stage  string
		from   models.RequestStatus
		action models.RequestAction
	}
	type allowed struct {
		to models.RequestStatus
		by models.Party
	}
	want := map[step]allowed{
		// A draft's invitation: the invited organisation answers, the lead may take it back.
		{models.StageDraft, models.RequestInvited, models.ReqAccept}:   {models.RequestAccepted, models.PartyInvitee},
		{models.StageDraft, models.RequestInvited, models.ReqDecline}:  {models.RequestDeclined, models.PartyInvitee},
		{models.StageDraft, models.RequestInvited, models.ReqWithdraw}: {models.RequestWithdrawn, models.PartyLead},
		// A selected team's change: consent first (additions), then an officer.
		{models.StageChange, models.RequestInvited, models.ReqAccept}:   {models.RequestPending, models.PartyInvitee},
		{models.StageChange, models.RequestInvited, models.ReqDecline}:  {models.RequestDeclined, models.PartyInvitee},
		{models.StageChange, models.RequestInvited, models.ReqWithdraw}: {models.RequestWithdrawn, models.PartyLead},
		{models.StageChange, models.RequestPending, models.ReqApprove}:  {models.RequestApproved, models.PartyOfficer},
		{models.StageChange, models.RequestPending, models.ReqRefuse}:   {models.RequestRefused, models.PartyOfficer},
		{models.StageChange, models.RequestPending, models.ReqWithdraw}: {models.RequestWithdrawn, models.PartyLead},
	}
	for _, stage := range []string{models.StageDraft, models.StageChange} {
		for _, from := range models.RequestStatuses {
			for _, action := range models.RequestActions {
				for _, by := range models.Parties {
					got, err := models.NextRequestStatus(stage, from, action, by)
					w, ok := want[step{stage, from, action}]
					name := stage + "/" + string(from) + "/" + string(action) + "/" + string(by)
					switch {
					case !ok:
						if !errors.Is(err, models.ErrInvalidTransition) || got != from {
							t.Errorf("%s: %s, %v; want ErrInvalidTransition", name, got, err)
						}
					case w.by != by:
						if !errors.Is(err, models.ErrForbidden) || got != from {
							t.Errorf("%s: %s, %v; want ErrForbidden", name, got, err)
						}
					default:
						if err != nil || got != w.to {
							t.Errorf("%s: %s, %v; want %s", name, got, err, w.to)
						}
					}
				}
			}
		}
	}
	// Nothing leaves a decided request.
	for _, s := range models.RequestStatuses {
		if s.Open() != (s == models.RequestInvited || s == models.RequestPending) {
			t.Errorf("%s.Open() = %v", s, s.Open())
		}
	}
}

func TestPartyOf(t *testing.T) {
	t.Parallel()
	lead, invited, rival := uint(1), uint(2), uint(3)
	add := &models.ConsortiumRequest{Kind: models.RequestAdd, OrganisationID: invited}
	change := &models.ConsortiumRequest{Kind: models.RequestChange, OrganisationID: invited}
	company := func(org uint) *models.User { return &models.User{Role: models.RoleCompany, OrganisationID: &org} }
	cases := []struct {
		name string
		u    *models.User
		r    *models.ConsortiumRequest
		want models.Party
	}{
		{"nobody", nil, add, models.PartyOther},
		{"the lead's user", company(lead), add, models.PartyLead},
		{"the invited organisation's user", company(invited), add, models.PartyInvitee},
		{"a member is no invitee of a change", company(invited), change, models.PartyOther},
		{"a rival", company(rival), add, models.PartyOther},
		{"a company user without organisation", &models.User{Role: models.RoleCompany}, add, models.PartyOther},
		{"an officer", &models.User{Role: models.RoleOfficer}, add, models.PartyOfficer},
		{"an administrator", &models.User{Role: models.RoleAdmin}, add, models.PartyOfficer},
		{"an auditor reads only", &models.User{Role: models.RoleAuditor}, add, models.PartyOther},
	}
	for _, tc := range cases {
		if got := models.PartyOf(tc.u, lead, tc.r); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestParseMemberTerms(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		in     models.MemberTermsInput
		lead   bool
		want   models.MemberTerms
		fields []string
	}{
		{"a role and nothing else", models.MemberTermsInput{Role: models.MemberData}, false,
			models.MemberTerms{Role: models.MemberData}, nil},
		{"share and GPUs", models.MemberTermsInput{Role: models.MemberGPU, Share: " 15% ", GPUCount: "64", GPUModel: " H100 "}, false,
			models.MemberTerms{Role: models.MemberGPU, Share: 15, GPUCount: 64, GPUModel: "H100"}, nil},
		{"the lead keeps its role", models.MemberTermsInput{Role: models.MemberData, Share: "60"}, true,
			models.MemberTerms{Role: models.MemberLead, Share: 60}, nil},
		{"the lead's role is not given to a member", models.MemberTermsInput{Role: models.MemberLead}, false,
			models.MemberTerms{Role: models.MemberLead}, []string{"role"}},
		{"a role kept only for old rows", models.MemberTermsInput{Role: models.MemberParticipant}, false,
			models.MemberTerms{Role: models.MemberParticipant}, []string{"role"}},
		{"share over 100", models.MemberTermsInput{Role: models.MemberData, Share: "101"}, false,
			models.MemberTerms{Role: models.MemberData}, []string{"share"}},
		{"negative share", models.MemberTermsInput{Role: models.MemberData, Share: "-1"}, false,
			models.MemberTerms{Role: models.MemberData}, []string{"share"}},
		{"fractional share", models.MemberTermsInput{Role: models.MemberData, Share: "12.5"}, false,
			models.MemberTerms{Role: models.MemberData}, []string{"share"}},
		{"GPUs without a model", models.MemberTermsInput{Role: models.MemberGPU, GPUCount: "8"}, false,
			models.MemberTerms{Role: models.MemberGPU, GPUCount: 8}, []string{"gpu_model"}},
		{"GPU count not a number", models.MemberTermsInput{Role: models.MemberGPU, GPUCount: "many"}, false,
			models.MemberTerms{Role: models.MemberGPU}, []string{"gpu_count"}},
		{"model name on two lines", models.MemberTermsInput{Role: models.MemberGPU, GPUCount: "1", GPUModel: "H100\nB200"}, false,
			models.MemberTerms{Role: models.MemberGPU, GPUCount: 1, GPUModel: "H100\nB200"}, []string{"gpu_model"}},
	}
	for _, tc := range cases {
		got, errs := models.ParseMemberTerms(tc.in, tc.lead)
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
		if len(errs) != len(tc.fields) {
			t.Errorf("%s: errors %v, want %v", tc.name, errs, tc.fields)
		}
		for _, f := range tc.fields {
			if !errs.Has(f) {
				t.Errorf("%s: no error on %s (%v)", tc.name, f, errs)
			}
		}
	}
}

func TestCheckRequestAgainst(t *testing.T) {
	t.Parallel()
	ms := []models.ConsortiumMember{
		{ID: 1, OrganisationID: 10, Role: models.MemberLead, Share: 60},
		{ID: 2, OrganisationID: 20, Role: models.MemberData, Share: 30},
	}
	cases := []struct {
		name   string
		r      models.ConsortiumRequest
		shares int
		want   error
	}{
		{"add within 100", models.ConsortiumRequest{Kind: models.RequestAdd, OrganisationID: 30, Share: 10}, 100, nil},
		{"add past 100", models.ConsortiumRequest{Kind: models.RequestAdd, OrganisationID: 30, Share: 11}, 101, models.ErrSharesOver100},
		{"add a member again", models.ConsortiumRequest{Kind: models.RequestAdd, OrganisationID: 20}, 90, models.ErrConflict},
		{"add the lead", models.ConsortiumRequest{Kind: models.RequestAdd, OrganisationID: 10}, 90, models.ErrConflict},
		{"change a share down", models.ConsortiumRequest{Kind: models.RequestChange, MemberID: 2, Share: 10}, 70, nil},
		{"change a share past 100", models.ConsortiumRequest{Kind: models.RequestChange, MemberID: 1, Share: 71}, 101, models.ErrSharesOver100},
		{"change a member gone", models.ConsortiumRequest{Kind: models.RequestChange, MemberID: 9}, 90, models.ErrNotFound},
		{"remove a member", models.ConsortiumRequest{Kind: models.RequestRemove, MemberID: 2}, 60, nil},
		{"remove the lead", models.ConsortiumRequest{Kind: models.RequestRemove, MemberID: 1}, 30, models.ErrInvalid},
	}
	for _, tc := range cases {
		if got := models.SharesAfter(ms, &tc.r); got != tc.shares {
			t.Errorf("%s: shares after %d, want %d", tc.name, got, tc.shares)
		}
		_, err := models.CheckRequestAgainst(ms, &tc.r)
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// consortiumWorld is the store test's cast.
type consortiumWorld struct {
	*world
}

func (w consortiumWorld) requestOf(appID, orgID uint) *models.ConsortiumRequest {
	w.t.Helper()
	var r models.ConsortiumRequest
	if err := w.db.Where("application_id = ? AND organisation_id = ?", appID, orgID).Order("id DESC").First(&r).Error; err != nil {
		w.t.Fatalf("request of organisation %d: %v", orgID, err)
	}
	return &r
}

func (w consortiumWorld) memberOrgs(appID uint) map[uint]models.ConsortiumMember {
	w.t.Helper()
	var ms []models.ConsortiumMember
	if err := w.db.Where("application_id = ?", appID).Find(&ms).Error; err != nil {
		w.t.Fatal(err)
	}
	out := map[uint]models.ConsortiumMember{}
	for _, m := range ms {
		out[m.OrganisationID] = m
	}
	return out
}

// TestConsortiumConsent: before selection, nobody joins a consortium
// without accepting; a rival named by the lead is only invited, and a
// declined or withdrawn invitation cannot be accepted afterwards.
func TestConsortiumConsent(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := consortiumWorld{newWorld(t, db, clock)}
		lunit, up, kaist, kakao := w.company("lunit"), w.company("upstage"), w.company("kaist"), w.company("kakao")
		a := w.draft(w.call, "lunit", inWindow)
		upOrg := w.org("upstage")

		// Lunit names its rival Upstage: an invitation, no member.
		err := models.AddConsortiumMember(ctx, db, a.ID, models.MemberInput{OrganisationID: uintStr(upOrg.ID), Role: models.MemberData,
			Terms: models.MemberTermsInput{Share: "20"}}, lunit, inWindow)
		wantErr(t, "invite Upstage", err, nil)
		if _, ok := w.memberOrgs(a.ID)[upOrg.ID]; ok {
			t.Fatal("Upstage is a member without having accepted")
		}
		r := w.requestOf(a.ID, upOrg.ID)
		if r.Status != models.RequestInvited || r.Stage != models.StageDraft || r.Share != 20 {
			t.Errorf("invitation %+v, want invited, draft, share 20", r)
		}
		// A second invitation while one is open is refused.
		err = models.AddConsortiumMember(ctx, db, a.ID, models.MemberInput{OrganisationID: uintStr(upOrg.ID), Role: models.MemberData}, lunit, inWindow)
		var fe *models.FieldsError
		if !errors.As(err, &fe) || fe.Fields["organisation_id"] != "consortium.error.invitation_open" {
			t.Errorf("second invitation: %v, want the open invitation named", err)
		}
		// The lead invites itself: refused.
		err = models.AddConsortiumMember(ctx, db, a.ID, models.MemberInput{OrganisationID: uintStr(w.org("lunit").ID), Role: models.MemberData}, lunit, inWindow)
		if !errors.As(err, &fe) || !fe.Fields.Has("organisation_id") {
			t.Errorf("the lead invites itself: %v, want a field error", err)
		}

		// Upstage sees it among its invitations; KAIST sees nothing of it.
		if got, _ := models.InvitationsFor(ctx, db, upOrg.ID); len(got) != 1 || got[0].ID != r.ID {
			t.Errorf("Upstage's invitations = %+v, want the one", got)
		}
		if got, _ := models.InvitationsFor(ctx, db, w.org("kaist").ID); len(got) != 0 {
			t.Errorf("KAIST's invitations = %+v, want none", got)
		}
		_, err = models.GetConsortiumRequest(ctx, db, r.ID, kaist)
		wantErr(t, "KAIST reads Upstage's invitation", err, models.ErrNotFound)
		wantErr(t, "KAIST accepts for Upstage", models.AnswerInvitation(ctx, db, r.ID, models.ReqAccept, kaist, inWindow), models.ErrNotFound)
		wantErr(t, "the lead accepts for Upstage", models.AnswerInvitation(ctx, db, r.ID, models.ReqAccept, lunit, inWindow), models.ErrForbidden)
		wantErr(t, "an officer accepts for Upstage", models.AnswerInvitation(ctx, db, r.ID, models.ReqAccept, w.officer, inWindow), models.ErrForbidden)

		// Upstage declines; a later accept is refused and nothing joined.
		wantErr(t, "decline", models.AnswerInvitation(ctx, db, r.ID, models.ReqDecline, up, inWindow), nil)
		wantErr(t, "decline twice", models.AnswerInvitation(ctx, db, r.ID, models.ReqDecline, up, inWindow), nil)
		wantErr(t, "accept after declining", models.AnswerInvitation(ctx, db, r.ID, models.ReqAccept, up, inWindow), models.ErrInvalidTransition)
		if _, ok := w.memberOrgs(a.ID)[upOrg.ID]; ok {
			t.Error("a declined invitation made Upstage a member")
		}

		// Invited again, Upstage accepts: a member with the terms; a double click joins once.
		err = models.AddConsortiumMember(ctx, db, a.ID, models.MemberInput{OrganisationID: uintStr(upOrg.ID), Role: models.MemberGPU,
			Terms: models.MemberTermsInput{Share: "25", GPUCount: "8", GPUModel: "H100"}}, lunit, inWindow)
		wantErr(t, "invite again", err, nil)
		r2 := w.requestOf(a.ID, upOrg.ID)
		wantErr(t, "accept", models.AnswerInvitation(ctx, db, r2.ID, models.ReqAccept, up, inWindow), nil)
		wantErr(t, "accept twice", models.AnswerInvitation(ctx, db, r2.ID, models.ReqAccept, up, inWindow), nil)
		m, ok := w.memberOrgs(a.ID)[upOrg.ID]
		if !ok || m.Role != models.MemberGPU || m.Share != 25 || m.GPUCount != 8 || m.GPUModel != "H100" {
			t.Errorf("member %+v (present %v), want gpu, 25 %%, 8 H100", m, ok)
		}
		if n := countAudit(t, db, "application.member_add", uintStr(a.ID)); n != 1 {
			t.Errorf("member_add audit rows = %d, want 1", n)
		}

		// Kakao's invitation, withdrawn by the lead, cannot be accepted.
		err = models.AddConsortiumMember(ctx, db, a.ID, models.MemberInput{OrganisationID: uintStr(w.org("kakao").ID), Role: models.MemberService}, lunit, inWindow)
		wantErr(t, "invite Kakao", err, nil)
		rk := w.requestOf(a.ID, w.org("kakao").ID)
		_, err = models.WithdrawConsortiumRequest(ctx, db, rk.ID, kakao, inWindow)
		wantErr(t, "the invitee withdraws", err, models.ErrForbidden)
		_, err = models.WithdrawConsortiumRequest(ctx, db, rk.ID, lunit, inWindow)
		wantErr(t, "withdraw", err, nil)
		wantErr(t, "accept a withdrawn invitation", models.AnswerInvitation(ctx, db, rk.ID, models.ReqAccept, kakao, inWindow), models.ErrInvalidTransition)

		// Shares: the lead takes 70 %, so a 10 % invitation is refused (25 + 70 + 10 > 100).
		lead := w.memberOrgs(a.ID)[w.org("lunit").ID]
		wantErr(t, "lead's share", models.SetDraftMemberTerms(ctx, db, a.ID, lead.ID, models.MemberTermsInput{Share: "70"}, lunit, inWindow), nil)
		err = models.SetDraftMemberTerms(ctx, db, a.ID, lead.ID, models.MemberTermsInput{Share: "80"}, lunit, inWindow)
		if !errors.As(err, &fe) || fe.Fields["share"] != "consortium.error.share_total" {
			t.Errorf("lead's share to 80: %v, want the total refused", err)
		}
		err = models.AddConsortiumMember(ctx, db, a.ID, models.MemberInput{OrganisationID: uintStr(w.org("kakao").ID), Role: models.MemberService,
			Terms: models.MemberTermsInput{Share: "10"}}, lunit, inWindow)
		if !errors.As(err, &fe) || fe.Fields["share"] != "consortium.error.share_total" {
			t.Errorf("invitation past 100 %%: %v, want the total refused", err)
		}

		// After the call closes, an open invitation can no longer be accepted.
		err = models.AddConsortiumMember(ctx, db, a.ID, models.MemberInput{OrganisationID: uintStr(w.org("kakao").ID), Role: models.MemberService,
			Terms: models.MemberTermsInput{Share: "5"}}, lunit, inWindow)
		wantErr(t, "invite Kakao again", err, nil)
		rk2 := w.requestOf(a.ID, w.org("kakao").ID)
		var closed *models.CallClosedError
		if err := models.AnswerInvitation(ctx, db, rk2.ID, models.ReqAccept, kakao, callCloses.Add(time.Second)); !errors.As(err, &closed) {
			t.Errorf("accept after the close: %v, want the close named", err)
		}

		parties, err := models.ConsortiumParties(ctx, db, a.ID)
		if err != nil || len(parties) != 2 || !parties[0].Lead || parties[0].Share != 70 || parties[1].OrganisationID != upOrg.ID || parties[1].Share != 25 {
			t.Errorf("ConsortiumParties = %+v, %v; want Lunit 70 %% then Upstage 25 %%", parties, err)
		}
		chainOK(t, db)
	})
}

// TestConsortiumChangeRequests: after selection, changes are requests
// that an officer decides; an addition reaches the officer only once the
// member accepted, and approval applies only to the consortium the request
// was filed against.
func TestConsortiumChangeRequests(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := consortiumWorld{newWorld(t, db, clock)}
		_, apps := w.decide(w.call, standardApplicants, publishAt, nil)
		app, notSelected := apps["upstage"], apps["kaist"]
		up, kaist, kakao, lunit := w.company("upstage"), w.company("kaist"), w.company("kakao"), w.company("lunit")
		at := publishAt.Add(24 * time.Hour)
		file := func(by *models.User, appID uint, in models.ChangeInput) (*models.ConsortiumRequest, error) {
			return models.FileConsortiumRequest(ctx, db, appID, in, by, at)
		}
		lead := w.memberOrgs(app.ID)[app.LeadOrgID]

		// Who may file: the lead of a selected application only.
		_, err := file(kaist, app.ID, models.ChangeInput{Kind: models.RequestRemove, MemberID: uintStr(lead.ID), Note: "x"})
		wantErr(t, "KAIST files on Upstage's consortium", err, models.ErrNotFound)
		_, err = file(kaist, notSelected.ID, models.ChangeInput{Kind: models.RequestAdd, OrganisationID: uintStr(w.org("lunit").ID),
			Terms: models.MemberTermsInput{Role: models.MemberData}, Note: "x"})
		wantErr(t, "a change to an application not selected", err, models.ErrInvalidTransition)
		_, err = file(up, app.ID, models.ChangeInput{Kind: models.RequestRemove, MemberID: uintStr(lead.ID), Note: "x"})
		var fe *models.FieldsError
		if !errors.As(err, &fe) || fe.Fields["member_id"] != "consortium.error.remove_lead" {
			t.Errorf("remove the lead: %v, want refused", err)
		}
		_, err = file(up, app.ID, models.ChangeInput{Kind: models.RequestChange, MemberID: uintStr(lead.ID)})
		if !errors.As(err, &fe) || !fe.Fields.Has("note") {
			t.Errorf("a change without its reason: %v, want the note required", err)
		}

		// Adding Lunit: invited; the officer cannot approve before it accepts, nor after it declines.
		add, err := file(up, app.ID, models.ChangeInput{Kind: models.RequestAdd, OrganisationID: uintStr(w.org("lunit").ID),
			Terms: models.MemberTermsInput{Role: models.MemberData, Share: "10"}, Note: "의료 데이터 제공"})
		wantErr(t, "file the addition", err, nil)
		if add == nil || add.Status != models.RequestInvited {
			t.Fatalf("addition %+v, want invited", add)
		}
		wantErr(t, "approve before consent", models.DecideConsortiumRequest(ctx, db, add.ID, models.ReqApprove, "", w.officer, at), models.ErrInvalidTransition)
		wantErr(t, "Lunit declines", models.AnswerInvitation(ctx, db, add.ID, models.ReqDecline, lunit, at), nil)
		wantErr(t, "approve a declined invitation", models.DecideConsortiumRequest(ctx, db, add.ID, models.ReqApprove, "", w.officer, at), models.ErrInvalidTransition)
		if _, ok := w.memberOrgs(app.ID)[w.org("lunit").ID]; ok {
			t.Fatal("Lunit joined without consent")
		}

		// Adding Kakao: accepted, then approved by the officer.
		add2, err := file(up, app.ID, models.ChangeInput{Kind: models.RequestAdd, OrganisationID: uintStr(w.org("kakao").ID),
			Terms: models.MemberTermsInput{Role: models.MemberService, Share: "10"}, Note: "서비스 협력"})
		wantErr(t, "file Kakao's addition", err, nil)
		wantErr(t, "Kakao accepts", models.AnswerInvitation(ctx, db, add2.ID, models.ReqAccept, kakao, at), nil)
		if r := w.requestOf(app.ID, w.org("kakao").ID); r.Status != models.RequestPending {
			t.Errorf("accepted addition is %s, want pending", r.Status)
		}
		if _, ok := w.memberOrgs(app.ID)[w.org("kakao").ID]; ok {
			t.Fatal("Kakao joined before the officer approved")
		}
		wantErr(t, "the lead approves", models.DecideConsortiumRequest(ctx, db, add2.ID, models.ReqApprove, "", up, at), models.ErrForbidden)
		wantErr(t, "an auditor approves", models.DecideConsortiumRequest(ctx, db, add2.ID, models.ReqApprove, "", w.auditor, at), models.ErrForbidden)
		err = models.DecideConsortiumRequest(ctx, db, add2.ID, models.ReqRefuse, " ", w.officer, at)
		if !errors.As(err, &fe) || !fe.Fields.Has("reason") {
			t.Errorf("refuse without a reason: %v, want the reason required", err)
		}

		// Two requests filed against the same consortium: the first approved, the second stale.
		raise, err := file(up, app.ID, models.ChangeInput{Kind: models.RequestChange, MemberID: uintStr(lead.ID),
			Terms: models.MemberTermsInput{Share: "50", GPUCount: "16", GPUModel: "H100"}, Note: "분담 조정"})
		wantErr(t, "file the lead's change", err, nil)
		wantErr(t, "approve Kakao", models.DecideConsortiumRequest(ctx, db, add2.ID, models.ReqApprove, "", w.officer, at), nil)
		wantErr(t, "approve Kakao twice", models.DecideConsortiumRequest(ctx, db, add2.ID, models.ReqApprove, "", w.officer, at), models.ErrInvalidTransition)
		m, ok := w.memberOrgs(app.ID)[w.org("kakao").ID]
		if !ok || m.Role != models.MemberService || m.Share != 10 {
			t.Errorf("Kakao's membership %+v (%v), want service, 10 %%", m, ok)
		}
		var stale *models.StaleRequestError
		err = models.DecideConsortiumRequest(ctx, db, raise.ID, models.ReqApprove, "", w.officer, at)
		if !errors.As(err, &stale) || !errors.Is(err, models.ErrConflict) || stale.Filed != 0 || stale.Now != 1 {
			t.Errorf("approve a stale request: %v, want a StaleRequestError (0 → 1)", err)
		}
		if r := w.requestOf(app.ID, app.LeadOrgID); r.Status != models.RequestRefused || !strings.HasPrefix(r.Reason, "stale") {
			t.Errorf("stale request %s (%q), want refused as stale", r.Status, r.Reason)
		}
		if got := w.memberOrgs(app.ID)[app.LeadOrgID]; got.Share != 0 || got.GPUCount != 0 {
			t.Errorf("a stale request changed the lead: %+v", got)
		}

		// Filed again against the current consortium: approved and applied, with the terms before kept.
		raise2, err := file(up, app.ID, models.ChangeInput{Kind: models.RequestChange, MemberID: uintStr(lead.ID),
			Terms: models.MemberTermsInput{Share: "50", GPUCount: "16", GPUModel: "H100"}, Note: "분담 조정"})
		wantErr(t, "file again", err, nil)
		wantErr(t, "approve again", models.DecideConsortiumRequest(ctx, db, raise2.ID, models.ReqApprove, "검토 완료", w.officer, at), nil)
		if got := w.memberOrgs(app.ID)[app.LeadOrgID]; got.Role != models.MemberLead || got.Share != 50 || got.GPUCount != 16 {
			t.Errorf("lead after the change %+v, want lead, 50 %%, 16 GPUs", got)
		}
		if r := w.requestOf(app.ID, app.LeadOrgID); r.Status != models.RequestApproved || !strings.Contains(r.Before, "share 0%") {
			t.Errorf("approved request %s, before %q", r.Status, r.Before)
		}

		// Removing Kakao: refused with a reason, then filed again and approved.
		kakaoMember := w.memberOrgs(app.ID)[w.org("kakao").ID]
		rm, err := file(up, app.ID, models.ChangeInput{Kind: models.RequestRemove, MemberID: uintStr(kakaoMember.ID), Note: "참여 종료"})
		wantErr(t, "file the removal", err, nil)
		_, err = file(up, app.ID, models.ChangeInput{Kind: models.RequestChange, MemberID: uintStr(kakaoMember.ID),
			Terms: models.MemberTermsInput{Role: models.MemberService, Share: "5"}, Note: "x"})
		if !errors.As(err, &fe) || fe.Fields["member_id"] != "consortium.error.request_open" {
			t.Errorf("a second open request about Kakao: %v, want refused", err)
		}
		wantErr(t, "refuse", models.DecideConsortiumRequest(ctx, db, rm.ID, models.ReqRefuse, "대체 기관 계획 필요", w.officer, at), nil)
		wantErr(t, "withdraw a refused request", func() error {
			_, err := models.WithdrawConsortiumRequest(ctx, db, rm.ID, up, at)
			return err
		}(), models.ErrInvalidTransition)
		rm2, err := file(up, app.ID, models.ChangeInput{Kind: models.RequestRemove, MemberID: uintStr(kakaoMember.ID), Note: "참여 종료, 대체 계획 첨부"})
		wantErr(t, "file the removal again", err, nil)
		wantErr(t, "approve the removal", models.DecideConsortiumRequest(ctx, db, rm2.ID, models.ReqApprove, "", w.officer, at), nil)
		if _, ok := w.memberOrgs(app.ID)[w.org("kakao").ID]; ok {
			t.Error("Kakao is still a member after the approved removal")
		}

		// The queue holds what waits for an officer; history and audit are kept.
		pending, err := models.PendingConsortiumRequests(ctx, db)
		if err != nil || len(pending) != 0 {
			t.Errorf("pending requests = %d, %v; want none", len(pending), err)
		}
		all, _ := models.ConsortiumRequests(ctx, db, app.ID)
		if len(all) != 6 {
			t.Errorf("requests in the history = %d, want 6", len(all))
		}
		for action, want := range map[string]int64{"consortium.invite": 2, "consortium.accept": 1, "consortium.decline": 1,
			"consortium.request": 4, "consortium.approve": 3, "consortium.refuse": 1, "consortium.stale": 1} {
			if n := countAudit(t, db, action, uintStr(app.ID)); n != want {
				t.Errorf("%s audit rows = %d, want %d", action, n, want)
			}
		}
		parties, err := models.ConsortiumParties(ctx, db, app.ID)
		if err != nil || len(parties) != 1 || parties[0].Share != 50 || parties[0].Role != models.MemberLead {
			t.Errorf("ConsortiumParties = %+v, %v; want Upstage alone at 50 %%", parties, err)
		}
		chainOK(t, db)
	})
}

func uintStr(n uint) string { return strconv.FormatUint(uint64(n), 10) }

// TestConsortiumApprovalsRace: two officers approve, at the same moment,
// two requests filed against the same consortium: one is applied, the
// other refused as stale, never both.
func TestConsortiumApprovalsRace(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := consortiumWorld{newWorld(t, db, clock)}
		_, apps := w.decide(w.call, standardApplicants, publishAt, nil)
		app := apps["upstage"]
		up, kakao := w.company("upstage"), w.company("kakao")
		at := publishAt.Add(24 * time.Hour)
		add, err := models.FileConsortiumRequest(ctx, db, app.ID, models.ChangeInput{Kind: models.RequestAdd,
			OrganisationID: uintStr(w.org("kakao").ID), Terms: models.MemberTermsInput{Role: models.MemberService, Share: "10"}, Note: "서비스"}, up, at)
		wantErr(t, "file the addition", err, nil)
		lead := w.memberOrgs(app.ID)[app.LeadOrgID]
		share, err := models.FileConsortiumRequest(ctx, db, app.ID, models.ChangeInput{Kind: models.RequestChange,
			MemberID: uintStr(lead.ID), Terms: models.MemberTermsInput{Share: "60"}, Note: "분담"}, up, at)
		wantErr(t, "file the share", err, nil)
		wantErr(t, "Kakao accepts", models.AnswerInvitation(ctx, db, add.ID, models.ReqAccept, kakao, at), nil)

		errs := make(chan error, 2)
		for _, id := range []uint{add.ID, share.ID} {
			go func() { errs <- models.DecideConsortiumRequest(ctx, db, id, models.ReqApprove, "", w.officer, at) }()
		}
		var applied, stale int
		for range 2 {
			err := <-errs
			var se *models.StaleRequestError
			switch {
			case err == nil:
				applied++
			case errors.As(err, &se):
				stale++
			default:
				t.Errorf("concurrent approval: %v, want success or a StaleRequestError", err)
			}
		}
		if applied != 1 || stale != 1 {
			t.Errorf("concurrent approvals: %d applied, %d stale; want one of each", applied, stale)
		}
		var got models.Application
		if err := db.First(&got, app.ID).Error; err != nil || got.ConsortiumVersion != 1 {
			t.Errorf("consortium version %d (%v), want 1", got.ConsortiumVersion, err)
		}
		ms := w.memberOrgs(app.ID)
		_, kakaoIn := ms[w.org("kakao").ID]
		if kakaoIn == (ms[app.LeadOrgID].Share == 60) {
			t.Errorf("both or neither change applied: Kakao member %v, lead's share %d", kakaoIn, ms[app.LeadOrgID].Share)
		}
		chainOK(t, db)
	})
}

// TestConsortiumApprovalLocksBeforeAudit: on PostgreSQL every decision and
// answer about a consortium locks its application's row before it takes the
// audit lock, so that while it waits for another change of the same
// consortium it holds nothing that change needs (the other order deadlocked
// two concurrent approvals). The other change is stood for by a transaction
// holding the row, as an UPDATE of the application does.
func TestConsortiumApprovalLocksBeforeAudit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		accept bool // the invitation is accepted before the step
		step   func(ctx context.Context, db *gorm.DB, w consortiumWorld, id uint, at time.Time) error
	}{
		{"approve", true, func(ctx context.Context, db *gorm.DB, w consortiumWorld, id uint, at time.Time) error {
			return models.DecideConsortiumRequest(ctx, db, id, models.ReqApprove, "", w.officer, at)
		}},
		{"refuse", true, func(ctx context.Context, db *gorm.DB, w consortiumWorld, id uint, at time.Time) error {
			return models.DecideConsortiumRequest(ctx, db, id, models.ReqRefuse, "분담 근거 부족", w.officer, at)
		}},
		{"accept the invitation", false, func(ctx context.Context, db *gorm.DB, w consortiumWorld, id uint, at time.Time) error {
			return models.AnswerInvitation(ctx, db, id, models.ReqAccept, w.company("kakao"), at)
		}},
		{"withdraw", false, func(ctx context.Context, db *gorm.DB, w consortiumWorld, id uint, at time.Time) error {
			_, err := models.WithdrawConsortiumRequest(ctx, db, id, w.company("upstage"), at)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := testdb.NewClock(seedAt)
			db := testdb.Open(t, testdb.Postgres, clock.Now)
			ctx := t.Context()
			w := consortiumWorld{newWorld(t, db, clock)}
			_, apps := w.decide(w.call, standardApplicants, publishAt, nil)
			app := apps["upstage"]
			at := publishAt.Add(24 * time.Hour)
			add, err := models.FileConsortiumRequest(ctx, db, app.ID, models.ChangeInput{Kind: models.RequestAdd,
				OrganisationID: uintStr(w.org("kakao").ID), Terms: models.MemberTermsInput{Role: models.MemberService, Share: "10"}, Note: "서비스"},
				w.company("upstage"), at)
			wantErr(t, "file the addition", err, nil)
			if tc.accept {
				wantErr(t, "Kakao accepts", models.AnswerInvitation(ctx, db, add.ID, models.ReqAccept, w.company("kakao"), at), nil)
			}

			err = holdRowThenStep(t, db, "SELECT id FROM applications WHERE id = ?", []any{app.ID}, auditLock,
				func() error { return tc.step(ctx, db, w, add.ID, at) })
			wantErr(t, tc.name+", once the row is free", err, nil)
			chainOK(t, db)
		})
	}
}

// TestDraftInvitationsLapseOnSubmit: the invitations of a draft still
// unanswered when it is submitted lapse; they can no longer be accepted.
func TestDraftInvitationsLapseOnSubmit(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(seedAt)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		w := consortiumWorld{newWorld(t, db, clock)}
		up, kakao := w.company("upstage"), w.company("kakao")
		a := w.draft(w.call, "upstage", inWindow)
		r, err := models.InviteMember(ctx, db, a.ID, w.org("kakao").ID, models.MemberTerms{Role: models.MemberService}, up, inWindow)
		wantErr(t, "invite", err, nil)
		w.attachRequired(w.call, a, up, inWindow)
		done, err := models.TransitionApplication(ctx, db, a.ID, models.ActSubmit, up, inWindow)
		if !done || err != nil {
			t.Fatalf("submit: %v, %v", done, err)
		}
		if got := w.requestOf(a.ID, w.org("kakao").ID); got.Status != models.RequestLapsed {
			t.Errorf("invitation is %s after the submission, want lapsed", got.Status)
		}
		wantErr(t, "accept a lapsed invitation", models.AnswerInvitation(ctx, db, r.ID, models.ReqAccept, kakao, inWindow), models.ErrInvalidTransition)
		if n := countAudit(t, db, models.ActionConsortiumLapse, uintStr(a.ID)); n != 1 {
			t.Errorf("lapse audit rows = %d, want 1", n)
		}
	})
}
