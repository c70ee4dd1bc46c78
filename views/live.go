package views

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"

	"kaiportal/i18n"
	"kaiportal/models"
)

// A page that the page cache keeps (handlers/pagecache.go) is rendered once
// into bytes with markers where a part differs from one request to the
// next — the CSRF token, the session's expiry warning, a countdown — and
// each request gets the bytes with its own parts put in (Cached.Write).
// Rendered without the cache, the same components render those parts
// directly, so a page looks the same either way.

// LiveRequest is what the parts made anew for each request need.
type LiveRequest struct {
	Page Page      // the request's frame: its user, CSRF token and session clock
	Now  time.Time // when the request is answered
}

// liveFragment renders one such part for a request.
type liveFragment func(r LiveRequest) templ.Component

// markerPrefix begins every marker: random for each process, so no text a
// page shows can contain it by chance, and never sent (each is replaced).
var markerPrefix = func() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "kai" + hex.EncodeToString(b)
}()

// CSRFMarker stands for the CSRF token in a page rendered for the cache
// (the token is HTML-escaped where it is put in, as templ escapes it).
var CSRFMarker = markerPrefix + "c"

type recorderKey struct{}

// recorder collects, while a page renders for the cache, the parts that
// each request renders itself, in the order of their markers.
type recorder struct {
	parts []liveFragment
}

// live renders f for the request (p, now), or, for the cache, a marker
// that Cached.Write replaces with f rendered for each request.
func live(p Page, now time.Time, f liveFragment) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		if rec, ok := ctx.Value(recorderKey{}).(*recorder); ok {
			rec.parts = append(rec.parts, f)
			_, err := io.WriteString(w, markerPrefix+"h"+strconv.Itoa(len(rec.parts)-1)+"z")
			return err
		}
		return f(LiveRequest{Page: p, Now: now}).Render(ctx, w)
	})
}

// Cached is a page rendered for the cache: its bytes between the markers,
// and what goes in each marker's place.
type Cached struct {
	static [][]byte       // len(fills)+1 runs of bytes
	fills  []liveFragment // nil: the CSRF token
	size   int            // the bytes of static
	// deflated holds each run of static compressed on its own (raw
	// DEFLATE, ended by a sync flush, so that the runs and the parts put
	// between them, as stored blocks, make one stream): a gzip answer is
	// then made without compressing the page again (WriteGzip).
	deflated [][]byte
}

// RenderCached renders comp for the cache. The page it renders must have
// CSRFMarker as its CSRF token.
func RenderCached(ctx context.Context, comp templ.Component) (*Cached, error) {
	rec := &recorder{}
	var buf bytes.Buffer
	if err := comp.Render(context.WithValue(ctx, recorderKey{}, rec), &buf); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	c := &Cached{size: len(b)}
	prefix := []byte(markerPrefix)
	for {
		i := bytes.Index(b, prefix)
		if i < 0 {
			break
		}
		c.static = append(c.static, b[:i])
		rest := b[i+len(prefix):]
		switch {
		case len(rest) > 0 && rest[0] == 'c':
			c.fills = append(c.fills, nil)
			b = rest[1:]
		case len(rest) > 0 && rest[0] == 'h':
			end := bytes.IndexByte(rest, 'z')
			n, err := strconv.Atoi(string(rest[1:max(end, 1)]))
			if end < 0 || err != nil || n < 0 || n >= len(rec.parts) {
				return nil, errors.New("views: a damaged marker in a page rendered for the cache")
			}
			c.fills = append(c.fills, rec.parts[n])
			b = rest[end+1:]
		default:
			return nil, errors.New("views: a damaged marker in a page rendered for the cache")
		}
	}
	c.static = append(c.static, b)
	return c, nil
}

// Deflate compresses the runs of bytes for WriteGzip, once, before the page
// is shared (it is not safe to call while other requests use the page).
func (c *Cached) Deflate() error {
	var buf bytes.Buffer
	fw := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(fw)
	c.deflated = make([][]byte, len(c.static))
	for i, s := range c.static {
		buf.Reset()
		fw.Reset(&buf)
		if _, err := fw.Write(s); err != nil {
			return err
		}
		if err := fw.Flush(); err != nil {
			return err
		}
		c.deflated[i] = bytes.Clone(buf.Bytes())
	}
	return nil
}

// deflaters are the compressors of Deflate (each holds large tables).
var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.DefaultCompression)
	return w
}}

// Deflated reports whether the page can be written with WriteGzip.
func (c *Cached) Deflated() bool { return c.deflated != nil }

// gzipHeader is the fixed header of the gzip answers: no name, no time,
// unknown OS.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// WriteGzip writes the page for the request r gzip-compressed: the runs
// compressed by Deflate, this request's parts between them as stored
// (uncompressed) blocks, and the checksum of the whole.
func (c *Cached) WriteGzip(ctx context.Context, w *bytes.Buffer, r LiveRequest) error {
	var part bytes.Buffer
	crc := uint32(0)
	size := 0
	w.Write(gzipHeader)
	for i, s := range c.static {
		w.Write(c.deflated[i])
		crc = crc32.Update(crc, crc32.IEEETable, s)
		size += len(s)
		if i == len(c.fills) {
			break
		}
		part.Reset()
		if f := c.fills[i]; f != nil {
			if err := f(r).Render(ctx, &part); err != nil {
				return err
			}
		} else {
			part.WriteString(templ.EscapeString(r.Page.CSRF))
		}
		b := part.Bytes()
		crc = crc32.Update(crc, crc32.IEEETable, b)
		size += len(b)
		for len(b) > 0 { // stored blocks of at most 65535 bytes
			n := min(len(b), 0xffff)
			w.Write([]byte{0, byte(n), byte(n >> 8), ^byte(n), ^byte(n >> 8)})
			w.Write(b[:n])
			b = b[n:]
		}
	}
	// The last block (empty, stored), then CRC-32 and size, little-endian.
	w.Write([]byte{1, 0, 0, 0xff, 0xff})
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], crc)
	binary.LittleEndian.PutUint32(trailer[4:], uint32(size))
	w.Write(trailer[:])
	return nil
}

// Size is about how many bytes the page takes.
func (c *Cached) Size() int { return c.size }

// Write writes the page for the request r.
func (c *Cached) Write(ctx context.Context, w *bytes.Buffer, r LiveRequest) error {
	w.Grow(c.size + 1024)
	for i, s := range c.static {
		w.Write(s)
		if i == len(c.fills) {
			break
		}
		if f := c.fills[i]; f != nil {
			if err := f(r).Render(ctx, w); err != nil {
				return err
			}
		} else {
			w.WriteString(templ.EscapeString(r.Page.CSRF))
		}
	}
	return nil
}

// liveSessionWarning is SessionWarning, made for each request. A page made
// for a visitor who is not signed in (and kept for such visitors only) has
// none.
func liveSessionWarning(p Page) templ.Component {
	if !p.SignedIn() {
		return templ.NopComponent
	}
	return live(p, p.Session.Now, func(r LiveRequest) templ.Component { return sessionWarningFor(r.Page) })
}

// sessionWarningFor is SessionWarning(p), from a rendering kept for its
// language, renewability and warning time: only the two instants differ
// from one request to the next, and they are put in as SessionWarning
// writes them.
func sessionWarningFor(p Page) templ.Component {
	if !p.SignedIn() || p.Session.Ends.IsZero() {
		return SessionWarning(p)
	}
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		key := warningKey{lang: i18n.Lang(ctx), renewable: p.Session.Renewable, warn: p.Session.Warn}
		runs, ok := warningRuns.Load(key)
		if !ok {
			r, err := renderWarningRuns(ctx, p)
			if err != nil {
				return SessionWarning(p).Render(ctx, w)
			}
			runs, _ = warningRuns.LoadOrStore(key, r)
		}
		rs := runs.([3]string)
		var b [len(time.RFC3339) + 8]byte
		_, err := io.WriteString(w, rs[0])
		if err == nil {
			_, err = w.Write(p.Session.Ends.UTC().AppendFormat(b[:0], time.RFC3339))
		}
		if err == nil {
			_, err = io.WriteString(w, rs[1])
		}
		if err == nil {
			_, err = w.Write(p.Session.Now.UTC().AppendFormat(b[:0], time.RFC3339))
		}
		if err == nil {
			_, err = io.WriteString(w, rs[2])
		}
		return err
	})
}

// warningKey is what, besides its two instants, SessionWarning shows.
type warningKey struct {
	lang      string
	renewable bool
	warn      time.Duration
}

// warningRuns holds, for each warningKey, SessionWarning's bytes before,
// between and after its two instants.
var warningRuns sync.Map

// The instants SessionWarning is rendered with to find where the real ones
// go: no other text of the warning can contain them.
var (
	warningEndsMark = time.Date(2999, 1, 2, 3, 4, 5, 0, time.UTC)
	warningNowMark  = time.Date(2998, 6, 7, 8, 9, 10, 0, time.UTC)
)

// renderWarningRuns renders SessionWarning with the marking instants and
// cuts it at them; nil if they are not found once each, in order.
func renderWarningRuns(ctx context.Context, p Page) ([3]string, error) {
	p.Session.Ends, p.Session.Now = warningEndsMark, warningNowMark
	var buf bytes.Buffer
	if err := SessionWarning(p).Render(ctx, &buf); err != nil {
		return [3]string{}, err
	}
	s := buf.String()
	ends, now := warningEndsMark.Format(time.RFC3339), warningNowMark.Format(time.RFC3339)
	before, rest, ok1 := strings.Cut(s, ends)
	between, after, ok2 := strings.Cut(rest, now)
	if !ok1 || !ok2 || strings.Contains(before, now) || strings.Contains(after, ends) || strings.Contains(after, now) {
		return [3]string{}, errors.New("views: the session warning does not show its instants once each")
	}
	return [3]string{before, between, after}, nil
}

// liveCountdown is Countdown, made for each request at its time.
func liveCountdown(w models.Window, now time.Time) templ.Component {
	return live(Page{}, now, func(r LiveRequest) templ.Component { return Countdown(w, r.Now) })
}
