package handlers

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/models"
	"kaiportal/testdb"
)

// Multipart bodies: only the routes that take files read them, and only
// once the guard and the CSRF check have passed; and no temporary file of an
// upload outlives its request, whatever the answer.

// upCounter counts the bytes of a body the portal reads.
type upCounter struct {
	r io.Reader
	n int64
}

func (c *upCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// upFile is a file part of a form.
type upFile struct {
	field, name string
	content     []byte
}

// upBody is a multipart form as a browser sends it: the token first (when
// not empty), then the fields, then the files.
func upBody(t *testing.T, token string, fields url.Values, files ...upFile) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if token != "" {
		w.WriteField("_csrf", token)
	}
	for k, vs := range fields {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	for _, f := range files {
		fw, err := w.CreateFormFile(f.field, f.name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(f.content)
	}
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// upServe sends a body straight to the router with browser c's cookies, so
// that the answer comes back only after every middleware has finished, and
// returns it with the number of body bytes the portal read.
func upServe(t *testing.T, c *testClient, path string, body []byte, contentType string, hdr map[string]string) (*httptest.ResponseRecorder, int64) {
	t.Helper()
	cnt := &upCounter{r: bytes.NewReader(body)}
	req := httptest.NewRequest(http.MethodPost, path, cnt)
	req.Header.Set("Content-Type", contentType)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	base, _ := url.Parse(c.app.srv.URL)
	for _, ck := range c.c.Jar.Cookies(base) {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	c.app.h.Router().ServeHTTP(rec, req)
	return rec, cnt.n
}

// upTemporaries counts multipart's temporary files in dir.
func upTemporaries(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "multipart-") {
			n++
		}
	}
	return n
}

func TestUploadTemporaries(t *testing.T) {
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp) // where multipart spools files (os.TempDir)

		f := newApFixture(t, kind, nil)
		company := f.signIn("demo-company-upstage")
		id := f.create(company, "업로드 시험")
		officer := f.signIn("demo-officer")
		anon := f.app.client()
		docPath := fmt.Sprintf("/applications/%d/documents", id)
		fields := url.Values{"required_document_id": {itoa(f.planDoc())}}
		big := upFile{"file", "plan.pdf", apPDF(9 << 20)} // over the 8 MiB kept in memory

		// The premise: a body like these leaves a file in the temporary
		// directory until its form is removed.
		body, ct := upBody(t, "x", fields, big)
		_, params, _ := strings.Cut(ct, "boundary=")
		form, err := multipart.NewReader(bytes.NewReader(body), params).ReadForm(uploadMemory)
		if err != nil {
			t.Fatal(err)
		}
		if upTemporaries(t, tmp) == 0 {
			t.Fatal("a 9 MiB file part left no temporary file: the test would prove nothing")
		}
		form.RemoveAll()

		cases := []struct {
			name   string
			c      *testClient
			path   string
			token  string
			header bool // the token in X-CSRF-Token rather than the first part
			want   int
			reads  bool // the portal may read the whole body
		}{
			{"anonymous, to a route that takes no files", anon, "/lang", anon.csrfToken(), false, http.StatusUnsupportedMediaType, false},
			{"anonymous, with its own CSRF token", anon, docPath, anon.csrfToken(), false, http.StatusForbidden, false},
			{"anonymous, token in the header", anon, docPath, anon.csrfToken(), true, http.StatusForbidden, false},
			{"company, wrong token", company, docPath, "wrong-token", false, http.StatusForbidden, false},
			{"company, no token", company, docPath, "", false, http.StatusForbidden, false},
			{"company, wrong token in the header", company, docPath, "wrong-token", true, http.StatusForbidden, false},
			{"officer, not an applicant", officer, docPath, officer.csrfToken(), false, http.StatusForbidden, false},
			{"company, to a route of its own that takes no files", company, fmt.Sprintf("/applications/%d", id), company.csrfToken(), false, http.StatusUnsupportedMediaType, false},
			{"company, the upload", company, docPath, company.csrfToken(), false, http.StatusSeeOther, true},
			{"company, the upload, token in the header", company, docPath, company.csrfToken(), true, http.StatusSeeOther, true},
		}
		for _, tc := range cases {
			var (
				body []byte
				ct   string
				hdr  map[string]string
			)
			if tc.header {
				body, ct = upBody(t, "", fields, big)
				hdr = map[string]string{"X-CSRF-Token": tc.token}
			} else {
				body, ct = upBody(t, tc.token, fields, big)
			}
			rec, read := upServe(t, tc.c, tc.path, body, ct, hdr)
			if rec.Code != tc.want {
				t.Errorf("%s: status %d, want %d", tc.name, rec.Code, tc.want)
			}
			if !tc.reads && read > 1<<20 {
				t.Errorf("%s: refused after reading %d bytes of the body; want it refused before", tc.name, read)
			}
			if n := upTemporaries(t, tmp); n != 0 {
				t.Errorf("%s: %d temporary files left after the request", tc.name, n)
			}
		}

		// A legitimate appeal with its evidence (10 MiB in all).
		af := newAplFixture(t, kind)
		ac := af.company("upstage")
		form2 := af.form(ac, models.GroundProceduralDefect, "절차상 하자가 있습니다.")
		ev := []upFile{{"evidence", "a.pdf", apPDF(5 << 20)}, {"evidence", "b.pdf", apPDF(5 << 20)}}
		body, ct = upBody(t, ac.csrfToken(), form2, ev...)
		rec, _ := upServe(t, ac, af.appealPath(), body, ct, nil)
		if rec.Code != http.StatusSeeOther || !aplLocation.MatchString(rec.Header().Get("Location")) {
			t.Errorf("appeal with evidence: status %d to %q, want 303 to the receipt", rec.Code, rec.Header().Get("Location"))
		}
		if n := upTemporaries(t, tmp); n != 0 {
			t.Errorf("appeal with evidence: %d temporary files left after the request", n)
		}

		// Over the upload limit (10 files of PORTAL_MAX_UPLOAD_BYTES and 1 MiB):
		// refused part-way through, nothing left.
		small := newApFixture(t, kind, map[string]string{"PORTAL_MAX_UPLOAD_BYTES": "1048576"})
		sc := small.signIn("demo-company-upstage")
		sid := small.create(sc, "한도 시험")
		body, ct = upBody(t, sc.csrfToken(), url.Values{"required_document_id": {itoa(small.planDoc())}},
			upFile{"file", "plan.pdf", apPDF(12 << 20)})
		rec, _ = upServe(t, sc, fmt.Sprintf("/applications/%d/documents", sid), body, ct, nil)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("upload over the limit: status %d, want 413", rec.Code)
		}
		if n := upTemporaries(t, tmp); n != 0 {
			t.Errorf("upload over the limit: %d temporary files left after the request", n)
		}
	})
}

// The upload forms send the CSRF token as their first field: the portal reads
// it from there before it reads anything else of the body.
func TestUploadFormsSendTokenFirst(t *testing.T) {
	t.Parallel()
	f := newAplFixture(t, testdb.SQLite)
	ac := f.company("upstage")
	ap := newApFixture(t, testdb.SQLite, nil)
	pc := ap.signIn("demo-company-upstage")
	id := ap.create(pc, "양식 시험")
	for _, tc := range []struct {
		what string
		c    *testClient
		path string
	}{
		{"the appeal form", ac, f.appealPath()},
		{"the document upload form", pc, fmt.Sprintf("/applications/%d", id)},
	} {
		doc := pc.page(tc.c.get(tc.path))
		forms := doc.Find(`form[enctype="multipart/form-data"]`)
		if forms.Length() == 0 {
			t.Fatalf("%s: no multipart form on %s", tc.what, tc.path)
		}
		forms.Each(func(_ int, form *goquery.Selection) {
			first, _ := form.Find("input[name], select[name], textarea[name], button[name]").First().Attr("name")
			if first != "_csrf" {
				t.Errorf("%s: the first field is %q, want _csrf", tc.what, first)
			}
		})
	}
}
