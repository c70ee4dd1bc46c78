package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"kaiportal/config"
)

// oidcClient signs people in with an OpenID Connect provider: discovery,
// the authorization-code flow with PKCE, and ID-token verification.
type oidcClient struct {
	cfg *config.Config
	now func() time.Time

	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
	endSess  string
}

func newOIDCClient(cfg *config.Config, now func() time.Time) *oidcClient {
	return &oidcClient{cfg: cfg, now: now}
}

// discover fetches the provider's configuration once it answers.
func (o *oidcClient) discover(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, o.cfg.OIDCIssuer)
	if err != nil {
		return fmt.Errorf("oidc: discovery at %s: %w", o.cfg.OIDCIssuer, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&extra); err != nil {
		return fmt.Errorf("oidc: discovery document: %w", err)
	}
	o.provider = p
	o.endSess = extra.EndSession
	o.verifier = p.Verifier(&oidc.Config{ClientID: o.cfg.OIDCClientID, Now: o.now})
	o.oauth = oauth2.Config{
		ClientID:     o.cfg.OIDCClientID,
		ClientSecret: o.cfg.OIDCClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  o.cfg.OIDCRedirectURL,
		Scopes:       o.cfg.OIDCScopes,
	}
	return nil
}

// origin is the provider's scheme://host, for the CSP's form-action.
func (o *oidcClient) origin() string {
	u, err := url.Parse(o.cfg.OIDCIssuer)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// authURL is where the browser goes to sign in.
func (o *oidcClient) authURL(state, nonce, verifier string) string {
	return o.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
}

// claims is what the portal reads from the ID token (and user info).
type claims struct {
	Subject           string
	Email             string
	Name              string
	PreferredUsername string
	Roles             []string
	Org               string
}

var errNonce = errors.New("oidc: nonce in the ID token does not match the sign-in request")

// exchange trades the code for tokens, verifies the ID token and its nonce,
// and returns the raw ID token, its claims and the provider's tokens.
func (o *oidcClient) exchange(ctx context.Context, code, verifier, nonce string) (string, claims, *oauth2.Token, error) {
	var cl claims
	tok, err := o.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return "", cl, nil, fmt.Errorf("oidc: code exchange: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return "", cl, nil, errors.New("oidc: token response has no id_token")
	}
	idt, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		return "", cl, nil, fmt.Errorf("oidc: verify ID token: %w", err)
	}
	if !constantEqual(idt.Nonce, nonce) {
		return "", cl, nil, errNonce
	}
	cl, err = o.claimsOf(ctx, tok, idt, idt.Subject)
	return raw, cl, tok, err
}

// claimsOf reads the portal's claims from the ID token, when there is one,
// and from the user info when the token lacks the role claim, making sure
// the user info speaks of subject.
func (o *oidcClient) claimsOf(ctx context.Context, tok *oauth2.Token, idt *oidc.IDToken, subject string) (claims, error) {
	var cl claims
	all := map[string]any{}
	if idt != nil {
		if err := idt.Claims(&all); err != nil {
			return cl, fmt.Errorf("oidc: ID token claims: %w", err)
		}
	}
	// Providers often put groups only in the user info: ask for it, and
	// make sure it speaks of the same subject.
	if _, has := all[o.cfg.OIDCRoleClaim]; !has && o.provider.UserInfoEndpoint() != "" {
		ui, err := o.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return cl, fmt.Errorf("oidc: user info: %w", err)
		}
		if ui.Subject != subject {
			return cl, errors.New("oidc: user info subject differs from the ID token's")
		}
		extra := map[string]any{}
		if err := ui.Claims(&extra); err == nil {
			for k, v := range extra {
				if _, ok := all[k]; !ok {
					all[k] = v
				}
			}
		}
	}
	cl.Subject = subject
	cl.Email = stringClaim(all["email"])
	cl.Name = stringClaim(all["name"])
	cl.PreferredUsername = stringClaim(all["preferred_username"])
	cl.Roles = stringsClaim(all[o.cfg.OIDCRoleClaim])
	cl.Org = stringClaim(all[o.cfg.OIDCOrgClaim])
	return cl, nil
}

// errRevoked says that the provider answered and no longer accepts the
// session's tokens (or no longer speaks of its subject): the session ends.
// Any other re-check error means the provider could not be reached.
var errRevoked = errors.New("oidc: the provider no longer accepts the session")

// recheck asks the provider again what it says about subject: with the
// refresh token when it gave one (the answer's ID token, or the user info),
// else the user info with the stored access token. It returns the claims and
// the tokens to keep for next time.
func (o *oidcClient) recheck(ctx context.Context, tok *oauth2.Token, subject string) (claims, *oauth2.Token, error) {
	var cl claims
	if err := o.discover(ctx); err != nil {
		return cl, nil, err
	}
	st := &statusTransport{base: http.DefaultTransport}
	ctx = oidc.ClientContext(ctx, &http.Client{Transport: st})
	var idt *oidc.IDToken
	if tok.RefreshToken != "" {
		// An expired copy makes the token source refresh now.
		fresh, err := o.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		var re *oauth2.RetrieveError
		switch {
		case errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500:
			return cl, nil, fmt.Errorf("%w: refresh: %v", errRevoked, err)
		case err != nil:
			return cl, nil, fmt.Errorf("oidc: refresh: %w", err)
		}
		tok = fresh
		if raw, ok := tok.Extra("id_token").(string); ok && raw != "" {
			if idt, err = o.verifier.Verify(ctx, raw); err != nil {
				return cl, nil, fmt.Errorf("%w: refreshed ID token: %v", errRevoked, err)
			}
			if idt.Subject != subject {
				return cl, nil, fmt.Errorf("%w: refreshed ID token names another subject", errRevoked)
			}
		}
	}
	cl, err := o.claimsOf(ctx, tok, idt, subject)
	if err != nil {
		if code := st.last(); code == http.StatusUnauthorized || code == http.StatusForbidden ||
			strings.Contains(err.Error(), "subject differs") {
			return cl, nil, fmt.Errorf("%w: %v", errRevoked, err)
		}
		return cl, nil, err
	}
	return cl, tok, nil
}

// statusTransport remembers the status of the last response, to tell a
// provider that refuses a token from one that cannot be reached.
type statusTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	code int
}

func (t *statusTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.code = 0
	if err == nil {
		t.code = resp.StatusCode
	}
	return resp, err
}

func (t *statusTransport) last() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.code
}

// logoutURL is the provider's end-session URL, or "" when it has none.
func (o *oidcClient) logoutURL(idToken string) string {
	if o.endSess == "" {
		return ""
	}
	u, err := url.Parse(o.endSess)
	if err != nil {
		return ""
	}
	q := u.Query()
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	q.Set("client_id", o.cfg.OIDCClientID)
	q.Set("post_logout_redirect_uri", o.cfg.OIDCPostLogoutRedirectURL)
	u.RawQuery = q.Encode()
	return u.String()
}

func stringClaim(v any) string {
	s, _ := v.(string)
	return s
}

// stringsClaim reads a claim that may be one string or a list of them.
func stringsClaim(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case json.RawMessage:
		var out []string
		_ = json.Unmarshal(t, &out)
		return out
	}
	return nil
}
