package engine_test

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// owner returns the fixture user a row belongs to and its tenant ("" for
// rows of no tenant), from the fixture's id scheme.
func owner(t *testing.T, table, key string) (user int64, tenant string) {
	t.Helper()
	first := strings.Split(key, "|")[0]
	raw, err := strconv.Unquote(first)
	if err != nil {
		t.Fatalf("%s key %s: %v", table, key, err)
	}
	if table == "newsletter" {
		for _, u := range fixtureUsers {
			if u.email == raw {
				return u.id, ""
			}
		}
		t.Fatalf("newsletter row of unknown email")
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		t.Fatalf("%s key %s: %v", table, key, err)
	}
	studio := func(chat int64) string { return map[int64]string{0: "acme", 1: "globex"}[chat%10] }
	switch table {
	case "users", "profiles":
		return id, ""
	case "chats", "uploads":
		return id / 10, studio(id)
	case "messages":
		return id / 100, studio(id / 10)
	case "customers":
		return id - 100, ""
	case "invoices":
		return id/10 - 100, ""
	}
	t.Fatalf("unknown table %s", table)
	return 0, ""
}

var hexRE = regexp.MustCompile(`"[0-9a-f]{64}"`)

// checkErased compares the state after an erasure with the state before it,
// row by row: rows of other subjects (or other tenants) must be unchanged,
// the subject's rows deleted, anonymised or kept as the registry says.
func checkErased(t *testing.T, before, after map[string]map[string]string, subjects map[int64]bool, tenant string) {
	t.Helper()
	for table, rows := range before {
		for key, row := range rows {
			user, rowTenant := owner(t, table, key)
			got, present := after[table][key]
			touched := subjects[user] && (tenant == "" || rowTenant == tenant)
			if !touched {
				if got != row {
					t.Errorf("%s %s of another subject changed:\n before %s\n after  %s", table, key, row, got)
				}
				continue
			}
			switch table {
			case "users", "newsletter", "chats", "messages", "uploads":
				if present {
					t.Errorf("%s %s of the subject is still there: %s", table, key, got)
				}
			case "invoices":
				if got != row {
					t.Errorf("kept %s %s changed: %s → %s", table, key, row, got)
				}
			case "profiles":
				checkNoEmail(t, table, key, got, present, user)
				for _, want := range []string{`"[redacted]"`, `"gone"`, `\"phone\":\"1\"`, `\"text\":null`, `\"keep\":\"x\"`} {
					if !strings.Contains(got, want) {
						t.Errorf("profiles %s: want %s in %s", key, want, got)
					}
				}
				if len(hexRE.FindAllString(got, -1)) != 1 || !regexp.MustCompile(`\\"email\\":\\"[0-9a-f]{64}\\"`).MatchString(got) {
					t.Errorf("profiles %s: want hmac in contact and doc.contact.email: %s", key, got)
				}
			case "customers":
				checkNoEmail(t, table, key, got, present, user)
				if !hexRE.MatchString(got) || !strings.HasSuffix(got, "|NULL") {
					t.Errorf("customers %s: want hmac email and NULL name: %s", key, got)
				}
			}
		}
	}
	for table, rows := range after {
		for key := range rows {
			if _, ok := before[table][key]; !ok {
				t.Errorf("%s %s appeared", table, key)
			}
		}
	}
}

func checkNoEmail(t *testing.T, table, key, row string, present bool, user int64) {
	t.Helper()
	if !present {
		t.Errorf("anonymised %s %s was deleted", table, key)
		return
	}
	for _, u := range fixtureUsers {
		if u.id != user {
			continue
		}
		quoted, _ := json.Marshal(u.email)
		for _, s := range []string{u.email, string(quoted)} {
			if strings.Contains(strings.ToLower(row), strings.ToLower(s)) {
				t.Errorf("anonymised %s %s still holds the email: %s", table, key, row)
			}
		}
	}
}
