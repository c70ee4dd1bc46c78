package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestConsortiumChangeJourney: through the router, Upstage (selected)
// invites KAIST, which sees only the invitation and accepts it; the
// officer approves after the confirmation page; a request filed against
// the consortium before that approval is refused as stale; a refusal
// needs its reason.
func TestConsortiumChangeJourney(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		s := newStory(t, kind, nil)
		decided := s.decidedCall("2027년 정예팀 공모", applicant{"upstage", 9, true}, applicant{"kaist", 6, false})
		app := decided.apps["upstage"]
		page := fmt.Sprintf("/applications/%d/consortium", app.ID)
		up, kaist, officer := s.signIn("demo-company-upstage"), s.signIn("demo-company-kaist"), s.signIn("demo-officer")
		s.demoCompany("naver-cloud")
		naver := s.signIn("demo-company-naver-cloud")
		lead := s.memberOf(app.ID, "upstage")

		doc := wantPage(t, "lead's page", up.get(page), http.StatusOK)
		if doc.Find(`[data-testid="consortium-member"]`).Length() != 1 || doc.Find(`[data-testid="change-form"]`).Length() != 1 {
			t.Fatal("lead's page: want the lead alone and the change form")
		}
		// A request without its reason comes back with the input kept.
		doc = wantPage(t, "no reason", up.post(page, url.Values{"kind": {models.RequestAdd}, "organisation_id": {itoa(s.org("kaist").ID)},
			"role": {models.MemberResearch}, "share": {"10"}}), http.StatusUnprocessableEntity)
		if doc.Find(`[data-testid="error-note"]`).Length() != 1 || apValue(doc, `input[name="share"]`) != "10" {
			t.Error("no reason: want the note's error and the share kept")
		}
		// The lead's share (pending) and KAIST's and Naver Cloud's invitations.
		wantSeeOther(t, "lead's share", up.post(page, url.Values{"kind": {models.RequestChange}, "member_id": {itoa(lead)},
			"share": {"70"}, "note": {"주관기관 분담 기록"}}), page+"?done=filed")
		wantSeeOther(t, "invite KAIST", up.post(page, url.Values{"kind": {models.RequestAdd}, "organisation_id": {itoa(s.org("kaist").ID)},
			"role": {models.MemberResearch}, "share": {"10"}, "gpu_count": {"8"}, "gpu_model": {"A100"}, "note": {"평가 연구"}}), page+"?done=invited")
		wantSeeOther(t, "invite Naver Cloud", up.post(page, url.Values{"kind": {models.RequestAdd}, "organisation_id": {itoa(s.org("naver-cloud").ID)},
			"role": {models.MemberGPU}, "share": {"5"}, "note": {"GPU 제공"}}), page+"?done=invited")
		doc = wantPage(t, "lead's page with requests", up.get(page), http.StatusOK)
		if n := doc.Find(`[data-testid="consortium-open"] [data-testid="request-row"]`).Length(); n != 3 {
			t.Errorf("open requests on the lead's page: %d, want 3", n)
		}

		// KAIST's dashboard points to the invitation waiting for it.
		doc = wantPage(t, "KAIST's dashboard", kaist.get("/company"), http.StatusOK)
		if doc.Find(`[data-testid="company-invitations"] a[href="/company/consortium"]`).Length() != 1 {
			t.Error("KAIST's dashboard does not point to its invitation")
		}
		// KAIST sees its invitation, nothing else of Upstage's consortium.
		wantPage(t, "KAIST on Upstage's consortium", kaist.get(page), http.StatusNotFound)
		doc = wantPage(t, "KAIST's invitations", kaist.get("/company/consortium"), http.StatusOK)
		rows := doc.Find(`[data-testid="invitation-row"]`)
		if rows.Length() != 1 || !strings.Contains(rows.Find(`[data-testid="invitation-lead"]`).Text(), s.org("upstage").NameKO) {
			t.Fatalf("KAIST's invitations: %d rows, want Upstage's one", rows.Length())
		}
		if strings.Contains(doc.Find("main").Text(), s.org("naver-cloud").NameKO) {
			t.Error("KAIST's page names Naver Cloud, invited to the same consortium")
		}
		rid, _ := rows.Attr("data-request-id")
		// Nobody else answers for KAIST.
		wantPage(t, "Naver Cloud accepts KAIST's", naver.post("/consortium/requests/"+rid+"/accept", nil), http.StatusNotFound)
		wantSeeOther(t, "KAIST accepts", kaist.post("/consortium/requests/"+rid+"/accept", nil), "/company/consortium?done=accepted")
		var naverReq models.ConsortiumRequest
		must(t, s.app.db.Where("application_id = ? AND organisation_id = ?", app.ID, s.org("naver-cloud").ID).First(&naverReq).Error)
		wantSeeOther(t, "Naver Cloud declines", naver.post(fmt.Sprintf("/consortium/requests/%d/decline", naverReq.ID), nil),
			"/company/consortium?done=declined")
		// A declined invitation cannot be approved.
		wantPage(t, "approve a declined invitation", officer.post(fmt.Sprintf("/officer/consortium/requests/%d/approve", naverReq.ID),
			url.Values{"confirm": {"1"}}), http.StatusConflict)

		// The officer's queue: the lead's share and KAIST's addition.
		doc = wantPage(t, "queue", officer.get("/officer/consortia"), http.StatusOK)
		if n := doc.Find(`[data-testid="queue-request"]`).Length(); n != 2 {
			t.Fatalf("queue: %d requests, want 2", n)
		}
		approve := "/officer/consortium/requests/" + rid + "/approve"
		doc = wantPage(t, "approve asks first", officer.post(approve, nil), http.StatusOK)
		if doc.Find(`[data-testid="confirm"]`).Length() != 1 {
			t.Fatal("approve: no confirmation page")
		}
		if n := len(s.memberOrgs(app.ID)); n != 1 {
			t.Fatalf("the confirmation page changed the consortium (%d members)", n)
		}
		wantSeeOther(t, "approve", officer.post(approve, url.Values{"confirm": {"1"}}), "/officer/consortia?done=approved")
		doc = wantPage(t, "consortium after", up.get(page), http.StatusOK)
		kaistRow := doc.Find(fmt.Sprintf(`[data-testid="consortium-member"][data-org-id="%d"]`, s.org("kaist").ID))
		if kaistRow.Length() != 1 || strings.TrimSpace(kaistRow.Find(`[data-testid="consortium-member-gpus"]`).Text()) != "8 × A100" {
			t.Errorf("KAIST's row after the approval: %q", kaistRow.Text())
		}

		// The lead's share was filed before: stale, refused, said so.
		var share models.ConsortiumRequest
		must(t, s.app.db.Where("application_id = ? AND kind = ?", app.ID, models.RequestChange).First(&share).Error)
		doc = wantPage(t, "queue marks it stale", officer.get("/officer/consortia"), http.StatusOK)
		if doc.Find(`[data-testid="request-stale"]`).Length() != 1 {
			t.Error("queue: the stale request is not marked")
		}
		doc = wantPage(t, "approve stale", officer.post(fmt.Sprintf("/officer/consortium/requests/%d/approve", share.ID),
			url.Values{"confirm": {"1"}}), http.StatusConflict)
		if !strings.Contains(doc.Find("main").Text(), "반려") {
			t.Errorf("stale approval: the page does not say it was refused: %q", doc.Find("main").Text())
		}
		must(t, s.app.db.First(&share, share.ID).Error)
		if share.Status != models.RequestRefused {
			t.Errorf("stale request is %s, want refused", share.Status)
		}

		// Filed again, refused: the reason is required, then the confirmation.
		wantSeeOther(t, "lead's share again", up.post(page, url.Values{"kind": {models.RequestChange}, "member_id": {itoa(lead)},
			"share": {"70"}, "note": {"주관기관 분담 기록"}}), page+"?done=filed")
		share = models.ConsortiumRequest{}
		must(t, s.app.db.Where("application_id = ? AND kind = ? AND status = ?", app.ID, models.RequestChange, models.RequestPending).First(&share).Error)
		refuse := fmt.Sprintf("/officer/consortium/requests/%d/refuse", share.ID)
		doc = wantPage(t, "refuse without reason", officer.post(refuse, url.Values{"reason": {" "}}), http.StatusUnprocessableEntity)
		if doc.Find(`[data-testid="error-reason"]`).Length() != 1 {
			t.Error("refuse without reason: no field error")
		}
		wantPage(t, "refuse asks first", officer.post(refuse, url.Values{"reason": {"근거 자료 부족"}}), http.StatusOK)
		wantSeeOther(t, "refuse", officer.post(refuse, url.Values{"reason": {"근거 자료 부족"}, "confirm": {"1"}}), "/officer/consortia?done=refused")
		doc = wantPage(t, "history", up.get(page), http.StatusOK)
		if !strings.Contains(doc.Find(`[data-testid="consortium-history"]`).Text(), "근거 자료 부족") {
			t.Error("history: the refusal's reason is not shown")
		}
		// Auditors read; they cannot decide.
		auditor := s.signIn("demo-auditor")
		doc = wantPage(t, "auditor's consortia", auditor.get("/officer/consortia"), http.StatusOK)
		if doc.Find(`[data-testid="request-approve"]`).Length() != 0 {
			t.Error("auditor: approve buttons shown")
		}
		wantPage(t, "auditor on the consortium", auditor.get(page), http.StatusOK)
	})
}

// memberOrgs returns the application's members by organisation id.
func (s *story) memberOrgs(appID uint) map[uint]models.ConsortiumMember {
	s.t.Helper()
	var ms []models.ConsortiumMember
	if err := s.app.db.Where("application_id = ?", appID).Find(&ms).Error; err != nil {
		s.t.Fatal(err)
	}
	out := map[uint]models.ConsortiumMember{}
	for _, m := range ms {
		out[m.OrganisationID] = m
	}
	return out
}
