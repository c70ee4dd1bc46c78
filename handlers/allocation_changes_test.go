package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestAllocationLifecycleForms: an officer replaces a GPU and ends an
// allocation early through the forms, each behind its confirmation page;
// refused input comes back kept; the history shows on the allocation page,
// to the team too, without the change link.
func TestAllocationLifecycleForms(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		g := newGPUApp(t, kind)
		ctx := t.Context()
		a := g.allocate(t, g.upstage, "kt-gn001")
		officer := g.client()
		officer.signInDemo("demo-officer")
		base := "/officer/allocations/" + itoa(a.ID)

		doc := officer.page(officer.get(base + "/change"))
		for _, id := range []string{"change-period-form", "change-add-form", "change-replace-form", "change-end-form"} {
			if doc.Find(`[data-testid="`+id+`"]`).Length() != 1 {
				t.Errorf("the change page lacks %s", id)
			}
		}

		at := g.clock.Now().Truncate(60 * 60 * 1e9).In(models.KST).Format(models.InstantLayout)
		old, repl := g.gpus[0].UUID, g.gpus[8].UUID
		form := url.Values{"old": {old}, "new": {repl}, "at": {at}, "reason": {"XID 79: fell off the bus"}}
		resp := officer.post(base+"/replace", form)
		doc = officer.page(resp)
		if resp.StatusCode != http.StatusOK || doc.Find(`[data-testid="confirm"]`).Length() != 1 {
			t.Fatalf("replace without confirming: status %d, want the confirmation page", resp.StatusCode)
		}
		if cur, _ := models.GetAllocation(ctx, g.db, a.ID); len(cur.GPUs) != 8 {
			t.Fatalf("the confirmation page changed the allocation: %d GPUs", len(cur.GPUs))
		}
		// Back to the form: everything typed is kept.
		back := url.Values{"edit": {"1"}}
		for k, v := range form {
			back[k] = v
		}
		doc = officer.page(officer.post(base+"/replace", back))
		if v, _ := doc.Find(`[data-testid="change-replace-form"] #new`).Attr("value"); v != repl {
			t.Errorf("back from the confirmation page: new GPU %q, want %q", v, repl)
		}
		form.Set("confirm", "1")
		resp = officer.post(base+"/replace", form)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/allocations/"+itoa(a.ID) {
			t.Fatalf("confirmed replacement: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		cur, err := models.GetAllocation(ctx, g.db, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(cur.GPUs) != 9 || len(cur.Current()) != 8 || cur.Has(repl) == false {
			t.Fatalf("after the replacement: %d rows, %d current", len(cur.GPUs), len(cur.Current()))
		}

		// Refused: the input comes back as typed, with the errors.
		resp = officer.post(base+"/end", url.Values{"last_day": {"someday"}, "reason": {""}})
		doc = officer.page(resp)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("an early end without a day or reason: status %d", resp.StatusCode)
		}
		if v, _ := doc.Find(`[data-testid="change-end-form"] #last_day`).Attr("value"); v != "someday" {
			t.Errorf("last day kept as %q", v)
		}
		if doc.Find(`[data-testid="change-end-form"] [data-testid="error-reason"]`).Length() != 1 {
			t.Error("no error on the missing reason")
		}
		resp = officer.post(base+"/period", url.Values{"to": {models.DateOf(g.clock.Now()).AddDays(-3).String()}, "reason": {"asked"}})
		if resp.StatusCode != http.StatusUnprocessableEntity ||
			officer.page(resp).Find(`[data-testid="change-period-form"] [data-testid="error-to"]`).Length() != 1 {
			t.Errorf("a period shortened into the past: status %d, want 422 on the last day", resp.StatusCode)
		}

		// End early, confirmed.
		last := models.DateOf(g.clock.Now()).String() // the new GPU joined today: an end before would leave it outside
		end := url.Values{"last_day": {last}, "reason": {"the team gave the node back"}}
		if doc := officer.page(officer.post(base+"/end", end)); doc.Find(`[data-testid="confirm"]`).Length() != 1 {
			t.Fatal("no confirmation page for an early end")
		}
		end.Set("confirm", "1")
		if resp := officer.post(base+"/end", end); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirmed end: status %d", resp.StatusCode)
		}
		if cur, _ := models.GetAllocation(ctx, g.db, a.ID); !cur.Ended() || cur.PeriodTo != last {
			t.Fatalf("ended %v, last day %s", cur.Ended(), cur.PeriodTo)
		}
		if doc := officer.page(officer.get(base + "/change")); doc.Find(`[data-testid="change-ended"]`).Length() != 1 ||
			doc.Find(`[data-testid="change-end-form"]`).Length() != 0 {
			t.Error("an ended allocation still offers changes")
		}

		// The history, on the allocation page: for the officer with the link,
		// for the team without.
		doc = officer.page(officer.get("/allocations/" + itoa(a.ID)))
		rows := doc.Find(`[data-testid="allocation-change-row"]`)
		if rows.Length() != 2 {
			t.Fatalf("%d history rows, want 2", rows.Length())
		}
		if k, _ := rows.Eq(0).Attr("data-kind"); k != models.ChangeReplace || !strings.Contains(rows.Eq(0).Text(), "XID 79") ||
			!strings.Contains(rows.Eq(0).Text(), repl) {
			t.Errorf("first history row %q (%s)", rows.Eq(0).Text(), k)
		}
		if doc.Find(`[data-testid="allocation-change"]`).Length() != 1 || doc.Find(`[data-testid="allocation-ended"]`).Length() != 1 {
			t.Error("the officer's allocation page lacks the change link or the ended note")
		}
		team := g.client()
		team.signInDemo("demo-company-upstage")
		doc = team.page(team.get("/allocations/" + itoa(a.ID)))
		if doc.Find(`[data-testid="allocation-change-row"]`).Length() != 2 || doc.Find(`[data-testid="allocation-change"]`).Length() != 0 {
			t.Error("the team sees no history, or a change link")
		}
		var audits int64
		g.db.Model(&models.AuditEntry{}).Where("action IN ?", []string{"allocation.replace", "allocation.end"}).Count(&audits)
		if audits != 2 {
			t.Errorf("%d audit rows, want 2", audits)
		}
	})
}

// TestAllocateNodesOfADownCluster: the allocation form takes nodes the
// cluster has not reported (it is down); the allocation page lists them as
// still to be identified.
func TestAllocateNodesOfADownCluster(t *testing.T) {
	t.Parallel()
	g := newGPUApp(t, testdb.SQLite)
	officer := g.client()
	officer.signInDemo("demo-officer")
	today := models.DateOf(g.clock.Now())
	form := url.Values{"cluster_id": {itoa(g.cluster.ID)}, "organisation_id": {itoa(g.upstage.ID)}, "own_gpus": {"1"},
		"block_kind": {models.BlockCustom}, "gpu_count": {"16"}, "from": {today.String()}, "to": {today.AddDays(30).String()},
		"nodes": {"kt-gn001"}, "nodes_later": {"kt-gn077\nkt-gn078"}}
	resp := officer.post("/officer/allocations/new", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("allocate with nodes to identify later: status %d", resp.StatusCode)
	}
	doc := officer.page(officer.get(resp.Header.Get("Location")))
	if got := doc.Find(`[data-testid="allocation-pending"]`).Text(); !strings.Contains(got, "kt-gn077") || !strings.Contains(got, "kt-gn078") {
		t.Errorf("pending nodes shown as %q", got)
	}
	// Without the field, an unknown node is still refused.
	form.Del("nodes_later")
	form.Set("nodes", "kt-gn077")
	form.Set("from", today.AddDays(40).String())
	form.Set("to", today.AddDays(50).String())
	if resp := officer.post("/officer/allocations/new", form); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an unknown node without 'later': status %d, want 422", resp.StatusCode)
	}
}
