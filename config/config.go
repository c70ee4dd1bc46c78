// Package config reads the portal's settings from the environment (and an
// optional .env file) once at start-up. Every variable is documented in
// .env.example with its type and default.
package config

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Modes.
const (
	ModeDevelopment = "development"
	ModeProduction  = "production"
)

// Config holds every setting of the portal.
type Config struct {
	Mode    string
	Addr    string
	BaseURL string
	DataDir string

	DatabaseURL string // empty: SQLite file under DataDir

	SessionKey     []byte
	SessionIdle    time.Duration
	SessionMaxAge  time.Duration
	MaxBodyBytes   int64
	MaxUploadBytes int64
	TrustedProxies []string

	// RoleRecheck is how often a signed-in user's role is asked of the
	// provider again; RoleRecheckGrace how long past that a session is still
	// served while the provider cannot be reached.
	RoleRecheck      time.Duration
	RoleRecheckGrace time.Duration

	OIDCIssuer                string
	OIDCClientID              string
	OIDCClientSecret          string
	OIDCRedirectURL           string
	OIDCScopes                []string
	OIDCRoleClaim             string
	OIDCRoleMap               map[string]string // claim value → portal role
	OIDCOrgClaim              string
	OIDCPostLogoutRedirectURL string

	DemoLogin bool // the bannered demo sign-in (development only)
	DemoData  bool // seed the demo programme at start

	LogLevel     string
	LogFormat    string
	MetricsToken string

	// SecretKey seals the secrets kept in the database (clusters' bearer
	// tokens): 32 bytes from PORTAL_SECRET_KEY; in development without it,
	// DevSecretKey (SecretKeyIsDev). Nil in production without it: then no
	// token can be stored, and the portal refuses to start while one is.
	SecretKey      []byte
	SecretKeyIsDev bool

	// DBRequestTimeout bounds the database work of one request: past it the
	// request answers 503. On SQLite it is also how long a statement waits
	// for another connection's write lock.
	DBRequestTimeout time.Duration

	// PageCacheBytes bounds the memory of the page cache, which serves the
	// public pages and the dashboards again while the data they show has
	// not changed (handlers/pagecache.go); 0 turns it off.
	PageCacheBytes int64

	// Per-client rate limits; a zero RateLimit is no limit.
	RateLimitSignIn RateLimit // GET /auth/login and POST /auth/demo
	RateLimitAPI    RateLimit // GET /api/v1/k-ai/verify
	RateLimitPost   RateLimit // every other POST

	AppealAnswerDays int  // days the ministry has to answer an appeal
	Collector        bool // run the telemetry collector inside serve
	// BusyThresholdPct is the GPU utilisation (percent) at or above which
	// observed time counts as busy; below it, idle. Each rollup records it.
	BusyThresholdPct float64
	// HourlyRetentionMonths: hourly GPU rollups older than this many
	// months are compacted into the daily ones (0: kept for ever). The
	// collector does it every CompactEvery; `portal telemetry compact` does
	// it at once.
	HourlyRetentionMonths int

	// The collector's failure policy: failed polls in a row retried at the
	// cluster's interval, the longest wait between polls of a failing
	// endpoint after that (which bounds how late a recovery is seen), and
	// the failures kept per cluster.
	CollectorRetries        int
	CollectorMaxBackoff     time.Duration
	CollectorFailureHistory int
	// CollectMetricsAddr is where `portal collect` serves its /metrics
	// (the collector's series, as `portal serve` has them); "" serves none.
	CollectMetricsAddr string

	MinFreeBytes int64         // free space /readyz wants in the data directory; 0 checks none
	OrphanAge    time.Duration // stored files no row points to are removed once this old

	// Contact details published in the footer, on /help and /privacy.
	// Empty: the pages say the operator has not set them yet.
	HelpDeskPhone    string
	HelpDeskEmail    string
	PrivacyOfficer   string    // 개인정보 보호책임자: department, title and name
	PrivacyContact   string    // the privacy officer's phone or e-mail
	PrivacyEffective time.Time // the day the privacy policy took effect; zero: not set

	Mail Mail // the notices' mail (config/mail.go)
	// NotifyTiming: reminders before deadlines, allocations ending,
	// telemetry gaps (config/notify.go).
	NotifyTiming NotifyTiming
}

// RateLimit allows N requests per Per to one client, in a burst or spread
// out; the zero value allows everything.
type RateLimit struct {
	N   int
	Per time.Duration
}

// Off reports whether the limit allows everything.
func (r RateLimit) Off() bool { return r.N <= 0 || r.Per <= 0 }

// String writes the limit as it is set: "30/1m0s" or "off".
func (r RateLimit) String() string {
	if r.Off() {
		return "off"
	}
	return strconv.Itoa(r.N) + "/" + r.Per.String()
}

// parseRateLimit reads "N/duration" (e.g. 30/1m) or "off".
func parseRateLimit(name, v string) (RateLimit, error) {
	if strings.EqualFold(v, "off") {
		return RateLimit{}, nil
	}
	n, per, ok := strings.Cut(v, "/")
	count, err := strconv.Atoi(strings.TrimSpace(n))
	d, derr := time.ParseDuration(strings.TrimSpace(per))
	if !ok || err != nil || derr != nil || count < 1 || d <= 0 {
		return RateLimit{}, fmt.Errorf("%s: want requests/duration such as 30/1m, or off, got %q", name, v)
	}
	return RateLimit{N: count, Per: d}, nil
}

// Getenv looks a variable up; os.Getenv in production, a map in tests.
type Getenv func(string) string

// Load reads the configuration from getenv and validates it.
func Load(getenv Getenv) (*Config, error) {
	var errs []error
	str := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	boolean := func(name string, def bool) bool {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: want true or false, got %q", name, v))
			return def
		}
		return b
	}
	duration := func(name string, def time.Duration) time.Duration {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: want a positive duration such as 30m, got %q", name, v))
			return def
		}
		return d
	}

	c := &Config{
		Mode:                      str("PORTAL_MODE", ModeDevelopment),
		Addr:                      str("PORTAL_ADDR", "127.0.0.1:8080"),
		DataDir:                   str("PORTAL_DATA_DIR", "./data"),
		DatabaseURL:               str("DATABASE_URL", ""),
		SessionIdle:               duration("PORTAL_SESSION_IDLE", 30*time.Minute),
		SessionMaxAge:             duration("PORTAL_SESSION_MAX_AGE", 12*time.Hour),
		RoleRecheck:               duration("PORTAL_ROLE_RECHECK", 5*time.Minute),
		RoleRecheckGrace:          duration("PORTAL_ROLE_RECHECK_GRACE", 10*time.Minute),
		OIDCIssuer:                str("OIDC_ISSUER", ""),
		OIDCClientID:              str("OIDC_CLIENT_ID", ""),
		OIDCClientSecret:          str("OIDC_CLIENT_SECRET", ""),
		OIDCRoleClaim:             str("OIDC_ROLE_CLAIM", "groups"),
		OIDCOrgClaim:              str("OIDC_ORG_CLAIM", "org"),
		OIDCPostLogoutRedirectURL: str("OIDC_POST_LOGOUT_REDIRECT_URL", ""),
		LogLevel:                  str("PORTAL_LOG_LEVEL", "info"),
		LogFormat:                 str("PORTAL_LOG_FORMAT", "text"),
		MetricsToken:              str("PORTAL_METRICS_TOKEN", ""),
		DBRequestTimeout:          duration("PORTAL_DB_REQUEST_TIMEOUT", 5*time.Second),
	}
	rateLimit := func(name, def string) RateLimit {
		r, err := parseRateLimit(name, str(name, def))
		if err != nil {
			errs = append(errs, err)
		}
		return r
	}
	c.RateLimitSignIn = rateLimit("PORTAL_RATE_LIMIT_SIGNIN", "30/1m")
	c.RateLimitAPI = rateLimit("PORTAL_RATE_LIMIT_API", "300/1m")
	c.RateLimitPost = rateLimit("PORTAL_RATE_LIMIT_POST", "120/1m")
	c.BaseURL = strings.TrimRight(str("PORTAL_BASE_URL", "http://"+c.Addr), "/")
	c.OIDCRedirectURL = str("OIDC_REDIRECT_URL", c.BaseURL+"/auth/callback")
	c.OIDCScopes = strings.Fields(strings.ReplaceAll(str("OIDC_SCOPES", "openid profile email"), ",", " "))
	if c.OIDCPostLogoutRedirectURL == "" {
		c.OIDCPostLogoutRedirectURL = c.BaseURL + "/"
	}

	maxBody, err := strconv.ParseInt(str("PORTAL_MAX_BODY_BYTES", "1048576"), 10, 64)
	if err != nil || maxBody <= 0 {
		errs = append(errs, fmt.Errorf("PORTAL_MAX_BODY_BYTES: want a positive number of bytes, got %q", getenv("PORTAL_MAX_BODY_BYTES")))
	}
	c.MaxBodyBytes = maxBody
	maxUpload, err := strconv.ParseInt(str("PORTAL_MAX_UPLOAD_BYTES", "20971520"), 10, 64)
	if err != nil || maxUpload <= 0 {
		errs = append(errs, fmt.Errorf("PORTAL_MAX_UPLOAD_BYTES: want a positive number of bytes, got %q", getenv("PORTAL_MAX_UPLOAD_BYTES")))
	}
	c.MaxUploadBytes = maxUpload
	answerDays, err := strconv.Atoi(str("PORTAL_APPEAL_ANSWER_DAYS", "14"))
	if err != nil || answerDays < 1 || answerDays > 365 {
		errs = append(errs, fmt.Errorf("PORTAL_APPEAL_ANSWER_DAYS: want a number of days from 1 to 365, got %q", getenv("PORTAL_APPEAL_ANSWER_DAYS")))
	}
	c.AppealAnswerDays = answerDays
	minFree, err := strconv.ParseInt(str("PORTAL_MIN_FREE_BYTES", "1073741824"), 10, 64)
	if err != nil || minFree < 0 {
		errs = append(errs, fmt.Errorf("PORTAL_MIN_FREE_BYTES: want a number of bytes, 0 or more, got %q", getenv("PORTAL_MIN_FREE_BYTES")))
	}
	c.MinFreeBytes = minFree
	pageCache, err := strconv.ParseInt(str("PORTAL_PAGE_CACHE_BYTES", "33554432"), 10, 64)
	if err != nil || pageCache < 0 {
		errs = append(errs, fmt.Errorf("PORTAL_PAGE_CACHE_BYTES: want a number of bytes, 0 or more, got %q", getenv("PORTAL_PAGE_CACHE_BYTES")))
	}
	c.PageCacheBytes = pageCache
	// An upload being written, or a filing not yet committed, must never look abandoned.
	if c.OrphanAge = duration("PORTAL_ORPHAN_AGE", 24*time.Hour); c.OrphanAge < time.Hour {
		errs = append(errs, fmt.Errorf("PORTAL_ORPHAN_AGE: want at least 1h, got %q", getenv("PORTAL_ORPHAN_AGE")))
	}

	if v := str("PORTAL_TRUSTED_PROXIES", ""); v != "" {
		c.TrustedProxies = strings.Split(strings.ReplaceAll(v, " ", ""), ",")
	}

	roleMap, err := parseRoleMap(str("OIDC_ROLE_MAP", "officer=officer,admin=admin,company=company,auditor=auditor,reviewer=reviewer"))
	if err != nil {
		errs = append(errs, err)
	}
	c.OIDCRoleMap = roleMap

	if key := getenv("PORTAL_SESSION_KEY"); key != "" {
		c.SessionKey = []byte(key)
	}

	dev := c.Mode == ModeDevelopment
	if v := str("PORTAL_SECRET_KEY", ""); v != "" {
		key, err := ParseSecretKey(v)
		if err != nil {
			errs = append(errs, err)
		}
		c.SecretKey = key
	} else if dev {
		c.SecretKey, c.SecretKeyIsDev = DevSecretKey(), true
	}
	c.DemoLogin = boolean("PORTAL_DEMO_LOGIN", dev && c.OIDCIssuer == "")
	c.DemoData = boolean("PORTAL_DEMO_DATA", dev)
	c.Collector = boolean("PORTAL_COLLECTOR", true)
	retries, err := strconv.Atoi(str("PORTAL_COLLECTOR_RETRIES", "3"))
	if err != nil || retries < 0 || retries > 100 {
		errs = append(errs, fmt.Errorf("PORTAL_COLLECTOR_RETRIES: want a number of retries from 0 to 100, got %q", getenv("PORTAL_COLLECTOR_RETRIES")))
	}
	c.CollectorRetries = retries
	if c.CollectorMaxBackoff = duration("PORTAL_COLLECTOR_MAX_BACKOFF", time.Minute); c.CollectorMaxBackoff > time.Hour {
		errs = append(errs, fmt.Errorf("PORTAL_COLLECTOR_MAX_BACKOFF: want at most 1h, got %q", getenv("PORTAL_COLLECTOR_MAX_BACKOFF")))
	}
	history, err := strconv.Atoi(str("PORTAL_COLLECTOR_FAILURE_HISTORY", "100"))
	if err != nil || history < 1 || history > 100000 {
		errs = append(errs, fmt.Errorf("PORTAL_COLLECTOR_FAILURE_HISTORY: want a number of failures from 1 to 100000, got %q",
			getenv("PORTAL_COLLECTOR_FAILURE_HISTORY")))
	}
	c.CollectorFailureHistory = history
	if c.CollectMetricsAddr = str("PORTAL_COLLECT_METRICS_ADDR", "127.0.0.1:9464"); c.CollectMetricsAddr == "off" {
		c.CollectMetricsAddr = ""
	} else if _, _, err := net.SplitHostPort(c.CollectMetricsAddr); err != nil {
		errs = append(errs, fmt.Errorf("PORTAL_COLLECT_METRICS_ADDR: want host:port or off, got %q", c.CollectMetricsAddr))
	}
	busy, err := strconv.ParseFloat(str("PORTAL_GPU_BUSY_THRESHOLD", "5"), 64)
	if err != nil || busy <= 0 || busy > 100 {
		errs = append(errs, fmt.Errorf("PORTAL_GPU_BUSY_THRESHOLD: want a percentage above 0 and at most 100, got %q", getenv("PORTAL_GPU_BUSY_THRESHOLD")))
		busy = 5
	}
	c.BusyThresholdPct = busy
	months, err := strconv.Atoi(str("PORTAL_TELEMETRY_HOURLY_RETENTION_MONTHS", "0"))
	if err != nil || months < 0 || months > 120 {
		errs = append(errs, fmt.Errorf("PORTAL_TELEMETRY_HOURLY_RETENTION_MONTHS: want a number of months from 0 (keep) to 120, got %q",
			getenv("PORTAL_TELEMETRY_HOURLY_RETENTION_MONTHS")))
		months = 0
	}
	c.HourlyRetentionMonths = months

	c.HelpDeskPhone = str("PORTAL_HELPDESK_PHONE", "")
	c.HelpDeskEmail = str("PORTAL_HELPDESK_EMAIL", "")
	c.PrivacyOfficer = str("PORTAL_PRIVACY_OFFICER", "")
	c.PrivacyContact = str("PORTAL_PRIVACY_CONTACT", "")
	if v := str("PORTAL_PRIVACY_EFFECTIVE", ""); v != "" {
		d, err := time.Parse("2006-01-02", v)
		if err != nil {
			errs = append(errs, fmt.Errorf("PORTAL_PRIVACY_EFFECTIVE: want a date YYYY-MM-DD, got %q", v))
		}
		c.PrivacyEffective = d
	}

	mailSettings, mailErrs := loadMail(getenv)
	c.Mail, errs = mailSettings, append(errs, mailErrs...)
	timing, terrs := loadNotifyTiming(getenv)
	c.NotifyTiming, errs = timing, append(errs, terrs...)

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, c.Validate()
}

// Validate checks the rules that join several settings.
func (c *Config) Validate() error {
	var errs []error
	switch c.Mode {
	case ModeDevelopment, ModeProduction:
	default:
		errs = append(errs, fmt.Errorf("PORTAL_MODE: want development or production, got %q", c.Mode))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("PORTAL_ADDR: want host:port, got %q", c.Addr))
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("PORTAL_BASE_URL: want an http(s) URL, got %q", c.BaseURL))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") &&
		!strings.HasPrefix(c.DatabaseURL, "postgresql://") && !strings.HasPrefix(c.DatabaseURL, "sqlite:") {
		errs = append(errs, fmt.Errorf("DATABASE_URL: want postgres://… or sqlite:PATH, got %q", redact(c.DatabaseURL)))
	}
	if c.RoleRecheck > c.SessionMaxAge {
		errs = append(errs, fmt.Errorf("PORTAL_ROLE_RECHECK: %s is longer than PORTAL_SESSION_MAX_AGE (%s), so roles would never be re-checked",
			c.RoleRecheck, c.SessionMaxAge))
	}
	if c.OIDCIssuer != "" {
		if c.OIDCClientID == "" {
			errs = append(errs, errors.New("OIDC_CLIENT_ID: must be set when OIDC_ISSUER is set"))
		}
		if c.OIDCClientSecret == "" {
			errs = append(errs, errors.New("OIDC_CLIENT_SECRET: must be set when OIDC_ISSUER is set"))
		}
	}
	if c.HelpDeskPhone != "" && strings.Trim(c.HelpDeskPhone, "0123456789+-() ") != "" {
		errs = append(errs, fmt.Errorf("PORTAL_HELPDESK_PHONE: want a phone number (digits, spaces, + - ( )), got %q", c.HelpDeskPhone))
	}
	if c.HelpDeskEmail != "" && !plausibleEmail(c.HelpDeskEmail) {
		errs = append(errs, fmt.Errorf("PORTAL_HELPDESK_EMAIL: want an e-mail address, got %q", c.HelpDeskEmail))
	}
	if c.Mode == ModeProduction {
		if c.OIDCIssuer == "" {
			errs = append(errs, errors.New("OIDC_ISSUER: production mode needs an OpenID Connect issuer"))
		}
		if len(c.SessionKey) == 0 {
			errs = append(errs, errors.New("PORTAL_SESSION_KEY: production mode needs a session key of at least 32 bytes"))
		} else if len(c.SessionKey) < 32 {
			errs = append(errs, errors.New("PORTAL_SESSION_KEY: must be at least 32 bytes"))
		}
		if c.DemoLogin {
			errs = append(errs, errors.New("PORTAL_DEMO_LOGIN: the demo sign-in is refused in production mode"))
		}
		if c.SecretKeyIsDev {
			errs = append(errs, errors.New("PORTAL_SECRET_KEY: production mode never uses the public development key"))
		}
	}
	errs = append(errs, c.Mail.validate(c.Mode)...)
	if len(c.SecretKey) != 0 && len(c.SecretKey) != 32 {
		errs = append(errs, fmt.Errorf("PORTAL_SECRET_KEY: want 32 bytes, got %d", len(c.SecretKey)))
	}
	errs = append(errs, c.NotifyTiming.validate()...)
	return errors.Join(errs...)
}

// DevSecretKey is the key that seals secrets in development when
// PORTAL_SECRET_KEY is not set: SHA-256 of a phrase published here and in
// .env.example, so it protects nothing. Production never uses it.
func DevSecretKey() []byte {
	sum := sha256.Sum256([]byte("kaiportal development secret key; public, never for production"))
	return sum[:]
}

// ParseSecretKey reads PORTAL_SECRET_KEY: 32 bytes written as 64 hex
// digits or in base64 (standard or URL alphabet, padded or not), as
// `openssl rand -hex 32` or `openssl rand -base64 32` prints them.
func ParseSecretKey(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	if len(v) == 64 {
		if b, err := hex.DecodeString(v); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			if len(b) == 32 {
				return b, nil
			}
			return nil, fmt.Errorf("PORTAL_SECRET_KEY: want 32 bytes, got %d (generate one with: openssl rand -base64 32)", len(b))
		}
	}
	return nil, errors.New("PORTAL_SECRET_KEY: want 32 bytes as 64 hex digits or base64 (generate one with: openssl rand -base64 32)")
}

// Warnings are settings that are allowed but probably not meant, for the
// start-up log.
func (c *Config) Warnings() []string {
	var w []string
	if c.Production() && c.MetricsToken == "" {
		w = append(w, "PORTAL_METRICS_TOKEN is not set: /metrics answers 404 in production until it is")
	}
	return w
}

// Production reports whether the portal runs in production mode.
func (c *Config) Production() bool { return c.Mode == ModeProduction }

// OIDCEnabled reports whether sign-in goes through an OpenID provider.
func (c *Config) OIDCEnabled() bool { return c.OIDCIssuer != "" }

// SecureCookies reports whether cookies carry the Secure flag: always, except
// on plain HTTP to a loopback host during development.
func (c *Config) SecureCookies() bool {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return true
	}
	if u.Scheme == "https" {
		return true
	}
	host := u.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// SQLitePath is the database file used when DATABASE_URL names no server.
func (c *Config) SQLitePath() string {
	if p, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:"); ok {
		return p
	}
	return filepath.Join(c.DataDir, "portal.db")
}

// UsesPostgres reports whether the database is PostgreSQL.
func (c *Config) UsesPostgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

func parseRoleMap(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		claim, role, ok := strings.Cut(pair, "=")
		claim, role = strings.TrimSpace(claim), strings.TrimSpace(role)
		if !ok || claim == "" {
			return nil, fmt.Errorf("OIDC_ROLE_MAP: want claim=role pairs separated by commas, got %q", pair)
		}
		switch role {
		case "officer", "admin", "company", "auditor", "reviewer":
		default:
			return nil, fmt.Errorf("OIDC_ROLE_MAP: unknown role %q (want officer, admin, company, auditor or reviewer)", role)
		}
		m[claim] = role
	}
	return m, nil
}

// plausibleEmail accepts one address of the form local@domain.tld.
func plausibleEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.ContainsAny(s, " <>,;\"") &&
		!strings.Contains(domain, "@")
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable)"
	}
	return p.Redacted()
}

// LoadDotenv sets the variables of a .env file that are not already set in
// the environment. A missing file is not an error.
func LoadDotenv(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config: open %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("config: %s:%d: want NAME=value", path, n)
		}
		k = strings.TrimSpace(k)
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		if _, set := os.LookupEnv(k); !set {
			os.Setenv(k, v)
		}
	}
	return sc.Err()
}
