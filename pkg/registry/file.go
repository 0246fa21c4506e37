package registry

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// fileRegistry is lethe.yaml as written. It is decoded with KnownFields, so
// a misspelt key is an error, and it is also the canonical form: Marshal
// encodes a normalised fileRegistry (yaml.v3 sorts map keys).
type fileRegistry struct {
	Stores      map[string]*fileStore      `yaml:"stores"`
	Purposes    map[string]string          `yaml:"purposes,omitempty"`
	Recipients  map[string]string          `yaml:"recipients,omitempty"`
	Collections map[string]*fileCollection `yaml:"collections"`
	Retention   *fileSchedule              `yaml:"retention,omitempty"`
	// CollectResponses false purges every collection marked responses,
	// in every tenant: the switch for single-tenant applications.
	CollectResponses *bool `yaml:"collect_responses,omitempty"`
	// Identifying marks the application's own categories as identifying a
	// person: category (or "prefix.*") → pseudonym kind.
	Identifying map[string]string `yaml:"identifying,omitempty"`
	// Approval holds requests for an owner's approval (approval.go).
	Approval *Approval `yaml:"approval,omitempty"`
	// Subjects (purpose → categories of people) and Transfers (recipient
	// → where outside the EEA, under which safeguard) feed the records of
	// processing (records.go).
	Subjects  map[string][]string `yaml:"subjects,omitempty"`
	Transfers map[string]string   `yaml:"transfers,omitempty"`
	// Identities declares identity types beyond email, phone and user_id.
	Identities map[string]*fileIdentityType `yaml:"identities,omitempty"`
	// Enrich lists the lookups that find a subject's other identities.
	Enrich []fileLookup `yaml:"enrich,omitempty"`
	// Labels names data categories in words for report.html: category →
	// label, over Lethe's own labels of the common categories.
	Labels map[string]string `yaml:"labels,omitempty"`
}

type fileStore struct {
	Kind       string   `yaml:"kind"`
	Driver     string   `yaml:"driver,omitempty"`
	DSNEnv     string   `yaml:"dsn_env,omitempty"`
	URL        string   `yaml:"url,omitempty"`
	AddrEnv    string   `yaml:"addr_env,omitempty"`
	Keys       []string `yaml:"keys,omitempty"`
	Webhook    string   `yaml:"webhook,omitempty"`
	OpenDSR    string   `yaml:"opendsr,omitempty"`
	SecretEnv  string   `yaml:"secret_env,omitempty"`
	Prefix     string   `yaml:"prefix,omitempty"`
	Deadline   string   `yaml:"deadline,omitempty"`
	BestEffort bool     `yaml:"best_effort,omitempty"`
	PathPrefix string   `yaml:"path_prefix,omitempty"`
	URIEnv     string   `yaml:"uri_env,omitempty"`
	Database   string   `yaml:"database,omitempty"`
}

type fileCollection struct {
	Table         string              `yaml:"table,omitempty"`
	PrimaryKey    stringList          `yaml:"primary_key,omitempty"`
	Identity      *fileIdentity       `yaml:"identity,omitempty"`
	Tenant        string              `yaml:"tenant,omitempty"`
	References    fileReferences      `yaml:"references,omitempty"`
	Categories    map[string]string   `yaml:"categories,omitempty"`
	JSON          map[string][]string `yaml:"json,omitempty"`
	Files         map[string]string   `yaml:"files,omitempty"`
	Erasure       *fileErasure        `yaml:"erasure,omitempty"`
	Retention     *fileRetention      `yaml:"retention,omitempty"`
	Purpose       string              `yaml:"purpose,omitempty"`
	Purposes      []string            `yaml:"purposes,omitempty"`
	Responses     bool                `yaml:"responses,omitempty"`
	Label         string              `yaml:"label,omitempty"`
	Report        *fileReport         `yaml:"report,omitempty"`
	Mentions      []string            `yaml:"mentions,omitempty"`
	fileTemplates `yaml:",inline"`
}

type fileRetention struct {
	Window      string        `yaml:"window"`
	Timestamp   fileTimestamp `yaml:"timestamp,omitempty"`
	Action      string        `yaml:"action,omitempty"`
	RedactAfter string        `yaml:"redact_after,omitempty"`
	Redact      []string      `yaml:"redact,omitempty"`
}

type fileSchedule struct {
	Schedule  string `yaml:"schedule,omitempty"`
	BatchSize int    `yaml:"batch_size,omitempty"`
}

// stringList accepts a scalar or a sequence of scalars and marshals as a
// sequence, so `primary_key: id` and `primary_key: [a, b]` both work.
type stringList []string

func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = stringList{n.Value}
		return nil
	case yaml.SequenceNode:
		var s []string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*l = s
		return nil
	}
	return fmt.Errorf("line %d: expected a column name or a list of column names", n.Line)
}

// fileErasure is `delete`, `{anonymize: {field: strategy}}` or `{keep: reason}`.
type fileErasure struct {
	Action    string            // "delete", "anonymize" or "keep"; other words are kept for Validate to name
	Anonymize map[string]string // field → strategy; YAML null decodes as ""
	Keep      string
	Line      int
}

func (e *fileErasure) UnmarshalYAML(n *yaml.Node) error {
	e.Line = n.Line
	switch n.Kind {
	case yaml.ScalarNode:
		e.Action = n.Value
		return nil
	case yaml.MappingNode:
		var m struct {
			Anonymize map[string]*string `yaml:"anonymize"`
			Keep      *string            `yaml:"keep"`
		}
		dec := n.Content
		for i := 0; i+1 < len(dec); i += 2 {
			switch k := dec[i].Value; k {
			case "anonymize", "keep":
			default:
				return fmt.Errorf("line %d: erasure: unknown key %q: use delete, {anonymize: {field: strategy}} or {keep: \"reason\"}", dec[i].Line, k)
			}
		}
		if err := n.Decode(&m); err != nil {
			return err
		}
		switch {
		case m.Anonymize != nil && m.Keep != nil:
			return fmt.Errorf("line %d: erasure: choose one of anonymize and keep", n.Line)
		case m.Keep != nil:
			e.Action, e.Keep = "keep", *m.Keep
		default:
			e.Action = "anonymize"
			e.Anonymize = map[string]string{}
			for k, v := range m.Anonymize {
				if v == nil {
					e.Anonymize[k] = ""
				} else {
					e.Anonymize[k] = *v
				}
			}
		}
		return nil
	}
	return fmt.Errorf("line %d: erasure: use delete, {anonymize: {field: strategy}} or {keep: \"reason\"}", n.Line)
}

func (e fileErasure) MarshalYAML() (any, error) {
	switch e.Action {
	case "anonymize":
		return map[string]map[string]string{"anonymize": e.Anonymize}, nil
	case "keep":
		return map[string]string{"keep": e.Keep}, nil
	}
	return e.Action, nil
}
