package registry_test

import (
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

func TestLibreChatRegistryParses(t *testing.T) {
	reg, err := registry.Load("../../deploy/registries/librechat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := reg.MongoStores(); len(got) != 1 || got[0] != "chat" {
		t.Fatalf("mongo stores = %v", got)
	}
	if c := reg.Collections["chat.messages"]; c.PrimaryKey[0] != "_id" || len(c.References) != 2 {
		t.Fatalf("messages = %+v", c)
	}
}

// TestMongoRegistryRefusals: what a mongo collection does not offer is
// refused with the path and what to change.
func TestMongoRegistryRefusals(t *testing.T) {
	for _, tc := range []struct{ name, coll, want string }{
		{"operator field", "identity: {email: $where}\n    erasure: delete", `"$where" is not a top-level field name`},
		{"primary key", "primary_key: id\n    identity: {email: email}\n    erasure: delete", "keyed by _id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "stores:\n  chat: {kind: mongo, uri_env: CHAT_URI, database: chat}\ncollections:\n  chat.users:\n    " + tc.coll + "\n"
			_, err := registry.Parse([]byte(src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parse = %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if _, err := registry.Parse([]byte("stores:\n  chat: {kind: mongo}\ncollections:\n  chat.users:\n    identity: {email: email}\n    erasure: delete\n")); err == nil ||
		!strings.Contains(err.Error(), "stores.chat.uri_env") || !strings.Contains(err.Error(), "stores.chat.database") {
		t.Errorf("a mongo store without uri_env and database: %v", err)
	}
}
