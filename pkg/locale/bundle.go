package locale

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"
)

//go:embed translations/*.yaml
var translations embed.FS

// Default is the language of a person nothing else is known of, and the
// one every other translation is checked against.
var Default = language.English

// Bundle is every translation Lethe ships, with a matcher that picks one
// of them for a person's preferences.
type Bundle struct {
	b       *i18n.Bundle
	tags    []language.Tag // Default first, then by tag
	matcher language.Matcher
	ids     map[language.Tag]map[string]bool
}

// shipped is the bundle of the embedded translations, loaded once.
var shipped = mustLoad(translations)

// Shipped returns the bundle of the translations built into Lethe.
func Shipped() *Bundle { return shipped }

func mustLoad(fsys fs.FS) *Bundle {
	b, err := Load(fsys)
	if err != nil {
		panic(err)
	}
	return b
}

// Load reads every translations/<tag>.yaml of fsys. Errors: a file that
// is not YAML, or a name that is not a language tag.
func Load(fsys fs.FS) (*Bundle, error) {
	out := &Bundle{b: i18n.NewBundle(Default), ids: map[language.Tag]map[string]bool{}}
	out.b.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	names, err := fs.Glob(fsys, "translations/*.yaml")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		tag, err := language.Parse(strings.TrimSuffix(path.Base(name), ".yaml"))
		if err != nil {
			return nil, fmt.Errorf("locale: %s: the file name is not a language tag: %w", name, err)
		}
		f, err := out.b.ParseMessageFileBytes(raw, name)
		if err != nil {
			return nil, fmt.Errorf("locale: %s: %w", name, err)
		}
		out.ids[tag] = map[string]bool{}
		for _, m := range f.Messages {
			out.ids[tag][m.ID] = true
		}
		out.tags = append(out.tags, tag)
	}
	sort.Slice(out.tags, func(i, j int) bool {
		if (out.tags[i] == Default) != (out.tags[j] == Default) {
			return out.tags[i] == Default
		}
		return out.tags[i].String() < out.tags[j].String()
	})
	if len(out.tags) == 0 || out.tags[0] != Default {
		return nil, fmt.Errorf("locale: translations/%s.yaml is missing: every language is checked against it", Default)
	}
	out.matcher = language.NewMatcher(out.tags)
	return out, nil
}

// Languages returns the tags of every translation, Default first.
func (b *Bundle) Languages() []string {
	out := make([]string, len(b.tags))
	for i, t := range b.tags {
		out[i] = t.String()
	}
	return out
}

// Supported reports whether lang names a shipped translation exactly.
func (b *Bundle) Supported(lang string) bool {
	t, err := language.Parse(lang)
	if err != nil {
		return false
	}
	_, ok := b.ids[t]
	return ok
}

// Missing returns, per language, the message ids Default has and it
// lacks, and those it has that Default does not ("+id"); empty when every
// file is complete.
func (b *Bundle) Missing() map[string][]string {
	out := map[string][]string{}
	ref := b.ids[Default]
	for _, t := range b.tags[1:] {
		var gaps []string
		for id := range ref {
			if !b.ids[t][id] {
				gaps = append(gaps, id)
			}
		}
		for id := range b.ids[t] {
			if !ref[id] {
				gaps = append(gaps, "+"+id)
			}
		}
		if len(gaps) > 0 {
			sort.Strings(gaps)
			out[t.String()] = gaps
		}
	}
	return out
}

// IDs returns the message ids of the Default language, sorted.
func (b *Bundle) IDs() []string {
	out := make([]string, 0, len(b.ids[Default]))
	for id := range b.ids[Default] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
