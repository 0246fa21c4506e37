package connector

import (
	"context"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Binding is one set of values for a template's named parameters, by
// name: a string, or nil for NULL (:tenant in a request across tenants).
type Binding map[string]any

// TemplateRunner runs the bound-parameter SQL of collections reached by
// templates (registry.Templates). Values are always bound as parameters,
// never written into the statement.
//
// Errors: a store that cannot be reached returns a *dsr.Error with code
// dsr.EUNAVAILABLE naming the store; other errors name the collection and
// the template's path in the registry.
type TemplateRunner interface {
	// QueryTemplate runs the SELECT t with b and calls fn for each row it
	// returns, with the column names and the row's values (valid during
	// the call only). fn's error stops the rows and is returned.
	QueryTemplate(ctx context.Context, c *registry.Collection, t *registry.Template, b Binding, fn func(columns []string, values []any) error) error
	// ExecTemplates runs each statement once per binding of its own, in
	// order, in one transaction, and returns the rows they affected.
	ExecTemplates(ctx context.Context, c *registry.Collection, stmts []Statement) (int64, error)
}

// Statement is a template with the bindings it runs with.
type Statement struct {
	Template *registry.Template
	Bindings []Binding
}
