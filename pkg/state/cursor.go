package state

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
)

// cursor is the position after the last item of a page, signed so that a
// client cannot forge one (which could otherwise probe other filters).
type cursor struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"i"`
}

const cursorPurpose = "list-cursor"

func encodeCursor(h *dsr.SubjectHasher, c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b) + "." + h.Sign(cursorPurpose, b)
}

// decodeCursor returns EINVALID for a cursor that was not issued by Lethe
// with the same key.
func decodeCursor(h *dsr.SubjectHasher, s string) (cursor, error) {
	var c cursor
	body, sig, ok := strings.Cut(s, ".")
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if !ok || err != nil || !h.Signed(cursorPurpose, raw, sig) || json.Unmarshal(raw, &c) != nil {
		return c, dsr.Errorf(dsr.EINVALID, "cursor: not a cursor returned by this service; start again without it")
	}
	return c, nil
}

// pageLimit is the number of items a listing returns for a limit asked:
// 1 to 200, 50 when none (or one out of range) is asked.
func pageLimit(limit int) int {
	if limit <= 0 || limit > 200 {
		return 50
	}
	return limit
}

// newestFirst reads one page of q's rows, newest first (created_at, then
// id, descending), after the position of cur when cur is not "" (a cursor
// this service issued), pageLimit(limit) rows at most. next is the cursor
// after the page's last row, "" on the last page; pos is a row's position.
// what names the listing in a database error.
func newestFirst[R any](h *dsr.SubjectHasher, q *gorm.DB, cur string, limit int, what string, pos func(*R) cursor) (rows []R, next string, err error) {
	limit = pageLimit(limit)
	if cur != "" {
		c, err := decodeCursor(h, cur)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("created_at < ? OR (created_at = ? AND id < ?)", c.CreatedAt, c.CreatedAt, c.ID)
	}
	if err := q.Order("created_at DESC, id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list %s: %w", what, err)
	}
	if len(rows) > limit {
		rows = rows[:limit]
		next = encodeCursor(h, pos(&rows[limit-1]))
	}
	return rows, next, nil
}
