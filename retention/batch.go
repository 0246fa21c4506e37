package retention

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/lethe-privacy/lethe/pkg/batch"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// work runs one unit: the held count, then its phases.
func (s *Sweeper) work(ctx context.Context, run *Run, u *unit) error {
	if u.held {
		if err := s.tallyHeld(ctx, run, u); err != nil {
			return err
		}
	}
	if u.redact {
		return s.redactRows(ctx, run, u, u.self, false)
	}
	if u.action == registry.ActionAnonymize {
		return s.anonymize(ctx, run, u)
	}
	for _, ph := range u.cascades {
		if err := s.purge(ctx, run, u, ph.c, ph.sel, false); err != nil {
			return err
		}
	}
	return s.purge(ctx, run, u, u.c, u.self, true)
}

// purge deletes sel's rows of c batch by batch until a short batch. For
// the unit's own rows (own) the batches go oldest first from the cursor.
func (s *Sweeper) purge(ctx context.Context, run *Run, u *unit, c *registry.Collection, sel connector.Selection, own bool) error {
	st := s.Stores[c.Store]
	fileCols := make([]string, 0, len(c.Files))
	for col := range c.Files {
		fileCols = append(fileCols, col)
	}
	sort.Strings(fileCols)
	own = own && sel.Older != nil // without a cutoff (a responses unit) batches simply repeat
	tcol, via := s.tenantOf(u, c)
	cols := fileCols
	if tcol != "" {
		cols = append(append([]string(nil), fileCols...), tcol)
	}
	if own {
		cols = append(append([]string(nil), cols...), sel.Older.Column)
	}
	ti := tenantIndex(len(fileCols), len(cols), tcol, via)
	size := s.batchSize()
	where := "purge " + c.Key
	if rs, ok := st.(RangeStore); ok && own && !u.noRange {
		pages, perPage, ok, err := rs.Extent(ctx, c)
		if err != nil {
			return &stepError{where: where, err: err}
		} else if ok {
			return s.purgeRange(ctx, run, u, c, sel, rs, fileCols, pages, perPage)
		}
	}
	err := s.loop(size).Run(ctx, func(bctx context.Context, b *batch.Batch) error {
		if own && run.Cursor.After != nil {
			o := *sel.Older
			o.After = run.Cursor.After.value()
			sel.Older = &o
		}
		start := time.Now()
		n, vals, err := st.Purge(bctx, sel, cols, via, b.Size)
		took := time.Since(start)
		if err != nil {
			return err
		}
		b.N = n
		countRows(run, c, u, vals, ti, n)
		var files []File
		for _, row := range vals {
			files = append(files, s.files(c, rowTenant(u, row, ti), row, fileCols)...)
			if own {
				run.Cursor.After = run.Cursor.After.max(row[len(cols)-1])
			}
		}
		return s.recordPurge(ctx, run, c, files, n, took)
	})
	if err != nil {
		return &stepError{where: where, err: err}
	}
	return nil
}

// tenantOf is where unit u's purge reads the tenant of each row of c
// when u spans every tenant (the registry's window): c's tenant column,
// else the references that lead to a parent's (tenantPath). The run then
// counts per tenant, so that an owner sees what was purged for the studio.
// Both empty when u is one tenant's, or c's rows belong to no tenant.
func (s *Sweeper) tenantOf(u *unit, c *registry.Collection) (string, []TenantHop) {
	if u.tenant != "" {
		return "", nil
	}
	if c.Tenant != "" {
		return c.Tenant, nil
	}
	return "", tenantPath(s.Registry, c)
}

// tenantIndex is the index of a purged row's tenant among its values: the
// tenant column's, after the nfile file columns, or the value the store
// adds after the ncols columns asked for when it reads it through via; -1
// when the row has none.
func tenantIndex(nfile, ncols int, tcol string, via []TenantHop) int {
	switch {
	case tcol != "":
		return nfile
	case len(via) > 0:
		return ncols
	}
	return -1
}

// rowTenant is the tenant a purged row is counted under: its value at
// index i (tenantIndex) when there is one, else u's.
func rowTenant(u *unit, row []any, i int) string {
	if i < 0 || i >= len(row) {
		return u.tenant
	}
	return Text(row[i])
}

// countRows adds n purged rows of c to the run: under u's tenant, or row
// by row under each row's tenant (its value at index i, see tenantIndex).
func countRows(run *Run, c *registry.Collection, u *unit, vals [][]any, i int, n int64) {
	if i < 0 || int64(len(vals)) != n {
		run.count(c.Key, u.tenant).RowsPurged += n
		return
	}
	for _, row := range vals {
		run.count(c.Key, rowTenant(u, row, i)).RowsPurged++
	}
}

// files returns the files named by the file columns of a purged row of c
// (its first values, in fileCols' order), as tenant's.
func (s *Sweeper) files(c *registry.Collection, tenant string, row []any, fileCols []string) []File {
	var out []File
	for i, col := range fileCols {
		if key := Text(row[i]); key != "" {
			out = append(out, File{Store: c.Files[col], Key: key, Collection: c.Key, Tenant: tenant})
		}
	}
	return out
}

// recordPurge saves a purge batch's progress with its files as pending,
// deletes the files and tells the observer.
func (s *Sweeper) recordPurge(ctx context.Context, run *Run, c *registry.Collection, files []File, n int64, took time.Duration) error {
	for _, f := range files {
		run.count(c.Key, f.Tenant).FilesPending++
	}
	if err := s.save(ctx, run, files); err != nil {
		return err
	}
	deleted, err := s.deleteFiles(ctx, run, files)
	if s.Observer != nil {
		s.Observer.Batch(c.Key, n, deleted, took)
	}
	return err
}

// purgeRange deletes sel's rows of c slice by slice of pages, from the
// cursor to the table's end as of the start, sizing each slice so that a
// batch takes about BatchTarget and deletes at most about BatchSize rows.
// Rows added later land in fresh pages and are not expired.
func (s *Sweeper) purgeRange(ctx context.Context, run *Run, u *unit, c *registry.Collection, sel connector.Selection,
	rs RangeStore, fileCols []string, pages int64, perPage float64) error {
	where := "purge " + c.Key
	batchRows := int64(s.batchSize())
	from := int64(0)
	if p := run.Cursor.After; p != nil && p.Page != nil {
		from = *p.Page
	}
	span := 1
	if perPage > 0 {
		span = max(1, int(float64(batchRows)/perPage))
	}
	const maxSpan = 1 << 20
	// The loop's unit is a page: a slice short of its span reached the
	// table's end as of the start. Slices follow the batch target up to
	// maxSpan, at the recent slices' pace (pace), and never aim past
	// BatchSize deleted rows.
	l := s.loop(span)
	l.MaxSize = maxSpan
	// A slice within the target pauses no one: on Postgres a slice's
	// DELETE locks only the rows it deletes, on MariaDB a window of keys
	// below those being inserted, so other writers wait on the walk only
	// for the machine, and a slice over the target is what says so.
	l.PauseOver = l.Target
	var p pace
	tcol, via := s.tenantOf(u, c)
	err := l.Run(ctx, func(bctx context.Context, b *batch.Batch) error {
		to := min(from+int64(b.Size), pages)
		if from >= pages {
			return nil
		}
		start := time.Now()
		n, files, err := s.purgeSlice(bctx, run, u, c, rs, Tally{Sel: sel, By: tcol, Via: via, Files: fileCols}, from, to)
		took := time.Since(start)
		if err != nil {
			return err
		}
		next := to
		run.Cursor.After = &Position{Page: &next}
		b.N, from = to-from, to
		b.Next = nextSpan(b.Size, n, batchRows, maxSpan)
		if p.add(b.N, took); l.Target > 0 {
			// Straight to the aim, not halving: a first window of 50,000
			// keys took 2.9 s on MariaDB, and halving left three more
			// above 250 ms.
			if aim := p.aim(l.Target); aim > 0 {
				b.Next = min(b.Next, max(aim, 1))
			}
		}
		return s.recordPurge(ctx, run, c, files, n, took)
	})
	if err != nil {
		return &stepError{where: where, err: err}
	}
	return nil
}

// purgeSlice deletes t.Sel's rows of c stored in pages [from, to) and
// counts them in run under their tenant (t.By's or read through t.Via,
// else u's). It returns how many it deleted and the files of t.Files they
// named. Without files the store counts the rows per tenant itself
// (PurgeRangeTally), and returns no row.
func (s *Sweeper) purgeSlice(ctx context.Context, run *Run, u *unit, c *registry.Collection, rs RangeStore, t Tally, from, to int64) (int64, []File, error) {
	if len(t.Files) == 0 && (t.By != "" || len(t.Via) > 0) {
		groups, err := rs.PurgeRangeTally(ctx, t, from, to)
		var n int64
		for _, g := range groups {
			run.count(c.Key, Text(g.Value)).RowsPurged += g.Rows
			n += g.Rows
		}
		return n, nil, err
	}
	cols := t.Files
	if t.By != "" {
		cols = append(append([]string(nil), t.Files...), t.By)
	}
	ti := tenantIndex(len(t.Files), len(cols), t.By, t.Via)
	n, vals, err := rs.PurgeRange(ctx, t.Sel, cols, t.Via, from, to)
	if err != nil {
		return 0, nil, err
	}
	countRows(run, c, u, vals, ti, n)
	var files []File
	for _, row := range vals {
		files = append(files, s.files(c, rowTenant(u, row, ti), row, t.Files)...)
	}
	return n, files, nil
}

// nextSpan aims the next slice of pages at batchRows deleted rows from a
// slice of span pages that deleted n, changing it by at most a factor of
// two per batch, within [1, maxSpan].
func nextSpan(span int, n, batchRows int64, maxSpan int) int {
	next := int64(span) * 2
	if n > 0 {
		next = min(max(int64(span)*batchRows/n, int64(span)/2), int64(span)*2)
	}
	return int(min(max(next, 1), int64(maxSpan)))
}

// pace is the recent slices of a range walk: pages and statement times.
type pace struct {
	pages []int64
	took  []time.Duration
}

// paceWindow is how many recent slices aim the next.
const paceWindow = 8

// add records a slice of pages that took took.
func (p *pace) add(pages int64, took time.Duration) {
	p.pages = append(p.pages, pages)
	p.took = append(p.took, took)
	if len(p.pages) > paceWindow {
		p.pages, p.took = p.pages[1:], p.took[1:]
	}
}

// aim returns the pages a slice should span to take about target at the
// recent slices' pace (their pages over their time), and at most one and
// a half targets at the slowest one's; 0 before a timed slice. A store's
// pace can swing fivefold from one batch to the next (MariaDB on a busy
// machine, each deleted row a random read in each of its indexes): aimed
// at the last slice's pace alone, a slice after a quick one took up to
// five targets. Slices quicker than a quarter target do not count as the
// slowest: a statement's fixed cost makes a small one (the first) look
// slow.
func (p *pace) aim(target time.Duration) int {
	var pages int64
	var took time.Duration
	slowest := math.Inf(1)
	for i, t := range p.took {
		if t <= 0 {
			continue
		}
		pages += p.pages[i]
		took += t
		if t >= target/4 {
			slowest = min(slowest, float64(p.pages[i])/float64(t))
		}
	}
	if took <= 0 {
		return 0
	}
	return int(min(float64(pages)*float64(target)/float64(took), 1.5*float64(target)*slowest))
}

// deleteFiles deletes the files of purged rows (already journaled as
// pending) and records those deleted. A file that fails stays pending.
func (s *Sweeper) deleteFiles(ctx context.Context, run *Run, files []File) (int64, error) {
	if s.Files == nil || len(files) == 0 {
		return 0, nil
	}
	var done []File
	for _, f := range files {
		if err := s.Files.DeleteFile(ctx, f.Store, f.Key); err != nil {
			s.logger().Warn("retention: file not deleted; it stays pending", "run", run.ID, "store", f.Store, "collection", f.Collection, "error", err)
			continue
		}
		done = append(done, f)
	}
	if len(done) == 0 {
		return 0, nil
	}
	if err := s.Runs.FilesDone(context.WithoutCancel(ctx), done); err != nil {
		return 0, err
	}
	for _, f := range done {
		cnt := run.count(f.Collection, f.Tenant)
		cnt.FilesPending--
		cnt.FilesPurged++
	}
	return int64(len(done)), s.save(ctx, run, nil)
}

// anonymize rewrites the unit's rows in primary-key order from the cursor.
func (s *Sweeper) anonymize(ctx context.Context, run *Run, u *unit) error {
	an, err := s.Engine.Anonymization(u.c)
	if err != nil {
		return &stepError{where: "anonymise " + u.c.Key, err: err}
	}
	st := s.Stores[u.c.Store]
	t := s.anonymizeTally(u, u.self)
	err = s.loop(s.batchSize()).Run(ctx, func(bctx context.Context, b *batch.Batch) error {
		start := time.Now()
		gs, last, err := st.AnonymizeTally(bctx, t, an, run.Cursor.AfterKey, b.Size)
		if err != nil {
			return err
		}
		var n int64
		for _, g := range gs {
			run.count(u.c.Key, groupTenant(u, t, g)).RowsAnonymized += g.Rows
			n += g.Rows
		}
		b.N = n
		if n > 0 {
			run.Cursor.AfterKey = &last
		}
		if err := s.save(ctx, run, nil); err != nil {
			return err
		}
		if s.Observer != nil {
			s.Observer.Batch(u.c.Key, n, 0, time.Since(start))
		}
		return nil
	})
	if err != nil {
		return &stepError{where: "anonymise " + u.c.Key, err: err}
	}
	return nil
}
