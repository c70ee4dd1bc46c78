package views

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"

	"kaiportal/i18n"
	"kaiportal/models"
)

// livePage is a page with the CSRF token in two attributes and two parts
// made for each request, one larger than a stored DEFLATE block holds.
func livePage(p Page, now time.Time, big int) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		io.WriteString(w, `<meta content="`+templ.EscapeString(p.CSRF)+`">`+strings.Repeat("<p>static text</p>", 200))
		if err := live(p, now, func(r LiveRequest) templ.Component {
			return templ.Raw("<time>" + r.Now.UTC().Format(time.RFC3339Nano) + "</time>")
		}).Render(ctx, w); err != nil {
			return err
		}
		io.WriteString(w, `<input value="`+templ.EscapeString(p.CSRF)+`">`)
		if err := live(p, now, func(r LiveRequest) templ.Component {
			return templ.Raw(strings.Repeat(r.Page.Lang, big))
		}).Render(ctx, w); err != nil {
			return err
		}
		_, err := io.WriteString(w, "<footer>end</footer>")
		return err
	})
}

// A page rendered for the cache and written for a request, plain or
// gzip-compressed, is byte for byte the page rendered for that request.
func TestCachedPageWritesWhatRenderingWould(t *testing.T) {
	ctx := context.Background()
	for _, big := range []int{3, 70000} {
		cached, err := RenderCached(ctx, livePage(Page{CSRF: CSRFMarker, Lang: "xx"}, time.Time{}, big))
		if err != nil {
			t.Fatal(err)
		}
		if err := cached.Deflate(); err != nil {
			t.Fatal(err)
		}
		for _, csrf := range []string{"token-one", `odd<&>"'token`} {
			now := time.Date(2026, 12, 6, 1, 2, 3, 456, time.UTC)
			p := Page{CSRF: csrf, Lang: "ko"}
			var want bytes.Buffer
			if err := livePage(p, now, big).Render(ctx, &want); err != nil {
				t.Fatal(err)
			}
			var plain, gz bytes.Buffer
			if err := cached.Write(ctx, &plain, LiveRequest{Page: p, Now: now}); err != nil {
				t.Fatal(err)
			}
			if plain.String() != want.String() {
				t.Errorf("written from the cache (%d bytes):\n%.300s\nrendered (%d bytes):\n%.300s", plain.Len(), plain.String(), want.Len(), want.String())
			}
			if strings.Contains(plain.String(), markerPrefix) {
				t.Error("a marker was sent")
			}
			if err := cached.WriteGzip(ctx, &gz, LiveRequest{Page: p, Now: now}); err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(&gz)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(zr) // checks the CRC and the size too
			if err != nil {
				t.Fatalf("the gzip answer does not decode: %v", err)
			}
			if string(got) != want.String() {
				t.Errorf("the gzip answer decodes to %d bytes, not the %d rendered", len(got), want.Len())
			}
			if big < 100 && gz.Len() >= want.Len()/3 {
				t.Errorf("gzip answer of %d bytes for %d: not compressed", gz.Len(), want.Len())
			}
		}
	}
}

// The session warning written from its kept rendering is, in each language,
// for a renewable session and one at its absolute end, and at any instants,
// what SessionWarning renders.
func TestSessionWarningKeptIsRendered(t *testing.T) {
	t.Parallel()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	user := &models.User{Name: "n"}
	kst := time.FixedZone("KST", 9*3600)
	for _, lang := range []string{i18n.Korean, i18n.English} {
		ctx := i18n.WithLocalizer(context.Background(), cat.For(lang))
		for _, renewable := range []bool{true, false} {
			for _, warn := range []time.Duration{2 * time.Minute, 5 * time.Minute} {
				for i, ends := range []time.Time{
					time.Date(2026, 12, 7, 1, 2, 3, 999, time.UTC),
					time.Date(2027, 1, 1, 0, 0, 0, 0, kst),
					time.Date(2999, 1, 2, 3, 4, 5, 0, time.UTC), // the marking instant itself
				} {
					p := Page{User: user, Session: SessionClock{Ends: ends, Now: ends.Add(-time.Duration(i+1) * time.Hour), Renewable: renewable, Warn: warn}}
					var want, got bytes.Buffer
					if err := SessionWarning(p).Render(ctx, &want); err != nil {
						t.Fatal(err)
					}
					if err := sessionWarningFor(p).Render(ctx, &got); err != nil {
						t.Fatal(err)
					}
					if got.String() != want.String() || !strings.Contains(want.String(), "data-session-warning") {
						t.Errorf("%s renewable=%v warn=%v ends=%v:\nkept:     %s\nrendered: %s", lang, renewable, warn, ends, got.String(), want.String())
					}
				}
			}
		}
	}
}

// The inbox link written from its kept rendering is, in each language and
// for every count (kept or not), what InboxLink renders.
func TestInboxLinkKeptIsRendered(t *testing.T) {
	t.Parallel()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	user := &models.User{Name: "n"}
	for _, lang := range []string{i18n.Korean, i18n.English} {
		ctx := i18n.WithLocalizer(context.Background(), cat.For(lang))
		for _, n := range []int64{0, 1, 2, 7, maxKeptUnread, maxKeptUnread + 1, 12345} {
			for range 2 { // the first renders and keeps, the second writes what was kept
				p := Page{User: user, Unread: n}
				var want, got bytes.Buffer
				if err := InboxLink(p).Render(ctx, &want); err != nil {
					t.Fatal(err)
				}
				if err := inboxLinkFor(p).Render(ctx, &got); err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String() || !strings.Contains(want.String(), `data-testid="inbox-link"`) {
					t.Errorf("%s, %d unread:\nkept:     %s\nrendered: %s", lang, n, got.String(), want.String())
				}
			}
		}
	}
}
