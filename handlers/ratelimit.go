package handlers

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"kaiportal/config"
)

// rateLimits are the per-client limits (PORTAL_RATE_LIMIT_*); a nil one is off.
type rateLimits struct {
	signIn *clientLimits // starting sign-in and the demo sign-in
	api    *clientLimits // the public verification API
	post   *clientLimits // every other POST
}

func newRateLimits(cfg *config.Config) rateLimits {
	return rateLimits{
		signIn: newClientLimits(cfg.RateLimitSignIn),
		api:    newClientLimits(cfg.RateLimitAPI),
		post:   newClientLimits(cfg.RateLimitPost),
	}
}

// rateLimit refuses a client over its limit with 429 and Retry-After: the
// error page in the visitor's language, or JSON on the API. It runs before
// the session is loaded, so a refused request costs no database work.
func (h *Handler) rateLimit(c *gin.Context) {
	l, api := h.limits.forRequest(c.Request.Method, c.FullPath())
	if l == nil {
		c.Next()
		return
	}
	wait, ok := l.take(clientKey(c.ClientIP()), h.now())
	if ok {
		c.Next()
		return
	}
	c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	if api {
		h.jsonError(c, http.StatusTooManyRequests, "error.message.429")
	} else {
		h.renderError(c, http.StatusTooManyRequests, nil)
	}
	c.Abort()
}

// forRequest names the limit a request counts against, if any, and whether
// it is the API's.
func (r rateLimits) forRequest(method, route string) (*clientLimits, bool) {
	switch {
	case method == http.MethodGet && route == "/auth/login", method == http.MethodPost && route == "/auth/demo":
		return r.signIn, false
	case method == http.MethodGet && route == "/api/v1/k-ai/verify":
		return r.api, true
	case method == http.MethodPost:
		return r.post, false
	}
	return nil, false
}

// clientKey is the key a client is limited under: its address, or for IPv6
// its /64, which one subscriber usually holds whole.
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a = a.Unmap(); a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// maxRateClients bounds how many clients one limit remembers.
const maxRateClients = 50_000

// clientLimits is one limit: a token bucket per client that holds N
// requests and refills at N per Per. A client unseen for Per has a full
// bucket again, so it is forgotten then: memory holds only the clients of
// the last period, and never more than maxRateClients.
type clientLimits struct {
	every rate.Limit
	burst int
	idle  time.Duration

	mu      sync.Mutex
	clients map[string]*clientBucket
	swept   time.Time
}

type clientBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newClientLimits(r config.RateLimit) *clientLimits {
	if r.Off() {
		return nil
	}
	return &clientLimits{
		every:   rate.Limit(float64(r.N) / r.Per.Seconds()),
		burst:   r.N,
		idle:    r.Per,
		clients: map[string]*clientBucket{},
	}
}

// take counts one request of client at now. When the client is over its
// limit, nothing is counted and it returns how long until a request would
// be allowed.
func (l *clientLimits) take(client string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.clients[client]
	if b == nil {
		b = &clientBucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.clients[client] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		return wait, false
	}
	return 0, true
}

// sweep forgets the clients whose buckets are full again, once a period or
// when the map is full; if it is still full (that many clients in one
// period), it starts over, which only ever lets requests through.
func (l *clientLimits) sweep(now time.Time) {
	if now.Sub(l.swept) < l.idle && len(l.clients) < maxRateClients {
		return
	}
	l.swept = now
	for k, b := range l.clients {
		if now.Sub(b.seen) >= l.idle {
			delete(l.clients, k)
		}
	}
	if len(l.clients) >= maxRateClients {
		clear(l.clients)
	}
}
