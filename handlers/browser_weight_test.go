package handlers

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"kaiportal/testdb"
)

// firstVisitLimit is the most a first visit to / may download: HTML, CSS,
// scripts and fonts, as they come over the wire (compressed), headers included.
const firstVisitLimit = 400_000

// A first visit to the front page, at 1400 px in a browser with an empty
// cache, downloads under firstVisitLimit bytes, counted by Chromium itself
// (the Network domain's encodedDataLength of every response it loaded).
func TestBrowserFirstVisitWeight(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t)
	app := newTestApp(t, testdb.SQLite, nil)

	var mu sync.Mutex
	urls := map[network.RequestID]string{}
	sizes := map[network.RequestID]float64{}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventResponseReceived:
			urls[ev.RequestID] = ev.Response.URL
		case *network.EventLoadingFinished:
			sizes[ev.RequestID] = ev.EncodedDataLength
		}
	}))
	defer cancel()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("enable the network domain: %v", err)
	}
	step := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, stepTimeout)
		defer scancel()
		if _, err := chromedp.Run(sctx, a); err != nil {
			t.Fatalf("browser: %s: %v", what, err)
		}
	}
	step("desktop size", chromedp.EmulateViewport(1400, 1000))
	step("open /", chromedp.Steps(chromedp.Navigate(app.srv.URL+"/"), chromedp.WaitVisible(testID("masthead"))))
	// Wait for the fonts the page uses, then for the network to be quiet.
	step("fonts", chromedp.Evaluate[chromedp.Void](`document.fonts.ready.then(() => new Promise(r => setTimeout(r, 300)))`,
		chromedp.EvalAwaitPromise))

	deadline := time.Now().Add(stepTimeout)
	for {
		mu.Lock()
		pending := len(urls) - len(sizes)
		mu.Unlock()
		if pending <= 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d responses still loading after %s", pending, stepTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}

	mu.Lock()
	defer mu.Unlock()
	var total float64
	byKind := map[string]float64{}
	var lines []string
	for id, n := range sizes {
		u := urls[id]
		total += n
		kind := "other"
		for _, k := range []string{".css", ".js", ".woff2", ".svg"} {
			if strings.Contains(u, k) {
				kind = k
			}
		}
		if !strings.Contains(u, "/static/") {
			kind = "html"
		}
		byKind[kind] += n
		lines = append(lines, strings.TrimPrefix(u, app.srv.URL)+" "+formatBytes(n))
	}
	sort.Strings(lines)
	for _, l := range lines {
		t.Logf("  %s", l)
	}
	t.Logf("first visit to /: %d responses, %s (%v)", len(sizes), formatBytes(total), byKind)
	if byKind["html"] == 0 || byKind[".css"] == 0 || byKind[".woff2"] == 0 {
		t.Errorf("expected HTML, CSS and fonts among the responses: %v", byKind)
	}
	if total >= firstVisitLimit {
		t.Errorf("a first visit to / downloads %s, want under %s", formatBytes(total), formatBytes(firstVisitLimit))
	}
}

func formatBytes(n float64) string {
	return strings.TrimRight(strings.TrimRight(strconvFloat(n/1000), "0"), ".") + " kB"
}

func strconvFloat(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
