package main

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"
)

var replicaRequests = flag.Int("replica-requests", 300, "erasures filed in each throughput_replicas run")

// servingLine is the log line lethe serve writes once it listens.
var servingLine = regexp.MustCompile(`"msg":"lethe serving","addr":"([^"]+)"`)

const benchToken = "lethebench-admin-token"

// replicas: requests completed per second by one lethe serve process and
// by three on one Postgres state store, each time on a fresh copy of the
// erasure_many data (-replica-requests erasures of 10 chats × 20 messages
// each, filed over HTTP as fast as the processes take them). ratio is
// three over one: near 3 while Lethe is the limit, near 1 once the stores
// (or the machine's cores) are.
func (b *bench) replicas(ctx context.Context) (string, error) {
	bin, err := buildLethe(ctx)
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(filepath.Dir(bin))
	var rps [2]float64
	var waits [2]waitShares
	for i, n := range []int{1, 3} {
		if rps[i], waits[i], err = b.throughput(ctx, bin, n); err != nil {
			return "", fmt.Errorf("%d replicas: %w", n, err)
		}
	}
	return fmt.Sprintf("ratio=%.2f one_rps=%.1f three_rps=%.1f requests=%d one_waits=%s three_waits=%s",
		rps[1]/rps[0], rps[0], rps[1], *replicaRequests, waits[0], waits[1]), nil
}

// waitShares is a profile of the state store's side of a throughput run:
// of the samples of the replicas' Postgres connections busy in a
// statement or transaction, the share running (CPU), waiting on a lock
// (the audit chain's head row, a request's row) and waiting on I/O
// (commits' WAL flushes, reads).
type waitShares struct{ busy, cpu, lock, io float64 }

func (w waitShares) String() string {
	if w.busy == 0 {
		return "none"
	}
	return fmt.Sprintf("cpu:%.2f,lock:%.2f,io:%.2f,other:%.2f", w.cpu/w.busy, w.lock/w.busy, w.io/w.busy, (w.busy-w.cpu-w.lock-w.io)/w.busy)
}

// sampleWaits samples, every 10 ms until stop closes, what the state
// store's connections named app are doing.
func sampleWaits(ctx context.Context, admin *sql.DB, app string, stop chan struct{}) waitShares {
	var w waitShares
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return w
		case <-tick.C:
		}
		var busy, cpu, lock, io float64
		err := admin.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE state <> 'idle'),
				count(*) FILTER (WHERE state = 'active' AND wait_event IS NULL),
				count(*) FILTER (WHERE wait_event_type IN ('Lock', 'LWLock')),
				count(*) FILTER (WHERE wait_event_type = 'IO')
			FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&busy, &cpu, &lock, &io)
		if err == nil {
			w.busy, w.cpu, w.lock, w.io = w.busy+busy, w.cpu+cpu, w.lock+lock, w.io+io
		}
	}
}

// buildLethe builds the lethe binary into a temporary folder.
func buildLethe(ctx context.Context) (string, error) {
	dir, err := os.MkdirTemp("", "lethebench-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "lethe")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/lethe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("go build ./cmd/lethe (run lethebench from the repository's root): %v\n%s", err, out)
	}
	return bin, nil
}

// throughput starts n replicas on fresh data and state, files the
// erasures round them and returns the requests completed per second.
func (b *bench) throughput(ctx context.Context, bin string, n int) (float64, waitShares, error) {
	requests := *replicaRequests
	id := strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	app, err := create(ctx, b.admin, b.base, "lethebench_rapp_"+id, shape{users: requests + 100, chats: 10, messages: 20})
	if err != nil {
		return 0, waitShares{}, err
	}
	stateSchema := "lethebench_rstate_" + id
	defer func() {
		for _, s := range []string{app.schema, stateSchema} {
			b.admin.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+s+" CASCADE")
		}
	}()
	if _, err := b.admin.ExecContext(ctx, "CREATE SCHEMA "+stateSchema); err != nil {
		return 0, waitShares{}, err
	}
	stateURL, err := urlWithSchema(b.base, stateSchema)
	if err != nil {
		return 0, waitShares{}, err
	}
	dir, err := os.MkdirTemp("", "lethebench-replicas")
	if err != nil {
		return 0, waitShares{}, err
	}
	defer os.RemoveAll(dir)
	reg := filepath.Join(dir, "lethe.yaml")
	if err := os.WriteFile(reg, []byte(benchRegistry), 0o600); err != nil {
		return 0, waitShares{}, err
	}
	replicaApp := "lethebench_replica_" + id
	env := append(os.Environ(), "LETHE_DATABASE_URL="+withApp(stateURL, replicaApp), "LETHE_CONFIG="+reg, "LETHE_ADMIN_TOKEN="+benchToken,
		"LETHE_SUBJECT_KEY=lethebench-subject-key-of-32-characters", "LETHEBENCH_APP_URL="+app.url)
	var addrs []string
	for range n {
		addr, stop, err := startServe(ctx, bin, env)
		if err != nil {
			return 0, waitShares{}, err
		}
		defer stop()
		addrs = append(addrs, addr)
	}
	state, err := sql.Open("pgx", stateURL)
	if err != nil {
		return 0, waitShares{}, err
	}
	defer state.Close()
	stop := make(chan struct{})
	waits := make(chan waitShares, 1)
	go func() { waits <- sampleWaits(ctx, b.admin, replicaApp, stop) }()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
	}()
	start := time.Now()
	if err := fileErasures(ctx, addrs, requests); err != nil {
		return 0, waitShares{}, err
	}
	for {
		var done, failed int
		if err := state.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'failed')
			FROM lethe_requests`).Scan(&done, &failed); err != nil {
			return 0, waitShares{}, err
		}
		if failed > 0 {
			return 0, waitShares{}, fmt.Errorf("%d requests failed", failed)
		}
		if done == requests {
			rps := float64(requests) / time.Since(start).Seconds()
			close(stop)
			return rps, <-waits, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startServe starts lethe serve and returns its address once it serves,
// and a function that stops it.
func startServe(ctx context.Context, bin string, env []string) (string, func(), error) {
	cmd := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0")
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		if m := servingLine.FindStringSubmatch(lines.Text()); m != nil {
			go io.Copy(io.Discard, stderr)
			return "http://" + m[1], stop, nil
		}
	}
	stop()
	return "", nil, fmt.Errorf("lethe serve stopped before serving")
}

// fileErasures files erasures of user1…userN round addrs, eight at a time,
// and returns the first error.
func fileErasures(ctx context.Context, addrs []string, n int) error {
	var g errgroup.Group
	g.SetLimit(8)
	for u := 1; u <= n; u++ {
		g.Go(func() error {
			body := fmt.Sprintf(`{"type":"erasure","email":"user%d@example.com"}`, u)
			req, err := http.NewRequestWithContext(ctx, "POST", addrs[u%len(addrs)]+"/v1/requests", strings.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+benchToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				return fmt.Errorf("POST /v1/requests = %d", resp.StatusCode)
			}
			return nil
		})
	}
	return g.Wait()
}
