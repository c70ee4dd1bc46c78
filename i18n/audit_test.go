package i18n_test

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"kaiportal/i18n"
	"kaiportal/models"
)

// auditActionsInSource finds the audit actions the code records: literal
// actions passed to RecordAudit or assigned to an action variable, the
// Action… constants, and the actions built from the application and appeal
// transitions.
func auditActionsInSource(t *testing.T) []string {
	t.Helper()
	literal := []*regexp.Regexp{
		regexp.MustCompile(`RecordAudit\([^"\n]*"([a-z_]+(?:\.[a-z_]+)+)"`),
		regexp.MustCompile(`\baction\s*:?=\s*"([a-z_]+(?:\.[a-z_]+)+)"`),
		regexp.MustCompile(`\bAction\w*\s*=\s*"([a-z_]+(?:\.[a-z_]+)+)"`),
	}
	var actions []string
	for _, f := range sourceFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range literal {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				actions = append(actions, m[1])
			}
		}
	}
	for _, a := range []models.ApplicationAction{models.ActSubmit, models.ActWithdraw, models.ActStartReview, models.ActSelect, models.ActNotSelect} {
		actions = append(actions, "application."+string(a))
	}
	for _, a := range []models.AppealAction{models.AppealStartReview, models.AppealUphold, models.AppealDismiss} {
		actions = append(actions, "appeal."+string(a))
	}
	for _, a := range models.ReportActions {
		actions = append(actions, "usage_report."+a)
	}
	slices.Sort(actions)
	return slices.Compact(actions)
}

// TestAuditActionsTranslated: every action the portal records in the audit
// trail has a short name (audit.kind.<action>) and a sentence
// (audit.event.<action>) in every language, so the audit page never shows a
// Korean reader an English summary. Add new actions to i18n/content.*.json.
func TestAuditActionsTranslated(t *testing.T) {
	cats := loadCatalogues(t)
	actions := auditActionsInSource(t)
	for _, must := range []string{"call.create", "decision.publish", "appeal.file", models.ActionSeed, models.ActionSignIn} {
		if !slices.Contains(actions, must) {
			t.Fatalf("the source scan did not find the action %q: it is stale (found %v)", must, actions)
		}
	}
	for _, a := range actions {
		for _, lang := range i18n.Languages {
			for _, id := range []string{"audit.kind." + a, "audit.event." + a} {
				if _, ok := cats[lang].messages[id]; !ok {
					t.Errorf("the audit action %q has no %s message %q", a, lang, id)
				}
			}
		}
	}
	t.Logf("%d audit actions: %v", len(actions), actions)
}
