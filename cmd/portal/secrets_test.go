package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kaiportal/models"
)

// A bearer token stored in the clear by an earlier version is sealed when
// the portal starts; `portal collect` sends it, opened, to the cluster's
// dcgm-exporter; a start with another key stops, saying why.
func TestClusterTokenSealedAtStartAndSentByCollector(t *testing.T) {
	const keyA = "0001020304050607080910111213141516171819202122232425262728293031"
	const keyB = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
	const token = "legacy-exporter-token-5b1e"
	env := devEnv(t)
	env["PORTAL_DEMO_DATA"] = "false"
	env["PORTAL_SECRET_KEY"] = keyA
	ctx := context.Background()
	if err := run(ctx, []string{"migrate"}, envOf(env), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}

	auth := make(chan string, 16)
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case auth <- r.Header.Get("Authorization"):
		default:
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		io.WriteString(w, `DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-0001",device="nvidia0",modelName="NVIDIA H100",Hostname="n1"} 50`+"\n")
	}))
	defer exporter.Close()

	db, err := models.OpenSQLite(env["PORTAL_DATA_DIR"]+"/portal.db", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer models.Close(db)
	c := &models.Cluster{Name: "legacy", Provider: "NHN Cloud", Region: "KR", GPUModel: "NVIDIA H100", GPUCount: 1,
		SourceKind: models.SourceExporter, Endpoints: exporter.URL + "/metrics", PollSeconds: 1}
	if _, err := models.SaveCluster(ctx, db, nil, c, false, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	// The row as an earlier version stored it: the token in the clear.
	if err := db.Exec("UPDATE clusters SET bearer_token = ? WHERE id = ?", token, c.ID).Error; err != nil {
		t.Fatal(err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(runCtx, []string{"collect"}, envOf(env), io.Discard, io.Discard) }()
	select {
	case got := <-auth:
		if got != "Bearer "+token {
			t.Errorf("the exporter received Authorization %q, want the token", got)
		}
	case err := <-done:
		t.Fatalf("collect stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the exporter was not polled within 30 s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("collect: %v", err)
	}
	var raw string
	if err := db.Raw("SELECT bearer_token FROM clusters WHERE id = ?", c.ID).Scan(&raw).Error; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, token) || !models.IsSealed(raw) {
		t.Errorf("after the start the column holds %q, want the token sealed", raw)
	}

	// Another key: the start stops, naming the cluster and the variable.
	env["PORTAL_SECRET_KEY"] = keyB
	err = run(ctx, []string{"serve"}, envOf(env), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `cluster "legacy"`) || !strings.Contains(err.Error(), "PORTAL_SECRET_KEY") {
		t.Errorf("start with another key: %v", err)
	}
	// A key that is not 32 bytes is refused by the configuration.
	env["PORTAL_SECRET_KEY"] = "too-short"
	if err := run(ctx, []string{"serve"}, envOf(env), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "PORTAL_SECRET_KEY") {
		t.Errorf("start with a malformed key: %v", err)
	}
}
