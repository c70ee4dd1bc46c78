// Package csssubset keeps, of a stylesheet, the rules that can match a page
// built from a known set of class names and data-* attributes.
//
// The Korea Design System's component stylesheet styles every KRDS
// component (1,933 rules, 584 kB); the portal's pages use a few of them. A
// style rule each of whose selectors needs a class that no page carries can
// never apply: dropping it changes nothing on any page and spares every
// browser the work of matching it.
//
// Only what a selector needs in order to match counts: its classes outside
// parentheses, and its data-* attributes (KRDS's high-contrast and theme
// rules need [data-krds-mode], which the portal's pages never set). A class
// inside :not(), :is(), :where() or :has() does not count, nor do ids, other
// attributes, pseudo-classes or element names. @media, @supports, @layer and
// @container blocks are pruned within and dropped when left empty; every
// other at-rule (@charset, @import, @font-face, @keyframes) is kept whole.
package csssubset

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Stats counts what Prune kept and dropped.
type Stats struct {
	Rules, KeptRules         int // style rules read and kept
	Selectors, KeptSelectors int
}

// Used reports which class names and data-* attribute names pages carry.
type Used struct {
	Class, Attr func(name string) bool
}

// Prune returns css without the selectors that need a class or data-*
// attribute that used says no page carries, without the style rules left
// with no selector, and without comments other than /*! … */ ones
// (licences). The declarations of the rules it keeps are those of css byte
// for byte, except that every line ends in \n (CSS reads \r\n as one).
func Prune(css []byte, used Used) ([]byte, Stats, error) {
	return walk(css, func(sel string) bool {
		classes, attrs := Required(sel)
		return all(classes, used.Class) && all(attrs, used.Attr)
	})
}

// Selectors lists the selectors of css's style rules, each as written
// (surrounding space trimmed), in order.
func Selectors(css []byte) ([]string, error) {
	var sels []string
	_, _, err := walk(css, func(sel string) bool { sels = append(sels, sel); return true })
	return sels, err
}

func walk(css []byte, keep func(sel string) bool) ([]byte, Stats, error) {
	var out bytes.Buffer
	var st Stats
	if err := prune(&out, strings.ReplaceAll(string(css), "\r\n", "\n"), keep, &st); err != nil {
		return nil, st, err
	}
	return out.Bytes(), st, nil
}

// prunedAtRules are the at-rules whose block holds rules, pruned in turn.
var prunedAtRules = map[string]bool{"media": true, "supports": true, "layer": true, "container": true}

func prune(out *bytes.Buffer, s string, keep func(string) bool, st *Stats) error {
	i := 0
	for {
		i = skipSpace(s, i)
		if i >= len(s) {
			return nil
		}
		if strings.HasPrefix(s[i:], "/*") {
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return fmt.Errorf("unclosed comment at byte %d", i)
			}
			if strings.HasPrefix(s[i:], "/*!") {
				out.WriteString(s[i : i+2+end+2])
				out.WriteByte('\n')
			}
			i += 2 + end + 2
			continue
		}
		end, stop, err := scanUntil(s, i, "{;")
		if err != nil {
			return err
		}
		prelude := strings.TrimSpace(s[i:end])
		if stop == ';' || end >= len(s) {
			if !strings.HasPrefix(prelude, "@") {
				return fmt.Errorf("declaration outside a rule at byte %d: %.40q", i, prelude)
			}
			out.WriteString(prelude)
			out.WriteString(";\n")
			i = end + 1
			continue
		}
		closing, err := matchingBrace(s, end)
		if err != nil {
			return err
		}
		body := s[end+1 : closing]
		i = closing + 1
		if strings.HasPrefix(prelude, "@") {
			if prunedAtRules[atName(prelude)] {
				var inner bytes.Buffer
				if err := prune(&inner, body, keep, st); err != nil {
					return err
				}
				if inner.Len() > 0 {
					fmt.Fprintf(out, "%s {\n%s}\n", prelude, inner.Bytes())
				}
				continue
			}
			fmt.Fprintf(out, "%s {%s}\n", prelude, body)
			continue
		}
		st.Rules++
		var kept []string
		for _, sel := range splitTop(prelude, ',') {
			st.Selectors++
			if sel = strings.TrimSpace(sel); keep(sel) {
				kept = append(kept, sel)
			}
		}
		if len(kept) == 0 {
			continue
		}
		st.KeptRules++
		st.KeptSelectors += len(kept)
		fmt.Fprintf(out, "%s {%s}\n", strings.Join(kept, ",\n"), body)
	}
}

func all(classes []string, used func(string) bool) bool {
	for _, c := range classes {
		if !used(c) {
			return false
		}
	}
	return true
}

// Required lists the class names and data-* attribute names an element
// chain must carry for sel to match: those outside parentheses.
func Required(sel string) (classes, attrs []string) {
	depth := 0 // parentheses
	for i := 0; i < len(sel); i++ {
		switch c := sel[i]; c {
		case '"', '\'':
			j := strings.IndexByte(sel[i+1:], c)
			if j < 0 {
				return classes, attrs
			}
			i += j + 1
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
		case '[':
			end := strings.IndexByte(sel[i:], ']')
			if end < 0 {
				return classes, attrs
			}
			name := strings.TrimSpace(sel[i+1 : i+end])
			if k := strings.IndexAny(name, "=~|^$*"); k >= 0 {
				name = strings.TrimSpace(name[:k])
			}
			if depth == 0 && strings.HasPrefix(name, "data-") {
				attrs = append(attrs, name)
			}
			i += end
		case '.':
			if depth > 0 {
				continue
			}
			j := i + 1
			for j < len(sel) && isNameByte(sel[j]) {
				if sel[j] == '\\' {
					j++
				}
				j++
			}
			if j > i+1 {
				classes = append(classes, sel[i+1:j])
			}
			i = j - 1
		}
	}
	return classes, attrs
}

func isNameByte(b byte) bool {
	return b == '-' || b == '_' || b == '\\' || b >= 0x80 ||
		'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

func atName(prelude string) string {
	name := prelude[1:]
	if k := strings.IndexAny(name, " \t\n\r({"); k >= 0 {
		name = name[:k]
	}
	return strings.ToLower(name)
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f') {
		i++
	}
	return i
}

// scanUntil returns the index of the first byte of stops in s from i that is
// outside strings, comments and parentheses, or len(s).
func scanUntil(s string, i int, stops string) (int, byte, error) {
	depth := 0
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\'':
			j, err := endOfString(s, i)
			if err != nil {
				return 0, 0, err
			}
			i = j
		case c == '\\':
			i++
		case c == '/' && strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return 0, 0, fmt.Errorf("unclosed comment at byte %d", i)
			}
			i += end + 3
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && strings.IndexByte(stops, c) >= 0:
			return i, c, nil
		}
	}
	return len(s), 0, nil
}

// matchingBrace returns the index of the } that closes the { at open.
func matchingBrace(s string, open int) (int, error) {
	depth := 0
	for i := open; i < len(s); i++ {
		j, c, err := scanUntil(s, i, "{}")
		if err != nil {
			return 0, err
		}
		if j >= len(s) {
			break
		}
		if c == '{' {
			depth++
		} else if depth--; depth == 0 {
			return j, nil
		}
		i = j
	}
	return 0, errors.New("unclosed block at byte " + fmt.Sprint(open))
}

func endOfString(s string, i int) (int, error) {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			return j, nil
		case '\n':
			return 0, fmt.Errorf("unclosed string at byte %d", i)
		}
	}
	return 0, fmt.Errorf("unclosed string at byte %d", i)
}

// splitTop splits s on sep outside parentheses, brackets and strings.
func splitTop(s string, sep byte) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\'':
			if j, err := endOfString(s, i); err == nil {
				i = j
			}
		case '\\':
			i++
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case sep:
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}
