package models_test

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// testSecrets is the box the store tests seal tokens with.
var testSecrets = mustBox(bytes.Repeat([]byte{7}, models.SecretKeySize))

func mustBox(key []byte) *models.SecretBox {
	b, err := models.NewSecretBox(key)
	if err != nil {
		panic(err)
	}
	return b
}

func TestSecretBox(t *testing.T) {
	t.Parallel()
	const token = "eyJhbGciOi.secret-token.0123456789"
	sealed, err := testSecrets.Seal(token)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, "sealed:v1:"+testSecrets.KeyID()+":") || strings.Contains(sealed, token) || !models.IsSealed(sealed) {
		t.Errorf("sealed = %q", sealed)
	}
	if again, _ := testSecrets.Seal(token); again == sealed {
		t.Error("two seals of one token are equal: the nonce is not random")
	}
	if got, err := testSecrets.Open(sealed); got != token || err != nil {
		t.Errorf("Open = %q, %v", got, err)
	}
	if s, err := testSecrets.Seal(""); s != "" || err != nil {
		t.Errorf(`Seal("") = %q, %v`, s, err)
	}
	if s, err := testSecrets.Open(""); s != "" || err != nil {
		t.Errorf(`Open("") = %q, %v`, s, err)
	}
	// The longest token a form accepts fits the column once sealed.
	long, _ := testSecrets.Seal(strings.Repeat("t", models.MaxBearerToken))
	if len(long) > 4096 {
		t.Errorf("a sealed %d-character token takes %d characters, more than the column's 4096", models.MaxBearerToken, len(long))
	}

	other := mustBox(bytes.Repeat([]byte{8}, models.SecretKeySize))
	tampered := sealed[:len(sealed)-2] + "AA"
	if tampered == sealed {
		tampered = sealed[:len(sealed)-2] + "BB"
	}
	var nilBox *models.SecretBox
	for _, tc := range []struct {
		name   string
		box    *models.SecretBox
		sealed string
		says   string
	}{
		{"another key", other, sealed, "sealed with key " + testSecrets.KeyID() + ", but PORTAL_SECRET_KEY is key " + other.KeyID()},
		{"no key", nilBox, sealed, "PORTAL_SECRET_KEY is not set"},
		{"damaged", testSecrets, tampered, "fails authentication"},
		{"not base64", testSecrets, "sealed:v1:" + testSecrets.KeyID() + ":!!!", "damaged"},
		{"plaintext", testSecrets, token, "not sealed"},
		{"future version", testSecrets, "sealed:v9:abc:def", "unknown sealed format"},
	} {
		got, err := tc.box.Open(tc.sealed)
		if got != "" || !errors.Is(err, models.ErrSecretKey) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: Open = %q, %v; want ErrSecretKey saying %q", tc.name, got, err, tc.says)
		}
	}
	if _, err := nilBox.Seal(token); !errors.Is(err, models.ErrSecretKey) {
		t.Errorf("a nil box sealed a token: %v", err)
	}
	if _, err := models.NewSecretBox([]byte("short")); err == nil {
		t.Error("a 5-byte key was accepted")
	}
}

// rawToken reads the token column as the database holds it.
func rawToken(t *testing.T, db *gorm.DB, id uint) string {
	t.Helper()
	var raw string
	if err := db.Raw("SELECT bearer_token FROM clusters WHERE id = ?", id).Scan(&raw).Error; err != nil {
		t.Fatal(err)
	}
	return raw
}

// A cluster's token is stored sealed, never in the clear; the collector's
// store opens it; another key or none is a clear error.
func TestClusterTokenSealedAtRest(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		const token = "plain-bearer-token-4f9a2c"
		c := &models.Cluster{Name: "exp", Provider: "NHN Cloud", Region: "KR", GPUModel: "NVIDIA H200", GPUCount: 8,
			SourceKind: models.SourceExporter, Endpoints: "http://n1:9400/metrics", PollSeconds: 30, BearerToken: token}
		if errs, err := models.SaveCluster(ctx, db, testSecrets, c, false, f.officer, f.now); err != nil {
			t.Fatalf("save: %v %v", err, errs)
		}
		raw := rawToken(t, db, c.ID)
		if strings.Contains(raw, token) || !models.IsSealed(raw) {
			t.Errorf("stored token column %q holds the token or is not sealed", raw)
		}
		got, _ := models.GetCluster(ctx, db, c.ID)
		if got.BearerToken != "" || !got.HasToken() {
			t.Errorf("loaded cluster: BearerToken %q, HasToken %t", got.BearerToken, got.HasToken())
		}

		// The collector's store hands the token in the clear to the source.
		cfgs, err := models.TelemetryStore{DB: db, Secrets: testSecrets}.Clusters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, cfg := range cfgs {
			if cfg.ID == c.ID {
				found = cfg.BearerToken == token
			} else if cfg.BearerToken != "" {
				t.Errorf("cluster %s has token %q", cfg.Name, cfg.BearerToken)
			}
		}
		if !found {
			t.Errorf("the collector does not get the token: %+v", cfgs)
		}
		other := mustBox(bytes.Repeat([]byte{9}, models.SecretKeySize))
		if _, err := (models.TelemetryStore{DB: db, Secrets: other}).Clusters(ctx); !errors.Is(err, models.ErrSecretKey) ||
			!strings.Contains(err.Error(), `cluster "exp"`) {
			t.Errorf("Clusters with another key: %v, want ErrSecretKey naming the cluster", err)
		}

		// Without a key a token cannot be stored: a field error, nothing written.
		c2 := &models.Cluster{Name: "exp2", Provider: "NHN Cloud", Region: "KR", GPUModel: "NVIDIA H200", GPUCount: 8,
			SourceKind: models.SourceExporter, Endpoints: "http://n1:9400/metrics", PollSeconds: 30, BearerToken: token}
		errs, err := models.SaveCluster(ctx, db, nil, c2, false, f.officer, f.now)
		if !errors.Is(err, models.ErrInvalid) || errs["bearer_token"] != "input.token_no_key" || c2.ID != 0 {
			t.Errorf("save without a key: %v %v (id %d)", err, errs, c2.ID)
		}
	})
}

// Tokens stored in the clear before sealing are sealed at start, once, with
// an audit row; a token the key cannot open stops the start.
func TestSealClusterTokens(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		const token = "legacy-plain-token-77"
		// A row as an earlier version wrote it: the token in the clear.
		if err := db.Exec("UPDATE clusters SET bearer_token = ? WHERE id = ?", token, f.cluster.ID).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := models.SealClusterTokens(ctx, db, nil, f.now); !errors.Is(err, models.ErrSecretKey) ||
			!strings.Contains(err.Error(), "PORTAL_SECRET_KEY") || !strings.Contains(err.Error(), "b200-test") {
			t.Errorf("without a key: %v, want an error naming the cluster and PORTAL_SECRET_KEY", err)
		}
		if rawToken(t, db, f.cluster.ID) != token {
			t.Fatal("a refused start changed the row")
		}
		n, err := models.SealClusterTokens(ctx, db, testSecrets, f.now)
		if err != nil || n != 1 {
			t.Fatalf("SealClusterTokens = %d, %v; want 1 sealed", n, err)
		}
		raw := rawToken(t, db, f.cluster.ID)
		if strings.Contains(raw, token) || !models.IsSealed(raw) {
			t.Errorf("after sealing the column holds %q", raw)
		}
		if got, err := testSecrets.Open(raw); got != token || err != nil {
			t.Errorf("sealed token opens to %q, %v", got, err)
		}
		var audits int64
		db.Model(&models.AuditEntry{}).Where("action = ? AND object_id = ?", "cluster.token_sealed", strconv.FormatUint(uint64(f.cluster.ID), 10)).Count(&audits)
		if audits != 1 {
			t.Errorf("%d audit rows for the sealing, want 1", audits)
		}
		if n, err := models.SealClusterTokens(ctx, db, testSecrets, f.now); n != 0 || err != nil {
			t.Errorf("second start: %d sealed, %v", n, err)
		}
		other := mustBox(bytes.Repeat([]byte{9}, models.SecretKeySize))
		if _, err := models.SealClusterTokens(ctx, db, other, f.now); !errors.Is(err, models.ErrSecretKey) ||
			!strings.Contains(err.Error(), "b200-test") || !strings.Contains(err.Error(), other.KeyID()) {
			t.Errorf("start with another key: %v", err)
		}
	})
}
