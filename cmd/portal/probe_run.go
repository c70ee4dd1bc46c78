package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"kaiportal/dcgm"
)

// probeClock is the dry run's clock: Now stamps the polls, Wait waits for
// the next one. Tests swap in one that moves on without sleeping.
type probeClock interface {
	Now() time.Time
	Wait(ctx context.Context, d time.Duration) error
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// newProbeClock makes the dry run's clock (tests replace it).
var newProbeClock = func() probeClock { return wallClock{} }

// probeFields are the fields the collector reads, by the names
// dcgm-exporter gives them, with how a sample says it carries each.
var probeFields = []struct {
	name string
	has  func(s *dcgm.Sample) bool
}{
	{"modelName", func(s *dcgm.Sample) bool { return s.Model != "" }},
	{"Hostname", func(s *dcgm.Sample) bool { return s.Node != "" }},
	{"DCGM_FI_DEV_GPU_UTIL", func(s *dcgm.Sample) bool { return s.Util != nil }},
	{"DCGM_FI_PROF_GR_ENGINE_ACTIVE", func(s *dcgm.Sample) bool { return s.GRActive != nil }},
	{"DCGM_FI_PROF_SM_ACTIVE", func(s *dcgm.Sample) bool { return s.SMActive != nil }},
	{"DCGM_FI_DEV_FB_USED", func(s *dcgm.Sample) bool { return s.FBUsed != nil }},
	{"DCGM_FI_DEV_POWER_USAGE", func(s *dcgm.Sample) bool { return s.Power != nil }},
	{"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", func(s *dcgm.Sample) bool { return s.EnergyMJ != nil }},
	{"DCGM_FI_DEV_XID_ERRORS", func(s *dcgm.Sample) bool { return s.XIDs != nil }},
}

// probeFigures is what the collector would record for one device over the
// dry run.
type probeFigures struct {
	ObservedS       float64 `json:"observed_s"`
	BusyS           float64 `json:"busy_s"`
	IdleS           float64 `json:"idle_s"`
	MeanUtil        float64 `json:"mean_util_pct"`
	EnergyJ         float64 `json:"energy_j"`
	XIDEvents       int     `json:"xid_events"`
	EnergyAnomalies int     `json:"energy_anomalies"`
	Samples         int     `json:"samples"`
	utilSum         float64
}

func (f *probeFigures) add(r dcgm.Rollup) {
	f.ObservedS += r.ObservedSeconds
	f.BusyS += r.ActiveSeconds
	f.utilSum += r.UtilSum
	f.EnergyJ += r.EnergyJ
	f.XIDEvents += r.XIDCount
	f.EnergyAnomalies += r.EnergyAnomalies
	f.Samples += r.Samples
}

func (f *probeFigures) merge(o probeFigures) {
	f.ObservedS += o.ObservedS
	f.BusyS += o.BusyS
	f.utilSum += o.utilSum
	f.EnergyJ += o.EnergyJ
	f.XIDEvents += o.XIDEvents
	f.EnergyAnomalies += o.EnergyAnomalies
	f.Samples += o.Samples
}

func (f *probeFigures) settle() {
	f.IdleS = f.ObservedS - f.BusyS
	if f.ObservedS > 0 {
		f.MeanUtil = f.utilSum / f.ObservedS
	}
}

type probeInstance struct {
	MIG     string `json:"mig"`
	Profile string `json:"profile,omitempty"`
	probeFigures
}

type probeGPU struct {
	UUID  string `json:"uuid"`
	Node  string `json:"node"`
	Model string `json:"model"`
	probeFigures
	MIG []probeInstance `json:"mig_instances,omitempty"`
}

type probeGroup struct {
	Node         string `json:"node"`
	Model        string `json:"model"`
	GPUs         int    `json:"gpus"`
	MIGInstances int    `json:"mig_instances"`
	probeFigures
}

// probeReport is the dry run's result, as --json prints it.
type probeReport struct {
	Source        string       `json:"source"`
	Target        string       `json:"target"`
	Start         time.Time    `json:"start"`
	End           time.Time    `json:"end"`
	IntervalS     float64      `json:"interval_s"`
	Polls         int          `json:"polls"`
	FailedPolls   int          `json:"failed_polls"`
	Errors        []string     `json:"errors,omitempty"` // the first few
	Samples       int          `json:"samples"`
	Skipped       int          `json:"values_skipped"`
	GPUs          []probeGPU   `json:"gpus"`
	Summary       []probeGroup `json:"summary"`
	MissingFields []string     `json:"missing_fields"`
	Notes         []string     `json:"notes,omitempty"`
}

const maxProbeErrors = 5

// dryRun polls src every interval for duration (both ends included: a
// 2-minute run at 5 s polls 25 times) and folds the samples with the
// collector's Folder, configured for samples sampleEvery apart, as the
// collector would.
func dryRun(ctx context.Context, clk probeClock, src dcgm.Source, what, target string, duration, interval, sampleEvery, timeout time.Duration) (*probeReport, error) {
	rep := &probeReport{Source: what, Target: target, IntervalS: interval.Seconds()}
	fold := dcgm.NewFolder(dcgm.FolderConfig{Interval: sampleEvery})
	seen := make([]bool, len(probeFields))
	rep.Start = clk.Now().UTC()
	for k := 0; ; k++ {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		p, err := src.Poll(pctx)
		cancel()
		rep.Polls++
		if err != nil {
			rep.FailedPolls++
			if len(rep.Errors) < maxProbeErrors {
				rep.Errors = append(rep.Errors, err.Error())
			}
		} else {
			rep.Skipped += p.Skipped
			for i := range p.Samples {
				s := &p.Samples[i]
				for j, f := range probeFields {
					seen[j] = seen[j] || f.has(s)
				}
				fold.Add(*s)
				rep.Samples++
			}
		}
		next := rep.Start.Add(time.Duration(k+1) * interval)
		if next.After(rep.Start.Add(duration)) {
			break
		}
		if err := clk.Wait(ctx, next.Sub(clk.Now())); err != nil {
			return nil, fmt.Errorf("telemetry probe %s: %w", target, err)
		}
	}
	rep.End = clk.Now().UTC()
	for j, f := range probeFields {
		if !seen[j] {
			rep.MissingFields = append(rep.MissingFields, f.name)
		}
	}
	if rep.MissingFields == nil {
		rep.MissingFields = []string{}
	}
	rep.GPUs, rep.Summary = probeFiguresOf(fold.Snapshot())
	if !seen[0] && rep.Samples > 0 {
		rep.Notes = append(rep.Notes, "no GPU model in the telemetry: the portal takes the cluster's registered model")
	}
	return rep, nil
}

// probeFiguresOf adds up the folder's hourly rollups per physical GPU, with
// its MIG instances as a breakdown, and per host and model.
func probeFiguresOf(rs []dcgm.Rollup) ([]probeGPU, []probeGroup) {
	gpus := map[string]*probeGPU{}
	insts := map[string]*probeInstance{}
	gpu := func(r dcgm.Rollup) *probeGPU {
		g := gpus[r.UUID]
		if g == nil {
			g = &probeGPU{UUID: r.UUID}
			gpus[r.UUID] = g
		}
		if r.Node != "" {
			g.Node = r.Node
		}
		if r.Model != "" {
			g.Model = r.Model
		}
		return g
	}
	for _, r := range rs {
		g := gpu(r)
		if r.MIG == "" {
			g.add(r)
			continue
		}
		in := insts[r.Key]
		if in == nil {
			in = &probeInstance{MIG: r.MIG, Profile: r.Profile}
			insts[r.Key] = in
		}
		in.add(r)
	}
	for key, in := range insts {
		g := gpus[strings.SplitN(key, "/", 2)[0]]
		in.settle()
		g.MIG = append(g.MIG, *in)
	}
	out := make([]probeGPU, 0, len(gpus))
	groups := map[[2]string]*probeGroup{}
	for _, g := range gpus {
		g.settle()
		sort.Slice(g.MIG, func(i, j int) bool { return migLess(g.MIG[i].MIG, g.MIG[j].MIG) })
		out = append(out, *g)
		k := [2]string{g.Node, g.Model}
		gr := groups[k]
		if gr == nil {
			gr = &probeGroup{Node: g.Node, Model: g.Model}
			groups[k] = gr
		}
		gr.GPUs++
		gr.MIGInstances += len(g.MIG)
		gr.merge(g.probeFigures)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Node != out[j].Node {
			return out[i].Node < out[j].Node
		}
		return out[i].UUID < out[j].UUID
	})
	sum := make([]probeGroup, 0, len(groups))
	for _, gr := range groups {
		gr.settle()
		sum = append(sum, *gr)
	}
	sort.Slice(sum, func(i, j int) bool {
		if sum[i].Node != sum[j].Node {
			return sum[i].Node < sum[j].Node
		}
		return sum[i].Model < sum[j].Model
	})
	return out, sum
}

func migLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// printDryRun writes the report as tables.
func printDryRun(w io.Writer, rep *probeReport) {
	fmt.Fprintf(w, "%s %s: %d polls every %s over %s (%d failed), %d samples, %d values skipped\n",
		rep.Source, rep.Target, rep.Polls, time.Duration(rep.IntervalS*float64(time.Second)), rep.End.Sub(rep.Start),
		rep.FailedPolls, rep.Samples, rep.Skipped)
	for _, e := range rep.Errors {
		fmt.Fprintln(w, "error: "+e)
	}
	fmt.Fprintln(w, "\nWhat the collector would record, per physical GPU (MIG instances are a breakdown of their GPU):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tUUID / MIG\tMODEL\tOBSERVED s\tBUSY s\tIDLE s\tUTIL %\tENERGY Wh\tXID EVENTS\tENERGY ANOMALIES\tSAMPLES")
	row := func(node, id, model string, f probeFigures, energy bool) {
		e, x, a := fmt.Sprintf("%.3f", f.EnergyJ/3600), fmt.Sprint(f.XIDEvents), fmt.Sprint(f.EnergyAnomalies)
		if !energy {
			e, x, a = "-", "-", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%.0f\t%.0f\t%.1f\t%s\t%s\t%s\t%d\n", node, id, model,
			f.ObservedS, f.BusyS, f.IdleS, f.MeanUtil, e, x, a, f.Samples)
	}
	for _, g := range rep.GPUs {
		row(orDash(g.Node), g.UUID, orDash(g.Model), g.probeFigures, true)
		for _, in := range g.MIG {
			id := "  MIG " + in.MIG
			if in.Profile != "" {
				id += " (" + in.Profile + ")"
			}
			row("", id, "", in.probeFigures, false)
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\nBy host and model:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tMODEL\tGPUS\tMIG\tOBSERVED s\tBUSY s\tIDLE s\tUTIL %\tENERGY Wh\tXID EVENTS")
	for _, g := range rep.Summary {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.0f\t%.0f\t%.0f\t%.1f\t%.3f\t%d\n", orDash(g.Node), orDash(g.Model), g.GPUs,
			g.MIGInstances, g.ObservedS, g.BusyS, g.IdleS, g.MeanUtil, g.EnergyJ/3600, g.XIDEvents)
	}
	tw.Flush()
	missing := "none"
	if len(rep.MissingFields) > 0 {
		missing = strings.Join(rep.MissingFields, ", ")
	}
	fmt.Fprintln(w, "\nFields missing on every GPU: "+missing)
	for _, n := range rep.Notes {
		fmt.Fprintln(w, n)
	}
}

func writeDryRunJSON(w io.Writer, rep *probeReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
