package export

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// rowEncoder turns one collection's rows into JSON objects and CSV records
// without reflection: a million rows go through it.
type rowEncoder struct {
	cols    []string
	keys    [][]byte // `"col":` per column, escaped once
	rawJSON []bool   // columns the registry declares as JSON: embedded as documents
	js      []byte
	csv     []byte
	scratch []byte
}

func newRowEncoder(cols []string, jsonCols map[string]bool) *rowEncoder {
	e := &rowEncoder{cols: append([]string(nil), cols...)}
	for _, c := range cols {
		k := appendJSONString(nil, c)
		e.keys = append(e.keys, append(k, ':'))
		e.rawJSON = append(e.rawJSON, jsonCols[c])
	}
	return e
}

// header returns the CSV header line.
func (e *rowEncoder) header() []byte {
	e.csv = e.csv[:0]
	for i, c := range e.cols {
		if i > 0 {
			e.csv = append(e.csv, ',')
		}
		e.csv = appendCSVField(e.csv, []byte(c))
	}
	return append(e.csv, '\r', '\n')
}

// row encodes one row: the JSON object (without separator) and the CSV
// record. The results are valid until the next call.
func (e *rowEncoder) row(vals []any) (js, csv []byte) {
	e.js, e.csv = append(e.js[:0], '{'), e.csv[:0]
	for i, v := range vals {
		if i > 0 {
			e.js = append(e.js, ',')
			e.csv = append(e.csv, ',')
		}
		e.js = append(e.js, e.keys[i]...)
		e.js = e.appendJSON(e.js, v, e.rawJSON[i])
		e.scratch = appendText(e.scratch[:0], v)
		e.csv = appendCSVField(e.csv, e.scratch)
	}
	return append(e.js, '}'), append(e.csv, '\r', '\n')
}

func (e *rowEncoder) appendJSON(b []byte, v any, raw bool) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return appendJSONString(b, strconv.FormatFloat(v, 'g', -1, 64))
		}
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	case float32:
		return strconv.AppendFloat(b, float64(v), 'g', -1, 32)
	case bool:
		return strconv.AppendBool(b, v)
	case time.Time:
		return append(append(append(b, '"'), v.UTC().Format(time.RFC3339Nano)...), '"')
	case []byte:
		if doc, ok := embeddable(string(v), raw); ok {
			return append(b, doc...)
		}
		if !utf8.Valid(v) {
			return appendJSONString(b, "base64:"+base64.StdEncoding.EncodeToString(v))
		}
		return appendJSONBytes(b, v)
	case string:
		if doc, ok := embeddable(v, raw); ok {
			return append(b, doc...)
		}
		return appendJSONString(b, v)
	}
	return appendJSONString(b, fmt.Sprint(v))
}

// embeddable returns the JSON document text s holds, to embed in a row's
// JSON as a document instead of an escaped string: in a column the
// registry declares as JSON (raw), any JSON value, and one encoded twice (a
// JSON string whose text is an object or array) unwrapped; in any other
// column, text that is a JSON object or array, as apps store documents in
// text columns.
func embeddable(s string, raw bool) (string, bool) {
	t := strings.TrimSpace(s)
	if t == "" || !json.Valid([]byte(t)) {
		return "", false
	}
	if raw && t[0] == '"' {
		var inner string
		if json.Unmarshal([]byte(t), &inner) == nil {
			if doc, ok := embeddable(inner, false); ok {
				return doc, true
			}
		}
		return t, true
	}
	if raw || t[0] == '{' || t[0] == '[' {
		return t, true
	}
	return "", false
}

// appendText writes v as CSV shows it: NULL as empty, times in RFC 3339.
func appendText(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return b
	case string:
		return append(b, v...)
	case []byte:
		if !utf8.Valid(v) {
			return append(b, "base64:"+base64.StdEncoding.EncodeToString(v)...)
		}
		return append(b, v...)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case float64:
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	case bool:
		return strconv.AppendBool(b, v)
	case time.Time:
		return append(b, v.UTC().Format(time.RFC3339Nano)...)
	}
	return append(b, fmt.Sprint(v)...)
}

// appendCSVField quotes f when it holds a comma, quote, CR or LF, or starts
// with a space (RFC 4180). A cell a spreadsheet would run as a formula
// (formulaLike) is neutralised as OWASP advises for CSV injection: a
// leading ' makes it text, and it is quoted. The package's JSON twin keeps
// the value unchanged.
func appendCSVField(b, f []byte) []byte {
	neutralise := formulaLike(f)
	quote := neutralise || len(f) > 0 && (f[0] == ' ' || f[0] == '\t')
	for _, c := range f {
		if c == ',' || c == '"' || c == '\n' || c == '\r' {
			quote = true
			break
		}
	}
	if !quote {
		return append(b, f...)
	}
	b = append(b, '"')
	if neutralise {
		b = append(b, '\'')
	}
	for _, c := range f {
		if c == '"' {
			b = append(b, '"')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

// formulaLike reports whether a spreadsheet would read cell f as a formula
// or a command: it starts with =, +, -, @, a tab or a CR (OWASP's list). A
// plain number such as -12.5 or +4915112345 is read as a number and is
// left as it is.
func formulaLike(f []byte) bool {
	if len(f) == 0 {
		return false
	}
	switch f[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return !plainNumber(f)
	}
	return false
}

// plainNumber reports whether f is a decimal number: an optional sign,
// digits, an optional fraction and an optional exponent, nothing else.
func plainNumber(f []byte) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			i, n = i+1, n+1
		}
		return n
	}
	if i < len(f) && (f[i] == '+' || f[i] == '-') {
		i++
	}
	if digits() == 0 {
		return false
	}
	if i < len(f) && f[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(f) && (f[i] == 'e' || f[i] == 'E') {
		i++
		if i < len(f) && (f[i] == '+' || f[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(f)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendJSONBytes(b, s []byte) []byte {
	return appendJSONString(b, string(s))
}
