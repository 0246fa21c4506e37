package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"time"
)

// Store kinds.
const (
	KindSQL       = "sql"
	KindBlob      = "blob"
	KindRedis     = "redis"
	KindProcessor = "processor"
	KindMongo     = "mongo"
)

// SQL drivers.
const (
	DriverPostgres = "postgres"
	DriverMySQL    = "mysql"
	DriverSQLite   = "sqlite"
)

// Registry is a parsed, validated lethe.yaml. It is read-only once built.
type Registry struct {
	Stores      map[string]*Store      // by store name
	Collections map[string]*Collection // by key "<store>.<name>"
	Purposes    map[string]string      // name → description, for the Art. 15 report
	Recipients  map[string]string      // name → description, for the Art. 15 report
	Schedule    Schedule               // when and how retention sweeps run
	// CollectResponses false (collect_responses: false at the top of the
	// file) purges the collections marked responses in every tenant, and in
	// applications without tenants; true (the default) leaves it to each
	// tenant's settings.
	CollectResponses bool
	// Identifying maps the categories that identify a person (or
	// "prefix.*" for every category below prefix) to the kind of pseudonym
	// that replaces their values whole: the built-in user.name (name),
	// user.contact.email (email), user.contact.phone (phone) and
	// user.contact.* (contact), and those of the identifying section.
	Identifying map[string]string
	// Approval says which requests wait for an owner's approval.
	Approval Approval
	// Subjects maps a purpose to the categories of people whose data it
	// processes; Transfers maps a recipient or processor store to where
	// it takes the data outside the EEA, and under which safeguard. Both
	// for the records of processing; nil when not declared.
	Subjects  map[string][]string
	Transfers map[string]string
	// Identities holds the identity types by name: the built-in email,
	// phone and user_id, and those of the identities section.
	Identities map[string]*IdentityType
	// Enrich lists the lookups that find a subject's other identities
	// before the walk, in the order they run.
	Enrich []Lookup
	// Labels names data categories in words for report.html (category →
	// label); categories without one get Lethe's own label.
	Labels map[string]string

	order     []*Collection // parents first
	canonical []byte
	version   string
}

// Store is one data store of the application.
type Store struct {
	Name      string
	Kind      string   // KindSQL, KindMongo, KindBlob, KindRedis or KindProcessor
	Driver    string   // sql: DriverPostgres, DriverMySQL or DriverSQLite
	DSNEnv    string   // sql: the environment variable holding the DSN
	URL       string   // blob: gocloud URL
	Prefix    string   // blob: the folder object keys must stay in ("" for the whole bucket), ending in "/"
	AddrEnv   string   // redis: the environment variable holding host:port
	Keys      []string // redis: key templates such as "session:{app.users.id}:*"
	Webhook   string   // processor: erasure webhook URL
	OpenDSR   string   // processor: OpenDSR endpoint
	SecretEnv string   // processor: the environment variable holding the signing secret
	// Deadline is how long a processor may take to confirm an erasure
	// notice (retried with backoff until then); DefaultDeadline when unset.
	Deadline time.Duration
	// BestEffort lets an erasure complete, marked "processor unconfirmed",
	// when the processor does not confirm before Deadline. On a blob store
	// it lets an erasure go ahead when file references are refused (they
	// still fail its verification); without it such an erasure stops
	// before changing anything.
	BestEffort bool
	// PathPrefix (blob) is what rows hold before the object key, such as
	// "/app/backend/data/uploads/": removed from a reference that starts
	// with it, before the key is checked. "" or ending in "/".
	PathPrefix string
	URIEnv     string // mongo: the environment variable holding the connection URI
	Database   string // mongo: the database holding the collections
}

// DefaultDeadline is a processor's Deadline when the registry sets none.
const DefaultDeadline = 10 * time.Minute

// MaxDeadline bounds a processor's deadline: a request holds a worker while
// it waits, and Art. 12(3) gives the whole request a month.
const MaxDeadline = 24 * time.Hour

// Collection is one table of a sql store, or one collection of a mongo
// store (Table is then the collection's name, columns are the documents'
// top-level fields and JSON paths lead inside them).
type Collection struct {
	Key        string   // "<store>.<name>", the name used in counts and errors
	Store      string   // store name
	Name       string   // collection name
	Table      string   // table name in the store (may be "schema.table")
	PrimaryKey []string // one column, or several for a composite key
	// KeyDeclared is true when the file names the primary key; otherwise
	// PrimaryKey is "id" until CheckLive reads the table's own key.
	KeyDeclared bool
	Email       []string // identity columns holding an email, matched case-insensitively
	// Identities maps the other identity types (phone, user_id, ...) to
	// the columns holding them, matched exactly against their values.
	Identities map[string][]string
	Tenant     string // tenant column, "" when rows belong to no tenant
	References []Reference
	Categories map[string]string // column → data category
	// PathCategories maps JSON paths ("body.author.name", as Field.Name
	// writes them) to their data category.
	PathCategories map[string]string
	// Identifying maps the columns and JSON paths (by Field.Name) whose
	// category identifies a person to the kind of their pseudonym; see
	// Registry.Identifying.
	Identifying map[string]string
	JSON        map[string][]*Path // column → paths inside the JSON document holding personal data
	Files       map[string]string  // column → blob store whose object keys it holds
	Erasure     Erasure
	Retention   *Retention // nil when the collection has no retention rule
	Purposes    []string
	Responses   bool // end-user responses: purged when a tenant stops collecting them
	// Templates, when not nil, holds the bound-parameter SQL that reaches
	// the collection instead of identities and references.
	Templates *Templates
	// Label names the collection in report.html ("Your invoices"); ""
	// lets the report name it by its categories.
	Label string
	// Report says how report.html shows the rows; nil shows them as
	// records counted under "what else is kept".
	Report *Report
	// Mentions lists the free-text columns and JSON paths in which an
	// erasure looks for the person in other people's rows (see
	// mentions.go), sorted; nil when none is declared.
	Mentions []Field
}

// Reference says that Column holds values of TargetColumn in Target, in
// the rows that meet every condition of Where (a polymorphic reference,
// such as principal_id where principal_type = 'user'); Where is sorted by
// column and empty for a plain reference.
type Reference struct {
	Column       string
	Target       string // collection key
	TargetColumn string
	Where        []Condition
}

// Identity reports whether the collection is found directly by an
// identity (email, phone, ...).
func (c *Collection) Identity() bool { return len(c.Email) > 0 || len(c.Identities) > 0 }

// Action is what erasure does to a collection's rows.
type Action string

// Erasure actions.
const (
	ActionDelete    Action = "delete"
	ActionAnonymize Action = "anonymize"
	ActionKeep      Action = "keep"
)

// Erasure is a collection's erasure action.
type Erasure struct {
	Action     Action
	Fields     []Field // for ActionAnonymize, sorted by column then path
	KeepReason string  // for ActionKeep: the legal reason reported to the subject
}

// Strategy is how an anonymised field is rewritten.
type Strategy string

// Anonymisation strategies.
const (
	StrategyNull   Strategy = "null"   // set to NULL (JSON null inside documents)
	StrategyRedact Strategy = "redact" // replaced by Redacted
	StrategyHMAC   Strategy = "hmac"   // replaced by the keyed hash of the value
	StrategyFixed  Strategy = "fixed"  // replaced by Field.Fixed
)

// Redacted is what the redact strategy writes.
const Redacted = "[redacted]"

// Field is one anonymised column, or one path inside a JSON column.
type Field struct {
	Column   string
	Path     *Path // nil for the whole column
	Strategy Strategy
	Fixed    string // for StrategyFixed
}

// Retention is a collection's retention rule.
type Retention struct {
	Window    time.Duration // 0 with Never
	Never     bool
	Timestamp string // column compared with now - Window
	// Unit is the epoch unit of a numeric Timestamp column (UnitSeconds,
	// UnitMillis, UnitMicros, UnitNanos), "" for date/time and text columns.
	Unit string
	// Stored is how the Timestamp column stores time, read from the live
	// schema by CheckLive (TimeUnknown before).
	Stored TimeKind
	Action Action // ActionDelete or ActionAnonymize
	// RedactAfter, when not 0, is the age after which a sweep rewrites the
	// personal data found in the rows' text (Redact) with per-tenant
	// pseudonyms: the redact action, shorter than Window.
	RedactAfter time.Duration
	// Redact lists what the redact action rewrites: whole text columns, or
	// paths inside JSON columns (Path set). Strategy is unused.
	Redact []Field
}

// Schedule is the top-level retention section.
type Schedule struct {
	Cron      string
	BatchSize int
}

// Load reads and parses the registry file at path. Errors are a
// *ValidationError (naming the file) or an error reading the file.
func Load(path string) (*Registry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	r, err := parse(b, path)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Parse parses and validates a registry. It returns a *ValidationError that
// lists every problem found, each with its path in the file and line.
func Parse(b []byte) (*Registry, error) { return parse(b, "lethe.yaml") }

// Version is the hex SHA-256 of the canonical form: two files that differ
// only in layout, comments, key order or defaults have the same Version.
func (r *Registry) Version() string { return r.version }

// Marshal returns the canonical form of r, which Parse accepts and which
// gives the same Version: what a request snapshots.
func (r *Registry) Marshal() []byte { return append([]byte(nil), r.canonical...) }

// Order returns the collections parents first: every collection comes after
// the collections it references. Ties are broken by key.
func (r *Registry) Order() []*Collection { return append([]*Collection(nil), r.order...) }

// ErasureOrder returns the collections children first, the order erasure
// runs in so that no row is removed before the rows that hang from it.
func (r *Registry) ErasureOrder() []*Collection {
	out := r.Order()
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Children returns the references that point at collection key, sorted by
// the referencing collection's key and column.
func (r *Registry) Children(key string) []ChildReference {
	var out []ChildReference
	for _, c := range r.order {
		for _, ref := range c.References {
			if ref.Target == key {
				out = append(out, ChildReference{Child: c, Reference: ref})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Child.Key < out[j].Child.Key })
	return out
}

// ChildReference is a reference seen from its target.
type ChildReference struct {
	Child     *Collection
	Reference Reference
}

// SQLStores returns the names of the sql stores, sorted.
func (r *Registry) SQLStores() []string { return r.storesOf(KindSQL) }

func (r *Registry) seal() error {
	b, err := marshalCanonical(r)
	if err != nil {
		return fmt.Errorf("registry: canonical form: %w", err)
	}
	sum := sha256.Sum256(b)
	r.canonical, r.version = b, hex.EncodeToString(sum[:])
	return nil
}
