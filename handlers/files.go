package handlers

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"kaiportal/models"
)

// Files in and out: what a form's file part is to the models, and the one
// way a download is sent (stored documents and evidence, and exports).

// uploadedFile is a form's file part as the models read it.
func uploadedFile(fh *multipart.FileHeader) models.UploadedFile {
	return models.UploadedFile{Name: fh.Filename, Size: fh.Size, Open: func() (io.ReadCloser, error) { return fh.Open() }}
}

// downloadContentTypes are the media types of the accepted kinds of file.
var downloadContentTypes = map[models.FileKind]string{
	models.FilePDF:  "application/pdf",
	models.FileHWP:  "application/x-hwp",
	models.FileHWPX: "application/hwp+zip",
}

// attachment is a file sent as a download.
type attachment struct {
	name        string // the file's name as the user knows it, in any script
	fallback    string // a plain ASCII name for clients that ignore filename*
	contentType string
	sha256      string // the hex SHA-256 of the content that the page shows, or ""
}

// storedAttachment is a stored file as a download; fallback is its ASCII name.
func storedAttachment(f *models.StoredFile, fallback string) attachment {
	ctype, ok := downloadContentTypes[f.Kind]
	if !ok {
		ctype = "application/octet-stream"
	}
	return attachment{name: f.Name, fallback: fallback, contentType: ctype, sha256: f.SHA256}
}

// setDownloadHeaders writes the headers every download carries: its type,
// Content-Disposition with the name (and an ASCII fallback), nosniff, no
// caching anywhere, and the content's SHA-256 (as the page shows it) as
// Repr-Digest (RFC 9530) when it is known.
func setDownloadHeaders(c *gin.Context, a attachment) {
	hd := c.Writer.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("Content-Disposition", contentDisposition(a.name, a.fallback))
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "private, no-store")
	if sum, err := hex.DecodeString(a.sha256); err == nil && len(sum) == 32 {
		hd.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":")
	}
}

// sendStoredFile sends a stored file's content as a download.
func (h *Handler) sendStoredFile(c *gin.Context, f *models.StoredFile, fallback string) {
	r, err := h.files.Open(f.SHA256)
	if err != nil {
		h.fail(c, err)
		return
	}
	defer r.Close()
	st, err := r.Stat()
	if err != nil {
		h.fail(c, fmt.Errorf("handlers: stat %s: %w", f.SHA256, err))
		return
	}
	a := storedAttachment(f, fallback)
	setDownloadHeaders(c, a)
	c.DataFromReader(http.StatusOK, st.Size(), a.contentType, r, nil)
}

// contentDisposition makes an attachment header for a (sanitised) file name:
// the name itself when it is plain ASCII, else an ASCII fallback, and the
// UTF-8 name as RFC 5987 filename* for Korean names.
func contentDisposition(name, fallback string) string {
	ascii := true
	for i := range len(name) {
		if b := name[i]; b < 0x20 || b > 0x7e || b == '"' || b == '\\' {
			ascii = false
		}
	}
	if ascii {
		fallback = name
	}
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, fallback, rfc5987Escape(name))
}

// rfc5987Escape percent-encodes everything but RFC 5987's attr-char.
func rfc5987Escape(s string) string {
	const attrChar = "!#$&+-.^_`|~"
	var b strings.Builder
	for i := range len(s) {
		ch := s[i]
		if ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || strings.IndexByte(attrChar, ch) >= 0 {
			b.WriteByte(ch)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", ch)
	}
	return b.String()
}
