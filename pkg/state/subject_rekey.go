package state

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
)

// subjectTables are the tables whose rows name a person by subject and
// record the subject key it was made with.
var subjectTables = []string{"lethe_requests", "lethe_holds"}

// RehashSubjects brings the subjects of the rows that still hold their
// email (open requests, active legal holds) to h's current key and
// derivation, and records that key's fingerprint (dsr.KeyID) with them,
// so that a hold filed before an upgrade of the derivation or a rotation
// of LETHE_SUBJECT_KEY still covers the requests filed after it, and a
// newer self-service request still supersedes an older one. Rows without
// an email keep the subject they were recorded with, as the audit trail
// does; those recorded before key fingerprints were kept are stamped with
// the current key when h has no previous key (nothing was rotated, so the
// current key made them), and left unknown during a rotation. It returns
// how many rows changed; running it again changes none.
func RehashSubjects(ctx context.Context, db *DB, h *dsr.SubjectHasher) (int, error) {
	n := 0
	id := h.KeyID()
	rotating := len(h.KeyIDs()) > 1
	err := db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, table := range subjectTables {
			var rows []struct {
				ID         string
				Email      string
				Subject    string
				SubjectKey *string
			}
			q := tx.Table(table).Select("id", "email", "subject", "subject_key").Where("email IS NOT NULL")
			if err := q.Find(&rows).Error; err != nil {
				return err
			}
			for _, r := range rows {
				want := string(h.Subject(r.Email))
				if r.Subject == "" || (r.Subject == want && r.SubjectKey != nil && *r.SubjectKey == id) {
					continue
				}
				if err := tx.Table(table).Where("id = ?", r.ID).Updates(map[string]any{"subject": want, "subject_key": id}).Error; err != nil {
					return err
				}
				n++
			}
			if rotating {
				continue
			}
			res := tx.Table(table).Where("subject_key IS NULL AND subject <> ''").Update("subject_key", id)
			if res.Error != nil {
				return res.Error
			}
			n += int(res.RowsAffected)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("state: rehash subjects: %w", err)
	}
	return n, nil
}
