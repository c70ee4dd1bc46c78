package handlers

import (
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"kaiportal/static"
	"kaiportal/static/csssubset"
)

// TestPagesFindTheirKRDSRules: the pages load portal.css, the part of KRDS's
// component stylesheet that cmd/krdscss keeps. Every rule of the whole
// stylesheet whose classes and data attributes some element of a page
// carries (every page as every role, in both languages) is in it: the
// subset has dropped nothing a page could show.
func TestPagesFindTheirKRDSRules(t *testing.T) {
	t.Parallel()
	full, err := os.ReadFile("../static/vendor/krds-uiux/css/component/output.css")
	if err != nil {
		t.Fatal(err)
	}
	served, err := fs.ReadFile(static.FS, "vendor/krds-uiux/css/component/portal.css")
	if err != nil {
		t.Fatal(err)
	}
	classes, attrs := map[string]bool{}, map[string]bool{}
	walkPages(t, func(_ string, _ matrixRole, _ string, doc *goquery.Document) {
		for _, n := range doc.Find("*").Nodes {
			for _, a := range n.Attr {
				switch {
				case a.Key == "class":
					for _, c := range strings.Fields(a.Val) {
						classes[c] = true
					}
				case strings.HasPrefix(a.Key, "data-"):
					attrs[a.Key] = true
				}
			}
		}
	})
	// Pruning is composable: the subset pruned to the pages' names must be
	// the whole stylesheet pruned to them, rule for rule, media for media.
	onPages := csssubset.Used{
		Class: func(c string) bool { return classes[c] },
		Attr:  func(a string) bool { return attrs[a] },
	}
	want, st, err := csssubset.Prune(full, onPages)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := csssubset.Prune(served, onPages)
	if err != nil {
		t.Fatal(err)
	}
	if st.KeptRules < 100 {
		t.Errorf("only %d rules of KRDS match the pages: the walk found too few", st.KeptRules)
	}
	if wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n"); string(want) != string(got) {
		i := 0
		for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
			i++
		}
		t.Errorf("portal.css differs from output.css in a rule the pages can match (run 'make generate'); line %d of the rules they match: want %q, portal.css has %q",
			i+1, lineAt(wl, i), lineAt(gl, i))
	}
	if len(served)*3 > len(full) {
		t.Errorf("portal.css is %d bytes of output.css's %d: the subset keeps rules no page uses", len(served), len(full))
	}
}

// lineAt is lines[i], or "(end)" past the last line.
func lineAt(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(end)"
}
