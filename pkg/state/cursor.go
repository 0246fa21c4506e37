package state

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

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
	if !ok || err != nil || !hmac.Equal([]byte(h.Sign(cursorPurpose, raw)), []byte(sig)) || json.Unmarshal(raw, &c) != nil {
		return c, dsr.Errorf(dsr.EINVALID, "cursor: not a cursor returned by this service; start again without it")
	}
	return c, nil
}
