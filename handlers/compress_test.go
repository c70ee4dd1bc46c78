package handlers

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"kaiportal/static"
	"kaiportal/testdb"
)

// getEncoded fetches path with the given Accept-Encoding; setting the header
// ourselves keeps Go's transport from decoding the body, so the test sees
// the bytes as sent. The request id is fixed, and the client keeps its CSRF
// cookie, so that a page is the same bytes each time.
func getEncoded(t *testing.T, c *testClient, path, acceptEncoding string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.app.srv.URL+path, nil)
	req.Header.Set("Accept-Encoding", acceptEncoding)
	req.Header.Set("X-Request-ID", "compression-test")
	resp := c.do(req)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return out
}

// Pages and text assets go gzip-compressed to a client that takes gzip, and
// decode to the very bytes a client that does not take it receives; fonts
// go as they are. Each answer says it varies with Accept-Encoding.
func TestCompressionNegotiated(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		{
			c := newTestApp(t, kind, nil).client()
			for _, tc := range []struct {
				path       string
				compresses bool // when the client takes gzip
			}{
				{"/", true},
				{"/decisions", true},
				{"/calls/1", true},
				{"/k-ai", true},
				{"/no-such-page", true}, // the 404 page too
				{staticBase + "/css/app.css", true},
				{staticBase + "/vendor/krds-uiux/css/component/portal.css", true},
				{staticBase + "/js/portal.js", true},
				{staticBase + "/vendor/pretendard-gov/woff2-dynamic-subset/PretendardGOVVariable.subset.0.woff2", false},
			} {
				plain, plainBody := getEncoded(t, c, tc.path, "identity")
				if ce := plain.Header.Get("Content-Encoding"); ce != "" {
					t.Errorf("%s without gzip: Content-Encoding %q", tc.path, ce)
				}
				for _, ae := range []string{"gzip", "gzip, deflate, br, zstd", "br;q=1.0, gzip;q=0.8", "*"} {
					resp, body := getEncoded(t, c, tc.path, ae)
					if resp.StatusCode != plain.StatusCode {
						t.Errorf("%s (%s): status %d, identity %d", tc.path, ae, resp.StatusCode, plain.StatusCode)
					}
					ce := resp.Header.Get("Content-Encoding")
					if !tc.compresses {
						if ce != "" || string(body) != string(plainBody) {
							t.Errorf("%s (%s): Content-Encoding %q, body changed %v; an already compressed file goes as it is",
								tc.path, ae, ce, string(body) != string(plainBody))
						}
						continue
					}
					if ce != "gzip" {
						t.Errorf("%s (%s): Content-Encoding %q, want gzip", tc.path, ae, ce)
						continue
					}
					if len(body) >= len(plainBody) {
						t.Errorf("%s: gzip body %d bytes, identity %d", tc.path, len(body), len(plainBody))
					}
					if got := gunzip(t, body); string(got) != string(plainBody) {
						t.Errorf("%s (%s): the gzip body does not decode to the identity body", tc.path, ae)
					}
					if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding") {
						t.Errorf("%s: Vary %q, want Accept-Encoding", tc.path, resp.Header.Values("Vary"))
					}
				}
				if tc.compresses && !strings.Contains(strings.Join(plain.Header.Values("Vary"), ","), "Accept-Encoding") {
					t.Errorf("%s identity: Vary %q, want Accept-Encoding", tc.path, plain.Header.Values("Vary"))
				}
				// gzip refused by quality zero.
				if resp, _ := getEncoded(t, c, tc.path, "gzip;q=0, identity"); resp.Header.Get("Content-Encoding") != "" {
					t.Errorf("%s with gzip;q=0: Content-Encoding %q", tc.path, resp.Header.Get("Content-Encoding"))
				}
			}
		}
	})
}

// Assets under the current checksum are cached for a year as immutable;
// under another checksum, and pages, they are not.
func TestStaticCacheHeaders(t *testing.T) {
	t.Parallel()
	c := newTestApp(t, testdb.SQLite, nil).client()
	for _, tc := range []struct {
		path, want string
	}{
		{staticBase + "/css/app.css", "public, max-age=31536000, immutable"},
		{staticBase + "/vendor/krds-uiux/css/component/portal.css", "public, max-age=31536000, immutable"},
		{staticBase + "/vendor/pretendard-gov/woff2-dynamic-subset/PretendardGOVVariable.subset.0.woff2", "public, max-age=31536000, immutable"},
		{"/static/000000000000/css/app.css", "no-cache"},
		{"/", "no-store"},
		{"/decisions", "no-store"},
		{"/calls/1", "no-store"},
	} {
		for _, ae := range []string{"identity", "gzip"} {
			resp, _ := getEncoded(t, c, tc.path, ae)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: status %d", tc.path, resp.StatusCode)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != tc.want {
				t.Errorf("%s (%s): Cache-Control %q, want %q", tc.path, ae, cc, tc.want)
			}
		}
	}
	if static.Hash == "000000000000" {
		t.Fatal("the test's stale checksum is the current one")
	}
}
