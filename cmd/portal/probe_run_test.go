package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeProbeClock moves on by the time waited, without sleeping.
type fakeProbeClock struct{ now time.Time }

func (c *fakeProbeClock) Now() time.Time { return c.now }

func (c *fakeProbeClock) Wait(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return ctx.Err()
}

// withProbeClock makes the dry run use a fake clock starting at start.
func withProbeClock(t *testing.T, start time.Time) *fakeProbeClock {
	t.Helper()
	clk := &fakeProbeClock{now: start}
	prev := newProbeClock
	newProbeClock = func() probeClock { return clk }
	t.Cleanup(func() { newProbeClock = prev })
	return clk
}

// servePolls serves body(n) at /metrics for the n-th request (from 0).
func servePolls(t *testing.T, body func(n int) string) (string, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1) - 1
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, body(int(i)))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics", &n
}

const a100UUID = "GPU-34319582-d595-d1c7-d1d2-179bcfa61660"

// a100Polls is NVIDIA's A100 MIG sample with the energy counter rising at
// 409.692 W (its power reading) between 5-second polls, and XID 79 on the
// GPU from the 11th poll on.
func a100Polls(t *testing.T) func(n int) string {
	raw, err := os.ReadFile("../../dcgm/testdata/a100_mig_nvidia.prom")
	if err != nil {
		t.Fatal(err)
	}
	base := string(raw)
	return func(n int) string {
		s := strings.Replace(base, "} 319159391", fmt.Sprintf("} %d", 319159391+int64(n)*2048460), 1)
		if n >= 10 {
			s = strings.Replace(s, `Hostname="ub20-a100-k8s"} 0
DCGM_FI_DEV_FB_FREE`, `Hostname="ub20-a100-k8s"} 79
DCGM_FI_DEV_FB_FREE`, 1)
		}
		return s
	}
}

func TestTelemetryDryRunMIG(t *testing.T) {
	start := time.Date(2026, 12, 6, 10, 59, 0, 0, time.UTC) // crosses an hour: the hours are added up
	url, polls := servePolls(t, a100Polls(t))

	t.Run("json", func(t *testing.T) {
		clk := withProbeClock(t, start)
		polls.Store(0)
		var out, errb bytes.Buffer
		if err := run(context.Background(), []string{"telemetry", "probe", "--duration", "2m", "--interval", "5s", "--json", url},
			envOf(nil), &out, &errb); err != nil {
			t.Fatalf("probe: %v\n%s", err, errb.String())
		}
		if got := polls.Load(); got != 25 {
			t.Errorf("%d polls, want 25 (every 5 s over 2 minutes, both ends)", got)
		}
		if !clk.now.Equal(start.Add(2 * time.Minute)) {
			t.Errorf("the clock ends at %s, want 2 minutes on", clk.now)
		}
		var rep probeReport
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("JSON: %v\n%s", err, out.String())
		}
		if rep.Polls != 25 || rep.FailedPolls != 0 || len(rep.GPUs) != 1 {
			t.Fatalf("polls %d (%d failed), %d GPUs; want 25, 0, 1 physical GPU\n%s", rep.Polls, rep.FailedPolls, len(rep.GPUs), out.String())
		}
		g := rep.GPUs[0]
		near := func(what string, got, want, tol float64) {
			t.Helper()
			if math.Abs(got-want) > tol {
				t.Errorf("%s = %v, want %v", what, got, want)
			}
		}
		// The first poll only starts the GPU; 24 intervals of 5 s follow.
		// The MIG instance's series adds nothing to the GPU's time.
		near("observed", g.ObservedS, 120, 1e-9)
		near("busy", g.BusyS, 120, 1e-9)
		near("idle", g.IdleS, 0, 1e-9)
		near("energy", g.EnergyJ, 409.692*120, 0.01)
		// One 1g.5gb instance of 7 slices at 99.57 % GR activity.
		near("mean util", g.MeanUtil, 99.5687/7, 0.01)
		if g.XIDEvents != 1 || g.EnergyAnomalies != 0 {
			t.Errorf("XID events %d, energy anomalies %d; want 1 and 0", g.XIDEvents, g.EnergyAnomalies)
		}
		if g.UUID != a100UUID || g.Node != "ub20-a100-k8s" || g.Model != "" {
			t.Errorf("GPU %q on %q model %q", g.UUID, g.Node, g.Model)
		}
		if len(g.MIG) != 1 || g.MIG[0].MIG != "13" || g.MIG[0].Profile != "1g.5gb" {
			t.Fatalf("MIG breakdown %+v, want instance 13 (1g.5gb)", g.MIG)
		}
		near("instance observed", g.MIG[0].ObservedS, 120, 1e-9)
		near("instance util", g.MIG[0].MeanUtil, 99.5687, 0.01)
		if len(rep.Summary) != 1 || rep.Summary[0].GPUs != 1 || rep.Summary[0].MIGInstances != 1 || rep.Summary[0].ObservedS != 120 {
			t.Errorf("summary %+v, want one host with 1 GPU, 1 instance, 120 s", rep.Summary)
		}
		want := []string{"modelName", "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_PROF_SM_ACTIVE"}
		if strings.Join(rep.MissingFields, ",") != strings.Join(want, ",") {
			t.Errorf("missing fields %v, want %v", rep.MissingFields, want)
		}
	})

	t.Run("text", func(t *testing.T) {
		withProbeClock(t, start)
		polls.Store(0)
		var out, errb bytes.Buffer
		if err := run(context.Background(), []string{"telemetry", "probe", "--duration", "2m", "--interval", "5s", url},
			envOf(nil), &out, &errb); err != nil {
			t.Fatalf("probe: %v\n%s", err, errb.String())
		}
		got := out.String()
		t.Logf("\n%s", got)
		for _, want := range []string{
			"dcgm-exporter " + url + ": 25 polls every 5s over 2m0s (0 failed), 50 samples",
			"ub20-a100-k8s " + a100UUID + " - 120 120 0 14.2 13.656 1 0 25",
			"MIG 13 (1g.5gb) 120 120 0 99.6 - - - 25",
			"ub20-a100-k8s - 1 1 120 120 0 14.2 13.656 1",
			"Fields missing on every GPU: modelName, DCGM_FI_DEV_GPU_UTIL, DCGM_FI_PROF_SM_ACTIVE",
			"no GPU model in the telemetry",
		} {
			if !strings.Contains(squeeze(got), want) {
				t.Errorf("output lacks %q", want)
			}
		}
	})
}

// squeeze collapses runs of spaces, so that table rows compare as words.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// Every sample file in dcgm/testdata gives, over a dry run, no physical
// GPU more observed time than the clock time, and one row per physical GPU.
func TestTelemetryDryRunTestdata(t *testing.T) {
	files, err := os.ReadDir("../../dcgm/testdata")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".prom") {
			continue
		}
		n++
		t.Run(f.Name(), func(t *testing.T) {
			raw, err := os.ReadFile("../../dcgm/testdata/" + f.Name())
			if err != nil {
				t.Fatal(err)
			}
			url, _ := servePolls(t, func(int) string { return string(raw) })
			withProbeClock(t, time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC))
			var out bytes.Buffer
			if err := run(context.Background(), []string{"telemetry", "probe", "--duration", "1m", "--interval", "15s", "--json", url},
				envOf(nil), &out, &bytes.Buffer{}); err != nil {
				t.Fatalf("probe: %v", err)
			}
			var rep probeReport
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Polls != 5 || len(rep.GPUs) == 0 {
				t.Fatalf("%d polls, %d GPUs", rep.Polls, len(rep.GPUs))
			}
			seen := map[string]bool{}
			for _, g := range rep.GPUs {
				if seen[g.UUID] {
					t.Errorf("GPU %s listed twice", g.UUID)
				}
				seen[g.UUID] = true
				if g.ObservedS > 60 || g.BusyS > g.ObservedS {
					t.Errorf("GPU %s: observed %v s, busy %v s over a 60 s run", g.UUID, g.ObservedS, g.BusyS)
				}
				for _, in := range g.MIG {
					if in.ObservedS > g.ObservedS {
						t.Errorf("GPU %s MIG %s observed %v s, more than its GPU", g.UUID, in.MIG, in.ObservedS)
					}
				}
			}
		})
	}
	if n < 7 {
		t.Errorf("only %d sample files", n)
	}
}

func TestTelemetryDryRunFailures(t *testing.T) {
	withProbeClock(t, time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC))
	url, _ := servePolls(t, func(int) string { return "# nothing\nup 1\n" })
	var out bytes.Buffer
	err := run(context.Background(), []string{"telemetry", "probe", "--duration", "10s", "--interval", "5s", url}, envOf(nil), &out, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "no GPU values seen in 3 polls") {
		t.Errorf("err %v, want no GPU values seen in 3 polls", err)
	}
	err = run(context.Background(), []string{"telemetry", "probe", "--duration", "10s", "--interval", "0s", url}, envOf(nil), &out, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "must be positive") {
		t.Errorf("err %v, want a refusal of a zero interval", err)
	}
}
