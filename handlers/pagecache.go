package handlers

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/views"
)

// The page cache serves the public pages and the dashboards again without
// reading their data or rendering them, for as long as that is exactly
// what rendering them would give:
//
//   - Data. A page is kept with the data version (models/dataversion.go)
//     read before its data; each request reads the version again (one read
//     of one row by its key) and takes the page only while it is the same.
//     Triggers move the version on every committed change, made by this
//     instance, another one, or by hand, so a change on any instance is
//     seen by the next request on every other.
//   - Viewer. A page is kept for one language and one viewer: anonymous
//     visitors share theirs; a signed-in user's pages are theirs alone
//     (user, role and organisation are in the key).
//   - Request. What differs from one request to the next is not in the
//     kept bytes: the CSRF token, the session's expiry warning and the
//     appeal countdown are rendered for each request (views/live.go).
//   - Time. While making a page, its handler names the instants at which
//     what it shows changes with the clock alone (a call opening or closing,
//     an appeal window, the registry's day: changesAt); the page is kept
//     until the first of them.
//
// Only a GET without a query string answered 200 is kept.

// pageKey is what a kept page is for.
type pageKey struct {
	path string
	lang string
	user uint // 0: anonymous
	role models.Role
	org  uint
}

// keptPage is a page as rendered at data version version, right for
// requests from from until until (zero: no time limit).
type keptPage struct {
	version     int64
	from, until time.Time
	page        *views.Cached
	titleID     string
}

type pageCache struct {
	versions *models.VersionReader
	max      int64 // bytes

	mu      sync.RWMutex
	version int64 // the newest data version seen; older pages are gone
	pages   map[pageKey]*keptPage
	bytes   int64
}

func newPageCache(db *models.VersionReader, maxBytes int64) *pageCache {
	if maxBytes <= 0 {
		return nil
	}
	return &pageCache{versions: db, max: maxBytes, pages: map[pageKey]*keptPage{}}
}

// get returns the page kept for k, if it is right at data version v and at now.
func (pc *pageCache) get(k pageKey, v int64, now time.Time) *keptPage {
	pc.mu.RLock()
	p := pc.pages[k]
	pc.mu.RUnlock()
	if p == nil || p.version != v || now.Before(p.from) || (!p.until.IsZero() && !now.Before(p.until)) {
		return nil
	}
	return p
}

// seen notes that the data is at version v: every page kept at an older
// version is dropped.
func (pc *pageCache) seen(v int64) {
	pc.mu.RLock()
	newer := v > pc.version
	pc.mu.RUnlock()
	if !newer {
		return
	}
	pc.mu.Lock()
	if v > pc.version {
		pc.version = v
		clear(pc.pages)
		pc.bytes = 0
	}
	pc.mu.Unlock()
}

// put keeps p for k, unless a newer version has been seen since p was made.
func (pc *pageCache) put(k pageKey, p *keptPage) {
	size := int64(p.page.Size()) + 256
	if size > pc.max/4 {
		return
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if p.version < pc.version {
		return
	}
	if p.version > pc.version {
		pc.version = p.version
		clear(pc.pages)
		pc.bytes = 0
	}
	if old := pc.pages[k]; old != nil {
		pc.bytes -= int64(old.page.Size()) + 256
	}
	for key, old := range pc.pages { // over the limit: drop pages until there is room
		if pc.bytes+size <= pc.max {
			break
		}
		pc.bytes -= int64(old.page.Size()) + 256
		delete(pc.pages, key)
	}
	pc.pages[k] = p
	pc.bytes += size
}

// pageFill is the making of a page for the cache, kept in the request's
// context while its handler runs.
type pageFill struct {
	start time.Time // the clock before the handler ran
	next  time.Time // the first instant after start at which the page changes; zero: none named
	page  *views.Cached
	title string
}

const keyFill = "page_fill"

func filling(c *gin.Context) *pageFill {
	v, _ := c.Get(keyFill)
	f, _ := v.(*pageFill)
	return f
}

// changesAt tells the page cache that the page being made changes at the
// instants ts with the clock alone (instants at or before the time it is
// made are past and change nothing). Handlers of cached pages call it for
// every instant they compare the clock with.
func (h *Handler) changesAt(c *gin.Context, ts ...time.Time) {
	f := filling(c)
	if f == nil {
		return
	}
	for _, t := range ts {
		if t.After(f.start) && (f.next.IsZero() || t.Before(f.next)) {
			f.next = t
		}
	}
}

// cached serves the route's page from the page cache, or has handle make
// it and keeps it.
func (h *Handler) cached(handle gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		pc := h.pageCache
		if pc == nil || c.Request.Method != http.MethodGet || c.Request.URL.RawQuery != "" {
			handle(c)
			return
		}
		ctx := c.Request.Context()
		stashed, _ := c.Get(keyDataVersion) // read with the session, before any data
		v, ok := stashed.(int64)
		if !ok {
			var err error
			if v, err = pc.versions.Read(ctx); err != nil {
				handle(c) // which fails as it would have, or succeeds without the cache
				return
			}
		}
		pc.seen(v)
		// The address as asked (the page links to it, in the language switch).
		k := pageKey{path: c.Request.URL.RequestURI(), lang: i18n.Lang(ctx)}
		if u := currentUser(c); u != nil {
			k.user, k.role = u.ID, u.Role
			if u.OrganisationID != nil {
				k.org = *u.OrganisationID
			}
		}
		now := h.now()
		if p := pc.get(k, v, now); p != nil {
			h.metrics.pageHit.Inc()
			h.writeCached(c, http.StatusOK, p.page, p.titleID, now)
			return
		}
		f := &pageFill{start: now}
		c.Set(keyFill, f)
		handle(c)
		// The page shows the clock's effect as of some instant between start
		// and end: kept only if nothing changes in between, and then right
		// from start until the next change.
		if end := h.now(); f.page != nil && (f.next.IsZero() || f.next.After(end)) {
			pc.put(k, &keptPage{version: v, from: f.start, until: f.next, page: f.page, titleID: f.title})
			h.metrics.pageFill.Inc()
		} else {
			h.metrics.pageMiss.Inc()
		}
	}
}

// renderFill is render for a page being made for the cache: rendered with
// markers for the parts each request makes itself, kept when it is a 200
// (and no kept form was filled in again), and written for this request.
func (h *Handler) renderFill(c *gin.Context, f *pageFill, status int, comp templ.Component) {
	page, err := views.RenderCached(context.WithoutCancel(c.Request.Context()), comp)
	if err != nil {
		h.renderFailed(c, status, err)
		return
	}
	if status == http.StatusOK && restoredNotice(c) == nil {
		if err := page.Deflate(); err != nil {
			h.renderFailed(c, status, err)
			return
		}
		f.page = page
	}
	h.writeCached(c, status, page, f.title, h.now())
}

// writeCached answers a page from the cache, with this request's parts.
func (h *Handler) writeCached(c *gin.Context, status int, page *views.Cached, titleID string, now time.Time) {
	r := views.LiveRequest{Page: h.framePage(c, titleID), Now: now}
	buf := getBuffer()
	defer putBuffer(buf)
	ctx := context.WithoutCancel(c.Request.Context())
	// Compressed as writeBody would, from the runs compressed once.
	gz := page.Deflated() && page.Size() >= minGzipBytes && acceptsGzip(c.Request)
	write := page.Write
	if gz {
		write = page.WriteGzip
	}
	if err := write(ctx, buf, r); err != nil {
		h.renderFailed(c, status, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	if !gz {
		writeBody(c, status, "text/html; charset=utf-8", buf.Bytes(), nil, true)
		return
	}
	c.Writer.Header().Add("Vary", "Accept-Encoding")
	c.Header("Content-Encoding", "gzip")
	c.Header("Content-Length", strconv.Itoa(buf.Len()))
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// buffers hold pages while they are written: writeBody has sent or copied
// the bytes when it returns.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return buffers.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > 1<<20 { // one huge page does not stay
		return
	}
	b.Reset()
	buffers.Put(b)
}
