package dcgm

import (
	"strings"
)

// Power bounds and MIG geometry by GPU model, for the sanity checks of the
// Folder. The figures are upper bounds, not typical draws: a bound too low
// would reject real readings, one too high only lets a smaller anomaly pass.

// DefaultMaxPowerW is the bound for a model the table does not know (or a
// source that names none, like NVIDIA's A100 MIG sample): above any single
// GPU's board power shipped to date but one.
const DefaultMaxPowerW = 1200

// maxPowerMargin is how far above its board power (TDP) a GPU is allowed to
// average over an interval: power capping holds the average at the limit,
// and the margin absorbs excursions and meter error.
const maxPowerMargin = 1.25

// boardPower lists the highest board power of each family's variants (the
// SXM ones), first match wins: longer names before the names they contain.
var boardPower = []struct {
	name  string
	watts float64
}{
	{"GB300", 1400}, {"B300", 1400},
	{"GB200", 1200}, {"B200", 1000}, {"B100", 700},
	{"GH200", 1000}, {"H200", 700}, {"H100", 700}, {"H800", 700}, {"H20", 400},
	{"A100", 400}, {"A800", 400}, {"A30", 165}, {"A40", 300}, {"A10", 150},
	{"L40S", 350}, {"L40", 300}, {"L20", 275}, {"L4", 72},
	{"V100", 350},
}

// MaxPowerW is the most power a GPU of the model can plausibly average over
// an interval, in watts: its board power with a margin, or DefaultMaxPowerW
// for a model not in the table.
func MaxPowerW(model string) float64 {
	m := strings.ToUpper(model)
	for _, b := range boardPower {
		if containsWord(m, b.name) {
			return b.watts * maxPowerMargin
		}
	}
	return DefaultMaxPowerW
}

// containsWord reports whether name occurs in s not followed by a letter or
// digit ("H20" is not in "H200", "L4" is not in "L40S").
func containsWord(s, name string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], name)
		if j < 0 {
			return false
		}
		end := i + j + len(name)
		if end == len(s) || !isAlnum(s[end]) {
			return true
		}
		i = i + j + 1
	}
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// migSlices is the number of compute slices a MIG-capable GPU of the model
// is split into: 4 on an A30, 7 on the others (A100, H100, H200, B200…).
func migSlices(model string) int {
	if containsWord(strings.ToUpper(model), "A30") {
		return 4
	}
	return 7
}

// ProfileSlices is the number of compute slices of a MIG profile as
// dcgm-exporter names it in GPU_I_PROFILE ("3g.40gb" → 3, "1g.10gb+me" → 1,
// a compute-instance profile "1c.3g.40gb" → 3 for its GPU instance), or 0
// when the profile does not say.
func ProfileSlices(profile string) int {
	p := profile
	if i := strings.Index(p, "c."); i > 0 && allDigits(p[:i]) {
		p = p[i+2:]
	}
	i := 0
	for i < len(p) && '0' <= p[i] && p[i] <= '9' {
		i++
	}
	if i == 0 || i > 2 || i >= len(p) || p[i] != 'g' {
		return 0
	}
	n := 0
	for _, c := range p[:i] {
		n = n*10 + int(c-'0')
	}
	return n
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
