// Command portal runs the K-AI programme portal and its maintenance tasks.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"gorm.io/gorm"

	"kaiportal/config"
	"kaiportal/dcgm"
	"kaiportal/demo"
	"kaiportal/handlers"
	"kaiportal/models"
	"kaiportal/notify"
)

const usage = `portal — the K-AI programme portal

Usage:
  portal [command] [flags]

Commands:
  serve           run the web portal (the default command)
  migrate         apply the database migrations and exit
  seed-demo       load the demo programme (idempotent) and exit
  audit-verify    check the audit trail's hash chain; exit 1 naming the first broken row
  appeal-window   print an appeal window: --announced <RFC 3339> [--days 10] [--rule civil|announcement-day]
                  [--data-dir DIR | --database-url URL] [--as-of <RFC 3339>] (the portal's holidays, imported lists included)
  telemetry       telemetry probe URL|ADDRESS: one poll of a dcgm-exporter URL or an nv-hostengine
                  address; prints the GPUs and field values seen
  collect         run the GPU telemetry collector alone, without the web portal (serve runs it too);
                  its metrics at PORTAL_COLLECT_METRICS_ADDR/metrics
  compact-telemetry  compact hourly GPU rollups older than --months N (default
                  PORTAL_TELEMETRY_HOURLY_RETENTION_MONTHS) into the daily ones, and exit

Settings come from the environment and an optional .env file; .env.example
documents every one. Run 'portal <command> -h' for a command's flags.
`

// gcPercent is the Go collector's target when GOGC is not set: the portal
// keeps pages, sessions and catalogues in memory and makes little garbage
// per request, so collecting at 5× the live heap rather than 2× spends far
// less CPU on the collector (measured in BENCHMARKS.md) for a heap of a few
// hundred MiB at most.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errQuiet) {
			fmt.Fprintln(os.Stderr, "portal:", err)
		}
		os.Exit(1)
	}
}

// errQuiet is an error already reported to the user.
var errQuiet = errors.New("reported")

// run is the whole program: it parses the command, loads the settings and
// runs the command until ctx ends.
func run(ctx context.Context, args []string, getenv config.Getenv, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "appeal-window":
		return appealWindow(ctx, args, stdout, stderr)
	case "telemetry":
		return runTelemetry(ctx, args, stdout, stderr)
	case "dcgm-reader": // hidden: the go-dcgm reader child of an nv-hostengine source
		return runDCGMReader(ctx, args, os.Stdin, stdout, stderr)
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if cmd != "serve" && cmd != "migrate" && cmd != "seed-demo" && cmd != "audit-verify" && cmd != "collect" &&
		cmd != "compact-telemetry" {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}

	if err := config.LoadDotenv(".env"); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := newLogger(cfg, stderr)
	if cfg.BusyThresholdPct != dcgm.DefaultBusyThresholdPct {
		dcgm.DefaultBusyThresholdPct = cfg.BusyThresholdPct // before any collector folds a sample
	}
	if err := checkDirs(cfg); err != nil {
		return err
	}
	if len(cfg.SessionKey) == 0 {
		// Development only (production refuses to start without a key): a
		// random key kept in the data directory, so sessions survive restarts.
		if cfg.SessionKey, err = devSessionKey(cfg.DataDir); err != nil {
			return err
		}
	}

	// A missing or empty SQLite file is judged before opening creates it.
	state := missingSQLite(cfg)
	if state != "" {
		if err := checkFreshDB(cfg, state, log); err != nil {
			return err
		}
	}
	db, err := openDB(cfg)
	if err != nil {
		return err
	}
	defer models.Close(db)
	if state == "" {
		fresh, err := models.Fresh(ctx, db)
		if err != nil {
			return err
		}
		if fresh {
			if err := checkFreshDB(cfg, "has no portal tables", log); err != nil {
				return err
			}
		}
	}
	if err := models.QuickCheck(ctx, db); err != nil {
		return fmt.Errorf("%w\nthe database %s is damaged: restore it from a backup", err, cfg.SQLitePath())
	}
	if err := models.Migrate(ctx, db); err != nil {
		return err
	}
	// Notices recorded by any command queue their mail in the outbox;
	// serve's mail worker sends it.
	if err := notify.Register(db, cfg.Mail.DigestHour); err != nil {
		return err
	}
	if cmd != "audit-verify" { // which reports a broken chain itself
		if err := checkAuditTail(ctx, db); err != nil {
			return err
		}
	}
	var secrets *models.SecretBox
	if cmd == "serve" || cmd == "collect" || cmd == "migrate" {
		if secrets, err = openSecrets(ctx, cfg, db, log); err != nil {
			return err
		}
	}

	switch cmd {
	case "migrate":
		fmt.Fprintln(stdout, "migrations applied")
		return nil
	case "seed-demo":
		if err := seedDemo(ctx, cfg, db); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "demo programme loaded")
		return nil
	case "audit-verify":
		return auditVerify(ctx, db, stdout)
	case "collect":
		return runCollect(ctx, cfg, db, secrets, log)
	case "compact-telemetry":
		return compactTelemetry(ctx, cfg, db, args, stdout, stderr)
	}
	return serve(ctx, cfg, db, secrets, log)
}

// openSecrets builds the box that seals the clusters' bearer tokens from
// PORTAL_SECRET_KEY and readies the stored tokens for it: tokens still in
// the clear are sealed now, and one that this key cannot open stops the
// start (see models.SealClusterTokens). Without a key (production only) the
// box is nil: the portal runs as long as no cluster has a token.
func openSecrets(ctx context.Context, cfg *config.Config, db *gorm.DB, log *slog.Logger) (*models.SecretBox, error) {
	var box *models.SecretBox
	if len(cfg.SecretKey) > 0 {
		var err error
		if box, err = models.NewSecretBox(cfg.SecretKey); err != nil {
			return nil, fmt.Errorf("PORTAL_SECRET_KEY: %w", err)
		}
	}
	if box == nil {
		log.Warn("PORTAL_SECRET_KEY is not set: clusters cannot be given a bearer token")
	}
	if cfg.SecretKeyIsDev {
		log.Warn("PORTAL_SECRET_KEY is not set: cluster bearer tokens are sealed with the public development key; set a key of your own before storing real tokens",
			"key_id", box.KeyID())
	}
	n, err := models.SealClusterTokens(ctx, db, box, time.Now())
	if err != nil {
		return nil, fmt.Errorf("cluster bearer tokens: %w", err)
	}
	if n > 0 {
		log.Info("cluster bearer tokens stored in the clear were sealed", "count", n, "key_id", box.KeyID())
	}
	return box, nil
}

// checkDirs makes sure that the data directory, the file store in it and
// the SQLite database's directory exist, are directories and take new
// files, so that a start fails naming the real cause (a read-only file
// system, a permission, a file in the way), not with what SQLite makes of it.
func checkDirs(cfg *config.Config) error {
	dirs := []struct{ path, what string }{
		{cfg.DataDir, "data directory (PORTAL_DATA_DIR)"},
		{filepath.Join(cfg.DataDir, "files"), "file store"},
	}
	if !cfg.UsesPostgres() {
		dirs = append(dirs, struct{ path, what string }{filepath.Dir(cfg.SQLitePath()), "database directory (DATABASE_URL)"})
	}
	for _, d := range dirs {
		fi, err := os.Stat(d.path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.MkdirAll(d.path, 0o750); err != nil {
				return fmt.Errorf("%s %s cannot be created: %w", d.what, d.path, err)
			}
		case err != nil:
			return fmt.Errorf("%s %s: %w", d.what, d.path, err)
		case !fi.IsDir():
			return fmt.Errorf("%s %s is a file, not a directory", d.what, d.path)
		}
		if err := models.ProbeWritable(d.path); err != nil {
			return fmt.Errorf("%s %s does not take new files: %w", d.what, d.path, err)
		}
	}
	if cfg.UsesPostgres() {
		return nil
	}
	path := cfg.SQLitePath()
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("database %s: %w", path, err)
	case fi.IsDir():
		return fmt.Errorf("database %s is a directory, not a SQLite file", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("database %s cannot be written: %w", path, err)
	}
	return f.Close()
}

// missingSQLite says whether the SQLite file is missing or empty; "" when
// it has content or the database is PostgreSQL.
func missingSQLite(cfg *config.Config) string {
	if cfg.UsesPostgres() {
		return ""
	}
	fi, err := os.Stat(cfg.SQLitePath())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "did not exist"
	case err == nil && fi.Size() == 0:
		return "was an empty file"
	}
	return ""
}

// checkFreshDB is called for a database that is new or empty (state says
// how). Beside a file store that holds files, the database that went with
// them was lost or replaced, and starting would silently begin a new one:
// production refuses; development goes on, saying so.
func checkFreshDB(cfg *config.Config, state string, log *slog.Logger) error {
	store, err := models.NewFileStore(filepath.Join(cfg.DataDir, "files"))
	if err != nil {
		return err
	}
	n, err := store.CountContents()
	if err != nil || n == 0 {
		return err
	}
	name := "the PostgreSQL database (DATABASE_URL)"
	if !cfg.UsesPostgres() {
		name = "the SQLite database " + cfg.SQLitePath()
	}
	if cfg.Production() {
		return fmt.Errorf("%s %s, but the file store %s holds %d files: the database that goes with them "+
			"was lost or replaced. Refusing to start on a new, empty database in production: restore the "+
			"database from the backup taken with these files, or move the file store aside to start afresh",
			name, state, store.Dir(), n)
	}
	log.Warn("the database was empty beside a file store that holds files: starting on a new, empty database; "+
		"the stored files belong to no row (production refuses this)",
		"database", name, "state", state, "file_store", store.Dir(), "files", n)
	return nil
}

// auditTailRows is how many of the newest audit rows every start verifies.
const auditTailRows = 100

// checkAuditTail verifies the newest audit rows, so that a damaged or
// rewritten trail stops the start.
func checkAuditTail(ctx context.Context, db *gorm.DB) error {
	check, err := models.VerifyAuditTail(ctx, db, auditTailRows)
	if err != nil {
		return err
	}
	if !check.OK() {
		return fmt.Errorf("audit trail broken at row %d: %s. Refusing to start; "+
			"run 'portal audit-verify' to check the whole chain, and restore the database from a backup",
			check.BrokenID, check.BrokenWhy)
	}
	return nil
}

// devSessionKey reads, or creates, the development session key file.
func devSessionKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, "session.key")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	key := []byte(models.RandomToken(48))
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	return key, nil
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func openDB(cfg *config.Config) (*gorm.DB, error) {
	if cfg.UsesPostgres() {
		return models.OpenPostgres(cfg.DatabaseURL, time.Now)
	}
	// SQLite waits for a lock no longer than a request may take.
	return models.OpenSQLiteWait(cfg.SQLitePath(), time.Now, cfg.DBRequestTimeout)
}

// auditVerify walks the whole chain and records the walk, so that the
// audit pages say when the whole chain was last verified (and report a
// break it found).
func auditVerify(ctx context.Context, db *gorm.DB, stdout io.Writer) error {
	check, err := models.CheckAuditChain(ctx, db, true, time.Now())
	if err != nil {
		return err
	}
	if !check.OK() {
		fmt.Fprintf(stdout, "audit chain BROKEN at row %d: %s (%d rows read)\n", check.BrokenID, check.BrokenWhy, check.Rows)
		return errQuiet
	}
	fmt.Fprintf(stdout, "audit chain ok: %d rows, last hash %s\n", check.Rows, check.LastHash)
	return nil
}

// seedDemo loads the demo programme and its story: the 2025 call, the 15
// applications with their documents, the reviews and the decision of
// 2025-08-04; then an additional call decided a day or so before today, so
// that its appeal window is open on the day the demo is loaded.
func seedDemo(ctx context.Context, cfg *config.Config, db *gorm.DB) error {
	now := time.Now()
	if err := demo.Seed(ctx, db, now); err != nil {
		return err
	}
	files, err := models.NewFileStore(filepath.Join(cfg.DataDir, "files"))
	if err != nil {
		return err
	}
	if err := demo.SeedApplications(ctx, db, files, now); err != nil {
		return err
	}
	if err := demo.SeedAgreements(ctx, db, files, now); err != nil {
		return err
	}
	if err := demo.SeedConsortia(ctx, db, now); err != nil {
		return err
	}
	if err := demo.SeedGPUs(ctx, db, now); err != nil {
		return err
	}
	if err := demo.SeedUsageReports(ctx, db, now); err != nil {
		return err
	}
	if err := demo.SeedSupport(ctx, db, files, now); err != nil {
		return err
	}
	if err := demo.SeedAdditionalCall(ctx, db, files, now); err != nil {
		return err
	}
	if err := demo.SeedStages(ctx, db, files, now); err != nil {
		return err
	}
	// What the story left due (reminders of its open appeal window and
	// opinion period, reports due or late) is in the inboxes from the start.
	return models.SweepNotifications(ctx, db, now, handlers.NotifySettings(cfg))
}

// serve runs the web portal until ctx ends, then drains requests.
func serve(ctx context.Context, cfg *config.Config, db *gorm.DB, secrets *models.SecretBox, log *slog.Logger) error {
	if cfg.DemoData {
		if err := seedDemo(ctx, cfg, db); err != nil {
			return err
		}
	}
	h, err := handlers.New(handlers.Options{DB: db, Config: cfg, Logger: log})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           h.Router(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	stopMail, err := startMail(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	// The mail worker stops, with the mail it is sending settled, before the database closes.
	defer stopMail()
	go h.Cleanup(ctx, 10*time.Minute)
	go h.FinaliseStages(ctx, time.Minute)
	go h.SweepNotifications(ctx, time.Minute)
	if cfg.Collector {
		// The collector stops, having written what it holds, before the database closes.
		defer startCollector(ctx, cfg, db, secrets, log, h.CollectorMetrics())()
	}

	log.Info("portal listening", "addr", ln.Addr().String(), "url", cfg.BaseURL, "mode", cfg.Mode,
		"database", db.Dialector.Name(), "demo_login", cfg.DemoLogin, "oidc", cfg.OIDCEnabled())
	if cfg.DemoLogin {
		log.Warn("demo sign-in is ON: anyone can sign in as a demo user; never use this in production")
	}
	for _, w := range cfg.Warnings() {
		log.Warn(w)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// appealWindow prints the last day and exclusive closing instant of an
// appeal window, for officers drafting a notice. Given the portal's database
// (--data-dir or --database-url) it uses the same holidays as the portal:
// imported lists and one-off holidays as they stood at --as-of (now by
// default); otherwise the built-in table alone, and it says so.
func appealWindow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("appeal-window", flag.ContinueOnError)
	fs.SetOutput(stderr)
	announced := fs.String("announced", "", "announcement instant, RFC 3339 (e.g. 2025-08-04T10:00:00+09:00)")
	days := fs.Int("days", 10, "length of the period in days")
	rule := fs.String("rule", string(models.RuleCivil), "counting rule: civil (first day not counted) or announcement-day")
	dataDir := fs.String("data-dir", "", "the portal's data directory: use the holidays of its SQLite database (portal.db)")
	dbURL := fs.String("database-url", "", "the portal's PostgreSQL database: use its holidays")
	asOf := fs.String("as-of", "", "the instant at which to take the holidays, RFC 3339 (default: now)")
	if err := fs.Parse(args); err != nil {
		return errQuiet
	}
	if *announced == "" {
		return errors.New("appeal-window: --announced is required (RFC 3339, e.g. 2025-08-04T10:00:00+09:00)")
	}
	at, err := time.Parse(time.RFC3339, *announced)
	if err != nil {
		return fmt.Errorf("appeal-window: --announced: want RFC 3339 such as 2025-08-04T10:00:00+09:00, got %q", *announced)
	}
	r, err := models.ParseCountingRule(*rule)
	if err != nil {
		return fmt.Errorf("appeal-window: --rule: %w", err)
	}
	now := time.Now()
	if *asOf != "" {
		if now, err = time.Parse(time.RFC3339, *asOf); err != nil {
			return fmt.Errorf("appeal-window: --as-of: want RFC 3339, got %q", *asOf)
		}
	}
	records, fromDB, err := holidayRecords(ctx, *dataDir, *dbURL)
	if err != nil {
		return fmt.Errorf("appeal-window: %w", err)
	}
	w, moves, err := records.WindowAsOf(at, *days, r, now)
	if err != nil {
		return fmt.Errorf("appeal-window: %w", err)
	}
	fmt.Fprintf(stdout, "rule:      %s\nopens:     %s\nlast day:  %s\ncloses:    %s (exclusive)\n",
		w.Rule, w.Opens.In(models.KST).Format(time.RFC3339), w.LastDay, w.Closes.In(models.KST).Format(time.RFC3339))
	if w.Nominal != w.LastDay {
		fmt.Fprintf(stdout, "note:      day %d falls on %s, a Saturday or public holiday; moved to the next working day (Civil Act §161)\n", *days, w.Nominal)
	}
	for _, s := range w.Sources {
		fmt.Fprintf(stdout, "holidays:  %s\n", describeHolidaySource(s))
	}
	if !fromDB {
		fmt.Fprintln(stdout, "note:      no database given (--data-dir or --database-url): imported lists and one-off holidays are not included")
	}
	for _, m := range moves {
		fmt.Fprintf(stdout, "moved:     at %s from %s to %s (%s)\n", m.At.In(models.KST).Format(time.RFC3339),
			m.From.In(models.KST).Format(time.RFC3339), m.To.In(models.KST).Format(time.RFC3339), m.Cause.Kind)
	}
	return nil
}

// holidayRecords loads the holidays of the portal's database when one is
// named, else the built-in table alone.
func holidayRecords(ctx context.Context, dataDir, dbURL string) (models.HolidayRecords, bool, error) {
	var db *gorm.DB
	var err error
	switch {
	case dataDir != "" && dbURL != "":
		return models.HolidayRecords{}, false, errors.New("give --data-dir or --database-url, not both")
	case dbURL != "":
		db, err = models.OpenPostgres(dbURL, time.Now)
	case dataDir != "":
		path := filepath.Join(dataDir, "portal.db")
		if _, serr := os.Stat(path); serr != nil {
			return models.HolidayRecords{}, false, fmt.Errorf("--data-dir: %w", serr)
		}
		db, err = models.OpenSQLite(path, time.Now)
	default:
		return models.HolidayRecords{}, false, nil
	}
	if err != nil {
		return models.HolidayRecords{}, false, err
	}
	defer models.Close(db)
	r, err := models.LoadHolidayRecords(ctx, db)
	if err != nil {
		return r, false, fmt.Errorf("%w (run 'portal migrate' first if the database is older than this version)", err)
	}
	return r, true, nil
}

func describeHolidaySource(s models.HolidaySource) string {
	out := fmt.Sprintf("%d from the built-in table, version %s", s.Year, s.Builtin)
	if s.ListID != 0 {
		out = fmt.Sprintf("%d from the official list %d imported %s, confirmed %s", s.Year, s.ListID,
			s.ImportedAt.In(models.KST).Format(time.DateOnly), s.ConfirmedAt.In(models.KST).Format(time.RFC3339))
	}
	if s.Extras > 0 {
		out += fmt.Sprintf(", with %d one-off holiday(s)", s.Extras)
	}
	return out
}
