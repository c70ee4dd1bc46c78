package csssubset

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		sel            string
		classes, attrs []string
	}{
		{"body", nil, nil},
		{".krds-btn", []string{"krds-btn"}, nil},
		{".krds-btn.small:hover > span", []string{"krds-btn", "small"}, nil},
		{"#krds-header .inner", []string{"inner"}, nil},
		{".a:not(.b)", []string{"a"}, nil},                    // .b need not be there
		{".a:not(:nth-child(2)) .c", []string{"a", "c"}, nil}, // nested parentheses
		{":is(.a, .b) .c", []string{"c"}, nil},                // either will do
		{".tab:has(.panel.open)", []string{"tab"}, nil},       // inside :has
		{"input[type=checkbox].x", []string{"x"}, nil},        // attributes other than data-* do not count
		{"[data-krds-mode=high-contrast] .x", []string{"x"}, []string{"data-krds-mode"}},
		{"[data-type = full]", nil, []string{"data-type"}},
		{"[data-open]", nil, []string{"data-open"}},
		{`a[href$=".pdf"]`, nil, nil},                           // a dot in a quoted value is no class
		{`[data-x=".y"] .z`, []string{"z"}, []string{"data-x"}}, // nor in a data attribute's
		{`:not([data-type=bottom-sheet]).m`, []string{"m"}, nil},
		{".w-1\\.5", []string{"w-1\\.5"}, nil}, // an escaped dot belongs to the name
		{"p::before", nil, nil},
	} {
		classes, attrs := Required(tc.sel)
		if !reflect.DeepEqual(classes, tc.classes) || !reflect.DeepEqual(attrs, tc.attrs) {
			t.Errorf("Required(%q) = %q, %q; want %q, %q", tc.sel, classes, attrs, tc.classes, tc.attrs)
		}
	}
}

func set(names ...string) func(string) bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return func(s string) bool { return m[s] }
}

func TestPrune(t *testing.T) {
	const css = `@charset "UTF-8";
@import "../../css/token/krds_tokens.css";
/*! licence kept */
/* a comment dropped */
:root { --x: 1px; }
.used { color: red; }
.unused { color: blue; }
.used, .unused,
.used .other { margin: 0; }
.used::after { content: "} .unused {"; }
[data-krds-mode=theme] .used { color: green; }
@media (max-width: 1024px) {
  .unused { padding: 0; }
}
@media (min-width: 1px) {
  .used { padding: 1px; }
  .unused { padding: 2px; }
  @supports (display: grid) { .unused { display: grid; } }
}
@keyframes spin { from { transform: rotate(0); } to { transform: rotate(360deg); } }
.icon { background: url("../../img/a{b}.svg") no-repeat; }
`
	out, st, err := Prune([]byte(css), Used{Class: set("used", "other", "icon"), Attr: set()})
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, want := range []string{
		`@charset "UTF-8";`,
		`@import "../../css/token/krds_tokens.css";`,
		"/*! licence kept */",
		":root { --x: 1px; }",
		".used { color: red; }",
		".used,\n.used .other { margin: 0; }",
		".used::after { content: \"} .unused {\"; }",
		"@media (min-width: 1px) {\n.used { padding: 1px; }\n}",
		"@keyframes spin { from { transform: rotate(0); } to { transform: rotate(360deg); } }",
		`.icon { background: url("../../img/a{b}.svg") no-repeat; }`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("pruned stylesheet lacks %q:\n%s", want, got)
		}
	}
	for _, gone := range []string{"a comment dropped", "color: blue", "color: green", "max-width: 1024px", "padding: 2px", "@supports"} {
		if strings.Contains(got, gone) {
			t.Errorf("pruned stylesheet still has %q:\n%s", gone, got)
		}
	}
	want := Stats{Rules: 11, KeptRules: 6, Selectors: 13, KeptSelectors: 7}
	if st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	// What is kept is kept whole: pruning it again with the same names changes nothing.
	again, _, err := Prune(out, Used{Class: set("used", "other", "icon"), Attr: set()})
	if err != nil || string(again) != got {
		t.Errorf("pruning the subset again changed it (err %v):\n%s", err, again)
	}
}

// Windows line ends, as KRDS ships them, come out as \n.
func TestPruneLineEnds(t *testing.T) {
	out, _, err := Prune([]byte(".a {\r\n  color: red;\r\n}\r\n.b {\r\n  color: blue;\r\n}\r\n"), Used{Class: set("a"), Attr: set()})
	if err != nil || string(out) != ".a {\n  color: red;\n}\n" {
		t.Errorf("Prune = %q, %v", out, err)
	}
}

func TestPruneRefusesBrokenStylesheets(t *testing.T) {
	for _, css := range []string{
		".a { color: red;",
		"/* never closed",
		`.a { content: "never closed }`,
		"color: red;",
	} {
		if _, _, err := Prune([]byte(css), Used{Class: set(), Attr: set()}); err == nil {
			t.Errorf("Prune(%q) gave no error", css)
		}
	}
}

// The vendored KRDS stylesheet parses, every selector of it is read, and
// with every name allowed nothing is dropped.
func TestKRDSStylesheetParses(t *testing.T) {
	css, err := os.ReadFile("../vendor/krds-uiux/css/component/output.css")
	if err != nil {
		t.Fatal(err)
	}
	everything := func(string) bool { return true }
	_, st, err := Prune(css, Used{Class: everything, Attr: everything})
	if err != nil {
		t.Fatal(err)
	}
	if st.Rules < 1000 || st.KeptRules != st.Rules || st.KeptSelectors != st.Selectors {
		t.Errorf("KRDS with every name allowed: %+v", st)
	}
	sels, err := Selectors(css)
	if err != nil || len(sels) != st.Selectors {
		t.Errorf("Selectors: %d (err %v), want %d", len(sels), err, st.Selectors)
	}
	// Without [data-krds-mode] the high-contrast and theme rules go.
	_, noMode, err := Prune(css, Used{Class: everything, Attr: func(a string) bool { return a != "data-krds-mode" }})
	if err != nil || st.KeptSelectors-noMode.KeptSelectors < 500 {
		t.Errorf("KRDS without data-krds-mode: %+v (err %v), against %+v", noMode, err, st)
	}
}
