package sqlstore_test

import (
	"context"
	"slices"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testdb"
)

// TestFulltextPrefilter: on MariaDB, a FULLTEXT prefilter selects the rows
// holding a word of three letters or more; a string the index does not
// hold whole (two letters, a boolean operator, a stop word) restricts
// nothing, so every row is read and none is missed, and the query never
// fails.
func TestFulltextPrefilter(t *testing.T) {
	ctx := context.Background()
	s, err := sqlstore.Open("app", registry.DriverMySQL, testdb.MySQL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, q := range []string{
		`CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL, FULLTEXT INDEX notes_body (body))`,
		`INSERT INTO notes (id, body) VALUES (1, 'mail bo@example.com'), (2, 'ask lovelace (at) example.com'), (3, 'nothing'), (4, 'who (is) it')`,
	} {
		if err := s.DB().Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	c := &registry.Collection{Key: "app.notes", Store: "app", Name: "notes", Table: "notes", PrimaryKey: []string{"id"}}
	if kind, err := s.MentionIndex(ctx, c, "body"); err != nil || kind != "fulltext" {
		t.Fatalf("MentionIndex = %q, %v", kind, err)
	}
	for _, tc := range []struct {
		any  []string
		want []string
	}{
		{[]string{"lovelace"}, []string{"2"}},
		{[]string{"bo"}, []string{"1", "2", "3", "4"}},
		{[]string{"lovelace", "bo"}, []string{"1", "2", "3", "4"}},
		{[]string{"(is)"}, []string{"1", "2", "3", "4"}},
		{[]string{"who"}, []string{"1", "2", "3", "4"}},
		{[]string{`a"+b*`}, []string{"1", "2", "3", "4"}},
	} {
		sel := connector.Selection{Collection: c, All: true, Contains: &connector.Contains{Column: "body", Any: tc.any, Index: "fulltext"}}
		rows, err := s.Rows(ctx, sel, []string{"body"}, nil, 10)
		if err != nil {
			t.Errorf("%q: %v", tc.any, err)
			continue
		}
		var got []string
		for _, r := range rows {
			got = append(got, r.Key)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("rows for %q = %v, want %v", tc.any, got, tc.want)
		}
	}
}
