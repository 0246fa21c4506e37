package state

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
)

// auditRow is a row of lethe_audit.
type auditRow struct {
	Seq       int64 `gorm:"primaryKey;autoIncrement:false"`
	At        time.Time
	Actor     string
	Action    string
	RequestID string
	Tenant    string
	Subject   string
	Details   string
	PrevHash  string
	Hash      string
}

func (auditRow) TableName() string { return "lethe_audit" }

// auditHead is the single row of lethe_audit_head: the chain's last link,
// so that removing entries from the end is detected too.
type auditHead struct {
	ID   int `gorm:"primaryKey"`
	Seq  int64
	Hash string
	// PrevHash is the hash of the entry before the head (migration 0016).
	PrevHash string
}

func (auditHead) TableName() string { return "lethe_audit_head" }

func (r *auditRow) toDomain() *dsr.AuditEntry {
	e := &dsr.AuditEntry{Seq: r.Seq, At: r.At.UTC(), Actor: r.Actor, Action: r.Action, RequestID: r.RequestID,
		Tenant: r.Tenant, Subject: dsr.Subject(r.Subject), PrevHash: r.PrevHash, Hash: r.Hash}
	if r.Details != "" {
		e.Details = json.RawMessage(r.Details)
	}
	return e
}

// AuditLog implements dsr.AuditLog on the state store.
type AuditLog struct {
	DB *DB
	// Anchor, when set, keeps signed checkpoints of the chain outside the
	// state store, and Verify checks the chain against them.
	Anchor *Anchor

	// afterRestoreRead, when set, runs in AcceptRestore between its read
	// of the chain and its append (tests: an append by another replica).
	afterRestoreRead func()
}

var _ dsr.AuditLog = (*AuditLog)(nil)

// Append implements dsr.AuditLog.
func (l *AuditLog) Append(ctx context.Context, ev dsr.AuditEvent) (*dsr.AuditEntry, error) {
	var out *dsr.AuditEntry
	err := l.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		out, err = l.appendTx(tx, l.DB.now(), ev)
		return err
	})
	return out, err
}

// appendTx links ev to the chain inside tx. The head row is locked first, so
// concurrent appends from several replicas are serialised: on Postgres by
// the one statement that moves it and writes the entry (see pgAppend).
func (l *AuditLog) appendTx(tx *gorm.DB, now time.Time, ev dsr.AuditEvent) (*dsr.AuditEntry, error) {
	e, err := newEntry(now, ev)
	if err != nil {
		return nil, err
	}
	if l.DB.Dialect == Postgres {
		with, args := pgAppend(e, "", nil, "")
		var heads []auditHead
		if err := tx.Raw("WITH "+with+" SELECT seq, prev_hash, hash FROM head", args...).Scan(&heads).Error; err != nil {
			return nil, fmt.Errorf("audit: append: %w", err)
		} else if len(heads) != 1 {
			return nil, fmt.Errorf("audit: append: the chain's head is missing")
		}
		e.Seq, e.PrevHash, e.Hash = heads[0].Seq, heads[0].PrevHash, heads[0].Hash
		return e, nil
	}
	var head auditHead
	if err := l.DB.lock(tx).Where("id = 1").Take(&head).Error; err != nil {
		return nil, fmt.Errorf("audit: read head: %w", err)
	}
	e.Seq, e.PrevHash = head.Seq+1, head.Hash
	e.Hash = e.ComputeHash()
	if err := link(tx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// insertAudited inserts row into lethe_requests and links ev to the chain
// in one statement inside tx (Postgres): one round trip for both.
func (l *AuditLog) insertAudited(tx *gorm.DB, now time.Time, row *requestRow, ev dsr.AuditEvent) error {
	e, err := newEntry(now, ev)
	if err != nil {
		return err
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(requestColumns)), ", ")
	with, args := pgAppend(e, "", nil, "")
	var heads []auditHead
	err = tx.Raw("WITH req AS (INSERT INTO lethe_requests ("+strings.Join(requestColumns, ", ")+") VALUES ("+marks+")),\n\t\t"+
		with+" SELECT seq, prev_hash, hash FROM head", append(row.insertValues(), args...)...).Scan(&heads).Error
	if err != nil {
		return err
	} else if len(heads) != 1 {
		return fmt.Errorf("audit: append: the chain's head is missing")
	}
	return nil
}

// newEntry is ev at now, not yet linked.
func newEntry(now time.Time, ev dsr.AuditEvent) (*dsr.AuditEntry, error) {
	e := &dsr.AuditEntry{At: now, Actor: ev.Actor, Action: ev.Action, RequestID: ev.RequestID,
		Tenant: ev.Tenant, Subject: ev.Subject}
	if ev.Details != nil {
		b, err := json.Marshal(ev.Details)
		if err != nil {
			return nil, fmt.Errorf("audit: details: %w", err)
		}
		e.Details = b
	}
	return e, nil
}

// pgAppend returns the WITH items that append e to the chain on Postgres
// within the statement they begin, so that an append takes one round trip
// and can join a statement doing other work: "head" moves the chain's head
// on by one link and computes e's hash from the head as it was (an
// UPDATE's SET reads the row before the update, and the latest committed
// version when appends from several replicas wait on it), keeping the old
// hash as prev_hash; "entry" inserts e with what head returns. cols gives
// SQL expressions, over the rows of the WITH item named from, for the
// parts of e the statement reads rather than Lethe knows (by their
// dsr.Hashed… index: request id, tenant, subject); cond, when set, appends
// only where it holds.
func pgAppend(e *dsr.AuditEntry, from string, cols map[int]string, cond string) (string, []any) {
	parts := e.HashedParts()
	cols = maps.Clone(cols)
	if cols == nil {
		cols = map[int]string{}
	}
	cols[dsr.HashedPrevHash], cols[dsr.HashedSeq] = "lethe_audit_head.hash", "(lethe_audit_head.seq + 1)::text"
	var terms []string
	var args []any
	var known []byte
	for i, part := range parts {
		col, ok := cols[i]
		if !ok {
			known = append(known, dsr.FrameHashed(part)...)
			continue
		}
		if known != nil {
			terms, args, known = append(terms, "?::bytea"), append(args, known), nil
		}
		terms = append(terms, "convert_to(octet_length("+col+")::text || ':' || "+col+", 'UTF8')")
	}
	if known != nil {
		terms, args = append(terms, "?::bytea"), append(args, known)
	}
	join, where := "", "lethe_audit_head.id = 1"
	if from != "" {
		join = " FROM " + from
	}
	if cond != "" {
		where += " AND " + cond
	}
	head := `head AS (UPDATE lethe_audit_head SET prev_hash = lethe_audit_head.hash, seq = lethe_audit_head.seq + 1,
			hash = encode(sha256(` + strings.Join(terms, " || ") + `), 'hex')` + join + ` WHERE ` + where + `
			RETURNING lethe_audit_head.seq, lethe_audit_head.prev_hash, lethe_audit_head.hash)`
	values := []string{"?", "?", "?"}
	args = append(args, e.At, e.Actor, e.Action)
	for _, i := range []int{dsr.HashedRequestID, dsr.HashedTenant, dsr.HashedSubject} {
		if col, ok := cols[i]; ok {
			values = append(values, col)
		} else {
			values, args = append(values, "?"), append(args, parts[i])
		}
	}
	values, args = append(values, "?"), append(args, string(e.Details))
	entry := `entry AS (INSERT INTO lethe_audit (seq, at, actor, action, request_id, tenant, subject, details, prev_hash, hash)
			SELECT head.seq, ` + strings.Join(values, ", ") + `, head.prev_hash, head.hash FROM head` + strings.Replace(join, " FROM", ",", 1) + `)`
	return head + ",\n\t\t" + entry, args
}

// link writes entry e and moves the head to it, inside tx (SQLite).
func link(tx *gorm.DB, e *dsr.AuditEntry) error {
	row := &auditRow{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, RequestID: e.RequestID,
		Tenant: e.Tenant, Subject: string(e.Subject), Details: string(e.Details), PrevHash: e.PrevHash, Hash: e.Hash}
	if err := tx.Create(row).Error; err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	err := tx.Model(&auditHead{}).Where("id = 1").Updates(map[string]any{"seq": e.Seq, "hash": e.Hash, "prev_hash": e.PrevHash}).Error
	if err != nil {
		return fmt.Errorf("audit: move head: %w", err)
	}
	return nil
}

// List implements dsr.AuditLog.
func (l *AuditLog) List(ctx context.Context, f dsr.AuditFilter) ([]*dsr.AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	q := l.DB.Gorm.WithContext(ctx).Where("seq > ?", f.AfterSeq)
	if f.RequestID != "" {
		q = q.Where("request_id = ?", f.RequestID)
	}
	if f.Tenant != "" {
		q = q.Where("tenant = ?", f.Tenant)
	}
	var rows []auditRow
	if err := q.Order("seq").Limit(f.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	out := make([]*dsr.AuditEntry, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// Verify implements dsr.AuditLog: it checks every link and the head, all
// in one snapshot, and, with an Anchor, the chain against every signed
// checkpoint (read first: each holds a head the snapshot has reached).
func (l *AuditLog) Verify(ctx context.Context) (*dsr.AuditVerification, error) {
	cps, pub, err := l.checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	var out *dsr.AuditVerification
	err = l.readChain(ctx, func(head auditHead, next func() (*dsr.AuditEntry, error)) error {
		var err error
		out, err = dsr.VerifyAnchoredChain(next, head.Seq, head.Hash, cps, pub, l.previousKeys()...)
		return err
	})
	return out, err
}
