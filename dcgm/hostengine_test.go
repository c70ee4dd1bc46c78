package dcgm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	godcgm "github.com/NVIDIA/go-dcgm/pkg/dcgm"
)

// The reader tests run this test binary as the reader child:
// TestHelperReader turns into a fake (or the real) reader when
// KAIPORTAL_TEST_READER names a mode.
const helperModeEnv = "KAIPORTAL_TEST_READER"
const helperStateEnv = "KAIPORTAL_TEST_READER_STATE"

func readerCommand(mode string, env ...string) func(ctx context.Context) *exec.Cmd {
	return func(ctx context.Context) *exec.Cmd {
		args := append([]string{"-test.run=^TestHelperReader$", "--"}, ReaderArgs("127.0.0.1:1", HostengineOptions{})...)
		cmd := exec.CommandContext(ctx, os.Args[0], args...)
		cmd.Env = append(append(os.Environ(), helperModeEnv+"="+mode), env...)
		return cmd
	}
}

func TestHelperReader(t *testing.T) {
	mode := os.Getenv(helperModeEnv)
	if mode == "" {
		t.Skip("the reader child of the hostengine tests")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	if len(args) == 0 || args[0] != "dcgm-reader" {
		fmt.Fprintln(os.Stderr, "helper: want dcgm-reader arguments, got", args)
		os.Exit(3)
	}
	os.Exit(helperReader(mode, args[1:]))
}

func helperReader(mode string, args []string) int {
	out := os.Stdout
	say := func(m readerMessage) {
		b, _ := json.Marshal(m)
		out.Write(append(b, '\n'))
	}
	ready := func() { say(readerMessage{Type: msgReady, Protocol: readerProtocol, Node: strconv.Itoa(os.Getpid())}) }
	requests := bufio.NewScanner(os.Stdin)
	serveFake := func() int {
		if err := serveReader(context.Background(), &fakeBackend{announce: true}, os.Stdin, out); err != nil {
			return 1
		}
		return 0
	}
	// firstRun is true in the first child of a test, false in later ones.
	firstRun := func() bool {
		path := os.Getenv(helperStateEnv)
		if _, err := os.Stat(path); err == nil {
			return false
		}
		os.WriteFile(path, []byte("started"), 0o600)
		return true
	}
	switch mode {
	case "real": // the real reader, go-dcgm and all
		if err := ReaderMain(context.Background(), args, os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "portal:", err)
			return 1
		}
		return 0
	case "good":
		return serveFake()
	case "connect":
		say(readerMessage{Type: msgError, Kind: kindConnect, Error: "error connecting to nv-hostengine: Host engine connection invalid/disconnected"})
		return 1
	case "hang-start":
		time.Sleep(time.Hour)
	case "hang":
		ready()
		requests.Scan()
		time.Sleep(time.Hour)
	case "crash-once":
		if !firstRun() {
			return serveFake()
		}
		ready()
		requests.Scan()
		// A crash outside the test goroutine, so that the testing package
		// does not catch it and print its report on stdout.
		go panic("boom: the C library fell over")
		time.Sleep(time.Hour)
	case "poll-error-once":
		if !firstRun() {
			return serveFake()
		}
		ready()
		requests.Scan()
		say(readerMessage{Type: msgError, Kind: kindPoll, Error: "dcgmGetValuesSince_v2 failed with error code -21"})
		return 1
	case "malformed":
		ready()
		for requests.Scan() {
			out.WriteString("{\"type\":\"poll\",\"samples\":[{\"UUID\":\n")
		}
	case "noise":
		ready()
		for requests.Scan() {
			out.WriteString("dcgm: some C library chatter\n")
		}
	case "old-protocol":
		say(readerMessage{Type: msgReady, Protocol: readerProtocol + 1})
		requests.Scan()
	}
	return 0
}

// fakeBackend serves two devices with fixed values.
type fakeBackend struct {
	openErr  error
	polls    int
	closed   bool
	calls    []string
	announce bool // say on stderr when closed (in a reader child)
}

var fakeBase = time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)

func fakePoll(n int) Poll {
	f := func(v float64) *float64 { return &v }
	at := fakeBase.Add(time.Duration(n) * time.Second)
	return Poll{
		Samples: []Sample{
			{UUID: "GPU-aaaaaaaa-0000-0000-0000-000000000000", Model: "NVIDIA H100 80GB HBM3", Node: "gpu-a01", Index: 0, Time: at,
				Util: f(87), GRActive: f(0.81), SMActive: f(0.74), FBUsed: f(61234), Power: f(612.5), EnergyMJ: f(9.87654321e9), XIDs: f(0)},
			{UUID: "GPU-bbbbbbbb-0000-0000-0000-000000000000", MIG: "3", Model: "NVIDIA H100 80GB HBM3", Node: "gpu-a01", Index: 1, Time: at,
				SMActive: f(0.25), FBUsed: f(9000)},
		},
		Skipped: n,
	}
}

func (f *fakeBackend) open(context.Context) (ReaderInfo, error) {
	f.calls = append(f.calls, "open")
	if f.openErr != nil {
		return ReaderInfo{}, f.openErr
	}
	return ReaderInfo{Node: "gpu-a01", GPUs: []ReaderGPU{{Index: 0, UUID: "GPU-aaaaaaaa-0000-0000-0000-000000000000", Model: "NVIDIA H100 80GB HBM3"}}}, nil
}

func (f *fakeBackend) poll(context.Context) (Poll, error) {
	f.calls = append(f.calls, "poll")
	f.polls++
	return fakePoll(f.polls), nil
}

func (f *fakeBackend) close() {
	f.calls = append(f.calls, "close")
	f.closed = true
	if f.announce {
		fmt.Fprintln(os.Stderr, "fake backend closed")
	}
}

// syncBuffer collects the reader's stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFakeSource(t *testing.T, mode string, o HostengineOptions) *HostengineSource {
	t.Helper()
	o.Command = readerCommand(mode, helperStateEnv+"="+t.TempDir()+"/state")
	s := NewHostengineSource("127.0.0.1:1", o)
	t.Cleanup(func() { s.Close() })
	return s
}

func pollWithin(t *testing.T, s *HostengineSource, d time.Duration) (Poll, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return s.Poll(ctx)
}

// processGone reports whether pid no longer exists (it was killed and reaped).
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// The real reader on a machine without DCGM: the parent gets ErrNoLibrary
// with a clear message, survives, and gets the same answer from a fresh
// reader on the next poll. Where DCGM is installed, the same test meets
// the unreachable address instead.
func TestHostengineRealReaderWithoutDCGM(t *testing.T) {
	s := newFakeSource(t, "real", HostengineOptions{})
	for i := range 2 {
		_, err := pollWithin(t, s, 30*time.Second)
		t.Logf("poll %d: %v", i, err)
		switch {
		case errors.Is(err, ErrNoLibrary):
			if !strings.HasPrefix(err.Error(), "DCGM library not installed: libdcgm.so.4 not found") {
				t.Errorf("poll %d: message %q", i, err)
			}
			if !strings.Contains(err.Error(), "datacenter-gpu-manager") {
				t.Errorf("poll %d: message does not say what to install: %q", i, err)
			}
		case errors.Is(err, ErrHostengineUnreachable):
			t.Logf("DCGM is installed here; 127.0.0.1:1 is unreachable as it should be: %v", err)
		default:
			t.Fatalf("poll %d: want ErrNoLibrary (or ErrHostengineUnreachable where DCGM is installed), got %v", i, err)
		}
		if s.child != nil {
			t.Errorf("poll %d: a reader that failed to start is still held", i)
		}
	}
}

func TestHostengineConnectFailure(t *testing.T) {
	s := newFakeSource(t, "connect", HostengineOptions{})
	_, err := pollWithin(t, s, 10*time.Second)
	t.Log(err)
	if !errors.Is(err, ErrHostengineUnreachable) {
		t.Fatalf("want ErrHostengineUnreachable, got %v", err)
	}
	var re *ReaderError
	if !errors.As(err, &re) || re.Kind != kindConnect {
		t.Fatalf("want a ReaderError of kind connect, got %#v", err)
	}
	if want := "nv-hostengine unreachable at 127.0.0.1:1: error connecting to nv-hostengine"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message %q, want it to start %q", err, want)
	}
}

func TestHostengineGoodRoundTrip(t *testing.T) {
	var stderr syncBuffer
	s := newFakeSource(t, "good", HostengineOptions{Stderr: &stderr})
	for n := 1; n <= 2; n++ {
		p, err := pollWithin(t, s, 10*time.Second)
		if err != nil {
			t.Fatalf("poll %d: %v", n, err)
		}
		if want := fakePoll(n); !reflect.DeepEqual(p, want) {
			t.Fatalf("poll %d round trip:\n got %+v\nwant %+v", n, p, want)
		}
	}
	info := s.Info()
	if info.Node != "gpu-a01" || len(info.GPUs) != 1 || info.GPUs[0].UUID != "GPU-aaaaaaaa-0000-0000-0000-000000000000" {
		t.Errorf("ready info %+v", info)
	}
	child := s.child
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Closing stdin lets the reader release DCGM and exit by itself.
	if !child.cmd.ProcessState.Success() {
		t.Errorf("reader did not exit cleanly on Close: %v", child.cmd.ProcessState)
	}
	if !strings.Contains(stderr.String(), "fake backend closed") {
		t.Errorf("the backend was not closed; reader stderr:\n%s", stderr.String())
	}
	if _, err := pollWithin(t, s, time.Second); !errors.Is(err, ErrSourceClosed) {
		t.Errorf("poll after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestHostengineHungPollIsKilled(t *testing.T) {
	s := newFakeSource(t, "hang", HostengineOptions{})
	start := time.Now()
	_, err := pollWithin(t, s, 500*time.Millisecond)
	t.Log(err)
	if !errors.Is(err, ErrReaderTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want ErrReaderTimeout wrapping DeadlineExceeded, got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a hung reader held Poll for %s", d)
	}
	pid, _ := strconv.Atoi(s.Info().Node)
	if pid == 0 || !processGone(pid) {
		t.Errorf("the hung reader (pid %d) is still alive", pid)
	}
	if s.child != nil {
		t.Error("the hung reader is still held")
	}
	// The next poll starts a fresh reader (which hangs again).
	if _, err := pollWithin(t, s, 500*time.Millisecond); !errors.Is(err, ErrReaderTimeout) {
		t.Fatalf("second poll: %v", err)
	}
	if pid2, _ := strconv.Atoi(s.Info().Node); pid2 == pid {
		t.Error("the second poll did not start a fresh reader")
	}
}

func TestHostengineHungStartTimesOut(t *testing.T) {
	s := newFakeSource(t, "hang-start", HostengineOptions{StartTimeout: 300 * time.Millisecond})
	start := time.Now()
	_, err := pollWithin(t, s, 30*time.Second)
	if !errors.Is(err, ErrReaderTimeout) {
		t.Fatalf("want ErrReaderTimeout, got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("start took %s", d)
	}
}

func TestHostengineCrashMidPollRestarts(t *testing.T) {
	s := newFakeSource(t, "crash-once", HostengineOptions{})
	_, err := pollWithin(t, s, 10*time.Second)
	t.Log(err)
	if !errors.Is(err, ErrReaderExited) {
		t.Fatalf("want ErrReaderExited, got %v", err)
	}
	if !strings.Contains(err.Error(), "panic: boom: the C library fell over") || !strings.Contains(err.Error(), "exit status 2") {
		t.Errorf("the error does not say how the reader died: %v", err)
	}
	p, err := pollWithin(t, s, 10*time.Second)
	if err != nil {
		t.Fatalf("poll after the crash: %v", err)
	}
	if !reflect.DeepEqual(p, fakePoll(1)) {
		t.Errorf("poll after the crash: %+v", p)
	}
}

func TestHostenginePollErrorEndsReader(t *testing.T) {
	s := newFakeSource(t, "poll-error-once", HostengineOptions{})
	_, err := pollWithin(t, s, 10*time.Second)
	if !errors.Is(err, ErrHostengine) || !strings.Contains(err.Error(), "error code -21") {
		t.Fatalf("want ErrHostengine with DCGM's text, got %v", err)
	}
	if s.child != nil {
		t.Error("the reader that failed a poll is still held")
	}
	if _, err := pollWithin(t, s, 10*time.Second); err != nil {
		t.Fatalf("poll after the failed poll: %v", err)
	}
}

func TestHostengineMalformedLines(t *testing.T) {
	for _, mode := range []string{"malformed", "noise"} {
		t.Run(mode, func(t *testing.T) {
			s := newFakeSource(t, mode, HostengineOptions{})
			for i := range 2 {
				_, err := pollWithin(t, s, 10*time.Second)
				t.Log(err)
				if !errors.Is(err, ErrReaderProtocol) {
					t.Fatalf("poll %d: want ErrReaderProtocol, got %v", i, err)
				}
				if s.child != nil {
					t.Fatalf("poll %d: a reader out of step is still held", i)
				}
			}
		})
	}
}

func TestHostengineProtocolVersion(t *testing.T) {
	s := newFakeSource(t, "old-protocol", HostengineOptions{})
	if _, err := pollWithin(t, s, 10*time.Second); !errors.Is(err, ErrReaderProtocol) || !strings.Contains(err.Error(), "protocol 2") {
		t.Fatalf("want ErrReaderProtocol naming the version, got %v", err)
	}
}

func TestHostengineMissingExecutable(t *testing.T) {
	s := NewHostengineSource("127.0.0.1:1", HostengineOptions{Command: func(ctx context.Context) *exec.Cmd {
		return exec.CommandContext(ctx, "/nonexistent/portal", "dcgm-reader")
	}})
	defer s.Close()
	if _, err := pollWithin(t, s, 5*time.Second); !errors.Is(err, ErrReaderExited) {
		t.Fatalf("want ErrReaderExited, got %v", err)
	}
	// Without a Command, a test binary refuses to re-execute itself.
	d := NewHostengineSource("127.0.0.1:1", HostengineOptions{})
	defer d.Close()
	if _, err := pollWithin(t, d, 5*time.Second); !errors.Is(err, ErrReaderExited) || !strings.Contains(err.Error(), "test binary") {
		t.Fatalf("default command in a test binary: %v", err)
	}
}

// After a failed open the reader reports it and never touches the backend
// again (after a failed dcgm.Init any go-dcgm call kills the process).
func TestServeReaderNeverCallsPastFailedOpen(t *testing.T) {
	b := &fakeBackend{openErr: failure(kindNoLibrary, errors.New("libdcgm.so.4 not found"))}
	var out bytes.Buffer
	err := serveReader(context.Background(), b, strings.NewReader("poll\npoll\n"), &out)
	if err == nil {
		t.Fatal("want the open error back")
	}
	if !reflect.DeepEqual(b.calls, []string{"open"}) {
		t.Errorf("backend calls %v, want only open", b.calls)
	}
	var m readerMessage
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if m.Type != msgError || m.Kind != kindNoLibrary || m.Error != "libdcgm.so.4 not found" {
		t.Errorf("message %+v", m)
	}
	if got := m.err("").Error(); !strings.HasPrefix(got, "DCGM library not installed: libdcgm.so.4 not found") {
		t.Errorf("parent-side text %q", got)
	}
}

func TestServeReaderRequests(t *testing.T) {
	b := &fakeBackend{}
	var out bytes.Buffer
	if err := serveReader(context.Background(), b, strings.NewReader("poll\n\nfrobnicate\npoll\n"), &out); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m readerMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		types = append(types, m.Type+"/"+m.Kind)
	}
	if want := []string{"ready/", "poll/", "error/protocol", "poll/"}; !reflect.DeepEqual(types, want) {
		t.Errorf("answers %v, want %v", types, want)
	}
	if !reflect.DeepEqual(b.calls, []string{"open", "poll", "poll", "close"}) {
		t.Errorf("backend calls %v", b.calls)
	}
}

func TestReaderMainUsage(t *testing.T) {
	var out, errb bytes.Buffer
	err := ReaderMain(context.Background(), []string{"--interval", "1s"}, strings.NewReader(""), &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "--address is required") {
		t.Fatalf("err %v", err)
	}
	var m readerMessage
	if json.Unmarshal(out.Bytes(), &m) != nil || m.Type != msgError || m.Kind != kindUsage {
		t.Errorf("output %q", out.String())
	}
}

// fieldValue builds a go-dcgm value as GetValuesSince returns it.
func fieldValue(group godcgm.Field_Entity_Group, id uint, f godcgm.Short, ts time.Time, v any) godcgm.FieldValue_v2 {
	fv := godcgm.FieldValue_v2{EntityGroupId: group, EntityID: id, FieldID: f, TS: ts.UnixMicro()}
	switch x := v.(type) {
	case int64:
		fv.FieldType = godcgm.DCGM_FT_INT64
		binary.NativeEndian.PutUint64(fv.Value[:], uint64(x))
	case float64:
		fv.FieldType = godcgm.DCGM_FT_DOUBLE
		binary.NativeEndian.PutUint64(fv.Value[:], math.Float64bits(x))
	case string:
		fv.FieldType = godcgm.DCGM_FT_STRING
		copy(fv.Value[:], x)
	}
	return fv
}

func TestSamplesFromValues(t *testing.T) {
	gpu0 := dcgmEntity{godcgm.FE_GPU, 0}
	mig := dcgmEntity{godcgm.FE_GPU_I, 7}
	devices := map[dcgmEntity]ReaderGPU{
		gpu0: {Index: 0, UUID: "GPU-0", Model: "NVIDIA B200"},
		mig:  {Index: 0, UUID: "GPU-0", Model: "NVIDIA B200", MIG: "2", Profile: "3g"},
	}
	t0 := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Second)
	us := time.Microsecond
	failed := fieldValue(godcgm.FE_GPU, 0, godcgm.DCGM_FI_DEV_POWER_USAGE, t1, 700.0)
	failed.Status = -21
	values := []godcgm.FieldValue_v2{
		// the second interval first: values are put in time order per device
		fieldValue(godcgm.FE_GPU, 0, godcgm.DCGM_FI_DEV_GPU_UTIL, t1, int64(90)),
		failed,
		fieldValue(godcgm.FE_GPU, 0, godcgm.DCGM_FI_DEV_GPU_UTIL, t0, int64(80)),
		fieldValue(godcgm.FE_GPU, 0, godcgm.DCGM_FI_DEV_POWER_USAGE, t0.Add(3*us), 650.25),
		fieldValue(godcgm.FE_GPU, 0, godcgm.DCGM_FI_PROF_SM_ACTIVE, t0.Add(5*us), 0.5),
		fieldValue(godcgm.FE_GPU, 0, godcgm.DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION, t0.Add(6*us), int64(123456789)),
		fieldValue(godcgm.FE_GPU, 0, godcgm.DCGM_FI_DEV_XID_ERRORS, t0.Add(7*us), godcgm.DCGM_FT_INT64_BLANK),               // blank
		fieldValue(godcgm.FE_GPU, 0, godcgm.DCGM_FI_PROF_GR_ENGINE_ACTIVE, t0.Add(8*us), godcgm.DCGM_FT_FP64_NOT_SUPPORTED), // blank
		fieldValue(godcgm.FE_GPU, 0, godcgm.DCGM_FI_DEV_FB_USED, t1.Add(2*us), int64(1024)),
		fieldValue(godcgm.FE_GPU_I, 7, godcgm.DCGM_FI_DEV_FB_USED, t0.Add(us), int64(512)),
		fieldValue(godcgm.FE_GPU_I, 7, godcgm.DCGM_FI_PROF_GR_ENGINE_ACTIVE, t0.Add(2*us), math.NaN()), // non-finite
		fieldValue(godcgm.FE_GPU, 3, godcgm.DCGM_FI_DEV_GPU_UTIL, t0, int64(1)),                        // unknown device
		fieldValue(godcgm.FE_GPU, 0, godcgm.DCGM_FI_DEV_NAME, t0, "NVIDIA B200"),                       // not a number
	}
	samples, skipped := samplesFromValues(values, devices, "gpu-b07")
	if skipped != 6 {
		t.Errorf("skipped %d, want 6 (failed, two blanks, NaN, unknown device, string)", skipped)
	}
	f := func(v float64) *float64 { return &v }
	want := []Sample{
		{UUID: "GPU-0", Model: "NVIDIA B200", Node: "gpu-b07", Index: 0, Time: t0.Add(6 * us),
			Util: f(80), Power: f(650.25), SMActive: f(0.5), EnergyMJ: f(123456789)},
		{UUID: "GPU-0", MIG: "2", Profile: "3g", Model: "NVIDIA B200", Node: "gpu-b07", Index: 0, Time: t0.Add(us), FBUsed: f(512)},
		{UUID: "GPU-0", Model: "NVIDIA B200", Node: "gpu-b07", Index: 0, Time: t1.Add(2 * us), Util: f(90), FBUsed: f(1024)},
	}
	// Sorted by time: the MIG sample (t0+1µs) comes first.
	want[0], want[1] = want[1], want[0]
	if !reflect.DeepEqual(samples, want) {
		t.Errorf("samples:\n got %s\nwant %s", dump(samples), dump(want))
	}
	// And they survive the protocol's JSON.
	b, err := json.Marshal(readerMessage{Type: msgPoll, Samples: samples})
	if err != nil {
		t.Fatal(err)
	}
	var back readerMessage
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back.Samples, samples) {
		t.Errorf("JSON round trip: %v\n%s", err, dump(back.Samples))
	}
}

func dump(ss []Sample) string {
	b, _ := json.MarshalIndent(ss, "", " ")
	return string(b)
}

func TestNodeOf(t *testing.T) {
	host, _ := os.Hostname()
	for addr, want := range map[string]string{
		"gpu-a01:5555":            "gpu-a01",
		"gpu-a01":                 "gpu-a01",
		"10.1.2.3:5555":           "10.1.2.3",
		"[fd00::5]:5555":          "fd00::5",
		"127.0.0.1:5555":          host,
		"localhost":               host,
		"/run/nvidia/dcgm.sock":   host,
		"unix:///run/dcgm.socket": host,
	} {
		if got := nodeOf(addr); got != want {
			t.Errorf("nodeOf(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestReaderTailLastWord(t *testing.T) {
	tl := &readerTail{max: 64}
	io.WriteString(tl, "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/x.go:3 +0x1\nexit status 2\n")
	if got := tl.lastLine(); got != "exit status 2" && got != "panic: boom" {
		t.Errorf("lastLine %q", got)
	}
	tl = &readerTail{max: 1 << 10}
	io.WriteString(tl, "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n")
	if got := tl.lastLine(); got != "panic: boom" {
		t.Errorf("lastLine %q, want the panic line", got)
	}
}
