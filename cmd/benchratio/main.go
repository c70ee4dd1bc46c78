// Command benchratio turns measurements into ratios against a baseline
// measured in the same run, so figures from different machines compare.
//
//	go test -run '^$' -bench . ./... | benchratio        Go benchmarks: each ÷ its package's Baseline benchmark
//	benchratio -load -portal bin/portal                 HTTP load with wrk: each page's req/s ÷ /healthz's
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func main() {
	load := flag.Bool("load", false, "run the HTTP load test with wrk instead of reading benchmark output")
	portal := flag.String("portal", "bin/portal", "portal binary for the load test")
	duration := flag.Duration("duration", 5*time.Second, "wrk duration per page")
	flag.Parse()
	var err error
	if *load {
		err = loadTest(*portal, *duration, os.Stdout)
	} else {
		err = ratios(os.Stdin, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(1)
	}
}

var (
	benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)
	// customMetric is a figure a benchmark reports itself (b.ReportMetric), e.g. samples/s.
	customMetric = regexp.MustCompile(`\s([\d.e+]+) ([A-Za-z][\w-]*/s|heap-MiB|ms/op)`)
)

// ratios reads `go test -bench` output and prints every benchmark's ns/op
// divided by the ns/op of the Baseline benchmark of the same package.
func ratios(r io.Reader, w io.Writer) error {
	type result struct {
		name  string
		ns    float64
		extra string
	}
	var pkg string
	byPkg := map[string][]result{}
	var order []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(w, line)
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = p
			order = append(order, pkg)
			continue
		}
		if m := benchLine.FindStringSubmatch(line); m != nil {
			ns, _ := strconv.ParseFloat(m[2], 64)
			var extra []string
			for _, cm := range customMetric.FindAllStringSubmatch(line, -1) {
				extra = append(extra, cm[1]+" "+cm[2])
			}
			byPkg[pkg] = append(byPkg[pkg], result{m[1], ns, strings.Join(extra, ", ")})
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nRatios to the baseline of the same package and run (lower is cheaper):")
	for _, p := range order {
		var base float64
		var baseName string
		for _, r := range byPkg[p] {
			if strings.Contains(r.name, "Baseline") {
				base, baseName = r.ns, r.name
			}
		}
		if base == 0 {
			continue
		}
		fmt.Fprintf(w, "%s (baseline %s = %.0f ns/op)\n", p, baseName, base)
		for _, r := range byPkg[p] {
			if r.name != baseName {
				fmt.Fprintf(w, "  %-50s %12.4g×  %s\n", r.name, r.ns/base, r.extra)
			}
		}
	}
	return nil
}

// loadTest starts the portal on a free loopback port with a fresh data
// directory, then drives it with wrk: /healthz is the baseline.
func loadTest(portal string, d time.Duration, w io.Writer) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		fmt.Fprintln(w, "load test skipped: wrk is not installed (apt-get install wrk)")
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	dir, err := os.MkdirTemp("", "kai-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if portal, err = filepath.Abs(portal); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, portal, "serve")
	cmd.Env = append(os.Environ(), "PORTAL_ADDR="+addr, "PORTAL_DATA_DIR="+dir, "PORTAL_LOG_LEVEL=error", "PORTAL_MODE=development")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", portal, err)
	}
	defer cmd.Process.Signal(os.Interrupt)
	base := "http://" + addr
	if err := waitReady(base + "/readyz"); err != nil {
		return err
	}
	pages := []string{"/healthz", "/", "/decisions", "/calls/1"}
	rates := map[string]float64{}
	fmt.Fprintf(w, "wrk -t2 -c16 -d%s against the portal on %s (SQLite, demo data)\n", d, addr)
	for _, p := range pages {
		out, err := exec.Command("wrk", "-t2", "-c16", "-d"+d.String(), base+p).CombinedOutput()
		if err != nil {
			return fmt.Errorf("wrk %s: %v\n%s", p, err, out)
		}
		m := regexp.MustCompile(`Requests/sec:\s+([\d.]+)`).FindSubmatch(out)
		if m == nil {
			return fmt.Errorf("wrk %s: no Requests/sec in\n%s", p, out)
		}
		rates[p], _ = strconv.ParseFloat(string(m[1]), 64)
		if regexp.MustCompile(`Non-2xx or 3xx responses`).Match(out) {
			fmt.Fprintf(w, "  warning: %s answered errors under load\n", p)
		}
	}
	fmt.Fprintln(w, "Throughput as a ratio of /healthz's (higher is faster):")
	for _, p := range pages {
		fmt.Fprintf(w, "  %-12s %10.0f req/s  %6.3f×\n", p, rates[p], rates[p]/rates["/healthz"])
	}
	return nil
}

func waitReady(url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("portal did not become ready in 30 s")
}
