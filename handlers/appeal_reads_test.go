package handlers

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"kaiportal/models"
	"kaiportal/testdb"
)

// Filing an appeal reads what the appeal rules need once: the decision,
// the corrections of it, the holidays its window is counted with and the
// organisation's earlier appeals, whether the filing is stored, is the
// repeat of one already stored (a double submit) or comes too late.

// readTable matches a SELECT and names the table it reads, quotes removed.
var readTable = regexp.MustCompile(`(?i)^\s*select\b.*?\bfrom\s+(\w+)`)

// tableReads counts the SELECT statements by the table they read; a read
// of the decisions table is "decisions" when it asks for decisions by id
// and "decisions (corrections)" when it asks for the decisions that
// correct one.
func tableReads(sqls []string) map[string]int {
	reads := map[string]int{}
	for _, s := range sqls {
		s = strings.NewReplacer(`"`, "", "`", "").Replace(s)
		m := readTable.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		table := strings.ToLower(m[1])
		if table == "decisions" && strings.Contains(s, "supersedes_id") {
			table = "decisions (corrections)"
		}
		reads[table]++
	}
	return reads
}

// wantReadOnce fails when a table of the appeal rules was read more than
// once by one request, or the decision and the appeals not at all.
func wantReadOnce(t *testing.T, what string, sqls []string) {
	t.Helper()
	reads := tableReads(sqls)
	for _, table := range []string{"decisions", "decisions (corrections)", "decision_entries", "appeals"} {
		if reads[table] != 1 {
			t.Errorf("%s: %s read %d times, want once", what, table, reads[table])
		}
	}
	holidays := 0
	for table, n := range reads {
		if strings.Contains(table, "holiday") {
			holidays += n
			if n != 1 {
				t.Errorf("%s: %s read %d times, want once", what, table, n)
			}
		}
	}
	if holidays == 0 {
		t.Errorf("%s: the holidays were not read (the window is counted with them)", what)
	}
	if t.Failed() {
		t.Logf("%s ran:\n  %s", what, strings.Join(sqls, "\n  "))
	}
}

func TestAppealFilingReadsOnce(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		kaist := f.company("kaist")
		counter := countStatements(t, f.app.db)
		// post sends the form as the browser does, counting only the
		// statements of the filing (the token is fetched before).
		post := func(form url.Values, files ...storyFile) (*http.Response, []string) {
			t.Helper()
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			w.WriteField("_csrf", kaist.csrfToken())
			for k, vs := range form {
				for _, v := range vs {
					w.WriteField(k, v)
				}
			}
			for _, fl := range files {
				fw, err := w.CreateFormFile("evidence", fl.name)
				if err != nil {
					t.Fatal(err)
				}
				fw.Write(fl.content)
			}
			w.Close()
			req, _ := http.NewRequest(http.MethodPost, f.app.srv.URL+f.appealPath(), &buf)
			req.Header.Set("Content-Type", w.FormDataContentType())
			var resp *http.Response
			sqls := counter.around(func() {
				resp = kaist.do(req)
				body := readAll(resp)
				resp.Body = io.NopCloser(strings.NewReader(body))
			})
			return resp, sqls
		}

		// The first appeal, with evidence: stored.
		first := f.form(kaist, models.GroundProceduralDefect, "평가 절차에 하자가 있습니다.")
		resp, sqls := post(first, storyFile{"근거.pdf", apPDF(10)})
		id := f.filed("first filing", resp)
		wantReadOnce(t, "first filing", sqls)
		if !slices.ContainsFunc(sqls, func(s string) bool { return strings.Contains(strings.ToLower(s), "insert into") }) {
			t.Error("first filing: nothing inserted")
		}

		// A second one, with the first among the earlier appeals.
		second := f.form(kaist, models.GroundScoringError, "점수 합산에도 오류가 있습니다.")
		resp, sqls = post(second)
		if f.filed("second filing", resp) == id {
			t.Fatal("the second filing landed on the first")
		}
		wantReadOnce(t, "second filing", sqls)

		// The first form again (a double submit): the first appeal, nothing written.
		resp, sqls = post(first, storyFile{"근거.pdf", apPDF(10)})
		if again := f.filed("double submit", resp); again != id {
			t.Errorf("double submit landed on %d, want %d", again, id)
		}
		wantReadOnce(t, "double submit", sqls)
		if i := slices.IndexFunc(sqls, func(s string) bool {
			s = strings.ToLower(s)
			return strings.Contains(s, "insert into") || strings.HasPrefix(strings.TrimSpace(s), "update")
		}); i >= 0 {
			t.Errorf("double submit wrote: %s", sqls[i])
		}

		// A form sent at the closing instant: refused, read once too.
		late := f.form(kaist, models.GroundOther, "마감에 보낸 이의신청입니다.")
		f.app.clock.Set(f.window.Closes)
		kaist = f.company("kaist") // the session has expired meanwhile
		resp, sqls = post(late, storyFile{"늦은근거.pdf", apPDF(10)})
		wantPage(t, "late filing", resp, http.StatusConflict)
		wantReadOnce(t, "late filing", sqls)
		if n := count(t, f.app, &models.Appeal{}, ""); n != 2 {
			t.Errorf("%d appeals, want 2", n)
		}

		// The form itself reads them once as well.
		f.app.clock.Set(f.window.Closes.Add(-time.Hour))
		kaist = f.company("kaist")
		sqls = counter.around(func() { wantPage(t, "form", kaist.get(f.appealPath()), http.StatusOK) })
		wantReadOnce(t, "the form", sqls)
	})
}
