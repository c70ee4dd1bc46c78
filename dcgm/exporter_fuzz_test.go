package dcgm

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseExporter feeds the parser arbitrary documents, starting from the
// realistic fixtures (their first 3 KB): it must never panic, and what it returns must be sane.
//
//	go test ./dcgm -run '^$' -fuzz FuzzParseExporter -fuzztime 60s
func FuzzParseExporter(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.prom"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		// The head of each fixture: the fixtures run whole in the other
		// tests, and the fuzzer mutates (and minimises) small inputs far
		// faster than 50 KiB ones.
		if len(b) > 3000 {
			b = b[:bytes.LastIndexByte(b[:3000], '\n')+1]
		}
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"\n",
		"DCGM_FI_DEV_GPU_UTIL{UUID=\"GPU-1\"}",
		"DCGM_FI_DEV_GPU_UTIL{UUID=\"GPU-1\",GPU_I_ID=\"3\"} 5\nDCGM_FI_DEV_POWER_USAGE{UUID=\"GPU-1\",GPU_I_ID=\"3\"} 5 1700000000000\n",
		"{\"DCGM_FI_DEV_FB_USED\",\"UUID\"=\"GPU-1\"} 1e3\n",
		"# TYPE DCGM_FI_DEV_XID_ERRORS histogram\nDCGM_FI_DEV_XID_ERRORS_bucket{UUID=\"GPU-1\",le=\"+Inf\"} 1\n",
		"DCGM_FI_DEV_GPU_UTIL{UUID=\"GPU-1\",pod=\"a\\\"}\"} NaN\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := ParseExporter(bytes.NewReader(doc), t0)
		if err != nil {
			return
		}
		if p.Skipped < 0 {
			t.Fatalf("skipped %d", p.Skipped)
		}
		seen := map[string]bool{}
		for _, s := range p.Samples {
			if s.UUID == "" || seen[s.Key()] {
				t.Fatalf("sample without a UUID or repeated: %+v", s)
			}
			seen[s.Key()] = true
			for f, v := range [...]*float64{s.Util, s.GRActive, s.SMActive, s.FBUsed, s.Power, s.EnergyMJ, s.XIDs} {
				if v != nil && (math.IsNaN(*v) || !field(f).valid(*v)) {
					t.Fatalf("invalid value %v for %s", *v, fieldMetrics[f])
				}
			}
		}
	})
}
