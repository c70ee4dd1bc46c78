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
	"strings"
	"time"
)

// The reader protocol: JSON lines on the reader's stdout, requests as text
// lines on its stdin.
//
//	reader → {"type":"ready","protocol":1,"node":"gpu-a01","gpus":[{"index":0,"uuid":"GPU-…","model":"NVIDIA H100 80GB HBM3"}],"warnings":[…]}
//	      or {"type":"error","kind":"no_library"|"connect"|"setup"|"usage","error":"…"}, then it exits
//	parent → poll
//	reader → {"type":"poll","samples":[Sample…],"skipped":3}
//	      or {"type":"error","kind":"poll","error":"…"}, then it exits
//	parent closes stdin → the reader releases its DCGM groups, disconnects and exits 0.
//
// The reader never calls go-dcgm again after a failed Init: it reports the
// error and returns.
const readerProtocol = 1

const (
	msgReady = "ready"
	msgPoll  = "poll"
	msgError = "error"
)

type readerMessage struct {
	Type     string      `json:"type"`
	Protocol int         `json:"protocol,omitempty"`
	Node     string      `json:"node,omitempty"`
	GPUs     []ReaderGPU `json:"gpus,omitempty"`
	Warnings []string    `json:"warnings,omitempty"`
	Samples  []Sample    `json:"samples,omitempty"`
	Skipped  int         `json:"skipped,omitempty"`
	Kind     string      `json:"kind,omitempty"`
	Error    string      `json:"error,omitempty"`
}

func (m readerMessage) err(address string) error {
	return &ReaderError{Kind: m.Kind, Message: m.Error, Address: address}
}

// ReaderGPU is one device the reader watches.
type ReaderGPU struct {
	Index int    `json:"index"`
	UUID  string `json:"uuid"`
	Model string `json:"model,omitempty"`
	MIG   string `json:"mig,omitempty"` // GPU instance id, "" for a whole GPU
	// Profile names a MIG instance's size as "<slices>g" (e.g. "3g"), the
	// part of dcgm-exporter's GPU_I_PROFILE that weighs it in its GPU.
	Profile string `json:"profile,omitempty"`
}

// ReaderInfo is what a reader reported when it connected.
type ReaderInfo struct {
	Node     string
	GPUs     []ReaderGPU
	Warnings []string // e.g. profiling fields unavailable, a GPU without device info
}

// ReaderOptions are the reader's settings (its command-line flags).
type ReaderOptions struct {
	Address  string
	Interval time.Duration // DCGM update interval
	KeepAge  time.Duration // DCGM max keep age
}

// readerBackend is what the reader drives: go-dcgm in the real reader, a
// fake in tests. open is called once; after a failed open nothing else is.
type readerBackend interface {
	open(ctx context.Context) (ReaderInfo, error)
	poll(ctx context.Context) (Poll, error)
	close()
}

// readerFailure is an error with its protocol kind.
type readerFailure struct {
	kind string
	err  error
}

func (f *readerFailure) Error() string { return f.err.Error() }
func (f *readerFailure) Unwrap() error { return f.err }

func failure(kind string, err error) error { return &readerFailure{kind: kind, err: err} }

func kindOf(err error, fallback string) string {
	var f *readerFailure
	if errors.As(err, &f) {
		return f.kind
	}
	return fallback
}

// ReaderMain is the `portal dcgm-reader` command: args are its flags
// (ReaderArgs), stdin carries requests and stdout the protocol. When stdout
// is the process's standard output, file descriptor 1 is pointed at stderr
// and the protocol gets a private copy, so that nothing the C library prints
// can corrupt it. It returns when stdin ends, ctx ends, or after reporting
// an error (the error is returned too, for the exit status).
func ReaderMain(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dcgm-reader", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o ReaderOptions
	fs.StringVar(&o.Address, "address", "", "nv-hostengine address: host[:port] or a unix socket path")
	fs.DurationVar(&o.Interval, "interval", time.Second, "DCGM update interval of the watched fields")
	fs.DurationVar(&o.KeepAge, "keep", 5*time.Minute, "how long nv-hostengine keeps samples between polls")
	out := stdout
	if f, ok := stdout.(*os.File); ok && f == os.Stdout {
		if p, err := protectStdout(); err == nil {
			out = p
			defer p.Close()
		}
	}
	err := fs.Parse(args)
	if err == nil && o.Address == "" {
		err = errors.New("--address is required")
	}
	if err == nil && (o.Interval < time.Millisecond || o.KeepAge < o.Interval) {
		err = fmt.Errorf("--interval %s / --keep %s: want an interval of at least 1ms and keep ≥ interval", o.Interval, o.KeepAge)
	}
	if err != nil {
		_ = json.NewEncoder(out).Encode(readerMessage{Type: msgError, Kind: kindUsage, Error: err.Error()})
		return fmt.Errorf("dcgm-reader: %w", err)
	}
	return serveReader(ctx, newHostengineBackend(o), stdin, out)
}

// serveReader runs the protocol over a backend.
func serveReader(ctx context.Context, b readerBackend, in io.Reader, out io.Writer) error {
	w := bufio.NewWriter(out)
	send := func(m readerMessage) error {
		line, err := json.Marshal(m)
		if err != nil {
			line, _ = json.Marshal(readerMessage{Type: msgError, Kind: kindPoll, Error: "encoding the answer: " + err.Error()})
		}
		w.Write(line)
		w.WriteByte('\n')
		return w.Flush()
	}
	info, err := b.open(ctx)
	if err != nil {
		// Never touch the backend again: after a failed dcgm.Init any go-dcgm
		// call crashes the process.
		_ = send(readerMessage{Type: msgError, Kind: kindOf(err, kindSetup), Error: err.Error()})
		return err
	}
	defer b.close()
	if err := send(readerMessage{Type: msgReady, Protocol: readerProtocol, Node: info.Node, GPUs: info.GPUs, Warnings: info.Warnings}); err != nil {
		return err
	}

	reqs := make(chan string)
	go func() {
		defer close(reqs)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case reqs <- strings.TrimSpace(sc.Text()):
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		var req string
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case req, ok = <-reqs:
		}
		switch {
		case !ok:
			return nil // the parent closed stdin: done
		case req == "":
		case req == "poll":
			p, err := b.poll(ctx)
			if err != nil {
				_ = send(readerMessage{Type: msgError, Kind: kindOf(err, kindPoll), Error: err.Error()})
				return err
			}
			if err := send(readerMessage{Type: msgPoll, Samples: p.Samples, Skipped: p.Skipped}); err != nil {
				return err
			}
		default:
			if err := send(readerMessage{Type: msgError, Kind: kindProtocol, Error: fmt.Sprintf("unknown request %q", clip(req, 80))}); err != nil {
				return err
			}
		}
	}
}
