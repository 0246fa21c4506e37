package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/dsr/memjournal"
)

var (
	manySubjects   = flag.Int("subjects", 1000, "subjects erased one by one in erasure_many")
	showStatements = flag.Bool("show-statements", false, "print the statements of erasure_many's first request through the service to stderr, the state store's and the application store's, with their times")
)

// many: 1,000 subjects with 10 chats × 20 messages each, erased one request
// at a time, among 1,000 other users of the same shape. ratio is the engine
// (its journal in memory) over the baseline, as the target defines it;
// ratio_service is the whole service path over the same baseline: each
// request filed, started, journaled in the Postgres state store, certified
// in the audit chain: about seventeen statements and four durable commits
// per subject on Postgres.
func (b *bench) many(ctx context.Context) (string, error) {
	subjects := *manySubjects
	s := shape{users: 2 * subjects, chats: 10, messages: 20}
	var ratios, service, cpuRatios []float64
	var lastBase, lastLethe, lastService time.Duration
	var stmts, appStmts, stateMS, appMS float64
	engineOnly := func(ctx context.Context, eng *engine.Engine, email string) error {
		out, err := eng.Execute(ctx, &dsr.Request{ID: email, Type: dsr.TypeErasure, Email: email}, memjournal.New())
		if err == nil && !out.Verification.Passed {
			err = fmt.Errorf("verification failed: %+v", out.Verification)
		}
		return err
	}
	fullPath := func(ctx context.Context, eng *engine.Engine, email string) error {
		show := *showStatements && email == "user1@example.com"
		b.state.stmts.show.Store(show)
		b.app.show.Store(show)
		_, err := b.state.erase(ctx, eng, email)
		b.state.stmts.show.Store(false)
		b.app.show.Store(false)
		return err
	}
	for rep := range b.reps {
		base, lethe, drop, err := b.pair(ctx, s)
		if err != nil {
			return "", err
		}
		tb, tl, _, err := b.manyOnce(ctx, base, lethe, subjects, rep%2 == 1, engineOnly)
		drop()
		if err != nil {
			return "", err
		}
		base2, lethe2, drop2, err := b.pair(ctx, s)
		if err != nil {
			return "", err
		}
		before, appBefore := b.state.stmts.n.Load(), b.app.n.Load()
		busyBefore, appBusyBefore := b.state.stmts.busy.Load(), b.app.busy.Load()
		tb2, ts, cpu, err := b.manyOnce(ctx, base2, lethe2, subjects, rep%2 == 0, fullPath)
		stmts = float64(b.state.stmts.n.Load()-before) / float64(subjects)
		appStmts = float64(b.app.n.Load()-appBefore) / float64(subjects)
		stateMS = float64(b.state.stmts.busy.Load()-busyBefore) / 1e6 / float64(subjects)
		appMS = float64(b.app.busy.Load()-appBusyBefore) / 1e6 / float64(subjects)
		drop2()
		if err != nil {
			return "", err
		}
		ratios, service = append(ratios, float64(tl)/float64(tb)), append(service, float64(ts)/float64(tb2))
		if cpu > 0 {
			cpuRatios = append(cpuRatios, cpu)
		}
		lastBase, lastLethe, lastService = tb, tl, ts
	}
	line := fmt.Sprintf("ratio=%.2f ratio_service=%.2f lethe_ms=%s service_ms=%s baseline_ms=%s subjects=%d lethe_per_subject_ms=%.2f service_per_subject_ms=%.2f state_statements_per_subject=%.1f app_statements_per_subject=%.1f state_statements_ms=%.2f app_statements_ms=%.2f reps=%d",
		median(ratios), median(service), ms(lastLethe), ms(lastService), ms(lastBase), subjects,
		float64(lastLethe.Microseconds())/1000/float64(subjects), float64(lastService.Microseconds())/1000/float64(subjects), stmts, appStmts, stateMS, appMS, b.reps)
	if len(cpuRatios) > 0 {
		line += fmt.Sprintf(" cpu_ratio_service=%.2f", median(cpuRatios))
	}
	return line, nil
}

// cpuNow is the CPU time used so far by this process and by the Postgres
// server processes of the connections named apps.
func (b *bench) cpuNow(ctx context.Context, apps ...string) (time.Duration, bool) {
	d := selfCPU()
	for _, app := range apps {
		t, ok, err := backendCPU(ctx, b.admin, app)
		if err != nil || !ok {
			return 0, false
		}
		d += t
	}
	return d, true
}

// cpu is Lethe's CPU time over the baseline's (this process's and the
// Postgres server's for their connections; 0 when the server is not on
// this machine): a figure of work, which load on the machine does not
// inflate as it does wall-clock time.
func (b *bench) manyOnce(ctx context.Context, base, lethe *dataset, subjects int, letheFirst bool,
	erase func(context.Context, *engine.Engine, string) error) (tb, tl time.Duration, cpu float64, err error) {
	s, err := b.openSides(ctx, base, lethe)
	if err != nil {
		return
	}
	defer s.Close()
	var cpuBase, cpuLethe time.Duration
	cpuOK := true
	runBase := func() error {
		start := time.Now()
		c0, ok0 := b.cpuNow(ctx, base.schema)
		for i := 1; i <= subjects; i++ {
			if err := baseline(ctx, s.db, fmt.Sprintf("user%d@example.com", i)); err != nil {
				return err
			}
		}
		tb = time.Since(start)
		c1, ok1 := b.cpuNow(ctx, base.schema)
		cpuBase, cpuOK = c1-c0, cpuOK && ok0 && ok1
		return nil
	}
	runLethe := func() error {
		start := time.Now()
		c0, ok0 := b.cpuNow(ctx, lethe.schema, stateApp)
		for i := 1; i <= subjects; i++ {
			if err := erase(ctx, s.eng, fmt.Sprintf("user%d@example.com", i)); err != nil {
				return err
			}
		}
		tl = time.Since(start)
		c1, ok1 := b.cpuNow(ctx, lethe.schema, stateApp)
		cpuLethe, cpuOK = c1-c0, cpuOK && ok0 && ok1
		return nil
	}
	if err = s.race(ctx, letheFirst, runBase, runLethe); err != nil {
		return tb, tl, 0, err
	}
	if cpuOK && cpuBase > 0 {
		cpu = float64(cpuLethe) / float64(cpuBase)
	}
	return
}
