package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envAnnotation is the flag annotation that names a flag's LETHE_*
// variable.
const envAnnotation = "lethe-env"

// bindEnv ties the flag name of fs, already defined, to the variable env
// and says so in the flag's help. applyEnv reads it; envVars lists it.
func bindEnv(fs *pflag.FlagSet, name, env string) {
	f := fs.Lookup(name)
	if f == nil {
		panic("lethe: bindEnv: no flag --" + name) // a programming error, caught by every test
	}
	f.Usage += " (env " + env + ")"
	if f.Annotations == nil {
		f.Annotations = map[string][]string{}
	}
	f.Annotations[envAnnotation] = []string{env}
}

// applyEnv is the one place where a flag given on the command line beats
// its variable, which beats the flag's default: every flag of fs that the
// command line left alone takes its variable's value when that is set (an
// empty variable counts as unset). Errors: a usage error naming the
// variable whose value the flag refuses (a duration, a number).
func applyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		env := f.Annotations[envAnnotation]
		if err != nil || len(env) == 0 || f.Changed {
			return
		}
		if v := getenv(env[0]); v != "" {
			if serr := f.Value.Set(v); serr != nil {
				err = fmt.Errorf("%w: %s %q: %v", errUsage, env[0], v, serr)
			}
		}
	})
	return err
}

// envVars returns every variable the commands under root read, each with
// the flag that overrides it.
func envVars(root *cobra.Command) map[string]string {
	out := map[string]string{}
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if env := f.Annotations[envAnnotation]; len(env) > 0 {
				out[env[0]] = f.Name
			}
		})
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return out
}

// required is a usage error naming the first of names that the command
// line (or its variable) left empty.
func required(cmd *cobra.Command, names ...string) error {
	for _, n := range names {
		if f := cmd.Flags().Lookup(n); f != nil && f.Value.String() == "" {
			return fmt.Errorf("%w: %s needs --%s", errUsage, cmd.CommandPath(), n)
		}
	}
	return nil
}
