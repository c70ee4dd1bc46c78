package views

import (
	"math"
	"testing"
)

// Figures are grouped by thousands in the whole part only, with the sign
// kept; what is not a number is left as it is.
func TestFiguresGroupThousands(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		f    float64
		want string
	}{
		{0, "0.0"}, {0.04, "0.0"}, {999.94, "999.9"}, {999.96, "1,000.0"}, {1234.5, "1,234.5"},
		{720000, "720,000.0"}, {1234567.25, "1,234,567.2"}, {-1234.5, "-1,234.5"}, {-12.5, "-12.5"},
		{math.NaN(), "NaN"}, {math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"},
	} {
		if got := gpuNum(c.f); got != c.want {
			t.Errorf("gpuNum(%v) = %q, want %q", c.f, got, c.want)
		}
	}
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {45000000, "45,000,000"}, {-1000, "-1,000"}, {math.MinInt64, "-9,223,372,036,854,775,808"},
	} {
		if got := Won(c.n); got != c.want {
			t.Errorf("Won(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
