package registry_test

import (
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
