package registry

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Epoch units of a retention timestamp held as a number.
const (
	UnitSeconds = "s"
	UnitMillis  = "ms"
	UnitMicros  = "us"
	UnitNanos   = "ns"
)

// TimeKind is how a timestamp column stores time, read from its type in
// the live schema.
type TimeKind int

// Time kinds. TimeUnknown is a column Lethe cannot interpret: retention
// refuses it.
const (
	TimeUnknown TimeKind = iota
	TimeNative           // a date/time type: compared with a time
	TimeEpoch            // an integer (or other number) of Retention.Unit since 1970-01-01 UTC
	TimeText             // ISO-8601 text, parsed by the database before comparing
)

func (k TimeKind) String() string {
	switch k {
	case TimeNative:
		return "date/time"
	case TimeEpoch:
		return "epoch number"
	case TimeText:
		return "ISO-8601 text"
	}
	return "unknown"
}

// fileTimestamp is `timestamp: created_at` or
// `timestamp: {column: created_at, unit: s}`.
type fileTimestamp struct {
	Column string `yaml:"column"`
	Unit   string `yaml:"unit,omitempty"`
}

func (t *fileTimestamp) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		t.Column = n.Value
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: timestamp: name the column (timestamp: created_at) or the column and its unit ({column: created_at, unit: s})", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k != "column" && k != "unit" {
			return fmt.Errorf("line %d: timestamp: unknown key %q: use column and unit", n.Content[i].Line, k)
		}
	}
	var m struct{ Column, Unit string }
	if err := n.Decode(&m); err != nil {
		return err
	}
	t.Column, t.Unit = m.Column, m.Unit
	return nil
}

func (t fileTimestamp) MarshalYAML() (any, error) {
	if t.Unit == "" {
		return t.Column, nil
	}
	return map[string]string{"column": t.Column, "unit": t.Unit}, nil
}

// IsZero lets omitempty leave out an empty timestamp.
func (t fileTimestamp) IsZero() bool { return t == fileTimestamp{} }

// TimeKindOf classifies a column type as a live schema reports it (lower
// case: Postgres information_schema data_type, MySQL DATA_TYPE, SQLite's
// declared type) for driver. SQLite follows its type affinity rules.
func TimeKindOf(driver, typ string) TimeKind {
	typ = strings.ToLower(strings.TrimSpace(typ))
	switch driver {
	case DriverPostgres:
		switch {
		case strings.HasPrefix(typ, "timestamp"), typ == "date":
			return TimeNative
		case typ == "smallint", typ == "integer", typ == "bigint", typ == "numeric", typ == "real", typ == "double precision":
			return TimeEpoch
		case typ == "text", typ == "character varying", typ == "character":
			return TimeText
		}
	case DriverMySQL:
		switch typ {
		case "datetime", "timestamp", "date":
			return TimeNative
		case "smallint", "mediumint", "int", "integer", "bigint", "decimal", "double", "float":
			return TimeEpoch
		case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
			return TimeText
		}
	case DriverSQLite:
		switch {
		case strings.Contains(typ, "int"):
			return TimeEpoch
		case strings.Contains(typ, "char"), strings.Contains(typ, "clob"), strings.Contains(typ, "text"):
			return TimeText
		case strings.Contains(typ, "date"), strings.Contains(typ, "time"):
			return TimeNative
		case strings.Contains(typ, "real"), strings.Contains(typ, "floa"), strings.Contains(typ, "doub"):
			return TimeEpoch
		}
	}
	return TimeUnknown
}

// TimeStorage checks that a timestamp column of type typ (see TimeKindOf),
// with the unit the registry declares ("" for none), can be compared with a
// cut-off, and returns how it stores time. Errors say what to change: a
// number needs a unit, a date/time or text column takes none, and any other
// type is refused.
func TimeStorage(driver, typ, unit string) (TimeKind, error) {
	k := TimeKindOf(driver, typ)
	switch {
	case k == TimeUnknown:
		return k, fmt.Errorf("its type %s is not a date/time, a number or text: Lethe cannot tell the rows' age; name a date/time, epoch or ISO-8601 text column", typ)
	case k == TimeEpoch && unit == "":
		return k, fmt.Errorf("its type %s holds a number Lethe cannot date without a unit: write timestamp: {column: <name>, unit: s} (or ms, us, ns)", typ)
	case k != TimeEpoch && unit != "":
		return k, fmt.Errorf("its type %s is %s, not an epoch number: remove unit", typ, k)
	}
	return k, nil
}

// CutoffValue returns the value a column of kind k with unit is compared
// with for the instant before: a time.Time (native), an int64 of the unit
// (epoch), or RFC 3339 text in UTC (text).
func CutoffValue(k TimeKind, unit string, before time.Time) any {
	before = before.UTC()
	switch k {
	case TimeEpoch:
		switch unit {
		case UnitMillis:
			return before.UnixMilli()
		case UnitMicros:
			return before.UnixMicro()
		case UnitNanos:
			return before.UnixNano()
		}
		return before.Unix()
	case TimeText:
		return before.Format(time.RFC3339Nano)
	}
	return before
}

// FormatCutoff renders CutoffValue as an operator reads it next to the
// column: "1448841600 (2015-11-30)", "'2015-11-30T00:00:00Z'" or
// "2015-11-30 00:00:00 UTC".
func FormatCutoff(k TimeKind, unit string, before time.Time) string {
	day := before.UTC().Format(time.DateOnly)
	switch v := CutoffValue(k, unit, before).(type) {
	case int64:
		return strconv.FormatInt(v, 10) + " (" + day + ")"
	case string:
		return "'" + v + "'"
	case time.Time:
		return v.Format(time.DateTime) + " UTC"
	}
	return day
}

func validUnit(u string) bool {
	return u == "" || u == UnitSeconds || u == UnitMillis || u == UnitMicros || u == UnitNanos
}

// epochSample is how many values of an epoch column CheckLive reads to
// check its unit.
const epochSample = 100

// doubtUnit checks sampled values of an epoch column against its unit: read
// in that unit, each must be a date between 1990 and a year from now. A
// unit too large (ms for seconds) would date every row in 1970 and purge
// it; too small, no row would ever expire. It returns what is wrong, or ""
// when every value reads as a plausible date.
func doubtUnit(vals []any, unit string, now time.Time) string {
	per := map[string]float64{UnitSeconds: 1, UnitMillis: 1e3, UnitMicros: 1e6, UnitNanos: 1e9}[unit]
	if per == 0 {
		return ""
	}
	lo, hi := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), now.AddDate(1, 0, 0)
	for _, v := range vals {
		var f float64
		switch x := v.(type) {
		case int64:
			f = float64(x)
		case int32:
			f = float64(x)
		case float64:
			f = x
		case string:
			n, err := strconv.ParseFloat(x, 64)
			if err != nil {
				continue
			}
			f = n
		default:
			continue
		}
		secs := f / per
		var reads string
		switch {
		case secs > float64(hi.Unix()):
			reads = "a date after " + hi.Format("2006")
		case secs < float64(lo.Unix()):
			reads = time.Unix(int64(secs), 0).UTC().Format(time.DateOnly)
		default:
			continue
		}
		return fmt.Sprintf("holds %s, which in unit %s reads as %s: declare the unit the application writes (s, ms, us or ns)",
			strconv.FormatFloat(f, 'f', -1, 64), unit, reads)
	}
	return ""
}
