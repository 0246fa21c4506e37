package registry

// CheckEnv checks that every environment variable the stores name is set,
// using lookup (os.LookupEnv in production). It returns a *ValidationError
// naming each store field whose variable is unset or empty, or nil.
func (r *Registry) CheckEnv(lookup func(string) (string, bool)) error {
	p := &problems{file: "lethe.yaml"}
	for _, name := range sortedKeys(r.Stores) {
		s := r.Stores[name]
		for field, env := range map[string]string{"dsn_env": s.DSNEnv, "addr_env": s.AddrEnv, "secret_env": s.SecretEnv, "uri_env": s.URIEnv} {
			if env == "" {
				continue
			}
			if v, ok := lookup(env); !ok || v == "" {
				p.add([]string{"stores", name, field}, "environment variable %s is not set: export it before starting lethe", env)
			}
		}
	}
	sortProblems(p.list)
	return p.err()
}
