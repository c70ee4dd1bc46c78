package handlers

import (
	"net/http"
	"net/url"
	"testing"
)

// generatedFields are the publish form's fields the portal writes itself
// (the window sentence and the remedies), sent back as shown.
var generatedFields = []string{"window_notice_ko", "window_notice_en", "remedies_ko", "remedies_en"}

// shownNotice opens the ranking page and copies into form the generated
// notice text it shows, as a browser submitting that page would send it.
func shownNotice(t *testing.T, c *testClient, ranking string, form url.Values) {
	t.Helper()
	resp := c.get(ranking)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ranking page: status %d", resp.StatusCode)
	}
	doc := c.page(resp)
	for _, name := range generatedFields {
		v, ok := doc.Find(`[data-testid="publish-form"] input[name="` + name + `"]`).Attr("value")
		if !ok || v == "" {
			t.Fatalf("the publish form has no %s", name)
		}
		form.Set(name, v)
	}
}
