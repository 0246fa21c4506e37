package redact

import "strings"

// commonWords are first names and surnames that are also common English
// words: alone, they are taken for a name only with evidence (see People).
var commonWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		grace will hope joy faith mark bill rose june may april august summer autumn
		dawn ruby pearl iris ivy lily daisy holly heather amber crystal honey
		sky river rain storm sunny rich frank art don sue pat max guy ray rob
		jack chase hunter king cook baker smith brown white black green grey
		gray young long little hill wood woods stone rock price page bishop
		hall wall field fields bell star sterling penny bob sandy rusty dusty
		miles cliff glen dale lane carol noble love sage rowan reed sean angel
		baby belle ginger olive violet hazel jasmine melody harmony patience
		prudence mercy charity constance verity earnest ernest victor carter
		mason porter taylor fisher miller hunt marsh moody rice sharp gay
		young may`) {
		m[w] = true
	}
	return m
}()
