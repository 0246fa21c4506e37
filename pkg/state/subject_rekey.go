package state

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
)

// RehashSubjects brings the subjects of the rows that still hold their
// email (open requests, active legal holds) to h's current derivation, so
// that a hold filed before an upgrade of the derivation still covers the
// requests filed after it, and a newer self-service request still
// supersedes an older one. Rows without an email keep the subject they
// were recorded with, as the audit trail does. It returns how many rows
// changed; running it again changes none.
func RehashSubjects(ctx context.Context, db *DB, h *dsr.SubjectHasher) (int, error) {
	n := 0
	err := db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, table := range []string{"lethe_requests", "lethe_holds"} {
			var rows []struct {
				ID      string
				Email   string
				Subject string
			}
			if err := tx.Table(table).Select("id", "email", "subject").Where("email IS NOT NULL").Find(&rows).Error; err != nil {
				return err
			}
			for _, r := range rows {
				want := string(h.Subject(r.Email))
				if r.Subject == want || r.Subject == "" {
					continue
				}
				if err := tx.Table(table).Where("id = ?", r.ID).Update("subject", want).Error; err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("state: rehash subjects: %w", err)
	}
	return n, nil
}
