package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// endSessionPath is where the test provider ends sessions at the provider
// (RP-initiated logout). mockoidc has no such endpoint; testProvider adds it.
const endSessionPath = mockoidc.IssuerBase + "/end_session"

// providerConfig shapes a testProvider.
type providerConfig struct {
	endSession bool          // advertise end_session_endpoint in discovery
	tokenTTL   time.Duration // lifetime of ID and access tokens; mockoidc's 10 minutes when 0
	noRefresh  bool          // give no refresh token, as some providers do for this client
}

// testProvider is a real OpenID provider on loopback: mockoidc's own
// endpoints (authorize, token, user info, JWKS, discovery), served from this
// test's listener so that it can also offer an end-session endpoint and be
// switched off. mockoidc checks the client secret, single use of codes and
// the PKCE verifier, and puts the request's nonce in the ID token.
type testProvider struct {
	m   *mockoidc.MockOIDC
	cfg providerConfig

	mu      sync.Mutex
	down    bool         // every endpoint answers 503
	logouts []url.Values // what the end-session endpoint was sent
}

// newTestProvider starts a provider whose clock reads now: the portal's
// test clock is fixed, and tokens from a provider living in the real
// present would not be valid yet (nbf) or already expired at the portal.
func newTestProvider(t testing.TB, now time.Time, cfg providerConfig) *testProvider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.tokenTTL > 0 {
		m.AccessTTL = cfg.tokenTTL
	}
	m.FastForward(now.Sub(time.Now()))
	p := &testProvider{m: m, cfg: cfg}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(mockoidc.AuthorizationEndpoint, m.Authorize)
	mux.HandleFunc(mockoidc.TokenEndpoint, p.token)
	mux.HandleFunc(mockoidc.UserinfoEndpoint, m.Userinfo)
	mux.HandleFunc(mockoidc.JWKSEndpoint, m.JWKS)
	mux.HandleFunc(mockoidc.DiscoveryEndpoint, p.discovery)
	mux.HandleFunc(endSessionPath, p.endSession)
	// mockoidc derives its issuer from Server.Addr; it exposes Server for
	// callers that serve its handlers themselves.
	m.Server = &http.Server{Addr: ln.Addr().String(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.isDown() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	})}
	go m.Server.Serve(ln)
	t.Cleanup(func() { m.Server.Close() })
	return p
}

func (p *testProvider) issuer() string { return p.m.Issuer() }

func (p *testProvider) endSessionURL() string { return p.m.Addr() + endSessionPath }

// setDown makes every endpoint fail (true) or work again (false).
func (p *testProvider) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

func (p *testProvider) isDown() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.down
}

// advance moves the provider's clock with the portal's.
func (p *testProvider) advance(d time.Duration) { p.m.FastForward(d) }

// token is mockoidc's token endpoint, less the refresh token when the
// provider is configured to give none.
func (p *testProvider) token(w http.ResponseWriter, r *http.Request) {
	if !p.cfg.noRefresh {
		p.m.Token(w, r)
		return
	}
	rec := httptest.NewRecorder()
	p.m.Token(rec, r)
	body := rec.Body.Bytes()
	doc := map[string]any{}
	if rec.Code == http.StatusOK && json.Unmarshal(body, &doc) == nil {
		delete(doc, "refresh_token")
		body, _ = json.Marshal(doc)
	}
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	w.Write(body)
}

// lastLogout is the query of the latest end-session request, nil if none.
func (p *testProvider) lastLogout() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.logouts) == 0 {
		return nil
	}
	return p.logouts[len(p.logouts)-1]
}

// discovery is mockoidc's document, plus end_session_endpoint when configured.
func (p *testProvider) discovery(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	p.m.Discovery(rec, r)
	doc := map[string]any{}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if p.cfg.endSession {
		doc["end_session_endpoint"] = p.endSessionURL()
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(doc)
}

// endSession ends the provider's session: it accepts only an ID token it
// signed itself as id_token_hint, and sends the browser back to
// post_logout_redirect_uri.
func (p *testProvider) endSession(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.logouts = append(p.logouts, q)
	p.mu.Unlock()
	if _, err := p.m.Keypair.VerifyJWT(q.Get("id_token_hint"), p.m.Now); err != nil {
		http.Error(w, "id_token_hint: "+err.Error(), http.StatusBadRequest)
		return
	}
	if q.Get("client_id") != p.m.ClientID {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, q.Get("post_logout_redirect_uri"), http.StatusFound)
}

// oidcUser is a person at the provider, with the claims the portal reads.
type oidcUser struct {
	Subject string
	Email   string
	Name    string
	Groups  []string
	Org     string
	// GroupsInUserInfo keeps groups out of the ID token and in the user
	// info only, as some providers do.
	GroupsInUserInfo bool
	// UserInfoSubject, when set, is the subject the user info claims.
	UserInfoSubject string
}

var _ mockoidc.User = (*oidcUser)(nil)

func (u *oidcUser) ID() string { return u.Subject }

// idClaims is the ID token: mockoidc's registered claims and nonce, and ours.
type idClaims struct {
	*mockoidc.IDTokenClaims
	Email  string   `json:"email,omitempty"`
	Name   string   `json:"name,omitempty"`
	Groups []string `json:"groups,omitempty"`
	Org    string   `json:"org,omitempty"`
}

// Claims ignores the scopes: groups and org are this provider's own claims,
// sent whenever the user has them.
func (u *oidcUser) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	c := &idClaims{IDTokenClaims: base, Email: u.Email, Name: u.Name, Org: u.Org}
	if !u.GroupsInUserInfo {
		c.Groups = u.Groups
	}
	return c, nil
}

func (u *oidcUser) Userinfo([]string) ([]byte, error) {
	sub := u.Subject
	if u.UserInfoSubject != "" {
		sub = u.UserInfoSubject
	}
	return json.Marshal(map[string]any{"sub": sub, "email": u.Email, "name": u.Name, "groups": u.Groups, "org": u.Org})
}

// logBuffer collects the portal's log lines, written from its goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// closedAddr is a loopback address where nothing listens.
func closedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Fatal(err)
	}
	return addr
}
