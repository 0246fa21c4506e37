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
	var n int
	err := b.a.Mentions(b.ctx, func(m engine.MentionExcerpt) error {
		if hw == nil {
			var err error
			if hw, err = b.create("mentions.json"); err != nil {
				return err
			}
			hw.Write([]byte("["))
		}
		return writeElement(hw, &n, m)
	})
	if err != nil || hw == nil {
		return err
	}
	if _, err := hw.Write([]byte("\n]\n")); err != nil {
		return err
	}
	b.entries = append(b.entries, hw.entry("mentions.json"))
	b.counts["mentions"] = int64(n)
	return nil
}

// writeElement writes v as the next element of a JSON array that hw holds
// n elements of, one a line, and counts it.
func writeElement(hw *hashWriter, n *int, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	sep := ",\n"
	if *n == 0 {
		sep = "\n"
	}
	*n++
	_, err = hw.Write(append([]byte(sep), raw...))
	return err
}
