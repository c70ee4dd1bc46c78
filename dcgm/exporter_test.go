package dcgm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)

func parseFixture(t *testing.T, name string) Poll {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := ParseExporter(f, t0)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

func fp(v float64) *float64 { return &v }

// want describes the fields of one expected sample; a nil pointer means the
// field must be absent.
type want struct {
	key, node, model, profile string
	index                     int
	util, gr, sm, fb          *float64
	power, energy, xid        *float64
	labels                    map[string]string
}

func checkSample(t *testing.T, s Sample, w want) {
	t.Helper()
	if s.Key() != w.key || s.Node != w.node || s.Model != w.model || s.Profile != w.profile || s.Index != w.index {
		t.Errorf("identity = %q %q %q %q %d, want %q %q %q %q %d", s.Key(), s.Node, s.Model, s.Profile, s.Index, w.key, w.node, w.model, w.profile, w.index)
	}
	if !s.Time.Equal(t0) {
		t.Errorf("%s: time %v, want %v", w.key, s.Time, t0)
	}
	for _, f := range []struct {
		name      string
		got, want *float64
	}{
		{"util", s.Util, w.util}, {"gr", s.GRActive, w.gr}, {"sm", s.SMActive, w.sm}, {"fb", s.FBUsed, w.fb},
		{"power", s.Power, w.power}, {"energy", s.EnergyMJ, w.energy}, {"xid", s.XIDs, w.xid},
	} {
		switch {
		case f.got == nil && f.want == nil:
		case f.got == nil || f.want == nil:
			t.Errorf("%s %s = %v, want %v", w.key, f.name, ptrString(f.got), ptrString(f.want))
		case *f.got != *f.want:
			t.Errorf("%s %s = %v, want %v", w.key, f.name, *f.got, *f.want)
		}
	}
	if fmt.Sprint(s.Labels) != fmt.Sprint(w.labels) {
		t.Errorf("%s labels = %v, want %v", w.key, s.Labels, w.labels)
	}
}

func ptrString(p *float64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

func TestParseExporterH100Kubernetes(t *testing.T) {
	p := parseFixture(t, "h100_k8s.prom")
	if len(p.Samples) != 8 || p.Skipped != 0 {
		t.Fatalf("got %d samples, %d skipped; want 8, 0", len(p.Samples), p.Skipped)
	}
	const model = "NVIDIA H100 80GB HBM3"
	checkSample(t, p.Samples[0], want{
		key: "GPU-3a14d174-ac27-84ee-c801-1b356e5edea3", node: "gpu-h100-a07", model: model, index: 0,
		util: fp(91), gr: fp(0.871234), sm: fp(0.790112), fb: fp(74211), power: fp(640.117), energy: fp(1843020119004), xid: fp(0),
		labels: map[string]string{"container": "pytorch", "namespace": "team-upstage", "pod": "llm-pretrain-worker-0"},
	})
	checkSample(t, p.Samples[5], want{
		key: p.Samples[5].UUID, node: "gpu-h100-a07", model: model, index: 5,
		util: fp(96), gr: fp(0.876789), sm: fp(0.800127), fb: fp(74296), power: fp(665.272), energy: fp(1843020119004 + 5*7023311), xid: fp(0),
		labels: map[string]string{"container": "pytorch", "namespace": "team-upstage", "pod": "llm-pretrain-worker-1"},
	})
	// The idle GPU's empty pod labels are not kept.
	checkSample(t, p.Samples[7], want{
		key: p.Samples[7].UUID, node: "gpu-h100-a07", model: model, index: 7,
		util: fp(0), gr: fp(0), sm: fp(0), fb: fp(0), power: fp(71.244), energy: fp(1843020119004 + 7*7023311), xid: fp(0),
	})
	seen := map[string]bool{}
	for i, s := range p.Samples {
		if s.Index != i || !strings.HasPrefix(s.UUID, "GPU-") || seen[s.UUID] {
			t.Errorf("sample %d: index %d uuid %q", i, s.Index, s.UUID)
		}
		seen[s.UUID] = true
	}
}

func TestParseExporterB200(t *testing.T) {
	p := parseFixture(t, "b200.prom")
	if len(p.Samples) != 8 || p.Skipped != 0 {
		t.Fatalf("got %d samples, %d skipped; want 8, 0", len(p.Samples), p.Skipped)
	}
	s := p.Samples[3]
	checkSample(t, s, want{
		key: s.UUID, node: "b200-sxm-012", model: "NVIDIA B200", index: 3,
		util: fp(88), gr: fp(0.813702), sm: fp(0.709035), fb: fp(160624), power: fp(926.283), energy: fp(922337203685 + 3*123456789), xid: fp(94),
		labels: map[string]string{"container": "trainer", "namespace": "team-kaist", "pod": "moe-32b-1"},
	})
}

func TestParseExporterMIG(t *testing.T) {
	p := parseFixture(t, "mig.prom")
	if len(p.Samples) != 5 || p.Skipped != 0 {
		for _, s := range p.Samples {
			t.Log(s.Key())
		}
		t.Fatalf("got %d samples, %d skipped; want 5 (a parent, 3 instances, a whole GPU), 0", len(p.Samples), p.Skipped)
	}
	const model, node = "NVIDIA H100 80GB HBM3", "h100-mig-03"
	parent := "GPU-550b7e4d-2a9d-68c3-7d80-a1f417904033"
	// Power, energy and XID are repeated on every instance's series; they
	// belong to the physical GPU and are counted once, there.
	checkSample(t, p.Samples[0], want{key: parent, node: node, model: model, power: fp(312.5), energy: fp(90812331007), xid: fp(0)})
	checkSample(t, p.Samples[1], want{
		key: parent + "/1", node: node, model: model, profile: "3g.40gb", gr: fp(0.612), sm: fp(0.544), fb: fp(38211),
		labels: map[string]string{"container": "main", "namespace": "team-lg", "pod": "inference-llama-7c9f"},
	})
	checkSample(t, p.Samples[2], want{
		key: parent + "/5", node: node, model: model, profile: "2g.20gb", gr: fp(0.047), sm: fp(0.031), fb: fp(9120),
		labels: map[string]string{"container": "main", "namespace": "team-lg", "pod": "notebook-kim-0"},
	})
	checkSample(t, p.Samples[3], want{key: parent + "/13", node: node, model: model, profile: "1g.10gb", gr: fp(0), sm: fp(0), fb: fp(13)})
	checkSample(t, p.Samples[4], want{
		key: "GPU-c5e176e5-c723-88c6-3f6c-3b36e2c2cf90", node: node, model: model, index: 1,
		util: fp(64), gr: fp(0.58), sm: fp(0.49), fb: fp(70211), power: fp(402.75), energy: fp(91773002145), xid: fp(0),
		labels: map[string]string{"container": "vllm", "namespace": "team-lg", "pod": "serve-exaone-0"},
	})
}

func TestParseExporterSlurm(t *testing.T) {
	p := parseFixture(t, "slurm.prom")
	if len(p.Samples) != 8 || p.Skipped != 0 {
		t.Fatalf("got %d samples, %d skipped; want 8, 0", len(p.Samples), p.Skipped)
	}
	jobs := []string{"4817263", "4817263", "4817263", "4817263", "4817290", "4817290", "4817301,4817302", ""}
	for i, s := range p.Samples {
		if s.Labels["hpc_job"] != jobs[i] {
			t.Errorf("GPU %d hpc_job = %q, want %q", i, s.Labels["hpc_job"], jobs[i])
		}
	}
	// GPU 6 is shared by two jobs: its duplicate series count once.
	s := p.Samples[6]
	checkSample(t, s, want{
		key: s.UUID, node: "slurm-h200-n041", model: "NVIDIA H200", index: 6,
		util: fp(88), gr: fp(0.668), sm: fp(0.618), fb: fp(126000), power: fp(560.5), energy: fp(51234567890 + 6*1000003), xid: fp(0),
		labels: map[string]string{"hpc_job": "4817301,4817302"},
	})
	if p.Samples[7].Labels != nil {
		t.Errorf("unallocated GPU labels = %v", p.Samples[7].Labels)
	}
}

func TestParseExporterLowercaseLabels(t *testing.T) {
	p := parseFixture(t, "lowercase_labels.prom")
	if len(p.Samples) != 2 {
		t.Fatalf("got %d samples, want 2", len(p.Samples))
	}
	for i, s := range p.Samples {
		if s.Node != "csp-h100-pool-b-17" || !strings.HasPrefix(s.UUID, "GPU-") || s.Index != i || s.Model != "NVIDIA H100 PCIe" {
			t.Errorf("sample %d: %+v", i, s)
		}
	}
	if *p.Samples[1].Util != 50 || *p.Samples[1].FBUsed != 40000 {
		t.Errorf("GPU 1 util %v fb %v", *p.Samples[1].Util, *p.Samples[1].FBUsed)
	}
}

func TestParseExporterBlankNaNAndDuplicates(t *testing.T) {
	p := parseFixture(t, "messy.prom")
	// Skipped: a value-less GPU_UTIL line, NaN power, the FP64 power
	// sentinel, the INT64 energy sentinel, the INT32 util sentinel, an XID
	// series without a UUID, a negative FB, +Inf and -Inf activity. The
	// value-less GPU_TEMP line is dropped too, but temperature is not a field
	// the portal reads, so it is not counted.
	if len(p.Samples) != 4 || p.Skipped != 9 {
		t.Fatalf("got %d samples, %d skipped; want 4, 9", len(p.Samples), p.Skipped)
	}
	const node, model = "gpu-h100-c02", "NVIDIA H100 80GB HBM3"
	// GPU 0 is time-sliced between two pods: its series appear twice, and
	// each field takes the larger value once (no 38+55).
	checkSample(t, p.Samples[0], want{
		key: "GPU-5f2e1c9a-0b7d-4e21-9c3a-8d6f0e4b2a11", node: node, model: model,
		util: fp(55), gr: fp(0.402), sm: fp(0.351), fb: fp(31744), power: fp(212.318), energy: fp(310224553320), xid: fp(0),
		labels: map[string]string{"container": "jupyter", "namespace": "team-naver", "pod": "nb-lee-3,nb-park-0"},
	})
	checkSample(t, p.Samples[1], want{
		key: "GPU-a0c4d8e2-7f31-4b9e-a6d2-1e5c9b3f7d40", node: node, model: model, index: 1,
		gr: fp(0.961), sm: fp(0.902), fb: fp(79102), power: fp(655.02), energy: fp(402118930066), xid: fp(0),
		labels: map[string]string{"container": "pytorch", "namespace": "team-naver", "pod": "ft-hyperclova-1"},
	})
	checkSample(t, p.Samples[2], want{
		key: "GPU-3b9d7e15-c2a8-4f6e-b1d9-0a4e8c2f6b73", node: node, model: model, index: 2,
		util: fp(0), fb: fp(0), energy: fp(12004551), xid: fp(0),
	})
	checkSample(t, p.Samples[3], want{
		key: "GPU-e7a1f3c5-9d2b-4c8e-8f0a-6b2d4e1c3a95", node: node, model: model, index: 3,
		gr: fp(0.733), sm: fp(0.688), xid: fp(79),
		labels: map[string]string{"container": "pytorch", "namespace": "team-naver", "pod": "ft-hyperclova-1"},
	})
}

func TestParseExporterLineEnds(t *testing.T) {
	doc := "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\r\nDCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-1\",Hostname=\"n\"} 12 \r\n" +
		"DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",UUID=\"GPU-2\",Hostname=\"n\"} 13"
	p, err := ParseExporter(strings.NewReader(doc), t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Samples) != 2 || *p.Samples[0].Util != 12 || *p.Samples[1].Util != 13 {
		t.Fatalf("got %+v", p)
	}
}

func TestParseExporterEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name, doc       string
		samples, skiped int
	}{
		{"empty", "", 0, 0},
		{"comments only", "# dcgm-exporter starting\n\n", 0, 0},
		{"other families only", "DCGM_FI_DEV_SM_CLOCK{gpu=\"0\",UUID=\"GPU-1\"} 1980\n", 0, 0},
		{"device from device label", "DCGM_FI_DEV_FB_USED{UUID=\"GPU-1\",device=\"nvidia6\"} 5\n", 1, 0},
		{"out of range util", "DCGM_FI_DEV_GPU_UTIL{UUID=\"GPU-1\"} 101\nDCGM_FI_PROF_SM_ACTIVE{UUID=\"GPU-1\"} 1.5\n", 0, 2},
		{"blank MIG id is a whole GPU", "DCGM_FI_DEV_GPU_UTIL{UUID=\"GPU-1\",GPU_I_ID=\"\"} 3\n", 1, 0},
		{"quoted name form", "{\"DCGM_FI_DEV_GPU_UTIL\",UUID=\"GPU-1\"} 7\n{\"DCGM_FI_DEV_GPU_UTIL\",UUID=\"GPU-2\"}\n", 1, 1},
		{"label value with brace and quote", "DCGM_FI_DEV_GPU_UTIL{UUID=\"GPU-1\",pod=\"a}\\\"b\"}\n", 0, 1},
		{"summary family ignored", "# TYPE DCGM_FI_DEV_GPU_UTIL summary\nDCGM_FI_DEV_GPU_UTIL{UUID=\"GPU-1\",quantile=\"0.5\"} 7\n", 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseExporter(strings.NewReader(tc.doc), t0)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Samples) != tc.samples || p.Skipped != tc.skiped {
				t.Fatalf("got %d samples, %d skipped; want %d, %d: %+v", len(p.Samples), p.Skipped, tc.samples, tc.skiped, p.Samples)
			}
		})
	}
}

func TestParseExporterMalformed(t *testing.T) {
	for _, doc := range []string{
		"<!DOCTYPE html>\n<html><body>Sign in</body></html>\n",
		"<html>\n",
		"DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-1\" 5\n",
		"DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-1\"} abc\n",
		"DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-1\"} 5 notatimestamp\n",
		"# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n# TYPE DCGM_FI_DEV_GPU_UTIL counter\n",
		"DCGM_FI_DEV_GPU_UTIL{gpu=\"0} 5\n",
		"DCGM_FI_DEV_GPU_UTIL{0gpu=\"0\"} 5\n",
		"{\"unterminated\n",
	} {
		if p, err := ParseExporter(strings.NewReader(doc), t0); err == nil {
			t.Errorf("%q: no error, got %+v", doc, p)
		}
	}
}

func TestWriteExporterRoundTrip(t *testing.T) {
	sim := NewSimulator(SimConfig{Seed: 7, Cluster: "round trip", Nodes: 3, GPUsPerNode: 8, Now: func() time.Time { return t0 }})
	want, err := sim.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if err := WriteExporter(&buf, want.Samples); err != nil {
		t.Fatal(err)
	}
	got, err := ParseExporter(strings.NewReader(buf.String()), t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Samples) != len(want.Samples) || got.Skipped != 0 {
		t.Fatalf("got %d samples (%d skipped), want %d", len(got.Samples), got.Skipped, len(want.Samples))
	}
	for i := range want.Samples {
		if g, w := sampleString(got.Samples[i]), sampleString(want.Samples[i]); g != w {
			t.Errorf("sample %d:\n got %s\nwant %s", i, g, w)
		}
	}
}

// sampleString renders a sample with its values for comparisons.
func sampleString(s Sample) string {
	return fmt.Sprintf("%s %s %q %q %d %v %v util=%s gr=%s sm=%s fb=%s power=%s energy=%s xid=%s",
		s.Key(), s.Profile, s.Model, s.Node, s.Index, s.Time.UTC(), s.Labels,
		ptrString(s.Util), ptrString(s.GRActive), ptrString(s.SMActive), ptrString(s.FBUsed),
		ptrString(s.Power), ptrString(s.EnergyMJ), ptrString(s.XIDs))
}

// fakeExporter serves a fixture like dcgm-exporter's /metrics and records
// what it was asked.
func fakeExporter(t *testing.T, fixture string) (*httptest.Server, *atomic.Value) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	var auth atomic.Value
	auth.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &auth
}

func TestExporterSourcePoll(t *testing.T) {
	srv, auth := fakeExporter(t, "h100_k8s.prom")
	src := NewExporterSource(srv.URL+"/metrics", ExporterOptions{BearerToken: "s3cret", Now: func() time.Time { return t0 }})
	defer src.Close()
	var _ Source = src
	p, err := src.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Samples) != 8 || !p.Samples[0].Time.Equal(t0) {
		t.Fatalf("got %d samples at %v", len(p.Samples), p.Samples[0].Time)
	}
	if got := auth.Load(); got != "Bearer s3cret" {
		t.Errorf("Authorization = %q", got)
	}
	// No token, no header.
	src2 := NewExporterSource(srv.URL+"/metrics", ExporterOptions{})
	if _, err := src2.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := auth.Load(); got != "" {
		t.Errorf("Authorization without a token = %q", got)
	}
}

func TestExporterSourceTLS(t *testing.T) {
	body, _ := os.ReadFile(filepath.Join("testdata", "b200.prom"))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	// Without the server's CA the scrape fails; with it, it works.
	if _, err := NewExporterSource(srv.URL, ExporterOptions{}).Poll(context.Background()); err == nil {
		t.Error("untrusted certificate accepted")
	}
	tlsConf := srv.Client().Transport.(*http.Transport).TLSClientConfig
	p, err := NewExporterSource(srv.URL, ExporterOptions{TLS: tlsConf}).Poll(context.Background())
	if err != nil || len(p.Samples) != 8 {
		t.Fatalf("got %d samples, %v", len(p.Samples), err)
	}
}

func TestExporterSourceErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fail":
			http.Error(w, "DCGM initialization failed", http.StatusInternalServerError)
		case "/html":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<!DOCTYPE html>\n<html><body>Sign in</body></html>\n"))
		case "/big":
			w.Write([]byte(strings.Repeat("# padding padding padding padding\n", 100)))
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	_, err := NewExporterSource(srv.URL+"/fail", ExporterOptions{}).Poll(ctx)
	if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "DCGM initialization failed") {
		t.Errorf("500: err = %v", err)
	}
	if _, err := NewExporterSource(srv.URL+"/html", ExporterOptions{}).Poll(ctx); err == nil {
		t.Error("HTML page: no error")
	}
	if _, err := NewExporterSource(srv.URL+"/big", ExporterOptions{MaxBytes: 1000}).Poll(ctx); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized: err = %v", err)
	}
	if _, err := NewExporterSource("http://127.0.0.1:1/metrics", ExporterOptions{}).Poll(ctx); err == nil {
		t.Error("refused connection: no error")
	}
	if _, err := NewExporterSource("::not a url", ExporterOptions{}).Poll(ctx); err == nil {
		t.Error("bad URL: no error")
	}
}

func TestExporterSourceHangingEndpoint(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // hang until the client gives up (or the test ends)
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	// The poll's context abandons it.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := NewExporterSource(srv.URL, ExporterOptions{Timeout: time.Minute}).Poll(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("abandoned after %v", d)
	}
	// So does the source's own timeout.
	start = time.Now()
	if _, err := NewExporterSource(srv.URL, ExporterOptions{Timeout: 100 * time.Millisecond}).Poll(context.Background()); err == nil {
		t.Error("no error from a hanging endpoint")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("abandoned after %v", d)
	}
}

func TestWriteExporterEscapes(t *testing.T) {
	s := Sample{UUID: "GPU-1", Model: "NVIDIA B200", Node: "노드-1", Time: t0, Util: fp(5),
		Labels: map[string]string{"namespace": "팀-업스테이지", "pod": "a\"b\\c\nd"}}
	var b strings.Builder
	if err := WriteExporter(&b, []Sample{s}); err != nil {
		t.Fatal(err)
	}
	p, err := ParseExporter(strings.NewReader(b.String()), t0)
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if len(p.Samples) != 1 || sampleString(p.Samples[0]) != sampleString(s) {
		t.Fatalf("got %+v\nwant %+v", p.Samples, s)
	}
}
