package models_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// tinyPDF is a complete, if empty, PDF document.
var tinyPDF = []byte("%PDF-1.4\n" +
	"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
	"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" +
	"trailer << /Root 1 0 R >>\n" +
	"%%EOF\n")

// pngBytes is the signature and IHDR chunk of a 1×1 PNG.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")

// ole2Header is the 512-byte header of an OLE2 compound file, as HWP 5.x
// files start: signature, minor version 0x3E, major version 3, byte order
// FFFE, sector shift 9 (512-byte sectors), mini sector shift 6.
func ole2Header() []byte {
	h := make([]byte, 512)
	copy(h, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
	copy(h[24:], []byte{0x3E, 0x00, 0x03, 0x00, 0xFE, 0xFF, 0x09, 0x00, 0x06, 0x00})
	return h
}

type zipEntry struct {
	name   string
	method uint16
	body   string
	raw    bool // written with CreateRaw: sizes in the local header, no data descriptor
	mod    bool // with a modification time, which adds an extra field
}

// zipBytes builds a ZIP archive of the entries in order.
func zipBytes(t *testing.T, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		fh := &zip.FileHeader{Name: e.name, Method: e.method}
		if e.mod {
			fh.Modified = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		}
		var (
			w   io.Writer
			err error
		)
		if e.raw {
			fh.CRC32 = crc32.ChecksumIEEE([]byte(e.body))
			fh.CompressedSize64 = uint64(len(e.body))
			fh.UncompressedSize64 = uint64(len(e.body))
			w, err = zw.CreateRaw(fh)
		} else {
			w, err = zw.CreateHeader(fh)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const hwpxMime = "application/hwp+zip"

// hwpxBytes builds a minimal HWPX package: the stored mimetype entry first,
// then compressed content.
func hwpxBytes(t *testing.T) []byte {
	t.Helper()
	return zipBytes(t,
		zipEntry{name: "mimetype", method: zip.Store, body: hwpxMime},
		zipEntry{name: "Contents/section0.xml", method: zip.Deflate, body: `<hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section"/>`},
	)
}

// docxBytes builds a .docx-like ZIP, which has no mimetype entry.
func docxBytes(t *testing.T) []byte {
	t.Helper()
	return zipBytes(t,
		zipEntry{name: "[Content_Types].xml", method: zip.Deflate, body: `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
		zipEntry{name: "word/document.xml", method: zip.Deflate, body: `<w:document/>`},
	)
}

// pdfOfSize returns n bytes that start like a PDF.
func pdfOfSize(n int) []byte {
	b := bytes.Repeat([]byte{'0'}, n)
	copy(b, "%PDF-1.7\n")
	return b
}

func TestSniffKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		head   []byte
		want   models.FileKind
		wantOK bool
	}{
		{"pdf", tinyPDF, models.FilePDF, true},
		{"pdf header only", []byte("%PDF-"), models.FilePDF, true},
		{"pdf after junk", []byte("\n%PDF-1.4"), "", false},
		{"pdf truncated magic", []byte("%PDF"), "", false},
		{"ole2 is hwp", ole2Header(), models.FileHWP, true},
		{"ole2 magic only", ole2Header()[:8], models.FileHWP, true},
		{"ole2 truncated magic", ole2Header()[:7], "", false},
		{"hwpx", hwpxBytes(t), models.FileHWPX, true},
		{"hwpx with sizes in the local header", zipBytes(t,
			zipEntry{name: "mimetype", method: zip.Store, body: hwpxMime, raw: true}), models.FileHWPX, true},
		{"hwpx with an extra field", zipBytes(t,
			zipEntry{name: "mimetype", method: zip.Store, body: hwpxMime, mod: true}), models.FileHWPX, true},
		{"docx-like zip", docxBytes(t), "", false},
		{"epub", zipBytes(t, zipEntry{name: "mimetype", method: zip.Store, body: "application/epub+zip"}), "", false},
		{"odt", zipBytes(t, zipEntry{name: "mimetype", method: zip.Store, body: "application/vnd.oasis.opendocument.text"}), "", false},
		{"hwpx mimetype compressed", zipBytes(t, zipEntry{name: "mimetype", method: zip.Deflate, body: hwpxMime}), "", false},
		{"hwpx mimetype not first", zipBytes(t,
			zipEntry{name: "Contents/section0.xml", method: zip.Store, body: "<x/>"},
			zipEntry{name: "mimetype", method: zip.Store, body: hwpxMime}), "", false},
		{"hwpx mimetype under another name", zipBytes(t, zipEntry{name: "mimetypes", method: zip.Store, body: hwpxMime}), "", false},
		{"hwpx mimetype with more content", zipBytes(t,
			zipEntry{name: "mimetype", method: zip.Store, body: hwpxMime + "x", raw: true}), "", false},
		{"hwpx truncated head", hwpxBytes(t)[:40], "", false},
		{"zip signature only", []byte("PK\x03\x04"), "", false},
		{"png", pngBytes, "", false},
		{"text", []byte("이것은 PDF가 아닙니다.\n"), "", false},
		{"html", []byte("<!doctype html><title>%PDF-</title>"), "", false},
		{"empty", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := models.SniffKind(tt.head)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("SniffKind = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

var allKinds = models.UploadPolicy{
	MaxBytes: 1 << 20,
	Allowed:  []models.FileKind{models.FilePDF, models.FileHWP, models.FileHWPX},
}

func TestCheckUpload(t *testing.T) {
	t.Parallel()
	pdfOnly := models.UploadPolicy{MaxBytes: 1 << 20, Allowed: []models.FileKind{models.FilePDF}}
	tests := []struct {
		name     string
		fileName string
		content  []byte
		policy   models.UploadPolicy
		wantKind models.FileKind
		wantName string
		wantErr  error
	}{
		{"pdf", "report.pdf", tinyPDF, allKinds, models.FilePDF, "report.pdf", nil},
		{"pdf upper-case extension", "REPORT.PDF", tinyPDF, allKinds, models.FilePDF, "REPORT.PDF", nil},
		{"pdf without extension", "사업계획서", tinyPDF, allKinds, models.FilePDF, "사업계획서.pdf", nil},
		{"pdf named .txt", "notes.txt", tinyPDF, allKinds, models.FilePDF, "notes.txt.pdf", nil},
		{"pdf with a traversal name", "../../etc/passwd", tinyPDF, allKinds, models.FilePDF, "passwd.pdf", nil},
		{"pdf with a windows traversal name", `..\..\보고서.pdf`, tinyPDF, allKinds, models.FilePDF, "보고서.pdf", nil},
		{"hwp", "신청서.hwp", ole2Header(), allKinds, models.FileHWP, "신청서.hwp", nil},
		{"hwpx", "신청서.hwpx", hwpxBytes(t), allKinds, models.FileHWPX, "신청서.hwpx", nil},
		{"hwpx named .hwp", "신청서.hwp", hwpxBytes(t), allKinds, models.FileHWPX, "신청서.hwp.hwpx", nil},
		{"png renamed pdf", "report.pdf", pngBytes, allKinds, "", "", models.ErrUploadType},
		{"text renamed pdf", "report.pdf", []byte("hello, this is not a PDF\n"), allKinds, "", "", models.ErrUploadType},
		{"docx renamed hwpx", "신청서.hwpx", docxBytes(t), allKinds, "", "", models.ErrUploadType},
		{"hwp where only pdf is allowed", "신청서.hwp", ole2Header(), pdfOnly, "", "", models.ErrUploadType},
		{"nothing allowed", "report.pdf", tinyPDF, models.UploadPolicy{MaxBytes: 1 << 20}, "", "", models.ErrUploadType},
		{"empty", "report.pdf", nil, allKinds, "", "", models.ErrUploadEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up, body, err := models.CheckUpload(tt.fileName, bytes.NewReader(tt.content), tt.policy)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("CheckUpload err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("CheckUpload: %v", err)
			}
			if up.Kind != tt.wantKind || up.Name != tt.wantName {
				t.Errorf("CheckUpload = %+v, want kind %q name %q", up, tt.wantKind, tt.wantName)
			}
			got, err := io.ReadAll(body)
			if err != nil {
				t.Fatalf("read body: %v", err)
			}
			if !bytes.Equal(got, tt.content) {
				t.Errorf("body is %d bytes, want the %d uploaded", len(got), len(tt.content))
			}
		})
	}
}

// countingReader counts what is read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestCheckUploadSize checks the limit both where the head read already
// sees it (a limit below the sniffed length) and while streaming.
func TestCheckUploadSize(t *testing.T) {
	t.Parallel()
	for _, max := range []int64{100, 4096, 5000, 1 << 20} {
		policy := models.UploadPolicy{MaxBytes: max, Allowed: []models.FileKind{models.FilePDF}}
		tests := []struct {
			size    int64
			wantErr error
		}{
			{max - 1, nil},
			{max, nil},
			{max + 1, models.ErrUploadTooLarge},
			{max + 4096, models.ErrUploadTooLarge},
			{10 * max, models.ErrUploadTooLarge},
		}
		for _, tt := range tests {
			src := &countingReader{r: bytes.NewReader(pdfOfSize(int(tt.size)))}
			up, body, err := models.CheckUpload("big.pdf", src, policy)
			var n int64
			if err == nil {
				if up.Kind != models.FilePDF {
					t.Errorf("max %d size %d: kind %q", max, tt.size, up.Kind)
				}
				n, err = io.Copy(io.Discard, body)
			}
			if !errors.Is(err, tt.wantErr) && !(tt.wantErr == nil && err == nil) {
				t.Errorf("max %d size %d: err = %v, want %v", max, tt.size, err, tt.wantErr)
				continue
			}
			if tt.wantErr == nil && n != tt.size {
				t.Errorf("max %d size %d: body gave %d bytes", max, tt.size, n)
			}
			if n > max {
				t.Errorf("max %d size %d: body gave %d bytes, more than the limit", max, tt.size, n)
			}
			if src.n > max+1 {
				t.Errorf("max %d size %d: %d bytes read from the upload, want at most %d", max, tt.size, src.n, max+1)
			}
		}
	}
	if _, _, err := models.CheckUpload("a.pdf", bytes.NewReader(tinyPDF), models.UploadPolicy{Allowed: allKinds.Allowed}); err == nil {
		t.Error("a policy without MaxBytes was accepted")
	}
}

func TestSanitizeFileName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("가", 200)
	tests := []struct {
		in, want string
	}{
		{"report.pdf", "report.pdf"},
		{"사업계획서_최종.hwp", "사업계획서_최종.hwp"},
		{"../../etc/passwd", "passwd"},
		{`..\..\boot.ini`, "boot.ini"},
		{"/abs/path/to/file.hwpx", "file.hwpx"},
		{`C:\Users\김철수\Desktop\신청서.hwp`, "신청서.hwp"},
		{"mixed/sep\\name.pdf", "name.pdf"},
		{"dir/", "file"},
		{"", "file"},
		{"...", "file"},
		{"..", "file"},
		{".pdf", "file.pdf"},
		{"???.pdf", "file.pdf"},
		{`<>:"|?*.hwp`, "file.hwp"},
		{`a<b>c:d"e|f?g*h.pdf`, "abcdefgh.pdf"},
		{"re\x00po\x1frt\x7f.pdf", "report.pdf"},
		{"line\nbreak\ttab.pdf", "line break tab.pdf"},
		{"  many    spaces \u3000 here .pdf  ", "many spaces here.pdf"},
		{"trailing dots...", "trailing dots"},
		{"report.pdf. . .", "report.pdf"},
		{". hidden name.pdf", "hidden name.pdf"},
		{"evil\u202efdp.exe", "evilfdp.exe"},     // right-to-left override dropped
		{"zero\u200bwidth.pdf", "zerowidth.pdf"}, // zero-width space dropped
		{"bad\xffutf8.pdf", "badutf8.pdf"},
		{"CON.pdf", "_CON.pdf"},
		{"nul", "_nul"},
		{"com1.tar.gz", "_com1.tar.gz"},
		{"console.pdf", "console.pdf"},
		{"archive.tar.gz", "archive.tar.gz"},
		{"version 1.2 final", "version 1.2 final"},
		{long + ".pdf", strings.Repeat("가", 116) + ".pdf"},
		{long, strings.Repeat("가", 120)},
		{strings.Repeat("가", 115) + "....." + strings.Repeat("나", 10) + ".hwpx", strings.Repeat("가", 115) + ".hwpx"},
	}
	for _, tt := range tests {
		got := models.SanitizeFileName(tt.in)
		if got != tt.want {
			t.Errorf("SanitizeFileName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if n := len([]rune(got)); n > 120 {
			t.Errorf("SanitizeFileName(%q) has %d runes", tt.in, n)
		}
		if again := models.SanitizeFileName(got); again != got {
			t.Errorf("SanitizeFileName(%q) = %q, not idempotent: %q", tt.in, got, again)
		}
	}
}

// storeFiles lists every file under dir, relative to it.
func storeFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func newStore(t *testing.T) (*models.FileStore, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "files")
	s, err := models.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o750 {
		t.Fatalf("store directory: %v, %v", fi, err)
	}
	return s, dir
}

func TestFileStorePut(t *testing.T) {
	t.Parallel()
	s, dir := newStore(t)
	sum := sha256.Sum256(tinyPDF)
	want := hex.EncodeToString(sum[:])

	for i := range 2 {
		sha, size, err := s.Put(bytes.NewReader(tinyPDF))
		if err != nil {
			t.Fatalf("put %d: %v", i+1, err)
		}
		if sha != want || size != int64(len(tinyPDF)) {
			t.Errorf("put %d = %s, %d; want %s, %d", i+1, sha, size, want, len(tinyPDF))
		}
	}
	wantPath := filepath.Join(want[0:2], want[2:4], want)
	if files := storeFiles(t, dir); len(files) != 1 || files[0] != wantPath {
		t.Fatalf("store holds %q, want only %q", files, wantPath)
	}

	f, err := s.Open(want)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, tinyPDF) {
		t.Errorf("Open gave %q", got)
	}

	// Different content lands beside it.
	sha2, _, err := s.Put(bytes.NewReader(ole2Header()))
	if err != nil {
		t.Fatal(err)
	}
	if sha2 == want || len(storeFiles(t, dir)) != 2 {
		t.Errorf("second content: sha %s, store %q", sha2, storeFiles(t, dir))
	}
}

func TestFileStoreOpenRefuses(t *testing.T) {
	t.Parallel()
	s, dir := newStore(t)
	sha, _, err := s.Put(bytes.NewReader(tinyPDF))
	if err != nil {
		t.Fatal(err)
	}
	// A file outside the store that path tricks would reach.
	if err := os.WriteFile(filepath.Join(filepath.Dir(dir), "x"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := strings.Repeat("0", 64)
	for _, bad := range []string{
		"../x",
		"../../../../../../etc/passwd",
		strings.ToUpper(sha),
		sha[:63],
		sha + "0",
		sha[:62] + "/x",
		"..",
		"",
		sha[:63] + "g",
		filepath.Join(sha[0:2], sha[2:4], sha),
		missing,
	} {
		f, err := s.Open(bad)
		if err == nil {
			f.Close()
			t.Errorf("Open(%q) succeeded", bad)
			continue
		}
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Open(%q) err = %v, want ErrNotFound", bad, err)
		}
	}
}

// TestFileStoreNoTempFiles checks that failed writes leave nothing behind.
func TestFileStoreNoTempFiles(t *testing.T) {
	t.Parallel()
	policy := models.UploadPolicy{MaxBytes: 10_000, Allowed: []models.FileKind{models.FilePDF}}
	t.Run("too large while streaming", func(t *testing.T) {
		s, dir := newStore(t)
		_, body, err := models.CheckUpload("big.pdf", bytes.NewReader(pdfOfSize(10_001)), policy)
		if err != nil {
			t.Fatalf("CheckUpload: %v (the head alone should pass)", err)
		}
		if _, _, err := s.Put(body); !errors.Is(err, models.ErrUploadTooLarge) {
			t.Fatalf("Put err = %v, want ErrUploadTooLarge", err)
		}
		if files := storeFiles(t, dir); len(files) != 0 {
			t.Errorf("store holds %q after a refused upload", files)
		}
	})
	t.Run("reader fails", func(t *testing.T) {
		s, dir := newStore(t)
		boom := errors.New("connection reset")
		r := io.MultiReader(bytes.NewReader(pdfOfSize(50_000)), iotest.ErrReader(boom))
		if _, _, err := s.Put(r); !errors.Is(err, boom) {
			t.Fatalf("Put err = %v, want %v", err, boom)
		}
		if files := storeFiles(t, dir); len(files) != 0 {
			t.Errorf("store holds %q after a failed upload", files)
		}
	})
	t.Run("exactly the limit is kept", func(t *testing.T) {
		s, dir := newStore(t)
		_, body, err := models.CheckUpload("big.pdf", bytes.NewReader(pdfOfSize(10_000)), policy)
		if err != nil {
			t.Fatal(err)
		}
		if _, size, err := s.Put(body); err != nil || size != 10_000 {
			t.Fatalf("Put = %d, %v", size, err)
		}
		if files := storeFiles(t, dir); len(files) != 1 {
			t.Errorf("store holds %q, want one file", files)
		}
	})
}

func TestFileStoreSave(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 1, 30, 0, 0, time.UTC)
	clock := testdb.NewClock(now)
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		if err := db.AutoMigrate(&models.StoredFile{}); err != nil {
			t.Fatal(err)
		}
		s, dir := newStore(t)

		first, err := s.Save(ctx, db, "../사업계획서.pdf", bytes.NewReader(tinyPDF), allKinds, 7, now)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(tinyPDF)
		want := models.StoredFile{ID: first.ID, SHA256: hex.EncodeToString(sum[:]), Name: "사업계획서.pdf",
			Size: int64(len(tinyPDF)), Kind: models.FilePDF, UploadedByID: 7, CreatedAt: now}
		var loaded models.StoredFile
		if err := db.First(&loaded, first.ID).Error; err != nil {
			t.Fatal(err)
		}
		loaded.CreatedAt = loaded.CreatedAt.UTC()
		if first.ID == 0 || loaded != want {
			t.Errorf("row = %+v, want %+v", loaded, want)
		}

		// The same content under another name: a second row, one content.
		second, err := s.Save(ctx, db, "copy.pdf", bytes.NewReader(tinyPDF), allKinds, 8, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if second.ID == first.ID || second.SHA256 != first.SHA256 || second.Name != "copy.pdf" {
			t.Errorf("second row = %+v", second)
		}
		if files := storeFiles(t, dir); len(files) != 1 {
			t.Errorf("store holds %q, want one content", files)
		}

		// Refused uploads make neither a row nor a file.
		for _, bad := range []struct {
			content []byte
			wantErr error
		}{
			{pngBytes, models.ErrUploadType},
			{nil, models.ErrUploadEmpty},
			{pdfOfSize(1<<20 + 1), models.ErrUploadTooLarge},
		} {
			if _, err := s.Save(ctx, db, "x.pdf", bytes.NewReader(bad.content), allKinds, 7, now); !errors.Is(err, bad.wantErr) {
				t.Errorf("Save err = %v, want %v", err, bad.wantErr)
			}
		}
		var count int64
		if err := db.Model(&models.StoredFile{}).Count(&count).Error; err != nil {
			t.Fatal(err)
		}
		if count != 2 {
			t.Errorf("%d rows, want 2", count)
		}
		if files := storeFiles(t, dir); len(files) != 1 {
			t.Errorf("store holds %q after refused uploads, want one content", files)
		}
	})
}
