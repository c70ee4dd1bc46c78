package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"kaiportal/dcgm"
)

const telemetryUsage = `Usage: portal telemetry probe [--timeout 30s] [--token TOKEN]
                              [--duration 2m --interval 5s [--json]] URL|ADDRESS

Without --duration, fetches one poll and prints the GPUs and field values seen.
With --duration, a dry run: polls every --interval for that long and prints,
per physical GPU, what the collector would record (observed, busy and idle
seconds, mean utilisation, energy, XID events, the MIG breakdown), a summary
by host and model, and the fields missing on every GPU; --json prints it as JSON.
  URL      a dcgm-exporter endpoint, http(s)://host:9400/metrics
  ADDRESS  an nv-hostengine, host[:5555] or a unix socket path, read with
           go-dcgm in a child process (needs DCGM 4's libdcgm.so.4 here)
`

// readerCommand, when set (tests), makes the reader child from its
// arguments instead of re-executing this binary.
var readerCommand func(ctx context.Context, args []string) *exec.Cmd

// runDCGMReader is the hidden `portal dcgm-reader` command: the child
// process that holds one go-dcgm connection for a HostengineSource. It
// speaks the reader protocol on stdin/stdout (see dcgm.ReaderMain).
func runDCGMReader(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return dcgm.ReaderMain(ctx, args, stdin, stdout, stderr)
}

// runTelemetry is `portal telemetry probe URL|ADDRESS`.
func runTelemetry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		fmt.Fprint(stderr, telemetryUsage)
		return errors.New("telemetry: want a subcommand: probe")
	case args[0] == "-h" || args[0] == "--help" || args[0] == "help":
		fmt.Fprint(stdout, telemetryUsage)
		return nil
	case args[0] != "probe":
		fmt.Fprint(stderr, telemetryUsage)
		return fmt.Errorf("telemetry: unknown subcommand %q (want probe)", args[0])
	}
	fs := flag.NewFlagSet("telemetry probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, telemetryUsage) }
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the poll (connecting included)")
	token := fs.String("token", "", "bearer token for a dcgm-exporter behind a proxy")
	duration := fs.Duration("duration", 0, "dry run: poll for this long (0: one poll)")
	interval := fs.Duration("interval", 5*time.Second, "dry run: time between polls")
	asJSON := fs.Bool("json", false, "dry run: print the result as JSON")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errQuiet
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("telemetry probe: want one dcgm-exporter URL or nv-hostengine address")
	}
	target := fs.Arg(0)
	if *duration < 0 || (*duration > 0 && *interval <= 0) {
		return errors.New("telemetry probe: --duration and --interval must be positive")
	}
	clk := newProbeClock()

	var (
		src  dcgm.Source
		what string
		he   *dcgm.HostengineSource
	)
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		what = "dcgm-exporter"
		src = dcgm.NewExporterSource(target, dcgm.ExporterOptions{Timeout: *timeout, BearerToken: *token, Now: clk.Now})
	} else {
		what = "nv-hostengine"
		o := dcgm.HostengineOptions{StartTimeout: *timeout, PollTimeout: *timeout}
		if readerCommand != nil {
			readerArgs := dcgm.ReaderArgs(target, o)
			o.Command = func(ctx context.Context) *exec.Cmd { return readerCommand(ctx, readerArgs) }
		}
		he = dcgm.NewHostengineSource(target, o)
		src = he
	}
	defer src.Close()

	if *duration > 0 {
		// The folder is configured as the collector configures it: with
		// the poll interval for dcgm-exporter, DCGM's sampling interval for
		// nv-hostengine (whose polls bring every sample since the last).
		sampleEvery := *interval
		if he != nil {
			sampleEvery = dcgm.HostengineOptions{}.SampleInterval()
		}
		rep, err := dryRun(ctx, clk, src, what, target, *duration, *interval, sampleEvery, *timeout)
		if err != nil {
			return err
		}
		if he != nil {
			rep.Notes = append(rep.Notes, he.Info().Warnings...)
		}
		if *asJSON {
			err = writeDryRunJSON(stdout, rep)
		} else {
			printDryRun(stdout, rep)
		}
		if err != nil {
			return err
		}
		if rep.Samples == 0 {
			return fmt.Errorf("telemetry probe %s: no GPU values seen in %d polls; is this a %s?", target, rep.Polls, what)
		}
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	p, err := src.Poll(pctx)
	if err != nil {
		return fmt.Errorf("telemetry probe %s: %w", target, err)
	}
	var notes []string
	if he != nil {
		info := he.Info()
		notes = append(notes, fmt.Sprintf("nv-hostengine on %s watches %d devices", info.Node, len(info.GPUs)))
		for _, w := range info.Warnings {
			notes = append(notes, "warning: "+w)
		}
	}
	printProbe(stdout, what, target, p, notes)
	if len(p.Samples) == 0 {
		return fmt.Errorf("telemetry probe %s: no GPU values seen (%d skipped); is this a %s?", target, p.Skipped, what)
	}
	return nil
}

// printProbe writes what one poll saw: a summary line, notes, and the
// latest sample of each device as a table.
func printProbe(w io.Writer, what, target string, p dcgm.Poll, notes []string) {
	latest := map[string]dcgm.Sample{}
	for _, s := range p.Samples {
		if cur, ok := latest[s.Key()]; !ok || !s.Time.Before(cur.Time) {
			latest[s.Key()] = s
		}
	}
	devices := make([]dcgm.Sample, 0, len(latest))
	gpus, migs := 0, 0
	withLabels := false
	for _, s := range latest {
		devices = append(devices, s)
		if s.MIG == "" {
			gpus++
		} else {
			migs++
		}
		withLabels = withLabels || len(s.Labels) > 0
	}
	dcgm.SortSamples(devices)

	fmt.Fprintf(w, "%s %s: %d GPUs, %d MIG instances, %d samples, %d values skipped\n",
		what, target, gpus, migs, len(p.Samples), p.Skipped)
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	if len(devices) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := "NODE\tGPU\tMIG\tUUID\tMODEL\tUTIL %\tGR %\tSM %\tFB MiB\tPOWER W\tENERGY mJ\tXID\tTIME (UTC)"
	if withLabels {
		header += "\tJOB"
	}
	fmt.Fprintln(tw, header)
	for _, s := range devices {
		mig := s.MIG
		if s.Profile != "" {
			mig += " (" + s.Profile + ")"
		}
		row := []string{
			orDash(s.Node), fmt.Sprint(s.Index), orDash(mig), orDash(s.UUID), orDash(s.Model),
			num(s.Util, 1, "%.0f"), num(s.GRActive, 100, "%.1f"), num(s.SMActive, 100, "%.1f"),
			num(s.FBUsed, 1, "%.0f"), num(s.Power, 1, "%.1f"), num(s.EnergyMJ, 1, "%.0f"), num(s.XIDs, 1, "%.0f"),
			s.Time.UTC().Format("15:04:05"),
		}
		if withLabels {
			row = append(row, orDash(labelText(s.Labels)))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
}

func num(v *float64, scale float64, format string) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf(format, *v*scale)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func labelText(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + labels[k]
	}
	return strings.Join(parts, " ")
}
