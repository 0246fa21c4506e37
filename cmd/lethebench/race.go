package main

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
)

// sides are the two contenders of an erasure benchmark over a pair of
// datasets: the baseline's connection to its dataset and Lethe's engine
// over the other.
type sides struct {
	base, lethe *dataset
	db          *sql.DB
	eng         *engine.Engine
	st          *sqlstore.Store
}

// openSides opens both sides of the pair base, lethe.
func (b *bench) openSides(ctx context.Context, base, lethe *dataset) (*sides, error) {
	db, err := sql.Open("pgx", withApp(base.url, base.schema))
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	eng, st, err := b.engineFor(ctx, lethe)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &sides{base: base, lethe: lethe, db: db, eng: eng, st: st}, nil
}

func (s *sides) Close() {
	s.st.Close()
	s.db.Close()
}

// race runs runBase and runLethe one after the other, Lethe first when
// letheFirst, each after a checkpoint so that neither pays for the other's
// dirty pages; then both sides must have erased the same rows.
func (s *sides) race(ctx context.Context, letheFirst bool, runBase, runLethe func() error) error {
	order := []func() error{runBase, runLethe}
	if letheFirst {
		order = []func() error{runLethe, runBase}
	}
	for _, f := range order {
		if _, err := s.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
			return err
		}
		if err := f(); err != nil {
			return err
		}
	}
	for _, table := range []string{"users", "chats", "messages"} {
		nb, err1 := s.base.count(ctx, s.db, table)
		nl, err2 := s.lethe.count(ctx, s.db, s.lethe.schema+"."+table)
		if err1 != nil || err2 != nil || nb != nl {
			return fmt.Errorf("%s: baseline left %d rows, lethe %d (%v %v)", table, nb, nl, err1, err2)
		}
	}
	return nil
}
