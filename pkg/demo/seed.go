package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/lethe-privacy/lethe/pkg/private"
)

// seedMarker is the demo_meta key whose row, written last, marks a finished seed.
const seedMarker = "seeded_at"

// assistantEmail is the author email of every assistant message.
const assistantEmail = "assistant@studio.invalid"

// seeder writes the fixtures inside one transaction and remembers the upload
// files it created so a failed seed can remove them.
type seeder struct {
	tx         *sql.Tx
	uploadsDir string
	now        time.Time
	written    []string
}

// run creates the schema and inserts every fixture, the seed marker last.
func (s *seeder) run(ctx context.Context) error {
	for _, stmt := range schema {
		if _, err := s.tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	studioNames := map[string]string{}
	for _, st := range studios {
		studioNames[st.id] = st.name
		if err := s.exec(ctx, "studios", `INSERT INTO studios (id, name) VALUES (?, ?)`, st.id, st.name); err != nil {
			return err
		}
	}
	userIDs := map[string]int64{}
	userNames := map[string]string{}
	for _, u := range users {
		res, err := s.tx.ExecContext(ctx, `INSERT INTO users (email, name, created_at) VALUES (?, ?, ?)`,
			u.email, u.name, s.ago(u.age))
		if err != nil {
			return fmt.Errorf("insert users %s: %w", u.email, err)
		}
		if userIDs[u.email], err = res.LastInsertId(); err != nil {
			return fmt.Errorf("insert users %s: %w", u.email, err)
		}
		userNames[u.email] = u.name
	}
	for _, c := range chats {
		userID, ok := userIDs[c.user]
		if !ok {
			return fmt.Errorf("chat %q: unknown user %s", c.title, c.user)
		}
		who := author{Email: c.user, Name: userNames[c.user]}
		assistant := author{Email: assistantEmail, Name: studioNames[c.studio]}
		if err := s.chat(ctx, c, userID, who, assistant); err != nil {
			return err
		}
	}
	for _, n := range newsletter {
		if err := s.exec(ctx, "newsletter", `INSERT INTO newsletter (email, subscribed_at) VALUES (?, ?)`,
			n.email, s.ago(n.age)); err != nil {
			return err
		}
	}
	return s.exec(ctx, "demo_meta", `INSERT INTO demo_meta (key, value) VALUES (?, ?)`,
		seedMarker, s.now.Format(time.RFC3339))
}

// chat inserts one chat, its messages (alternating user and assistant, one
// minute apart) and its upload with the upload's file.
func (s *seeder) chat(ctx context.Context, c chatFixture, userID int64, user, assistant author) error {
	created := s.ago(c.age)
	res, err := s.tx.ExecContext(ctx, `INSERT INTO chats (studio_id, user_id, title, created_at) VALUES (?, ?, ?, ?)`,
		c.studio, userID, c.title, created)
	if err != nil {
		return fmt.Errorf("insert chats %q: %w", c.title, err)
	}
	chatID, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("insert chats %q: %w", c.title, err)
	}
	for i, text := range c.turns {
		role, who := "user", user
		if i%2 == 1 {
			role, who = "assistant", assistant
		}
		body, err := json.Marshal(messageBody{Author: who, Parts: []part{{Text: text}}})
		if err != nil {
			return fmt.Errorf("chat %q message %d: %w", c.title, i, err)
		}
		if err := s.exec(ctx, "messages", `INSERT INTO messages (chat_id, role, body, created_at) VALUES (?, ?, ?, ?)`,
			chatID, role, string(body), created.Add(time.Duration(i)*time.Minute)); err != nil {
			return err
		}
	}
	if c.upload == nil {
		return nil
	}
	key, err := s.writeFile(c.upload)
	if err != nil {
		return fmt.Errorf("chat %q upload %s: %w", c.title, c.upload.filename, err)
	}
	return s.exec(ctx, "uploads", `INSERT INTO uploads (chat_id, storage_key, filename, created_at) VALUES (?, ?, ?, ?)`,
		chatID, key, c.upload.filename, s.ago(c.upload.age))
}

// writeFile stores an upload's content under a fresh key "<folder>/<uuid>.txt"
// and returns the key.
func (s *seeder) writeFile(u *uploadFixture) (string, error) {
	key := u.folder + "/" + uuid.NewString() + ".txt"
	path := filepath.Join(s.uploadsDir, filepath.FromSlash(key))
	if err := private.Dir(filepath.Dir(path)); err != nil {
		return "", err
	}
	// O_EXCL: a key collision must not overwrite another upload.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, private.File)
	if err != nil {
		return "", err
	}
	s.written = append(s.written, path)
	_, err = f.WriteString(u.content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return key, err
}

// removeFiles deletes the upload files this seeder wrote.
func (s *seeder) removeFiles() error {
	var errs []error
	for _, path := range s.written {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *seeder) exec(ctx context.Context, table, query string, args ...any) error {
	if _, err := s.tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("insert %s: %w", table, err)
	}
	return nil
}

// ago is now minus age.
func (s *seeder) ago(age time.Duration) time.Time {
	return s.now.Add(-age)
}

// messageBody is the JSON document in messages.body.
type messageBody struct {
	Author author `json:"author"`
	Parts  []part `json:"parts"`
}

type author struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

type part struct {
	Text string `json:"text"`
}
