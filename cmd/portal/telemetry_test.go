package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestHelperPortal runs this test binary as the portal itself (the reader
// child of an nv-hostengine probe) when PORTAL_TEST_MAIN is set.
func TestHelperPortal(t *testing.T) {
	if os.Getenv("PORTAL_TEST_MAIN") == "" {
		t.Skip("the portal child process of the telemetry tests")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	if err := run(context.Background(), args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		os.Stderr.WriteString("portal: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Exit(0)
}

// asPortal makes `portal <args>` run this test binary as the portal.
func asPortal(t *testing.T) {
	t.Helper()
	prev := readerCommand
	readerCommand = func(ctx context.Context, args []string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"-test.run=^TestHelperPortal$", "--"}, args...)...)
		cmd.Env = append(os.Environ(), "PORTAL_TEST_MAIN=1")
		return cmd
	}
	t.Cleanup(func() { readerCommand = prev })
}

// A small dcgm-exporter scrape: two whole GPUs on one node and a MIG
// instance of a third (whose only whole-GPU value is NaN), and a blank value.
const probeFixture = `# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
# TYPE DCGM_FI_DEV_GPU_UTIL gauge
DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-11111111-2222-3333-4444-555555555550",device="nvidia0",modelName="NVIDIA B200",Hostname="b200-n01",namespace="team-a",pod="train-0"} 97
DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-11111111-2222-3333-4444-555555555551",device="nvidia1",modelName="NVIDIA B200",Hostname="b200-n01"} 0
DCGM_FI_DEV_GPU_UTIL{gpu="2",UUID="GPU-11111111-2222-3333-4444-555555555552",device="nvidia2",modelName="NVIDIA B200",Hostname="b200-n01"} NaN
# HELP DCGM_FI_PROF_SM_ACTIVE The ratio of cycles an SM has at least 1 warp assigned.
# TYPE DCGM_FI_PROF_SM_ACTIVE gauge
DCGM_FI_PROF_SM_ACTIVE{gpu="0",UUID="GPU-11111111-2222-3333-4444-555555555550",device="nvidia0",modelName="NVIDIA B200",Hostname="b200-n01",namespace="team-a",pod="train-0"} 0.812
DCGM_FI_PROF_SM_ACTIVE{gpu="2",UUID="GPU-11111111-2222-3333-4444-555555555552",device="nvidia2",modelName="NVIDIA B200",Hostname="b200-n01",GPU_I_PROFILE="1g.23gb",GPU_I_ID="5"} 0.5
# HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
# TYPE DCGM_FI_DEV_FB_USED gauge
DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-11111111-2222-3333-4444-555555555550",device="nvidia0",modelName="NVIDIA B200",Hostname="b200-n01",namespace="team-a",pod="train-0"} 170123
DCGM_FI_DEV_FB_USED{gpu="1",UUID="GPU-11111111-2222-3333-4444-555555555551",device="nvidia1",modelName="NVIDIA B200",Hostname="b200-n01"}
# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).
# TYPE DCGM_FI_DEV_POWER_USAGE gauge
DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-11111111-2222-3333-4444-555555555550",device="nvidia0",modelName="NVIDIA B200",Hostname="b200-n01",namespace="team-a",pod="train-0"} 987.25
DCGM_FI_DEV_POWER_USAGE{gpu="1",UUID="GPU-11111111-2222-3333-4444-555555555551",device="nvidia1",modelName="NVIDIA B200",Hostname="b200-n01"} 141.5
# HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION Total energy consumption since boot (in mJ).
# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="0",UUID="GPU-11111111-2222-3333-4444-555555555550",device="nvidia0",modelName="NVIDIA B200",Hostname="b200-n01",namespace="team-a",pod="train-0"} 81234567890
# HELP DCGM_FI_DEV_XID_ERRORS Value of the last XID error encountered.
# TYPE DCGM_FI_DEV_XID_ERRORS gauge
DCGM_FI_DEV_XID_ERRORS{gpu="1",UUID="GPU-11111111-2222-3333-4444-555555555551",device="nvidia1",modelName="NVIDIA B200",Hostname="b200-n01"} 79
`

func fakeExporter(t *testing.T, body string, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics"
}

func TestTelemetryProbeExporter(t *testing.T) {
	url := fakeExporter(t, probeFixture, http.StatusOK)
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"telemetry", "probe", "--timeout", "5s", url}, envOf(nil), &out, &errb); err != nil {
		t.Fatalf("probe: %v\n%s", err, errb.String())
	}
	got := out.String()
	t.Logf("\n%s", got)
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if want := "dcgm-exporter " + url + ": 2 GPUs, 1 MIG instances, 3 samples, 2 values skipped"; lines[0] != want {
		t.Errorf("summary %q, want %q", lines[0], want)
	}
	if len(lines) != 5 {
		t.Fatalf("want a summary, a header and 3 rows, got %d lines", len(lines))
	}
	for _, h := range []string{"NODE", "GPU", "MIG", "UUID", "MODEL", "UTIL %", "SM %", "FB MiB", "POWER W", "ENERGY mJ", "XID", "JOB"} {
		if !strings.Contains(lines[1], h) {
			t.Errorf("header lacks %q: %s", h, lines[1])
		}
	}
	row := func(i int) string { return strings.Join(strings.Fields(lines[i]), " ") }
	for i, want := range []string{
		"b200-n01 0 - GPU-11111111-2222-3333-4444-555555555550 NVIDIA B200 97 - 81.2 170123 987.2 81234567890 - ",
		"b200-n01 1 - GPU-11111111-2222-3333-4444-555555555551 NVIDIA B200 0 - - - 141.5 - 79 ",
		"b200-n01 2 5 (1g.23gb) GPU-11111111-2222-3333-4444-555555555552 NVIDIA B200 - - 50.0 - - - - ",
	} {
		if !strings.HasPrefix(row(i+2), want) {
			t.Errorf("row %d:\n got %q\nwant %q…", i, row(i+2), want)
		}
	}
	if !strings.HasSuffix(row(2), "namespace=team-a pod=train-0") {
		t.Errorf("row 0 does not show the job labels: %q", row(2))
	}
}

func TestTelemetryProbeFailures(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no subcommand":    {[]string{"telemetry"}, "want a subcommand"},
		"bad subcommand":   {[]string{"telemetry", "scrape"}, `unknown subcommand "scrape"`},
		"no target":        {[]string{"telemetry", "probe"}, "want one dcgm-exporter URL"},
		"HTTP error":       {[]string{"telemetry", "probe", strings.TrimSuffix(fakeExporter(t, "", 200), "/metrics") + "/nope"}, "HTTP 404"},
		"not an exporter":  {[]string{"telemetry", "probe", fakeExporter(t, "# nothing here\nup 1\n", 200)}, "no GPU values seen (0 skipped); is this a dcgm-exporter?"},
		"refused":          {[]string{"telemetry", "probe", "--timeout", "2s", "http://127.0.0.1:1/metrics"}, "connection refused"},
		"hostengine in CI": {[]string{"telemetry", "probe", "127.0.0.1:1"}, "cannot be started from a test binary"},
	} {
		t.Run(name, func(t *testing.T) {
			err := run(ctx, tc.args, envOf(nil), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the message is not one line: %q", err)
			}
		})
	}
}

// `portal telemetry probe ADDRESS` runs `portal dcgm-reader` (here: this
// test binary through run, as the real binary would) and, on a machine
// without DCGM, says so in one line and exits non-zero.
func TestTelemetryProbeHostengineWithoutDCGM(t *testing.T) {
	asPortal(t)
	var out bytes.Buffer
	err := run(context.Background(), []string{"telemetry", "probe", "--timeout", "20s", "127.0.0.1:1"}, envOf(nil), &out, io.Discard)
	if err == nil {
		t.Fatalf("probe of 127.0.0.1:1 succeeded:\n%s", out.String())
	}
	t.Log(err)
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "telemetry probe 127.0.0.1:1: DCGM library not installed: libdcgm.so.4 not found (install NVIDIA DCGM 4"):
	case strings.HasPrefix(msg, "telemetry probe 127.0.0.1:1: nv-hostengine unreachable at 127.0.0.1:1"):
		t.Log("DCGM is installed on this machine")
	default:
		t.Errorf("message %q", msg)
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("the message is not one line: %q", msg)
	}
}

func TestTelemetryHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"telemetry", "--help"}, envOf(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "portal telemetry probe") {
		t.Errorf("help:\n%s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"--help"}, envOf(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\n  telemetry ") || strings.Contains(out.String(), "dcgm-reader") {
		t.Errorf("usage should list telemetry and hide dcgm-reader:\n%s", out.String())
	}
}
