package state

import (
	"context"
	"encoding/json"
	"fmt"
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
// concurrent appends from several replicas are serialised.
func (l *AuditLog) appendTx(tx *gorm.DB, now time.Time, ev dsr.AuditEvent) (*dsr.AuditEntry, error) {
	var head auditHead
	if err := l.DB.lock(tx).Where("id = 1").Take(&head).Error; err != nil {
		return nil, fmt.Errorf("audit: read head: %w", err)
	}
	return l.appendAfter(tx, head, now, ev)
}

// appendAfter links ev to the chain after head, which tx has read and
// locked (on Postgres, SELECT … FOR UPDATE of lethe_audit_head in a
// statement that did other work too, saving the round trip of appendTx's
// own read).
func (l *AuditLog) appendAfter(tx *gorm.DB, head auditHead, now time.Time, ev dsr.AuditEvent) (*dsr.AuditEntry, error) {
	e := &dsr.AuditEntry{Seq: head.Seq + 1, At: now, Actor: ev.Actor, Action: ev.Action, RequestID: ev.RequestID,
		Tenant: ev.Tenant, Subject: ev.Subject, PrevHash: head.Hash}
	if ev.Details != nil {
		b, err := json.Marshal(ev.Details)
		if err != nil {
			return nil, fmt.Errorf("audit: details: %w", err)
		}
		e.Details = b
	}
	e.Hash = e.ComputeHash()
	if err := l.link(tx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// link writes entry e and moves the head to it, inside tx: on Postgres in
// one statement, since every request pays for three entries.
func (l *AuditLog) link(tx *gorm.DB, e *dsr.AuditEntry) error {
	row := &auditRow{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, RequestID: e.RequestID,
		Tenant: e.Tenant, Subject: string(e.Subject), Details: string(e.Details), PrevHash: e.PrevHash, Hash: e.Hash}
	if l.DB.Dialect == Postgres {
		err := tx.Exec(`WITH entry AS (INSERT INTO lethe_audit (seq, at, actor, action, request_id, tenant, subject, details, prev_hash, hash)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?))
			UPDATE lethe_audit_head SET seq = ?, hash = ? WHERE id = 1`,
			row.Seq, row.At, row.Actor, row.Action, row.RequestID, row.Tenant, row.Subject, row.Details, row.PrevHash, row.Hash,
			row.Seq, row.Hash).Error
		if err != nil {
			return fmt.Errorf("audit: append: %w", err)
		}
		return nil
	}
	if err := tx.Create(row).Error; err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	if err := tx.Model(&auditHead{}).Where("id = 1").Updates(map[string]any{"seq": e.Seq, "hash": e.Hash}).Error; err != nil {
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
		out, err = dsr.VerifyAnchoredChain(next, head.Seq, head.Hash, cps, pub)
		return err
	})
	return out, err
}
