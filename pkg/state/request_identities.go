package state

import (
	"encoding/json"

	"github.com/lethe-privacy/lethe/dsr"
)

// identities returns the normalised email and other identities of in: an
// "email" entry of in.Identities stands for in.Email (both given must
// agree), and the others are normalised by s.Identities. Errors:
// EUNPROCESSABLE for no identity, one that does not normalise, two
// different emails, or another identity without a normaliser.
func (s *RequestService) identities(in dsr.NewRequest) (string, map[string]string, error) {
	raw := in.Email
	others := map[string]string{}
	for kind, v := range in.Identities {
		if kind != "email" {
			others[kind] = v
		} else if raw == "" {
			raw = v
		} else if v != raw {
			return "", nil, dsr.Errorf(dsr.EUNPROCESSABLE, "identities.email: differs from email; give one")
		}
	}
	var email string
	if raw != "" || len(others) == 0 {
		var err error
		if email, err = dsr.NormalizeEmail(raw); err != nil {
			return "", nil, err
		}
	}
	for kind, v := range others {
		if s.Identities == nil {
			return "", nil, dsr.Errorf(dsr.EUNPROCESSABLE, "identities.%s: filing by %s needs the registry: start lethe with --config or LETHE_CONFIG", kind, kind)
		}
		n, err := s.Identities.NormalizeIdentity(kind, v)
		if err != nil {
			return "", nil, err
		}
		others[kind] = n
	}
	if len(others) == 0 {
		others = nil
	}
	return email, others, nil
}

// idemIdentities is the part of an idempotency hash the other identities
// add: "" without any, so that hashes of requests filed by email alone
// are unchanged.
func idemIdentities(others map[string]string) string {
	if len(others) == 0 {
		return ""
	}
	b, _ := json.Marshal(others) // map keys are sorted
	return "\x00" + string(b)
}

// withEmail returns others with the email added under "email" when set.
func withEmail(others map[string]string, email string) map[string]string {
	out := map[string]string{}
	for k, v := range others {
		out[k] = v
	}
	if email != "" {
		out["email"] = email
	}
	return out
}
