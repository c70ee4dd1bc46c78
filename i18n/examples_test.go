package i18n_test

import (
	"regexp"
	"testing"

	"kaiportal/i18n"
	"kaiportal/models"
)

// TestBusinessNumberExamplesAreValid: every business registration number a
// message shows as an example (the form's hint, the format error) passes
// the portal's own check, so a user who copies it is not told it is wrong.
func TestBusinessNumberExamplesAreValid(t *testing.T) {
	cats := loadCatalogues(t)
	brn := regexp.MustCompile(`\b\d{3}-\d{2}-\d{5}\b`)
	for _, id := range []string{"application.member.brn_hint", "application.error.brn_format"} {
		for _, lang := range i18n.Languages {
			if len(brn.FindAllString(cats[lang].messages[id], -1)) == 0 {
				t.Errorf("%s %s: no example number found in %q", lang, id, cats[lang].messages[id])
			}
		}
	}
	checked := 0
	for _, lang := range i18n.Languages {
		for id, text := range cats[lang].messages {
			for _, ex := range brn.FindAllString(text, -1) {
				checked++
				if _, err := models.ParseBusinessRegNo(ex); err != nil {
					t.Errorf("%s %s: the example %s is refused by the check: %v", lang, id, ex, err)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no example number found in any catalogue")
	}
}
