package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/retention"
)

// holdRow is a row of lethe_holds.
type holdRow struct {
	ID         string `gorm:"primaryKey"`
	Tenant     string
	Subject    string
	Email      *string
	Reason     string
	CreatedAt  time.Time `gorm:"autoCreateTime:false"`
	CreatedBy  string
	ReleasedAt *time.Time
	ReleasedBy string
	SubjectKey *string // KeyID of the subject key Subject was made with
}

func (holdRow) TableName() string { return "lethe_holds" }

func (r *holdRow) toDomain() *retention.Hold {
	h := &retention.Hold{ID: r.ID, Tenant: r.Tenant, Subject: dsr.Subject(r.Subject), Reason: r.Reason,
		CreatedAt: r.CreatedAt.UTC(), CreatedBy: r.CreatedBy, ReleasedAt: utcPtr(r.ReleasedAt), ReleasedBy: r.ReleasedBy}
	if r.Email != nil {
		h.Email = *r.Email
	}
	return h
}

// Holds implements retention.HoldStore and dsr.HoldChecker.
type Holds struct {
	DB    *DB
	Audit *AuditLog
	// SubjectKey is the KeyID of the current subject key, recorded with
	// each hold ("" records none).
	SubjectKey string
}

var (
	_ retention.HoldStore = (*Holds)(nil)
	_ dsr.HoldChecker     = (*Holds)(nil)
)

// CreateHold implements retention.HoldStore. The audit entry names the
// subject by its hash; the reason (free text) is not copied into it.
func (s *Holds) CreateHold(ctx context.Context, actor string, h *retention.Hold) (*retention.Hold, error) {
	now := s.DB.now()
	row := &holdRow{ID: uuid.Must(uuid.NewV7()).String(), Tenant: h.Tenant, Subject: string(h.Subject),
		Reason: h.Reason, CreatedAt: now, CreatedBy: actor}
	if h.Subject != "" && s.SubjectKey != "" {
		row.SubjectKey = &s.SubjectKey
	}
	if h.Email != "" {
		row.Email = &h.Email
	}
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		_, err := s.Audit.appendTx(tx, now, dsr.AuditEvent{Actor: actor, Action: "hold.created", Tenant: h.Tenant,
			Subject: h.Subject, Details: map[string]any{"hold": row.ID}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create hold: %w", err)
	}
	return row.toDomain(), nil
}

// ReleaseHold implements retention.HoldStore.
func (s *Holds) ReleaseHold(ctx context.Context, actor, id string) (*retention.Hold, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, dsr.Errorf(dsr.ENOTFOUND, "hold %q not found", id)
	}
	now := s.DB.now()
	var out *retention.Hold
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row holdRow
		if err := s.DB.lock(tx).Where("id = ?", id).Take(&row).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return dsr.Errorf(dsr.ENOTFOUND, "hold %s not found", id)
		} else if err != nil {
			return err
		}
		if row.ReleasedAt != nil {
			return dsr.Errorf(dsr.ECONFLICT, "hold %s was already released", id)
		}
		row.ReleasedAt, row.ReleasedBy, row.Email = &now, actor, nil
		if err := tx.Save(&row).Error; err != nil {
			return err
		}
		if _, err := s.Audit.appendTx(tx, now, dsr.AuditEvent{Actor: actor, Action: "hold.released", Tenant: row.Tenant,
			Subject: dsr.Subject(row.Subject), Details: map[string]any{"hold": row.ID}}); err != nil {
			return err
		}
		out = row.toDomain()
		return nil
	})
	if err != nil && dsr.ErrorCode(err) == dsr.EINTERNAL {
		return nil, fmt.Errorf("release hold: %w", err)
	}
	return out, err
}

// Holds implements retention.HoldStore.
func (s *Holds) Holds(ctx context.Context, active bool) ([]*retention.Hold, error) {
	q := s.DB.Gorm.WithContext(ctx)
	if active {
		q = q.Where("released_at IS NULL")
	}
	var rows []holdRow
	if err := q.Order("created_at DESC, id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list holds: %w", err)
	}
	out := make([]*retention.Hold, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// HoldsOn implements dsr.HoldChecker: the active holds that may cover an
// erasure of req's subject within req's tenant, oldest first. A hold on a
// person covers a request of the same email even when the two subjects
// were made with different subject keys (a hold filed before a rotation,
// a request after, or the reverse, on a replica not yet restarted).
func (s *Holds) HoldsOn(ctx context.Context, req *dsr.Request) ([]dsr.HeldBy, error) {
	holds, err := s.Holds(ctx, true)
	if err != nil {
		return nil, err
	}
	var out []dsr.HeldBy
	for i := len(holds) - 1; i >= 0; i-- { // the oldest first
		h := holds[i]
		subject := req.Subject
		if h.Email != "" && req.Email != "" && dsr.FoldEmail(h.Email) == dsr.FoldEmail(req.Email) {
			subject = h.Subject
		}
		if h.Covers(subject, req.Tenant) {
			out = append(out, dsr.HeldBy{ID: h.ID, Tenant: h.Tenant, Subject: h.Subject != ""})
		}
	}
	return out, nil
}
