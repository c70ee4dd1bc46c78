package handlers

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"kaiportal/static"
)

// minGzipBytes is the smallest body worth compressing: below it the gzip
// header and the work cost more than the bytes saved.
const minGzipBytes = 1024

// acceptsGzip reports whether the request's Accept-Encoding takes gzip (or
// any encoding, "*") with a non-zero quality.
func acceptsGzip(r *http.Request) bool {
	for rest := r.Header.Get("Accept-Encoding"); rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
				return false
			}
		}
		return true
	}
	return false
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return w
}}

// gzipBytes compresses b at level, with a pooled writer at the default level.
func gzipBytes(b []byte, level int) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b) / 3)
	if level != gzip.DefaultCompression {
		w, _ := gzip.NewWriterLevel(&buf, level)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	w := gzipWriters.Get().(*gzip.Writer)
	w.Reset(&buf)
	w.Write(b)
	w.Close()
	gzipWriters.Put(w)
	return buf.Bytes()
}

// writeBody answers body with its content type, gzip-compressed when the
// client takes it and the body is worth it; gz, when not nil, is body
// already compressed. The answer varies with Accept-Encoding either way.
// The body is sent with its length, in one write, not in chunks.
func writeBody(c *gin.Context, status int, contentType string, body, gz []byte, compressible bool) {
	if compressible {
		c.Writer.Header().Add("Vary", "Accept-Encoding")
		if len(body) >= minGzipBytes && acceptsGzip(c.Request) {
			if gz == nil {
				gz = gzipBytes(body, gzip.DefaultCompression)
			}
			c.Header("Content-Encoding", "gzip")
			body = gz
		}
	}
	c.Header("Content-Length", strconv.Itoa(len(body)))
	c.Data(status, contentType, body)
}

// asset is one embedded file as served: its bytes and, for text, the same
// bytes gzip-compressed once, at the first request for it.
type asset struct {
	body, gz     []byte
	contentType  string
	compressible bool
}

var (
	assetsMu sync.Mutex
	assets   = map[string]*asset{}
)

// loadAsset returns the embedded file name, read and (for text)
// compressed at its first request and kept for the life of the process:
// the files are embedded, so they never change while it runs.
func loadAsset(name string) (*asset, error) {
	assetsMu.Lock()
	defer assetsMu.Unlock()
	if a, ok := assets[name]; ok {
		return a, nil
	}
	b, err := fs.ReadFile(static.FS, name)
	if err != nil {
		return nil, err
	}
	a := &asset{body: b, contentType: contentType(name), compressible: compressibleAsset(name)}
	if a.compressible && len(b) >= minGzipBytes {
		a.gz = gzipBytes(b, gzip.BestCompression)
	}
	assets[name] = a
	return a, nil
}

// compressibleAsset: text compresses; fonts (woff2 is compressed already)
// and images do not, and are sent as they are.
func compressibleAsset(name string) bool {
	switch path.Ext(name) {
	case ".css", ".js", ".svg", ".json", ".txt":
		return true
	}
	return false
}
