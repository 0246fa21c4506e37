package registry

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

var (
	nameRE     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,62}$`)
	categoryRE = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)*$`)
	envRE      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// parse decodes b strictly and builds a validated Registry.
func parse(b []byte, file string) (*Registry, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, decodeProblems(file, nil, err)
	}
	var f fileRegistry
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ValidationError{Problems: []Problem{{File: file, Message: "the file is empty: declare stores and collections"}}}
		}
		return nil, decodeProblems(file, &root, err)
	}
	p := newProblems(file, &root)
	r := &Registry{Stores: map[string]*Store{}, Collections: map[string]*Collection{},
		Purposes: f.Purposes, Recipients: f.Recipients, Labels: f.Labels, CollectResponses: f.CollectResponses == nil || *f.CollectResponses,
		Approval: approvalOf(f.Approval)}
	if len(f.Stores) == 0 {
		p.add([]string{"stores"}, "no stores: declare at least one sql store")
	}
	for _, name := range sortedKeys(f.Stores) {
		if s := buildStore(p, name, f.Stores[name]); s != nil {
			r.Stores[name] = s
		}
	}
	if len(f.Collections) == 0 {
		p.add([]string{"collections"}, "no collections: declare the tables that hold personal data")
	}
	buildIdentifying(p, r, f.Identifying)
	buildIdentityTypes(p, r, f.Identities)
	for _, key := range sortedKeys(f.Collections) {
		if c := buildCollection(p, r, key, f.Collections[key]); c != nil {
			r.Collections[key] = c
		}
	}
	if f.Retention != nil {
		r.Schedule = Schedule{Cron: f.Retention.Schedule, BatchSize: f.Retention.BatchSize}
		if f.Retention.BatchSize < 0 {
			p.add([]string{"retention", "batch_size"}, "must be positive")
		}
		if s := f.Retention.Schedule; s != "" {
			if _, err := cron.ParseStandard(s); err != nil {
				p.add([]string{"retention", "schedule"}, "%q is not a cron expression (%v): use five fields such as \"0 3 * * *\", or @daily", s, err)
			}
		}
	}
	buildRecords(p, r, &f)
	checkGraph(p, r)
	buildLookups(p, r, f.Enrich)
	checkTemplateParams(p, r)
	checkResponses(p, r)
	checkReports(p, r)
	for _, cat := range sortedKeys(f.Labels) {
		if !categoryRE.MatchString(cat) {
			p.add([]string{"labels", cat}, "%q is not a category: use dotted lower-case words such as user.contact.email", cat)
		}
	}
	checkRedisKeys(p, r)
	if err := p.err(); err != nil {
		return nil, err
	}
	if err := r.seal(); err != nil {
		return nil, err
	}
	return r, nil
}

func buildStore(p *problems, name string, fs *fileStore) *Store {
	at := []string{"stores", name}
	if !nameRE.MatchString(name) {
		p.add(at, "store names are letters, digits, '_' and '-', starting with a letter")
		return nil
	}
	if fs == nil {
		p.add(at, "empty store: give it a kind (sql, mongo, blob, redis, processor)")
		return nil
	}
	s := &Store{Name: name, Kind: fs.Kind, Driver: fs.Driver, DSNEnv: fs.DSNEnv, URL: fs.URL,
		AddrEnv: fs.AddrEnv, Keys: fs.Keys, Webhook: fs.Webhook, OpenDSR: fs.OpenDSR, SecretEnv: fs.SecretEnv,
		Prefix: fs.Prefix, BestEffort: fs.BestEffort, URIEnv: fs.URIEnv, Database: fs.Database}
	need := func(field, v, what string) {
		if v == "" {
			p.add(append(at, field), "required for a %s store: %s", s.Kind, what)
		}
	}
	env := func(field, v string) {
		if v != "" && !envRE.MatchString(v) {
			p.add(append(at, field), "%q is not an environment variable name: name the variable, never put the value in the file", v)
		}
	}
	unused := func(fields map[string]string) {
		for _, k := range sortedKeys(fields) {
			if fields[k] != "" {
				p.add(append(at, k), "not used by a %s store: remove it", s.Kind)
			}
		}
	}
	checkMongoStore(p, at, s, fs)
	if s.Kind != KindBlob && fs.Prefix != "" {
		p.add(append(at, "prefix"), "not used by a %s store: remove it", s.Kind)
	}
	if s.Kind != KindBlob && fs.PathPrefix != "" {
		p.add(append(at, "path_prefix"), "not used by a %s store: remove it", s.Kind)
	}
	if s.Kind != KindProcessor && fs.Deadline != "" {
		p.add(append(at, "deadline"), "not used by a %s store: remove it", s.Kind)
	}
	if s.Kind != KindProcessor && s.Kind != KindBlob && fs.BestEffort {
		p.add(append(at, "best_effort"), "not used by a %s store: remove it", s.Kind)
	}
	switch s.Kind {
	case KindSQL:
		switch s.Driver {
		case DriverPostgres, DriverMySQL, DriverSQLite:
		case "":
			p.add(append(at, "driver"), "required for a sql store: use postgres, mysql or sqlite")
		default:
			p.add(append(at, "driver"), "unknown driver %q: use postgres, mysql or sqlite", s.Driver)
		}
		need("dsn_env", s.DSNEnv, "name the environment variable that holds the DSN")
		env("dsn_env", s.DSNEnv)
		unused(map[string]string{"url": s.URL, "addr_env": s.AddrEnv, "webhook": s.Webhook, "opendsr": s.OpenDSR, "secret_env": s.SecretEnv})
	case KindBlob:
		need("url", s.URL, "a gocloud URL such as file:///var/lib/app/uploads or s3://bucket")
		if u, err := url.Parse(s.URL); s.URL != "" && (err != nil || u.Scheme == "") {
			p.add(append(at, "url"), "%q is not a URL: use file:///path, s3://bucket, gs://bucket or azblob://container", s.URL)
		} else if s.URL != "" && !map[string]bool{"file": true, "s3": true, "gs": true, "azblob": true, "mem": true}[u.Scheme] {
			p.add(append(at, "url"), "unknown scheme %q: use file, s3, gs, azblob or mem", u.Scheme)
		}
		unused(map[string]string{"driver": s.Driver, "dsn_env": s.DSNEnv, "addr_env": s.AddrEnv, "webhook": s.Webhook, "opendsr": s.OpenDSR, "secret_env": s.SecretEnv})
		s.Prefix = buildPrefix(p, append(at, "prefix"), fs.Prefix)
		s.PathPrefix = buildPathPrefix(p, append(at, "path_prefix"), fs.PathPrefix)
	case KindRedis:
		need("addr_env", s.AddrEnv, "name the environment variable that holds host:port")
		env("addr_env", s.AddrEnv)
		if len(s.Keys) == 0 {
			p.add(append(at, "keys"), "required for a redis store: list key templates such as \"session:{app.users.id}:*\"")
		}
		unused(map[string]string{"driver": s.Driver, "dsn_env": s.DSNEnv, "url": s.URL, "webhook": s.Webhook, "opendsr": s.OpenDSR, "secret_env": s.SecretEnv})
	case KindProcessor:
		if (s.Webhook == "") == (s.OpenDSR == "") {
			p.add(at, "a processor needs exactly one of webhook and opendsr")
		}
		for field, v := range map[string]string{"webhook": s.Webhook, "opendsr": s.OpenDSR} {
			if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
				p.add(append(at, field), "%q is not an http(s) URL", v)
			}
		}
		need("secret_env", s.SecretEnv, "name the environment variable holding the signing secret")
		env("secret_env", s.SecretEnv)
		unused(map[string]string{"driver": s.Driver, "dsn_env": s.DSNEnv, "url": s.URL, "addr_env": s.AddrEnv})
		s.Deadline = buildDeadline(p, append(at, "deadline"), fs.Deadline)
	case KindMongo:
		unused(map[string]string{"driver": s.Driver, "dsn_env": s.DSNEnv, "url": s.URL, "addr_env": s.AddrEnv, "webhook": s.Webhook, "opendsr": s.OpenDSR, "secret_env": s.SecretEnv})
	case "":
		p.add(append(at, "kind"), "required: use sql, mongo, blob, redis or processor")
	default:
		p.add(append(at, "kind"), "unknown kind %q: use sql, mongo, blob, redis or processor", s.Kind)
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// buildPrefix checks a blob store's prefix, a relative folder such as
// "cv/", and returns it ending in "/".
func buildPrefix(p *problems, at []string, prefix string) string {
	if prefix == "" {
		return ""
	}
	if strings.HasPrefix(prefix, "/") || strings.Contains(prefix, "\\") || strings.ContainsRune(prefix, 0) {
		p.add(at, "%q is not a relative folder: write it like cv/ or tenants/uploads/", prefix)
		return prefix
	}
	for _, seg := range strings.Split(strings.TrimSuffix(prefix, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			p.add(at, "%q has an empty, '.' or '..' segment: write it like cv/ or tenants/uploads/", prefix)
			return prefix
		}
	}
	return strings.TrimSuffix(prefix, "/") + "/"
}

// buildPathPrefix checks a blob store's path_prefix, what rows hold before
// the object key (an absolute folder such as /app/data/uploads/ or a
// relative one), and returns it ending in "/".
func buildPathPrefix(p *problems, at []string, prefix string) string {
	if prefix == "" {
		return ""
	}
	for _, seg := range strings.Split(strings.Trim(prefix, "/"), "/") {
		if seg == "." || seg == ".." || strings.ContainsRune(seg, 0) {
			p.add(at, "%q has a '.' or '..' segment: write the folder rows hold, such as /app/backend/data/uploads/", prefix)
			return prefix
		}
	}
	return strings.TrimSuffix(prefix, "/") + "/"
}

// buildDeadline parses a processor's deadline: a Go duration such as 30s,
// 10m or 2h, at most MaxDeadline; DefaultDeadline when empty.
func buildDeadline(p *problems, at []string, raw string) time.Duration {
	if raw == "" {
		return DefaultDeadline
	}
	d, err := time.ParseDuration(raw)
	switch {
	case err != nil || d <= 0:
		p.add(at, "%q is not a positive duration: write it like 30s, 10m or 2h", raw)
	case d > MaxDeadline:
		p.add(at, "%q is longer than %s: a request waits for its processors; use best_effort for slow ones", raw, MaxDeadline)
	}
	return d
}
