// Command benchratio turns measurements into ratios against a baseline
// measured in the same run, so figures from different machines compare.
//
//	go test -run '^$' -bench . ./... | benchratio        Go benchmarks: each ÷ its package's Baseline benchmark
//	benchratio -load -portal bin/portal                 HTTP load with wrk: each page's req/s ÷ bare gin's serving the same bytes
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
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
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
	// customMetric is a figure a benchmark reports itself (b.ReportMetric),
	// e.g. samples/s, or a ratio to its limit (x-100ms: the time ÷ 100 ms).
	customMetric = regexp.MustCompile(`\s([\d.e+-]+) ([A-Za-z][\w-]*/s|heap-MiB|ms/op|x-\w+)`)
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
// directory, then drives it with wrk: the public pages anonymously, and each
// role's dashboard with the session cookie of a demo sign-in as that role. Each page is compared with a bare gin
// handler, started in this process, that serves the same bytes with the same
// content type: the ratio of their req/s is what the portal costs over gin
// itself, measured in the same run on the same machine.
func loadTest(portal string, d time.Duration, w io.Writer) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		fmt.Fprintln(w, "load test skipped: wrk is not installed (apt-get install wrk)")
		return nil
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
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
	cmd.Env = append(os.Environ(), "PORTAL_ADDR="+addr, "PORTAL_DATA_DIR="+dir, "PORTAL_LOG_LEVEL=error",
		"PORTAL_MODE=development", "PORTAL_RATE_LIMIT_SIGNIN=off", "PORTAL_RATE_LIMIT_API=off", "PORTAL_RATE_LIMIT_POST=off")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", portal, err)
	}
	defer cmd.Process.Signal(os.Interrupt)
	base := "http://" + addr
	if err := waitReady(base + "/readyz"); err != nil {
		return err
	}
	// The portal is ready before its start-up work (the demo's telemetry)
	// is done: measure from when it has gone quiet.
	fmt.Fprintf(w, "portal quiet %s after it was ready\n", settle(cmd.Process.Pid))
	decision, err := firstDecision(base)
	if err != nil {
		return err
	}
	pages := []page{{path: "/"}, {path: "/calls"}, {path: "/calls/1"}, {path: "/decisions"}, {path: decision}, {path: "/k-ai"}}
	for _, role := range []string{"company", "officer", "admin", "auditor"} {
		cookie, err := demoSignIn(base, role)
		if err != nil {
			return err
		}
		pages = append(pages, page{path: "/" + role, role: role, cookie: cookie})
	}
	bare, err := startBare(base, pages)
	if err != nil {
		return err
	}
	defer bare.Close()
	fmt.Fprintf(w, "load average before the run: %s\n", loadAverage())
	defer func() { fmt.Fprintf(w, "load average after the run: %s\n", loadAverage()) }()
	fmt.Fprintf(w, "wrk -t2 -c16 -d%s --latency against the portal on %s (SQLite, demo data)\n", d, addr)
	fmt.Fprintf(w, "and against bare gin on %s serving each page's bytes (no Accept-Encoding: identity bodies)\n", bare.Addr)
	fmt.Fprintf(w, "CPU/req: CPU time of the server process (portal; benchratio itself for bare gin) per request served\n")
	fmt.Fprintf(w, "| page | signed in as | portal req/s | bare gin, same bytes | ratio | portal p99 | bare p99 | portal CPU/req | bare CPU/req | bytes |\n"+
		"| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for i, p := range pages {
		before := processCPU(cmd.Process.Pid)
		pr, err := runWrk(base+p.path, p.cookie, d)
		if err != nil {
			return err
		}
		portalCPU := processCPU(cmd.Process.Pid) - before
		before = processCPU(os.Getpid())
		br, err := runWrk("http://"+bare.Addr+bare.route(i), "", d)
		if err != nil {
			return err
		}
		bareCPU := processCPU(os.Getpid()) - before
		if pr.errors {
			fmt.Fprintf(w, "  warning: %s answered errors under load\n", p.path)
		}
		role := p.role
		if role == "" {
			role = "—"
		}
		fmt.Fprintf(w, "| `%s` | %s | %.0f | %.0f | %.2f | %s | %s | %s | %s | %d |\n", p.path, role, pr.rate, br.rate, pr.rate/br.rate,
			pr.p99, br.p99, perRequest(portalCPU, pr.requests), perRequest(bareCPU, br.requests), len(bare.bodies[i]))
	}
	return nil
}

// page is one page of the load test, fetched anonymously or, with cookie,
// as a demo user signed in with role.
type page struct {
	path, role, cookie string
}

var decisionLink = regexp.MustCompile(`href="(/decisions/\d+)"`)

// firstDecision is the address of the first decision the public list links to.
func firstDecision(base string) (string, error) {
	body, _, err := fetch(base+"/decisions", "")
	if err != nil {
		return "", err
	}
	m := decisionLink.FindSubmatch(body)
	if m == nil {
		return "", errors.New("/decisions links to no decision")
	}
	return string(m[1]), nil
}

// demoForm finds, on the sign-in page, the first demo user of a role: the
// form's user id comes before its button, which names the role.
var demoForm = regexp.MustCompile(`(?s)name="user_id" value="(\d+)"[^<]*<input[^>]*>\s*<button[^>]*data-testid="demo-(\w+)"`)

// demoSignIn signs in through the demo sign-in as the first demo user of
// role and returns the Cookie header that carries the session.
func demoSignIn(base, role string) (string, error) {
	resp, err := http.Get(base + "/auth/signin")
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	var csrf string
	for _, ck := range resp.Cookies() {
		if ck.Name == "kai_csrf" {
			csrf = ck.Value
		}
	}
	var userID string
	for _, m := range demoForm.FindAllSubmatch(body, -1) {
		if string(m[2]) == role {
			userID = string(m[1])
			break
		}
	}
	if csrf == "" || userID == "" {
		return "", fmt.Errorf("the sign-in page offers no demo %s (or no CSRF cookie)", role)
	}
	form := url.Values{"_csrf": {csrf}, "user_id": {userID}, "next": {"/" + role}}
	req, err := http.NewRequest(http.MethodPost, base+"/auth/demo", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "kai_csrf", Value: csrf})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "kai_session" && ck.Value != "" {
			return "kai_session=" + ck.Value + "; kai_csrf=" + csrf, nil
		}
	}
	return "", fmt.Errorf("demo sign-in as %s answered %d without a session cookie", role, resp.StatusCode)
}

// fetch GETs url with the Cookie header cookie and returns the body of a 200.
func fetch(url, cookie string) ([]byte, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, "", err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("%s answered %d", url, resp.StatusCode)
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// loadAverage is the machine's load average over 1, 5 and 15 minutes, as
// /proc/loadavg has it ("unknown" elsewhere): the figures of a machine that
// is busy with other work are low, and their ratios noisy.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// wrkResult is one wrk run: requests per second and the 99th percentile latency.
type wrkResult struct {
	rate     float64
	requests int64
	p99      string
	errors   bool
}

var wrkRequests = regexp.MustCompile(`(\d+) requests in`)

// processCPU is the user and system CPU time a process has used so far
// (Linux, from /proc; zero elsewhere).
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name (which may hold spaces) in parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ
	return time.Duration(utime+stime) * time.Second / ticks
}

// perRequest is CPU time per request, in microseconds.
func perRequest(cpu time.Duration, requests int64) string {
	if cpu <= 0 || requests <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f µs", float64(cpu.Microseconds())/float64(requests))
}

var (
	wrkRate = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkP99  = regexp.MustCompile(`\s99%\s+(\S+)`)
)

func runWrk(url, cookie string, d time.Duration) (wrkResult, error) {
	args := []string{"-t2", "-c16", "-d" + d.String(), "--latency"}
	if cookie != "" {
		args = append(args, "-H", "Cookie: "+cookie)
	}
	out, err := exec.Command("wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %v\n%s", url, err, out)
	}
	m := wrkRate.FindSubmatch(out)
	if m == nil {
		return wrkResult{}, fmt.Errorf("wrk %s: no Requests/sec in\n%s", url, out)
	}
	var r wrkResult
	r.rate, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := wrkRequests.FindSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	if m := wrkP99.FindSubmatch(out); m != nil {
		r.p99 = string(m[1])
	}
	r.errors = strings.Contains(string(out), "Non-2xx or 3xx responses")
	return r, nil
}

// bareServer is gin with nothing but one route per page, each answering the
// bytes the portal answered for that page (with the page's cookie, if any),
// fetched once before the run.
type bareServer struct {
	*http.Server
	Addr   string
	bodies [][]byte
}

// route is the bare server's path for the i-th page.
func (b *bareServer) route(i int) string { return "/page/" + strconv.Itoa(i) }

func startBare(portalBase string, pages []page) (*bareServer, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	b := &bareServer{}
	for i, p := range pages {
		body, ct, err := fetch(portalBase+p.path, p.cookie)
		if err != nil {
			return nil, err
		}
		b.bodies = append(b.bodies, body)
		r.GET(b.route(i), func(c *gin.Context) { c.Data(http.StatusOK, ct, body) })
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b.Addr = ln.Addr().String()
	b.Server = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go b.Serve(ln)
	return b, nil
}

// settle waits, for up to 30 s, until the process pid uses less than 5 %
// of one core over a second, and returns how long it waited.
func settle(pid int) time.Duration {
	start := time.Now()
	for time.Since(start) < 30*time.Second {
		before := processCPU(pid)
		time.Sleep(time.Second)
		if processCPU(pid)-before < 50*time.Millisecond {
			break
		}
	}
	return time.Since(start).Round(100 * time.Millisecond)
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
