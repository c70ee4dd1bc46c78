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
	pages   []string // the GET routes' patterns, for the language switch (formPage)
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
		db:     opts.DB,
		cfg:    opts.Config,
		log:    opts.Logger,
		now:    opts.Now,
		cat:    cat,
		policy: models.SessionPolicy{Idle: opts.Config.SessionIdle, MaxAge: opts.Config.SessionMaxAge, Key: opts.Config.SessionKey},
	}
	if h.files, err = models.NewFileStore(filepath.Join(opts.Config.DataDir, "files")); err != nil {
		return nil, err
	}
	h.uploads = models.UploadPolicy{MaxBytes: opts.Config.MaxUploadBytes,
		Allowed: []models.FileKind{models.FilePDF, models.FileHWP, models.FileHWPX}}
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
	r.Use(h.requestID, h.recover, h.accessLog, h.metrics.middleware, h.securityHeaders, h.limitBody,
		h.loadSession, h.localize, h.csrf)
	for _, rt := range h.routes() {
		r.Handle(rt.Method, rt.Path, h.guard(rt.Access), rt.Handle)
	}
	r.NoRoute(func(c *gin.Context) { h.renderError(c, 404, nil) })
	r.NoMethod(func(c *gin.Context) { h.renderError(c, 405, nil) })
	return r
}

// Cleanup removes expired sessions and login attempts until ctx ends.
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
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// staticBase is the URL prefix of the embedded assets.
var staticBase = fmt.Sprintf("/static/%s", static.Hash)
