package export

import (
	"encoding/json"

	"github.com/lethe-privacy/lethe/dsr/engine"
)

// mentions writes mentions.json: the sentences of other people's rows
// that mention the person, with the others' data pseudonymised (see
// engine.Access.Mentions), as a JSON array; no entry when there is none.
// The manifest counts them under "mentions".
func (b *builder) mentions() error {
	var hw *hashWriter
	var n int64
	err := b.a.Mentions(b.ctx, func(m engine.MentionExcerpt) error {
		if hw == nil {
			var err error
			if hw, err = b.create("mentions.json"); err != nil {
				return err
			}
			hw.Write([]byte("["))
		}
		raw, err := json.Marshal(m)
		if err != nil {
			return err
		}
		sep := ",\n"
		if n == 0 {
			sep = "\n"
		}
		n++
		_, err = hw.Write(append([]byte(sep), raw...))
		return err
	})
	if err != nil || hw == nil {
		return err
	}
	if _, err := hw.Write([]byte("\n]\n")); err != nil {
		return err
	}
	b.entries = append(b.entries, hw.entry("mentions.json"))
	b.counts["mentions"] = n
	return nil
}
