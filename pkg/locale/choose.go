package locale

import "golang.org/x/text/language"

// Choose picks the language to speak to a person: the one they chose
// (the page's language switch, or what they used when they asked), when
// Lethe has it; else the best match of their browser's Accept-Language
// header; else the studio's default language; else Default. Every answer
// is one of Languages.
func (b *Bundle) Choose(chosen, acceptLanguage, studioDefault string) string {
	if b.Supported(chosen) {
		return canonical(chosen)
	}
	if tags, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil && len(tags) > 0 {
		if _, i, conf := b.matcher.Match(tags...); conf != language.No {
			return b.tags[i].String()
		}
	}
	if b.Supported(studioDefault) {
		return canonical(studioDefault)
	}
	return Default.String()
}

func canonical(lang string) string {
	return language.MustParse(lang).String()
}
