package console

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/datamap"
	"github.com/lethe-privacy/lethe/pkg/ropa"
)

// dataMapData is what the data map page shows: the picture and the same
// as a list.
type dataMapData struct {
	SVG   template.HTML
	Items []datamap.Item
}

// noRegistry is the answer of the registry's pages without one.
func noRegistry() error {
	return dsr.Errorf(dsr.ECONFLICT, "No registry is configured: start Lethe with LETHE_CONFIG to see the data map and the records of processing.")
}

// dataMap draws the registry.
func (c *Console) dataMap(v *Visit) error {
	if c.Registry == nil {
		return noRegistry()
	}
	m := datamap.Build(c.Registry)
	var b bytes.Buffer
	if err := m.WriteSVG(&b); err != nil {
		return err
	}
	// WriteSVG escapes every text it writes and holds no script.
	return v.Render("datamap", "Data map", dataMapData{SVG: template.HTML(b.String()), Items: m.Items()})
}

// records shows the records of processing (GDPR Art. 30).
func (c *Console) records(v *Visit) error {
	if c.Registry == nil {
		return noRegistry()
	}
	frag, err := ropa.Fragment(ropa.Build(c.Registry))
	if err != nil {
		return err
	}
	return v.Render("records", "Records of processing", frag)
}

// recordsFile downloads the records as format, "csv" or "json".
func (c *Console) recordsFile(format string) func(v *Visit) error {
	types := map[string]string{"csv": "text/csv; charset=utf-8", "json": "application/json"}
	return func(v *Visit) error {
		if c.Registry == nil {
			return noRegistry()
		}
		v.W.Header().Set("Content-Type", types[format])
		v.W.Header().Set("Content-Disposition", `attachment; filename="records-of-processing.`+format+`"`)
		v.W.WriteHeader(http.StatusOK)
		return ropa.Write(v.W, ropa.Build(c.Registry), format)
	}
}
