package registry

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// marshalCanonical encodes r as lethe.yaml with every default written out
// and every map sorted, so equal registries give equal bytes.
func marshalCanonical(r *Registry) ([]byte, error) {
	f := fileRegistry{Stores: map[string]*fileStore{}, Collections: map[string]*fileCollection{},
		Purposes: r.Purposes, Recipients: r.Recipients, Approval: fileApproval(r.Approval),
		Subjects: r.Subjects, Transfers: r.Transfers, Labels: r.Labels}
	for cat, kind := range r.Identifying {
		if builtinIdentifying[cat] != kind {
			if f.Identifying == nil {
				f.Identifying = map[string]string{}
			}
			f.Identifying[cat] = kind
		}
	}
	for name, s := range r.Stores {
		fs := &fileStore{Kind: s.Kind, Driver: s.Driver, DSNEnv: s.DSNEnv, URL: s.URL, URIEnv: s.URIEnv, Database: s.Database,
			AddrEnv: s.AddrEnv, Keys: s.Keys, Webhook: s.Webhook, OpenDSR: s.OpenDSR, SecretEnv: s.SecretEnv,
			Prefix: s.Prefix, BestEffort: s.BestEffort, PathPrefix: s.PathPrefix}
		if s.Kind == KindProcessor {
			fs.Deadline = s.Deadline.String()
		}
		f.Stores[name] = fs
	}
	for key, c := range r.Collections {
		fc := &fileCollection{Table: c.Table, PrimaryKey: c.PrimaryKey, Tenant: c.Tenant,
			Categories: mergeCategories(c), Files: c.Files, Responses: c.Responses, Purposes: c.Purposes,
			Label: c.Label, Report: marshalReport(c.Report)}
		fc.Identity = marshalIdentity(c)
		for _, f := range c.Mentions {
			fc.Mentions = append(fc.Mentions, f.Name())
		}
		if c.Templates != nil {
			marshalTemplates(c, fc)
			f.Collections[key] = fc
			continue
		}
		if len(c.References) > 0 {
			fc.References = fileReferences{}
			for _, ref := range c.References {
				fc.References[ref.Column] = marshalReference(ref)
			}
		}
		if len(c.JSON) > 0 {
			fc.JSON = map[string][]string{}
			for col, paths := range c.JSON {
				for _, p := range paths {
					fc.JSON[col] = append(fc.JSON[col], p.Raw)
				}
			}
		}
		fe := &fileErasure{Action: string(c.Erasure.Action), Keep: c.Erasure.KeepReason}
		if c.Erasure.Action == ActionAnonymize {
			fe.Anonymize = map[string]string{}
			for _, fl := range c.Erasure.Fields {
				name := fl.Column
				if fl.Path != nil {
					name += "." + strings.TrimPrefix(fl.Path.Raw, ".")
				}
				v := string(fl.Strategy)
				if fl.Strategy == StrategyFixed {
					v = "fixed:" + fl.Fixed
				}
				fe.Anonymize[name] = v
			}
		}
		fc.Erasure = fe
		if ret := c.Retention; ret != nil {
			fc.Retention = &fileRetention{Window: FormatWindow(ret.Window, ret.Never), Timestamp: fileTimestamp{Column: ret.Timestamp, Unit: ret.Unit}, Action: string(ret.Action)}
			if ret.RedactAfter > 0 {
				fc.Retention.RedactAfter = FormatWindow(ret.RedactAfter, false)
				for _, f := range ret.Redact {
					fc.Retention.Redact = append(fc.Retention.Redact, f.Name())
				}
			}
		}
		f.Collections[key] = fc
	}
	f.Identities, f.Enrich = marshalIdentityTypes(r), marshalLookups(r)
	if !r.CollectResponses {
		f.CollectResponses = new(bool)
	}
	if r.Schedule != (Schedule{}) {
		f.Retention = &fileSchedule{Schedule: r.Schedule.Cron, BatchSize: r.Schedule.BatchSize}
	}
	return yaml.Marshal(&f)
}

// mergeCategories returns c's column and JSON path categories in one map,
// as the file writes them.
func mergeCategories(c *Collection) map[string]string {
	if len(c.PathCategories) == 0 {
		return c.Categories
	}
	m := copyMap(c.Categories)
	if m == nil {
		m = map[string]string{}
	}
	for k, v := range c.PathCategories {
		m[k] = v
	}
	return m
}
