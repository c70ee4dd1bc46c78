package demo_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// demoStoryCounts is what the demo story leaves in the tables it writes.
type demoStoryCounts struct {
	apps, members, docs, files, assignments, scores, decisions, entries, orgs, users, audit int64
}

func countStory(t *testing.T, db *gorm.DB) demoStoryCounts {
	t.Helper()
	return demoStoryCounts{
		apps: count(t, db, &models.Application{}), members: count(t, db, &models.ConsortiumMember{}),
		docs: count(t, db, &models.ApplicationDocument{}), files: count(t, db, &models.StoredFile{}),
		assignments: count(t, db, &models.ReviewAssignment{}), scores: count(t, db, &models.Score{}),
		decisions: count(t, db, &models.Decision{}), entries: count(t, db, &models.DecisionEntry{}),
		orgs: count(t, db, &models.Organisation{}), users: count(t, db, &models.User{}),
		audit: count(t, db, &models.AuditEntry{}),
	}
}

func TestSeedApplications(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		ctx := t.Context()
		files, err := models.NewFileStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedApplications(ctx, db, files, clock.Now()); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("before Seed: %v, want ErrNotFound (no demo call)", err)
		}
		if err := demo.Seed(ctx, db, clock.Now()); err != nil {
			t.Fatalf("Seed: %v", err)
		}
		if err := demo.SeedApplications(ctx, db, files, clock.Now()); err != nil {
			t.Fatalf("SeedApplications: %v", err)
		}

		calls, err := models.ListCalls(ctx, db)
		if err != nil || len(calls) != 1 {
			t.Fatalf("calls = %d, %v; want the one demo call", len(calls), err)
		}
		call, err := models.GetCall(ctx, db, calls[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		var weights float64
		for _, c := range call.Criteria {
			weights += c.Weight
		}
		if len(call.Criteria) != 4 || weights != 100 || len(call.Documents) != 3 {
			t.Errorf("call has %d criteria weighing %v and %d documents, want 4 weighing 100 and 3", len(call.Criteria), weights, len(call.Documents))
		}

		// 15 applications, one per applicant, all decided, submitted in time.
		apps, total, err := models.ListApplications(ctx, db, models.ApplicationFilter{CallID: call.ID, Limit: 100})
		if err != nil || total != 15 {
			t.Fatalf("applications = %d, %v; want 15", total, err)
		}
		selectedCode := map[string]bool{}
		for _, d := range demo.Organisations {
			selectedCode[d.Code] = d.Selected
		}
		leads := map[uint]bool{}
		receipt := regexp.MustCompile(`^KAI-202507\d\d-\d{5}$`)
		for _, listed := range apps {
			a, err := models.GetApplication(ctx, db, listed.ID)
			if err != nil {
				t.Fatal(err)
			}
			leads[a.LeadOrgID] = true
			want := models.StatusNotSelected
			if selectedCode[a.LeadOrg.Code] {
				want = models.StatusSelected
			}
			if a.Status != want {
				t.Errorf("%s: status %s, want %s", a.LeadOrg.Code, a.Status, want)
			}
			if a.SubmittedAt == nil || !a.SubmittedAt.Before(call.ClosesAt) || a.SubmittedAt.Before(call.OpensAt) {
				t.Errorf("%s: submitted at %v, want inside the call's window", a.LeadOrg.Code, a.SubmittedAt)
			}
			if !receipt.MatchString(a.Receipt) || (a.SubmittedAt != nil && a.Receipt != models.ReceiptNumber(a.ID, *a.SubmittedAt)) {
				t.Errorf("%s: receipt %q", a.LeadOrg.Code, a.Receipt)
			}
			if a.TitleKO == "" || a.TitleEN == "" || a.Summary == "" || a.Validate().Any() {
				t.Errorf("%s: title or summary missing: %+v", a.LeadOrg.Code, a.Validate())
			}
			if n := len(a.Members); n < 2 || n > 4 {
				t.Errorf("%s: %d consortium members with the lead, want 2–4", a.LeadOrg.Code, n)
			}
			for _, m := range a.Members {
				if m.Role == models.MemberLead {
					continue
				}
				if _, err := models.ParseBusinessRegNo(m.Organisation.BusinessRegNo); err != nil && m.Organisation.BusinessRegNo != "" {
					t.Errorf("%s: member %s has an invalid business registration number: %v", a.LeadOrg.Code, m.Organisation.Code, err)
				}
			}
			if missing := a.Missing(call); missing.Any() {
				t.Errorf("%s: incomplete: %v", a.LeadOrg.Code, missing)
			}
			// Every document lies in the store under its recorded SHA-256.
			for _, d := range a.Documents {
				f, err := files.Open(d.File.SHA256)
				if err != nil {
					t.Errorf("%s: document %s: %v", a.LeadOrg.Code, d.File.Name, err)
					continue
				}
				h := sha256.New()
				n, err := io.Copy(h, f)
				f.Close()
				if err != nil || hex.EncodeToString(h.Sum(nil)) != d.File.SHA256 || n != d.File.Size || d.File.Kind != models.FilePDF {
					t.Errorf("%s: document %s: %d bytes, hash mismatch or not a PDF (%v)", a.LeadOrg.Code, d.File.Name, n, err)
				}
			}
		}
		if len(leads) != 15 {
			t.Errorf("%d distinct leads, want 15", len(leads))
		}

		// The partners registered for the consortia carry valid numbers.
		orgs, err := models.ListOrganisations(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range orgs {
			if o.BusinessRegNo == "" {
				continue
			}
			if _, err := models.ParseBusinessRegNo(o.BusinessRegNo); err != nil {
				t.Errorf("organisation %s: %v", o.Code, err)
			}
		}

		// Reviewers: four per application, one recusal, everyone else declared none.
		var assignments []models.ReviewAssignment
		if err := db.Preload("Reviewer").Preload("Scores").Find(&assignments).Error; err != nil {
			t.Fatal(err)
		}
		recused := 0
		for _, as := range assignments {
			if !as.Reviewer.Role.IsMinistry() || as.DeclaredAt == nil {
				t.Errorf("assignment %d: reviewer %s (%s), declared %v", as.ID, as.Reviewer.Subject, as.Reviewer.Role, as.DeclaredAt)
			}
			switch as.Conflict {
			case models.ConflictRecused:
				recused++
				if len(as.Scores) != 0 {
					t.Errorf("a recused reviewer scored")
				}
			case models.ConflictNone:
				if len(as.Scores) != len(call.Criteria) {
					t.Errorf("assignment %d: %d scores, want %d", as.ID, len(as.Scores), len(call.Criteria))
				}
			default:
				t.Errorf("assignment %d: conflict %q", as.ID, as.Conflict)
			}
		}
		if len(assignments) != 60 || recused != 1 {
			t.Errorf("%d assignments with %d recusals, want 60 with 1", len(assignments), recused)
		}

		// The published decision.
		ds, err := models.ListDecisions(ctx, db)
		if err != nil || len(ds) != 1 {
			t.Fatalf("decisions = %d, %v; want 1", len(ds), err)
		}
		d, err := models.GetDecision(ctx, db, ds[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2025, 8, 4, 1, 0, 0, 0, time.UTC); !d.PublishedAt.Equal(want) {
			t.Errorf("published at %v, want %v", d.PublishedAt, want)
		}
		if d.Kind != models.DecisionSelection || d.CountingRule != models.RuleCivil || d.PublishedBy.Subject != "demo-officer" ||
			d.NoticeKO == "" || d.NoticeEN == "" || !d.VerifyContent() {
			t.Errorf("decision = kind %s, rule %s, by %s, content verifies %v", d.Kind, d.CountingRule, d.PublishedBy.Subject, d.VerifyContent())
		}
		if len(d.Entries) != 15 {
			t.Fatalf("entries = %d, want 15", len(d.Entries))
		}
		var top []string
		var last float64 = 101
		for i, e := range d.Entries {
			if e.Rank != i+1 || e.Score >= last {
				t.Errorf("entry %d: rank %d, score %v after %v", i, e.Rank, e.Score, last)
			}
			last = e.Score
			if e.Selected != (e.Rank <= 5) {
				t.Errorf("rank %d (%s) selected = %v", e.Rank, e.NameEN, e.Selected)
			}
			if e.Rank <= 5 {
				top = append(top, e.NameEN)
			}
			if e.Members == "" {
				t.Errorf("rank %d (%s): no members recorded", e.Rank, e.NameEN)
			}
		}
		slices.Sort(top)
		if want := []string{"LG AI Research", "NC AI", "Naver Cloud", "SK Telecom", "Upstage"}; !slices.Equal(top, want) {
			t.Errorf("top 5 = %q, want %q", top, want)
		}
		w, err := d.AppealWindow(models.KoreanHolidays)
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2025, 8, 15, 0, 0, 0, 0, models.KST); w.LastDay != models.NewDate(2025, 8, 14) || !w.Closes.Equal(want) {
			t.Errorf("appeal window: last day %s, closes %v; want 2025-08-14 and %v", w.LastDay, w.Closes, want)
		}

		// The story's clock is history, never the seeding instant.
		var late int64
		if err := db.Model(&models.AuditEntry{}).Where("at > ?", d.PublishedAt).Count(&late).Error; err != nil {
			t.Fatal(err)
		}
		if late != 1 { // Seed's own row, at the clock
			t.Errorf("%d audit rows after the publication, want only Seed's", late)
		}
		if check := verify(t, db); !check.OK() || check.Rows < 200 {
			t.Errorf("audit chain = %+v, want a whole chain with every step of the story", check)
		}

		// A second run changes nothing.
		before := countStory(t, db)
		clock.Advance(24 * time.Hour)
		if err := demo.SeedApplications(ctx, db, files, clock.Now()); err != nil {
			t.Fatalf("second SeedApplications: %v", err)
		}
		if after := countStory(t, db); after != before {
			t.Errorf("counts after the second run = %+v, want %+v", after, before)
		}
	})
}

func TestSeedApplicationsRefusesAnEarlyClock(t *testing.T) {
	t.Parallel()
	files, err := models.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	early := demo.DecisionAt.Add(-time.Second)
	if err := demo.SeedApplications(t.Context(), nil, files, early); err == nil {
		t.Error("seeding a story that ends after the clock: no error")
	}
}

// TestPDF checks that the generated documents are PDFs a reader opens:
// the header, every cross-reference offset pointing at its object, the
// startxref pointing at the table.
func TestPDF(t *testing.T) {
	t.Parallel()
	pdf := demo.PDF([]string{"Business plan", "Project: (A) \\ B", "한글은 ?로"})
	if kind, ok := models.SniffKind(pdf); !ok || kind != models.FilePDF {
		t.Fatalf("sniffed %q, %v; want pdf", kind, ok)
	}
	if !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Error("no end-of-file marker at the end")
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[xref:], []byte("xref\n0 6\n")) {
		t.Fatalf("startxref %d does not point at the table", xref)
	}
	entries := regexp.MustCompile(`(\d{10}) 00000 n \n`).FindAllSubmatch(pdf[xref:], -1)
	if len(entries) != 5 {
		t.Fatalf("%d objects in the table, want 5", len(entries))
	}
	for i, e := range entries {
		off, _ := strconv.Atoi(string(e[1]))
		if want := fmt.Sprintf("%d 0 obj\n", i+1); !bytes.HasPrefix(pdf[off:], []byte(want)) {
			t.Errorf("object %d: offset %d points at %q", i+1, off, pdf[off:off+10])
		}
	}
	if !bytes.Contains(pdf, []byte(`(Project: \(A\) \\ B) Tj`)) {
		t.Error("parentheses and backslashes are not escaped")
	}
	loc := regexp.MustCompile(`/Length (\d+) >>\nstream\n`).FindSubmatchIndex(pdf)
	n, _ := strconv.Atoi(string(pdf[loc[2]:loc[3]]))
	if !bytes.HasPrefix(pdf[loc[1]+n:], []byte("endstream")) {
		t.Error("the content stream's /Length is wrong")
	}
}
