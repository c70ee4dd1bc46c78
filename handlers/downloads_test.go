package handlers

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
	"kaiportal/testdb"
	"kaiportal/views"
)

// Every download (a stored document or evidence file, an export) carries
// the same headers, written by setDownloadHeaders.

func TestDownloadHeaders(t *testing.T) {
	t.Parallel()
	sum := sha256.Sum256([]byte("content"))
	for _, tc := range []struct {
		what        string
		a           attachment
		disposition string
		digest      string
	}{
		{"Korean name", attachment{name: "회의록.pdf", fallback: "appeal-1-evidence-2.pdf", contentType: "application/pdf",
			sha256: fmt.Sprintf("%x", sum)},
			`attachment; filename="appeal-1-evidence-2.pdf"; filename*=UTF-8''%ED%9A%8C%EC%9D%98%EB%A1%9D.pdf`,
			"sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"},
		{"ASCII name", attachment{name: "plan.hwp", fallback: "application-1-document-2.hwp", contentType: "application/x-hwp",
			sha256: fmt.Sprintf("%x", sum)},
			`attachment; filename="plan.hwp"; filename*=UTF-8''plan.hwp`,
			"sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"},
		{"quote in the name", attachment{name: `a"b.pdf`, fallback: "f.pdf", contentType: "application/pdf"},
			`attachment; filename="f.pdf"; filename*=UTF-8''a%22b.pdf`, ""},
		{"export, no hash", attachment{name: "call-1-applications.csv", fallback: "call-1-applications.csv",
			contentType: "text/csv; charset=utf-8"},
			`attachment; filename="call-1-applications.csv"; filename*=UTF-8''call-1-applications.csv`, ""},
		{"a hash that is not one", attachment{name: "x.pdf", fallback: "x.pdf", contentType: "application/pdf", sha256: "zz"},
			`attachment; filename="x.pdf"; filename*=UTF-8''x.pdf`, ""},
	} {
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		setDownloadHeaders(c, tc.a)
		hd := rec.Header()
		for name, want := range map[string]string{"Content-Type": tc.a.contentType, "Content-Disposition": tc.disposition,
			"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store", "Repr-Digest": tc.digest} {
			if got := hd.Get(name); got != want {
				t.Errorf("%s: %s %q, want %q", tc.what, name, got, want)
			}
		}
	}
}

// TestDownloadsShareHeaders: an evidence file, a document and an export
// as the browser receives them.
func TestDownloadsShareHeaders(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newAplFixture(t, kind)
		kaist := f.company("kaist")
		pdf := apPDF(50)
		id := f.filed("file", f.post(kaist, f.form(kaist, models.GroundOther, "증빙을 첨부합니다."), storyFile{"회의록.pdf", pdf}))
		a := f.appeal(id)
		sum := sha256.Sum256(pdf)
		digest := "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
		if a.Evidence[0].File.SHA256 != fmt.Sprintf("%x", sum) {
			t.Fatalf("stored hash %s", a.Evidence[0].File.SHA256)
		}

		resp := kaist.get(fmt.Sprintf("%s/evidence/%d", views.AppealHref(id), a.Evidence[0].ID))
		if body := readAll(resp); resp.StatusCode != http.StatusOK || body != string(pdf) {
			t.Fatalf("evidence: status %d, %d bytes", resp.StatusCode, len(body))
		}
		wantHeaders(t, "evidence", resp.Header, map[string]string{"Content-Type": "application/pdf",
			"Content-Disposition": fmt.Sprintf(`attachment; filename="appeal-%d-evidence-%d.pdf"; filename*=UTF-8''%s`,
				id, a.Evidence[0].ID, rfc5987Escape("회의록.pdf")),
			"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store", "Repr-Digest": digest})

		app, err := models.GetApplication(t.Context(), f.app.db, f.apps["kaist"])
		if err != nil {
			t.Fatal(err)
		}
		doc := app.Documents[0]
		resp = kaist.get(fmt.Sprintf("/applications/%d/documents/%d", app.ID, doc.ID))
		readAll(resp)
		docSum, _ := base64Hex(doc.File.SHA256)
		wantHeaders(t, "document", resp.Header, map[string]string{"Content-Type": "application/pdf",
			"Content-Disposition":    `attachment; filename="plan.pdf"; filename*=UTF-8''plan.pdf`,
			"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store", "Repr-Digest": "sha-256=:" + docSum + ":"})

		off := f.signIn("demo-officer")
		for format, ctype := range map[string]string{"csv": "text/csv; charset=utf-8",
			"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} {
			resp = off.get(fmt.Sprintf("/officer/calls/%d/export?format=%s", f.call.ID, format))
			if body := readAll(resp); resp.StatusCode != http.StatusOK || len(body) == 0 {
				t.Fatalf("export %s: status %d", format, resp.StatusCode)
			}
			name := fmt.Sprintf("call-%d-applications.%s", f.call.ID, format)
			wantHeaders(t, "export "+format, resp.Header, map[string]string{"Content-Type": ctype,
				"Content-Disposition":    fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, name, name),
				"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store", "Repr-Digest": ""})
		}
	})
}

func wantHeaders(t *testing.T, what string, hd http.Header, want map[string]string) {
	t.Helper()
	for name, w := range want {
		if got := hd.Get(name); got != w {
			t.Errorf("%s: %s %q, want %q", what, name, got, w)
		}
	}
}

// base64Hex re-encodes a hex digest in base64.
func base64Hex(h string) (string, error) {
	b, err := hex.DecodeString(h)
	return base64.StdEncoding.EncodeToString(b), err
}
