package engine

import (
	"context"
	"strings"
)

// KeyStore is one redis store of the registry.
//
// Errors: a store that cannot be reached returns a *dsr.Error with code
// dsr.EUNAVAILABLE naming the store.
type KeyStore interface {
	// Scan calls fn with the keys p matches, a batch at a time, walking the
	// keyspace with SCAN (never KEYS) unless p is Exact. A key may be passed
	// twice when the keyspace changes during the walk.
	Scan(ctx context.Context, p KeyPattern, fn func(keys []string) error) error
	// Delete removes keys and returns how many existed.
	Delete(ctx context.Context, keys []string) (int64, error)
	// Read returns a key's type and value, or nil when it no longer exists.
	Read(ctx context.Context, key string) (*KeyValue, error)
}

// KeyPattern is a key template of the registry filled with one subject's
// values.
type KeyPattern struct {
	// Match is a glob for SCAN MATCH: the template's own wildcards are kept
	// and every filled-in value is escaped, so an email holding '*', '?' or
	// '[' matches only itself.
	Match string
	// Exact is the one key meant when the template has no wildcard ("" otherwise).
	Exact string
}

// KeyValue is one redis key as the access package shows it.
type KeyValue struct {
	Key   string `json:"key"`
	Type  string `json:"type"`            // string, hash, list, set or zset
	TTL   int64  `json:"ttl_seconds"`     // -1 without expiry
	Value any    `json:"value,omitempty"` // string, map[string]string, []string, or []ZMember
}

// ZMember is one member of a sorted set.
type ZMember struct {
	Member string  `json:"member"`
	Score  float64 `json:"score"`
}

// EscapeGlob escapes the characters redis glob patterns treat specially
// ('*', '?', '[', ']' and '\') so that s matches only itself.
func EscapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// templatePart is a literal piece of a key template or a placeholder.
type templatePart struct {
	literal string
	name    string // "email" or "<store>.<collection>.<column>"; "" for a literal
}

// parseTemplate splits a key template such as "session:{app.users.id}:*".
func parseTemplate(tpl string) []templatePart {
	var out []templatePart
	for tpl != "" {
		open := strings.IndexByte(tpl, '{')
		end := strings.IndexByte(tpl[max(open, 0):], '}')
		if open < 0 || end < 0 {
			out = append(out, templatePart{literal: tpl})
			break
		}
		end += open
		if open > 0 {
			out = append(out, templatePart{literal: tpl[:open]})
		}
		out = append(out, templatePart{name: tpl[open+1 : end]})
		tpl = tpl[end+1:]
	}
	return out
}

// fillTemplate returns the patterns of parts for every combination of the
// placeholders' values; none when a placeholder has no value.
func fillTemplate(parts []templatePart, values map[string][]string) []KeyPattern {
	wild := false
	for _, p := range parts {
		if p.name == "" && strings.ContainsAny(p.literal, "*?[") {
			wild = true
		}
	}
	type partial struct{ match, exact string }
	acc := []partial{{}}
	for _, p := range parts {
		if p.name == "" {
			for i := range acc {
				acc[i].match += p.literal
				acc[i].exact += p.literal
			}
			continue
		}
		var next []partial
		for _, a := range acc {
			for _, v := range values[p.name] {
				next = append(next, partial{a.match + EscapeGlob(v), a.exact + v})
			}
		}
		acc = next
	}
	out := make([]KeyPattern, 0, len(acc))
	for _, a := range acc {
		kp := KeyPattern{Match: a.match}
		if !wild {
			kp.Exact = a.exact
		}
		out = append(out, kp)
	}
	return out
}

// keySet names the frozen value set of a key template's placeholder.
func keySet(placeholder string) string { return "keys:" + placeholder }
