package registry

import "strings"

// QuoteIdent quotes an identifier from the registry for driver: "x" for
// postgres and sqlite, `x` for mysql, with embedded quote characters doubled.
// A dotted name ("schema.table") is quoted part by part. Every table and
// column name that reaches SQL goes through QuoteIdent; values never do,
// they are parameters.
func QuoteIdent(driver, name string) string {
	q := `"`
	if driver == DriverMySQL {
		q = "`"
	}
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = q + strings.ReplaceAll(p, q, q+q) + q
	}
	return strings.Join(parts, ".")
}

// QuoteColumn quotes a column name, which never has a schema part: a dot in
// it is part of the name.
func QuoteColumn(driver, name string) string {
	q := `"`
	if driver == DriverMySQL {
		q = "`"
	}
	return q + strings.ReplaceAll(name, q, q+q) + q
}
