package processor

import (
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// FromRegistry returns a Processor for every processor store of reg with a
// webhook, reading each secret from the variable the store names through
// getenv. A store that speaks OpenDSR only is left out (not supported yet),
// so the engine fails erasures naming it. Errors: an empty secret, named by
// store and variable.
func FromRegistry(reg *registry.Registry, getenv func(string) string) (map[string]engine.ProcessorNotifier, error) {
	out := map[string]engine.ProcessorNotifier{}
	for name, st := range reg.Stores {
		if st.Kind != registry.KindProcessor {
			continue
		}
		if st.Webhook == "" {
			continue // OpenDSR is not spoken yet: the engine fails erasures naming the store
		}
		secret, err := connector.Env(getenv, name, st.SecretEnv)
		if err != nil {
			return nil, err
		}
		out[name] = &Processor{Name: name, URL: st.Webhook, Secret: []byte(secret), Deadline: st.Deadline}
	}
	return out, nil
}
