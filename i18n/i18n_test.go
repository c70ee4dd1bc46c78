package i18n_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"kaiportal/i18n"
	"kaiportal/models"
)

// catalogue is one language's messages from every area file, with the file
// each came from.
type catalogue struct {
	messages map[string]string
	file     map[string]string
}

// loadCatalogues reads <area>.<lang>.json for every language, as i18n.Load does.
func loadCatalogues(t *testing.T) map[string]catalogue {
	t.Helper()
	out := map[string]catalogue{}
	for _, lang := range i18n.Languages {
		names, err := filepath.Glob("*." + lang + ".json")
		if err != nil || len(names) == 0 {
			t.Fatalf("no %s catalogue files: %v", lang, err)
		}
		cat := catalogue{messages: map[string]string{}, file: map[string]string{}}
		for _, name := range names {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s: want a flat object of strings: %v", name, err)
			}
			for id, text := range m {
				if prev, dup := cat.file[id]; dup {
					t.Errorf("%s: %q is also defined in %s", name, id, prev)
				}
				cat.messages[id] = text
				cat.file[id] = name
			}
		}
		out[lang] = cat
	}
	return out
}

func TestCataloguesLoad(t *testing.T) {
	if _, err := i18n.Load(); err != nil {
		t.Fatal(err)
	}
}

// TestCataloguesMatch: every language has the same area files and the same
// keys in each, none empty, with the same template fields.
func TestCataloguesMatch(t *testing.T) {
	cats := loadCatalogues(t)
	base := cats[i18n.Korean]
	if len(base.messages) < 50 {
		t.Fatalf("only %d Korean messages: the catalogue files were not found", len(base.messages))
	}
	field := regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)
	fields := func(s string) []string {
		var out []string
		for _, m := range field.FindAllStringSubmatch(s, -1) {
			out = append(out, m[1])
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	for _, lang := range i18n.Languages {
		cat := cats[lang]
		for id, text := range cat.messages {
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s: %q is empty", cat.file[id], id)
			}
		}
		if lang == i18n.Korean {
			continue
		}
		for id, text := range base.messages {
			other, ok := cat.messages[id]
			switch {
			case !ok:
				t.Errorf("%q (%s) has no %s translation", id, base.file[id], lang)
				continue
			case !slices.Equal(fields(text), fields(other)):
				t.Errorf("%q: Korean uses fields %v, %s uses %v", id, fields(text), lang, fields(other))
			}
			// The same area file in both languages.
			if want := strings.TrimSuffix(base.file[id], ".ko.json") + "." + lang + ".json"; cat.file[id] != want {
				t.Errorf("%q is in %s but in %s for %s, want %s", id, base.file[id], cat.file[id], lang, want)
			}
		}
		for id := range cat.messages {
			if _, ok := base.messages[id]; !ok {
				t.Errorf("%q (%s) has no Korean message", id, cat.file[id])
			}
		}
	}
}

// messageUse finds message IDs in source: group 1 is the literal; group 2,
// when "+", marks it as the prefix of an ID built at run time.
type messageUse struct {
	name     string
	re       *regexp.Regexp
	required bool // the scan must find at least one, or the pattern has gone stale
}

var messageUses = []messageUse{
	{"i18n.T", regexp.MustCompile(`i18n\.T\(ctx,\s*"([^"]*)"\s*(\+)?`), true},
	{"PageTitle", regexp.MustCompile(`PageTitle\("([^"]*)"\s*(\+)?`), true},
	{"Stat", regexp.MustCompile(`\bStat\("([^"]*)"\s*(\+)?`), true},
	{"renderMessage", regexp.MustCompile(`renderMessage\(c,\s*[^,]+,\s*"([^"]*)"\s*(\+)?`), true},
	{"page title", regexp.MustCompile(`\.page\(c,\s*"([^"]*)"\s*(\+)?`), true},
	{"NavItem", regexp.MustCompile(`\{"/[^"]*",\s*"([^"]*)"()\}`), true},
	{"denySignIn", regexp.MustCompile(`denySignIn\(c,.*,\s*"([^"]*)"()\)`), false},
	{"form field label", regexp.MustCompile(`(?:TextField|TextArea)\([^,()]+,\s*[^,()]+,\s*"([^"]*)"()`), false},
	// Only literals shaped like an ID, so url.Values.Add("page", "2") is not one.
	{"FieldErrors.Add", regexp.MustCompile(`\.Add\("[^"]*",\s*"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"()\)`), false},
}

// stringsOf converts a list of string-typed values.
func stringsOf[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// dynamicIDs lists, for each prefix that source code completes at run time,
// the IDs it can produce.
func dynamicIDs(statuses []int) map[string][]string {
	var titles, messages, kinds, roles []string
	for _, s := range statuses {
		titles = append(titles, "error.title."+strconv.Itoa(s))
		messages = append(messages, "error.message."+strconv.Itoa(s))
	}
	for _, k := range []string{models.OrgCompany, models.OrgUniversity, models.OrgMinistry} {
		kinds = append(kinds, "organisation.kind."+k)
	}
	roles = append(roles, "role.anonymous")
	for _, r := range models.Roles {
		roles = append(roles, "role."+string(r))
	}
	each := func(prefix string, values ...string) []string {
		var ids []string
		for _, v := range values {
			ids = append(ids, prefix+v)
		}
		return ids
	}
	var appStatuses []string
	for _, s := range models.ApplicationStatuses {
		appStatuses = append(appStatuses, string(s))
	}
	return map[string][]string{
		"error.title.":        titles,
		"error.message.":      messages,
		"organisation.kind.":  kinds,
		"role.":               roles,
		"application.status.": each("application.status.", appStatuses...),
		"stage.tie.":          each("stage.tie.", "criterion", "agreement"),
		"stage.closed.":       each("stage.closed.", "opinions", "report"),
		"stage.done.": each("stage.done.", "created", "updated", "criterion", "opened", "answered", "frozen", "evaluator",
			"imported", "published", "opinion", "report", "declared", "scored"),
		"application.member_role.": each("application.member_role.", models.MemberRoles...),
		"officer.status.":          each("officer.status.", appStatuses...),
		"officer.member.":          each("officer.member.", models.MemberRoles...),
		// The tie-break rules RankApplications (models/review.go) names.
		"officer.ranking.tie.": each("officer.ranking.tie.", "criterion", "submitted", "number"),
		// The holiday list review (views/holidays.templ).
		"holidays.list.done.": each("holidays.list.done.", "confirmed", "discarded"),
		"holidays.format.": each("holidays.format.", models.HolidayFormatKASIXML, models.HolidayFormatKASIJSON,
			models.HolidayFormatICal, models.HolidayFormatCSV),
		"holidays.diff.": each("holidays.diff.", models.DiffSame, models.DiffAdded, models.DiffRemoved, models.DiffRenamed),
		// The allocation history's kinds of change (views/allocation_changes.templ).
		"gpu.history.kind.": each("gpu.history.kind.", models.ChangeKinds...),
		// Notices (views/notify.templ): the kinds, the modes, the mail languages.
		"notify.kind.": func() []string {
			var ids []string
			for _, k := range models.NotificationKinds {
				ids = append(ids, "notify.kind."+string(k))
			}
			return ids
		}(),
		"notify.prefs.mode.": func() []string {
			var ids []string
			for _, m := range models.NoticeModes {
				ids = append(ids, "notify.prefs.mode."+string(m))
			}
			return ids
		}(),
		"notify.prefs.lang_": each("notify.prefs.lang_", models.LangKorean, models.LangEnglish),
		// Usage reports (views/usage_reports.templ).
		"usage.state.":      each("usage.state.", models.ReportStates...),
		"usage.outcome.":    each("usage.outcome.", models.Outcomes...),
		"usage.figure.":     each("usage.figure.", models.Figures...),
		"usage.action.":     each("usage.action.", models.ReportActions...),
		"usage.direction.":  each("usage.direction.", models.DirectionOver, models.DirectionUnder),
		"usage.queue.kind.": each("usage.queue.kind.", models.QueueKinds...),
		// Consortium requests (views/consortium.templ).
		"consortium.status.": func() []string {
			var ids []string
			for _, st := range models.RequestStatuses {
				ids = append(ids, "consortium.status."+string(st))
			}
			return ids
		}(),
		"consortium.kind.": each("consortium.kind.", models.RequestKinds...),
		// Providers' invoice lines (views/usage_invoices.templ).
		"invoice.action.": each("invoice.action.", models.InvoiceActions...),
		// Data support (views/data_support.templ).
		"support.clearance.":        each("support.clearance.", stringsOf(models.ClearanceStatuses)...),
		"support.use.":              each("support.use.", stringsOf(models.DataUses)...),
		"support.follow_up_status.": each("support.follow_up_status.", stringsOf(models.FollowUpStatuses)...),
		"support.talent_kind.":      each("support.talent_kind.", stringsOf(models.TalentKinds)...),
		"support.project_status.":   each("support.project_status.", stringsOf(models.ProjectStatuses)...),
		"support.reason.": each("support.reason.", string(models.ReasonNegotiating), string(models.ReasonRefused),
			string(models.ReasonExpired), string(models.ReasonUse)),
		// Agreements (views/agreements.go, handlers/agreements.go).
		"agreement.state.":          each("agreement.state.", agreementStates()...),
		"agreement.version_status.": each("agreement.version_status.", string(models.VersionDraft), string(models.VersionOut), string(models.VersionSigned), string(models.VersionSuperseded)),
		"agreement.party.":          each("agreement.party.", models.SignerLead, models.SignerMember, models.SignerMinistry),
		"agreement.field.":          each("agreement.field.", "document", "period", "gpus", "grant_company", "grant_model", "model_names", "deliverables", "stage_dates", "budget", "parties", "names", "changes"),
		"agreement.done.":           each("agreement.done.", "created", "prepared", "edited", "sent", "signed", "completed", "notice", "terminated"),
	}
}

// sourceFiles lists the files that name messages: templates, hand-written
// view code, handlers and models (their field errors), not tests or
// generated code.
func sourceFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"../views/*.templ", "../views/*.go", "../handlers/*.go", "../models/*.go"} {
		names, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if strings.HasSuffix(n, "_test.go") || strings.HasSuffix(n, "_templ.go") {
				continue
			}
			files = append(files, n)
		}
	}
	if len(files) < 10 {
		t.Fatalf("only %d source files found", len(files))
	}
	return files
}

// usedStatuses are the statuses handlers render pages for: the fixed set
// the error renderer and fail() use, plus any a handler names.
func usedStatuses(t *testing.T, files []string) []int {
	t.Helper()
	statuses := []int{400, 401, 403, 404, 405, 409, 413, 422, 500, 503}
	byName := map[string]int{}
	for code := 100; code < 600; code++ {
		if text := http.StatusText(code); text != "" {
			byName[strings.NewReplacer(" ", "", "-", "", "'", "").Replace(text)] = code
		}
	}
	named := regexp.MustCompile(`render(?:Error|Message)\(c,\s*http\.Status(\w+)`)
	numeric := regexp.MustCompile(`render(?:Error|Message)\(c,\s*(\d{3})\b`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range named.FindAllStringSubmatch(string(b), -1) {
			code, ok := byName[m[1]]
			if !ok {
				t.Errorf("%s: unknown status http.Status%s", f, m[1])
				continue
			}
			statuses = append(statuses, code)
		}
		for _, m := range numeric.FindAllStringSubmatch(string(b), -1) {
			code, _ := strconv.Atoi(m[1])
			statuses = append(statuses, code)
		}
	}
	slices.Sort(statuses)
	return slices.Compact(statuses)
}

// TestEveryMessageUsedExists scans the source for message IDs and checks
// that every one is in every catalogue.
func TestEveryMessageUsedExists(t *testing.T) {
	cats := loadCatalogues(t)
	files := sourceFiles(t)
	dynamic := dynamicIDs(usedStatuses(t, files))

	used := map[string][]string{} // ID → where
	found := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range messageUses {
			for _, m := range u.re.FindAllStringSubmatch(string(b), -1) {
				found[u.name]++
				id, where := m[1], filepath.Base(f)+" ("+u.name+")"
				if m[2] != "+" {
					used[id] = append(used[id], where)
					continue
				}
				ids, ok := dynamic[id]
				if !ok {
					t.Errorf("%s builds message IDs from the prefix %q: add its values to dynamicIDs in i18n_test.go", where, id)
					continue
				}
				for _, id := range ids {
					used[id] = append(used[id], where+" "+m[1]+"…")
				}
			}
		}
	}
	for _, u := range messageUses {
		if u.required && found[u.name] == 0 {
			t.Errorf("no use of %s found in the source: the pattern in i18n_test.go is stale", u.name)
		}
	}
	// Prefixes completed by functions rather than at the call (RoleLabelID).
	for _, id := range dynamic["role."] {
		used[id] = append(used[id], "views.RoleLabelID")
	}
	for _, id := range dynamic["organisation.kind."] {
		used[id] = append(used[id], "organisation kinds")
	}
	if len(used) < 50 {
		t.Fatalf("only %d message IDs found in the source: the scan is broken", len(used))
	}

	ids := make([]string, 0, len(used))
	for id := range used {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		for _, lang := range i18n.Languages {
			if _, ok := cats[lang].messages[id]; !ok {
				t.Errorf("%q is used in %s but missing from the %s catalogue", id, strings.Join(slices.Compact(used[id]), ", "), lang)
			}
		}
	}
	t.Logf("%d message IDs used, each looked up in %v", len(ids), i18n.Languages)
}

func agreementStates() []string {
	var out []string
	for _, s := range models.AgreementStates {
		out = append(out, string(s))
	}
	return out
}
