package handlers

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/models"
	"kaiportal/testdb"
)

// callsOnPage returns, per group of the call list, the ids its cards carry.
func callsOnPage(doc *goquery.Document) map[string][]string {
	out := map[string][]string{}
	for _, group := range []string{"open", "upcoming", "closed"} {
		doc.Find(`[data-testid="calls-` + group + `"] [data-testid="call-card"]`).Each(func(_ int, s *goquery.Selection) {
			id, _ := s.Attr("data-call")
			out[group] = append(out[group], id)
		})
	}
	return out
}

// TestPublicCallList: /calls sorts the calls into open, upcoming and closed
// by their instants against the portal's clock, to the second, with each
// group headed, each card linking to its notice and showing the close
// instant to the second in KST; the home page and the navigation link it.
func TestPublicCallList(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		app := newTestApp(t, kind, nil)
		s := storyOf(t, app)
		now := app.clock.Now() // 2026-11-27 14:00:00 KST
		newCall := func(title string, opens, closes time.Time) *models.Call {
			return s.saveCall(&models.Call{TitleKO: title, TitleEN: title + " (EN)", OpensAt: opens, ClosesAt: closes, Slots: 2,
				Criteria: []models.Criterion{{NameKO: "기술력", NameEN: "Technology", Weight: 100, MaxScore: 10}}})
		}
		// Open: closes in ten days, at an instant with seconds.
		open := newCall("접수 중 공모", now.Add(-24*time.Hour), time.Date(2026, 12, 7, 18, 0, 30, 0, models.KST))
		// Upcoming: opens one second from now.
		soon := newCall("곧 열리는 공모", now.Add(time.Second), now.Add(30*24*time.Hour))
		// Closed: closed exactly now.
		justClosed := newCall("방금 마감된 공모", now.Add(-72*time.Hour), now)
		var demo models.Call
		if err := app.db.Where("title_en LIKE ?", "2025 call%").First(&demo).Error; err != nil {
			t.Fatal(err)
		}

		c := app.client()
		resp := c.get("/calls")
		wantCode(t, "", resp, http.StatusOK)
		doc := c.page(resp)
		want := map[string][]string{
			"open":     {itoa(open.ID)},
			"upcoming": {itoa(soon.ID)},
			"closed":   {itoa(justClosed.ID), itoa(demo.ID)},
		}
		got := callsOnPage(doc)
		for group, ids := range want {
			if !slices.Equal(got[group], ids) {
				t.Errorf("%s calls = %v, want %v", group, got[group], ids)
			}
		}
		ko := app.h.cat.For("ko")
		for group, heading := range map[string]string{"open": "calls.group.open", "upcoming": "calls.group.upcoming", "closed": "calls.group.closed"} {
			sec := doc.Find(`[data-testid="calls-` + group + `"]`)
			if h := sec.Find("h2"); h.Length() != 1 || !strings.Contains(h.Text(), ko.T(heading)) {
				t.Errorf("%s group heading = %q, want %q", group, strings.TrimSpace(h.Text()), ko.T(heading))
			}
			if labelled, _ := sec.Attr("aria-labelledby"); labelled == "" || doc.Find("#"+labelled).Length() != 1 {
				t.Errorf("%s group is not labelled by its heading", group)
			}
		}
		card := doc.Find(`[data-call="` + itoa(open.ID) + `"]`)
		if href, _ := card.Find(`[data-testid="call-link"]`).Attr("href"); href != "/calls/"+itoa(open.ID) {
			t.Errorf("open call links to %q", href)
		}
		if got := strings.TrimSpace(card.Find(`[data-testid="call-closes"]`).Text()); got != "2026-12-07 18:00:30 KST" {
			t.Errorf("close instant shown as %q, want it to the second in KST", got)
		}
		doc.Find(`[data-testid="call-card"]`).Each(func(_ int, s *goquery.Selection) {
			id, _ := s.Attr("data-call")
			if href, _ := s.Find(`[data-testid="call-link"]`).Attr("href"); href != "/calls/"+id {
				t.Errorf("card of call %s links to %q", id, href)
			}
			if resp := c.get("/calls/" + id); resp.StatusCode != http.StatusOK {
				t.Errorf("notice of call %s: status %d", id, resp.StatusCode)
			}
		})

		// One second later the upcoming call is open; the clock decides, not the request.
		app.clock.Advance(time.Second)
		got = callsOnPage(c.page(c.get("/calls")))
		if !slices.Equal(got["open"], []string{itoa(open.ID), itoa(soon.ID)}) || len(got["upcoming"]) != 0 {
			t.Errorf("a second later: open %v, upcoming %v; want %s to have opened", got["open"], got["upcoming"], itoa(soon.ID))
		}
		if doc := c.page(c.get("/calls")); doc.Find(`[data-testid="calls-upcoming"] [data-testid="calls-none"]`).Length() != 1 {
			t.Error("an empty group does not say so")
		}

		// Linked from the home page and from the navigation, for everyone.
		home := c.page(c.get("/"))
		if home.Find(`a[href="/calls"][data-testid="all-calls"]`).Length() != 1 {
			t.Error("the home page does not link the call list")
		}
		if home.Find(`nav a[href="/calls"]`).Length() == 0 {
			t.Error("the navigation does not link the call list")
		}
		if href, _ := home.Find(`[data-testid="call"] [data-testid="call-link"]`).First().Attr("href"); !strings.HasPrefix(href, "/calls/") {
			t.Errorf("a home page call card links to %q, want its notice", href)
		}
		c.signInDemo("demo-company-kaist")
		if doc := c.page(c.get("/calls")); doc.Find(`nav a[href="/calls"][aria-current="page"]`).Length() != 1 {
			t.Error("signed in: the navigation does not mark the call list as the current page")
		}
	})
}
