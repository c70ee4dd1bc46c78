package dcgm

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of the nv-hostengine source. Every error Poll returns wraps one of
// them (errors.Is), with the details in its text.
var (
	// ErrNoLibrary: libdcgm.so.4 could not be loaded on the portal host.
	ErrNoLibrary = errors.New("DCGM library not installed")
	// ErrHostengineUnreachable: the reader could not connect to nv-hostengine.
	ErrHostengineUnreachable = errors.New("nv-hostengine unreachable")
	// ErrHostengine: DCGM answered, but setting up the watches or reading
	// the values failed.
	ErrHostengine = errors.New("DCGM error")
	// ErrReaderTimeout: the reader did not answer before the context ended;
	// the reader has been killed. The error also wraps the context's error.
	ErrReaderTimeout = errors.New("DCGM reader timed out")
	// ErrReaderExited: the reader process ended (crashed, was killed, or
	// could not start). The next Poll starts a fresh one.
	ErrReaderExited = errors.New("DCGM reader exited")
	// ErrReaderProtocol: the reader wrote something that is not a protocol
	// line; the reader has been killed.
	ErrReaderProtocol = errors.New("DCGM reader protocol error")
	// ErrSourceClosed: Poll after Close.
	ErrSourceClosed = errors.New("DCGM source closed")
)

// Error kinds on the reader protocol.
const (
	kindNoLibrary = "no_library" // libdcgm.so.4 not loadable
	kindConnect   = "connect"    // nv-hostengine not reachable
	kindSetup     = "setup"      // connected, but listing GPUs or watching fields failed
	kindPoll      = "poll"       // reading the values failed
	kindProtocol  = "protocol"   // an unknown request
	kindUsage     = "usage"      // bad reader arguments
)

// ReaderError is an error the reader reported on its protocol.
type ReaderError struct {
	Kind    string // no_library, connect, setup, poll, protocol, usage
	Message string // the reader's own text (go-dcgm's error)
	Address string // the nv-hostengine address, when the parent knows it
}

func (e *ReaderError) Error() string {
	at := ""
	if e.Address != "" {
		at = " at " + e.Address
	}
	switch e.Kind {
	case kindNoLibrary:
		return fmt.Sprintf("%s: %s (install NVIDIA DCGM 4, package datacenter-gpu-manager-4-core, on the portal host)", ErrNoLibrary, e.Message)
	case kindConnect:
		return fmt.Sprintf("%s%s: %s", ErrHostengineUnreachable, at, e.Message)
	}
	return fmt.Sprintf("%s%s (%s): %s", ErrHostengine, at, e.Kind, e.Message)
}

// Unwrap maps the kind to ErrNoLibrary, ErrHostengineUnreachable or ErrHostengine.
func (e *ReaderError) Unwrap() error {
	switch e.Kind {
	case kindNoLibrary:
		return ErrNoLibrary
	case kindConnect:
		return ErrHostengineUnreachable
	}
	return ErrHostengine
}

// HostengineOptions configures a HostengineSource. The zero value is usable.
type HostengineOptions struct {
	// Interval is DCGM's sampling interval for the watched fields (default 1 s).
	Interval time.Duration
	// KeepAge is how long nv-hostengine keeps samples between two polls
	// (default 5 min); a poll returns every sample since the previous one.
	KeepAge time.Duration
	// StartTimeout bounds starting the reader, connecting and setting up
	// the watches (default 30 s), within the context of the Poll that starts it.
	StartTimeout time.Duration
	// PollTimeout bounds one poll (default 30 s), within the Poll's context.
	PollTimeout time.Duration
	// Command makes the reader process; ctx carries the values of the Poll
	// that starts it and is cancelled when that reader is stopped (by Close,
	// or after it failed), not when the Poll returns. Default: this executable run as
	// `<exe> dcgm-reader --address … --interval … --keep …` (ReaderArgs).
	Command func(ctx context.Context) *exec.Cmd
	// Stderr, if set, receives a copy of the reader's standard error.
	Stderr io.Writer
}

// SampleInterval is how far apart DCGM samples the watched fields: the
// interval a Folder of this source's samples is configured with.
func (o HostengineOptions) SampleInterval() time.Duration { return o.withDefaults().Interval }

func (o HostengineOptions) withDefaults() HostengineOptions {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.KeepAge <= 0 {
		o.KeepAge = 5 * time.Minute
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 30 * time.Second
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 30 * time.Second
	}
	return o
}

// ReaderArgs is the command line (after the executable) that runs the
// reader for address: the portal's hidden `dcgm-reader` command.
func ReaderArgs(address string, o HostengineOptions) []string {
	o = o.withDefaults()
	return []string{"dcgm-reader", "--address", address, "--interval", o.Interval.String(), "--keep", o.KeepAge.String()}
}

// HostengineSource reads one nv-hostengine through go-dcgm. go-dcgm keeps
// one connection per process in package state, and any call after a failed
// Init kills the process, so the reading happens in a child process (the
// portal binary re-executed as `portal dcgm-reader`), started on the first
// Poll and again on the Poll after it died. Backoff between failed polls is
// the caller's business. Poll and Close are safe for concurrent use.
type HostengineSource struct {
	address string
	opts    HostengineOptions

	mu     sync.Mutex
	child  *readerChild
	info   ReaderInfo
	closed bool
	// connected mirrors child != nil for Connected, which must not wait
	// for a poll in progress.
	connected atomic.Bool
}

var _ Source = (*HostengineSource)(nil)

// NewHostengineSource returns a source for the nv-hostengine at address
// ("host", "host:port", or a unix socket path, optionally "unix://…").
// Nothing starts until the first Poll.
func NewHostengineSource(address string, o HostengineOptions) *HostengineSource {
	return &HostengineSource{address: address, opts: o.withDefaults()}
}

// Connected reports whether the reader is running and connected: until
// it is, a Poll first starts it, which may take up to StartTimeout.
func (s *HostengineSource) Connected() bool { return s.connected.Load() }

// Address is the nv-hostengine address this source reads.
func (s *HostengineSource) Address() string { return s.address }

// Info is what the reader reported when it last connected (zero before).
func (s *HostengineSource) Info() ReaderInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

// Poll returns the samples DCGM recorded since the previous Poll (the first
// one: since the watches began).
func (s *HostengineSource) Poll(ctx context.Context) (Poll, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Poll{}, ErrSourceClosed
	}
	if s.child == nil {
		c, err := s.start(ctx)
		if err != nil {
			return Poll{}, err
		}
		s.child = c
		s.connected.Store(true)
	}
	c := s.child
	ctx, cancel := context.WithTimeout(ctx, s.opts.PollTimeout)
	defer cancel()
	if _, err := io.WriteString(c.stdin, "poll\n"); err != nil {
		// The reader is gone; its stdout tells why (or has ended).
		m, rerr := c.receive(ctx)
		s.kill()
		if rerr != nil {
			return Poll{}, rerr
		}
		if m.Type == msgError {
			return Poll{}, m.err(s.address)
		}
		return Poll{}, fmt.Errorf("%w: writing the request: %v", ErrReaderExited, err)
	}
	m, err := c.receive(ctx)
	if err != nil {
		s.kill()
		return Poll{}, err
	}
	switch m.Type {
	case msgPoll:
		return Poll{Samples: m.Samples, Skipped: m.Skipped}, nil
	case msgError:
		// The reader ends itself after a failed poll (DCGM's state is
		// unknown); the next Poll starts a fresh one.
		s.stop()
		return Poll{}, m.err(s.address)
	}
	s.kill()
	return Poll{}, fmt.Errorf("%w: want a %q line, got %q", ErrReaderProtocol, msgPoll, m.Type)
}

// Close stops the reader: its standard input is closed so that it releases
// its DCGM groups and disconnects, and it is killed if it has not ended
// within a few seconds.
func (s *HostengineSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.stop()
	return nil
}

// start runs the reader and waits for its ready line.
func (s *HostengineSource) start(ctx context.Context) (*readerChild, error) {
	// The reader outlives this Poll: its context ends when it is stopped.
	cctx, ccancel := context.WithCancel(context.WithoutCancel(ctx))
	cmd, err := s.command(cctx)
	if err != nil {
		ccancel()
		return nil, err
	}
	c, err := startReader(cmd, s.opts.Stderr, ccancel)
	if err != nil {
		ccancel()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.StartTimeout)
	defer cancel()
	m, err := c.receive(ctx)
	if err != nil {
		c.kill()
		return nil, err
	}
	switch m.Type {
	case msgReady:
		if m.Protocol != readerProtocol {
			c.kill()
			return nil, fmt.Errorf("%w: the reader speaks protocol %d, want %d (was the portal binary replaced? restart it)",
				ErrReaderProtocol, m.Protocol, readerProtocol)
		}
		s.info = ReaderInfo{Node: m.Node, GPUs: m.GPUs, Warnings: m.Warnings}
		return c, nil
	case msgError:
		c.stop() // it exits by itself after reporting
		return nil, m.err(s.address)
	}
	c.kill()
	return nil, fmt.Errorf("%w: want a %q line, got %q", ErrReaderProtocol, msgReady, m.Type)
}

func (s *HostengineSource) command(ctx context.Context) (*exec.Cmd, error) {
	if s.opts.Command != nil {
		cmd := s.opts.Command(ctx)
		if cmd == nil {
			return nil, fmt.Errorf("%w: no reader command", ErrReaderExited)
		}
		return cmd, nil
	}
	if inTestBinary() {
		// Re-executing a test binary would run its tests again, not the reader.
		return nil, fmt.Errorf("%w: the reader cannot be started from a test binary; set HostengineOptions.Command", ErrReaderExited)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("%w: cannot find the portal executable: %v", ErrReaderExited, err)
	}
	return exec.CommandContext(ctx, exe, ReaderArgs(s.address, s.opts)...), nil
}

// inTestBinary reports whether this process is a `go test` binary, which
// registers the -test.* flags before any test runs.
func inTestBinary() bool {
	return flag.Lookup("test.v") != nil
}

// stop ends the current reader gracefully (see readerChild.stop).
func (s *HostengineSource) stop() {
	if s.child != nil {
		s.child.stop()
		s.child = nil
		s.connected.Store(false)
	}
}

// kill ends the current reader at once.
func (s *HostengineSource) kill() {
	if s.child != nil {
		s.child.kill()
		s.child = nil
		s.connected.Store(false)
	}
}

// readerChild is one running reader process.
type readerChild struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *os.File // our end of the reader's stdout
	lines  chan []byte
	done   chan struct{} // closed when we stop listening
	exited chan struct{} // closed when Wait has returned
	tail   *readerTail
	cancel context.CancelFunc // ends the context the command was made with

	readErr error // set before lines is closed
	waitErr error // set before exited is closed
	once    sync.Once
}

const (
	readerGrace    = 3 * time.Second // for the reader to release DCGM and exit
	readerMaxLine  = 64 << 20        // one poll's JSON line
	readerTailSize = 4 << 10         // stderr kept for error messages
)

func startReader(cmd *exec.Cmd, stderr io.Writer, cancel context.CancelFunc) (*readerChild, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReaderExited, err)
	}
	c := &readerChild{
		cmd:    cmd,
		stdout: r,
		lines:  make(chan []byte),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
		tail:   &readerTail{max: readerTailSize},
		cancel: cancel,
	}
	// Our own pipe rather than StdoutPipe: reading it does not race with
	// Wait, so a reader that dies leaves its last lines readable.
	cmd.Stdout = w
	if stderr != nil {
		cmd.Stderr = io.MultiWriter(c.tail, stderr)
	} else {
		cmd.Stderr = c.tail
	}
	cmd.WaitDelay = readerGrace
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("%w: %v", ErrReaderExited, err)
	}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("%w: cannot start %s: %v", ErrReaderExited, cmd.Path, err)
	}
	w.Close()
	go c.read()
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

func (c *readerChild) read() {
	defer close(c.lines)
	sc := bufio.NewScanner(c.stdout)
	sc.Buffer(make([]byte, 0, 64<<10), readerMaxLine)
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		select {
		case c.lines <- line:
		case <-c.done:
			return
		}
	}
	c.readErr = sc.Err()
}

// receive reads the reader's next line.
func (c *readerChild) receive(ctx context.Context) (readerMessage, error) {
	var m readerMessage
	select {
	case line, ok := <-c.lines:
		if !ok {
			if c.readErr != nil {
				return m, fmt.Errorf("%w: reading the reader's output: %v", ErrReaderProtocol, c.readErr)
			}
			return m, c.exitError()
		}
		if err := json.Unmarshal(line, &m); err != nil || m.Type == "" {
			if err == nil {
				err = errors.New("no type")
			}
			return m, fmt.Errorf("%w: %v in line %q", ErrReaderProtocol, err, clip(string(line), 200))
		}
		return m, nil
	case <-ctx.Done():
		return m, fmt.Errorf("%w: no answer: %w", ErrReaderTimeout, ctx.Err())
	}
}

// exitError describes a reader whose output has ended.
func (c *readerChild) exitError() error {
	select {
	case <-c.exited:
	case <-time.After(readerGrace):
		c.kill()
	}
	why := "exit status unknown"
	if c.waitErr != nil {
		why = c.waitErr.Error()
	} else if c.cmd.ProcessState != nil {
		why = c.cmd.ProcessState.String()
	}
	if last := c.tail.lastLine(); last != "" {
		return fmt.Errorf("%w (%s): %s", ErrReaderExited, why, clip(last, 300))
	}
	return fmt.Errorf("%w (%s)", ErrReaderExited, why)
}

// stop closes the reader's stdin (it then releases DCGM and exits) and
// kills it if it has not exited within readerGrace.
func (c *readerChild) stop() {
	c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(readerGrace):
	}
	c.kill()
}

// kill ends the reader at once and waits for it.
func (c *readerChild) kill() {
	c.once.Do(func() {
		close(c.done)
		if c.cmd.Process != nil {
			_ = c.cmd.Process.Kill()
		}
		c.stdout.Close()
		<-c.exited // bounded by WaitDelay
		c.cancel()
	})
}

// readerTail keeps the last bytes of the reader's stderr.
type readerTail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *readerTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// lastLine is the reader's last word: its last "panic:", "fatal error:" or
// "portal:" line if it wrote one (a Go crash ends with a stack trace), else
// its last line.
func (t *readerTail) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.b)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "portal:") {
			return l
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
