package registry

import (
	"context"
	"fmt"

	"github.com/lethe-privacy/lethe/dsr"
)

// TemplateChecker is what a SchemaReader may do with SQL templates:
// prepare them on the live database, which parses them in its own dialect
// and resolves their tables and columns without running them.
type TemplateChecker interface {
	// CheckTemplate returns the database's reason for refusing t, or a
	// *dsr.Error with code EUNAVAILABLE when the store cannot be reached.
	CheckTemplate(ctx context.Context, t *Template) error
}

// checkLiveTemplates prepares each template of c on its store, adding a
// problem at the template's path for each one the database refuses.
func checkLiveTemplates(ctx context.Context, p *problems, s SchemaReader, c *Collection) error {
	tc, ok := s.(TemplateChecker)
	if !ok {
		p.add([]string{"collections", c.Key}, "store %s cannot check SQL templates", c.Store)
		return nil
	}
	for _, t := range c.Templates.All() {
		err := tc.CheckTemplate(ctx, t)
		switch {
		case err == nil:
		case dsr.ErrorCode(err) == dsr.EUNAVAILABLE:
			return fmt.Errorf("registry: check %s: %w", c.Key, err)
		default:
			p.add(t.at, "the database refuses it: %v", err)
		}
	}
	return nil
}
