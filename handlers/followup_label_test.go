package handlers

import (
	"net/http"
	"strings"
	"testing"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestFollowUpLinkFollowsSlots: the decision page's link to the follow-up
// list names the first rank after the call's slots (4위 for a call of three
// teams), not a fixed 6위, and the list's own headings agree.
func TestFollowUpLinkFollowsSlots(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		f := newOffFixture(t, kind, 5)
		if err := f.app.db.Model(&models.Call{}).Where("id = ?", f.call.ID).Update("slots", 3).Error; err != nil {
			t.Fatal(err)
		}
		for i := range f.apps {
			v := float64(10 - i)
			f.score(t, i, f.officer, v, v, v)
		}
		d := f.publish(f.call, f.apps[0], f.apps[1], f.apps[2])
		for lang, want := range map[string]string{"ko": "후속 지원 대상(4위 이하)", "en": "Follow-up list (rank 4 and after)"} {
			c := f.app.client()
			c.signInDemo("demo-officer")
			if lang == "en" {
				c.post("/lang", map[string][]string{"lang": {"en"}, "next": {"/"}}).Body.Close()
			}
			resp := c.get("/decisions/" + itoa(d.ID))
			wantCode(t, "", resp, http.StatusOK)
			doc := c.page(resp)
			if got := strings.TrimSpace(doc.Find(`[data-testid="follow-up-link"]`).Text()); got != want {
				t.Errorf("%s: follow-up link %q, want %q", lang, got, want)
			}
			if lang == "ko" {
				list := c.page(c.get(f.path("/officer/calls/%d/follow-up", f.call.ID)))
				if h := list.Find("main h2").First().Text(); !strings.Contains(h, "4–8위") {
					t.Errorf("follow-up list heading %q, want ranks 4–8", h)
				}
			}
		}
	})
}
