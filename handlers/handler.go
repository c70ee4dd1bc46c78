// Package handlers is the portal's HTTP layer: the gin router, its
// middleware (request ids, logging, metrics, security headers, sessions,
// CSRF, role guards) and one file per area of pages. Every route is listed
// with its guard in routes.go.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"kaiportal/config"
	"kaiportal/i18n"
	"kaiportal/models"
	"kaiportal/static"
)

// Handler holds what every request needs.
type Handler struct {
	db      *gorm.DB
	cfg     *config.Config
	log     *slog.Logger
	now     func() time.Time
	cat     *i18n.Catalogue
	oidc    *oidcClient // nil when no issuer is configured
	metrics *metrics
	policy  models.SessionPolicy
	files   *models.FileStore
	uploads models.UploadPolicy
	secrets *models.SecretBox // seals clusters' bearer tokens; nil without PORTAL_SECRET_KEY
	// stateSealer seals sign-in requests into their cookie; tokenSealer
	// the provider's tokens kept on session rows.
	stateSealer, tokenSealer *models.Sealer
	limits                   rateLimits
	// ownerKey signs the owner a form is shown to (savedform.go): the
	// session key, or a random key for this process when there is none.
	ownerKey []byte
	owners   sync.Map // user id → formOwner's signed value
	pages    []string // the GET routes' patterns, for the language switch (formPage)
	// pageCache keeps the public pages and dashboards (pagecache.go); nil when off.
	pageCache *pageCache
	sessions  *models.SessionReader // each request's session, in one statement
	secure    bool                  // cookies are Secure (cfg.SecureCookies)
	security  []header              // the security headers of every answer
}

// Options are the dependencies of a Handler.
type Options struct {
	DB     *gorm.DB
	Config *config.Config
	Logger *slog.Logger
	Now    func() time.Time // the clock; time.Now when nil
	// Registry receives the portal's metrics; a new one when nil.
	Registry *prometheus.Registry
}

// New builds the handler. It does not contact the identity provider: that
// happens at the first sign-in, so the portal starts while the provider is down.
func New(opts Options) (*Handler, error) {
	if opts.DB == nil || opts.Config == nil {
		return nil, errors.New("handlers: DB and Config are required")
	}
	cat, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	h := &Handler{
		// The requests' statements are prepared once per connection and
		// kept (models.gormConfig bounds how many).
		db:     opts.DB.Session(&gorm.Session{PrepareStmt: true}),
		cfg:    opts.Config,
		log:    opts.Logger,
		now:    opts.Now,
		cat:    cat,
		policy: models.SessionPolicy{Idle: opts.Config.SessionIdle, MaxAge: opts.Config.SessionMaxAge, Key: opts.Config.SessionKey},
	}
	key := opts.Config.SessionKey
	if len(key) == 0 {
		// Development without PORTAL_SESSION_KEY (production requires one): a
		// key for this process only. Sign-ins in flight and the provider
		// tokens of sessions do not survive a restart; such sessions end at
		// their next role re-check.
		key = []byte(models.RandomToken(32))
	}
	if h.stateSealer, err = models.NewSealer(key, "oidc login request"); err != nil {
		return nil, err
	}
	if h.tokenSealer, err = models.NewSealer(key, "provider tokens"); err != nil {
		return nil, err
	}
	if h.files, err = models.NewFileStore(filepath.Join(opts.Config.DataDir, "files")); err != nil {
		return nil, err
	}
	if len(opts.Config.SecretKey) > 0 {
		if h.secrets, err = models.NewSecretBox(opts.Config.SecretKey); err != nil {
			return nil, err
		}
	}
	h.limits = newRateLimits(opts.Config)
	h.uploads = models.UploadPolicy{MaxBytes: opts.Config.MaxUploadBytes,
		Allowed: []models.FileKind{models.FilePDF, models.FileHWP, models.FileHWPX}}
	if h.ownerKey = opts.Config.SessionKey; len(h.ownerKey) == 0 {
		h.ownerKey = []byte(models.RandomToken(32))
	}
	h.sessions = models.NewSessionReader(opts.DB)
	h.pageCache = newPageCache(models.NewVersionReader(opts.DB), opts.Config.PageCacheBytes)
	h.pages = getPatterns(h.routes())
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if h.metrics, err = newMetrics(reg); err != nil {
		return nil, err
	}
	if opts.Config.OIDCEnabled() {
		h.oidc = newOIDCClient(opts.Config, h.now)
	}
	h.secure = opts.Config.SecureCookies()
	h.security = h.securityHeaderValues()
	return h, nil
}

// Router returns the gin engine with every route and middleware.
func (h *Handler) Router() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true
	r.RedirectTrailingSlash = false
	r.HandleMethodNotAllowed = true
	if err := r.SetTrustedProxies(h.cfg.TrustedProxies); err != nil {
		h.log.Error("trusted proxies", "err", err)
	}
	routes := h.routes()
	upload := map[string]bool{}
	for _, rt := range routes {
		upload[rt.Method+" "+rt.Path] = rt.Access.Upload
	}
	// The language comes first, so that every page after it, errors
	// included, speaks the visitor's language; the rate limit and the
	// database deadline come before the first database call.
	r.Use(h.requestID, h.recover, h.accessLog, h.metrics.middleware, h.securityHeaders, h.localize,
		h.checkQuery, h.limitBody(upload), h.rateLimit, h.dbDeadline, h.loadSession, h.csrf)
	for _, rt := range routes {
		chain := []gin.HandlerFunc{h.guard(rt.Access)}
		if rt.Access.Upload {
			chain = append(chain, h.readUpload)
		}
		r.Handle(rt.Method, rt.Path, append(chain, rt.Handle)...)
	}
	r.NoRoute(func(c *gin.Context) { h.renderError(c, 404, nil) })
	r.NoMethod(func(c *gin.Context) { h.renderError(c, 405, nil) })
	return r
}

// Cleanup removes expired sessions, used login states and kept forms, and
// sweeps orphan files from the file store, until ctx ends.
func (h *Handler) Cleanup(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := models.DeleteExpiredSessions(ctx, h.db, h.now(), h.policy)
		if err != nil && ctx.Err() == nil {
			h.log.Error("session cleanup", "err", err)
		} else if n > 0 {
			h.log.Info("expired sessions removed", "count", n)
		}
		if n, err := models.DeleteExpiredSavedForms(ctx, h.db, h.now()); err != nil && ctx.Err() == nil {
			h.log.Error("saved form cleanup", "err", err)
		} else if n > 0 {
			h.log.Info("expired saved forms removed", "count", n)
		}
		h.sweepOrphans(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// staticBase is the URL prefix of the embedded assets.
var staticBase = fmt.Sprintf("/static/%s", static.Hash)
