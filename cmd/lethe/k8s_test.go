package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	ktypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/lethe-privacy/lethe/pkg/demo"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

const k8sDir = "../../deploy/k8s"

// letheImage is the image name the manifests give Lethe's container;
// kustomization.yaml's images: maps it onto the operator's registry.
const letheImage = "lethe"

// k8sRequiredEnv are the variables a production Lethe must be given.
var k8sRequiredEnv = []string{"LETHE_ADDR", "LETHE_DATABASE_URL", "LETHE_SUBJECT_KEY", "LETHE_ADMIN_TOKEN",
	"LETHE_CONFIG", "LETHE_EXPORT_KEY", "LETHE_EXPORT_URL"}

// server is what the manifests are checked against: the binary's command
// tree and a real lethe serve.
type server struct {
	root    func() map[string]string // variable -> flag, from envVars
	flagsOf func(args []string) (map[string]bool, error)
	status  func(path string) int
	public  map[string]bool // the routes /openapi.json documents without authentication
	routes  []string        // every route /openapi.json documents
	uid     int64           // the image's USER
}

// k8sFiles reads every file of deploy/k8s.
func k8sFiles(t *testing.T) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(k8sDir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() {
			t.Fatalf("deploy/k8s/%s: a folder; the checks read the files of deploy/k8s only", e.Name())
		}
		if files[e.Name()], err = os.ReadFile(filepath.Join(k8sDir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// newK8sServer starts a real lethe serve (the demo, for its stores) and
// returns what the checks compare the manifests with.
func newK8sServer(t *testing.T) *server {
	t.Helper()
	s := startDemo(t)
	root := newRootCmd(&cli{stdout: io.Discard, stderr: io.Discard, getenv: os.Getenv})
	srv := &server{
		root: func() map[string]string { return envVars(root) },
		flagsOf: func(args []string) (map[string]bool, error) {
			var words []string
			for _, a := range args {
				if strings.HasPrefix(a, "-") {
					break
				}
				words = append(words, a)
			}
			cmd, rest, err := root.Find(words)
			if err != nil || len(rest) > 0 || cmd == root {
				return nil, fmt.Errorf("no command %q", strings.Join(words, " "))
			}
			flags := map[string]bool{}
			cmd.Flags().VisitAll(func(f *pflag.Flag) { flags[f.Name] = true })
			cmd.InheritedFlags().VisitAll(func(f *pflag.Flag) { flags[f.Name] = true })
			return flags, nil
		},
		status: func(p string) int {
			resp, err := http.Get(s.base + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		},
		public: map[string]bool{},
		uid:    dockerfileUID(t),
	}
	resp, err := http.Get(s.base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("/openapi.json: %v", err)
	}
	for p, ops := range doc.Paths {
		srv.routes = append(srv.routes, p)
		public := true
		for _, op := range ops {
			var o struct {
				Security *[]any `json:"security"`
			}
			if json.Unmarshal(op, &o) == nil && (o.Security == nil || len(*o.Security) > 0) {
				public = false
			}
		}
		srv.public[p] = public
	}
	if len(srv.routes) == 0 || !srv.public["/privacy"] || srv.public["/v1/requests"] {
		t.Fatalf("/openapi.json: %d routes, /privacy public %v, /v1/requests public %v", len(srv.routes), srv.public["/privacy"], srv.public["/v1/requests"])
	}
	return srv
}

var dockerUser = regexp.MustCompile(`(?m)^USER\s+(\S+)`)

// dockerfileUID is the numeric user of deploy/Dockerfile's last USER line.
func dockerfileUID(t *testing.T) int64 {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := dockerUser.FindAllStringSubmatch(string(raw), -1)
	if len(m) == 0 {
		t.Fatal("deploy/Dockerfile: no USER")
	}
	uid, err := strconv.ParseInt(strings.Split(m[len(m)-1][1], ":")[0], 10, 64)
	if err != nil || uid == 0 {
		t.Fatalf("deploy/Dockerfile: USER %s: give a numeric user other than 0, so that runAsNonRoot can check it", m[len(m)-1][1])
	}
	return uid
}

// k8sSet is deploy/k8s decoded strictly with the Kubernetes API types.
type k8sSet struct {
	kust       ktypes.Kustomization
	deployment *appsv1.Deployment
	services   []*corev1.Service
	pdbs       []*policyv1.PodDisruptionBudget
	policies   []*networkingv1.NetworkPolicy
	ingresses  []*networkingv1.Ingress
	secrets    []*corev1.Secret
	registries map[string]*registry.Registry // by ConfigMap name
	regFile    map[string]string             // ConfigMap name -> its file's key
}

// decodeK8s decodes every file: kustomization.yaml as a Kustomization,
// the files of its configMapGenerator as registries, every other YAML
// document as the Kubernetes type its kind names, refusing unknown fields.
func decodeK8s(files map[string][]byte) (*k8sSet, error) {
	set := &k8sSet{registries: map[string]*registry.Registry{}, regFile: map[string]string{}}
	kraw, ok := files["kustomization.yaml"]
	if !ok {
		return nil, errors.New("no kustomization.yaml")
	}
	if err := strictDecode(kraw, &set.kust); err != nil {
		return nil, fmt.Errorf("kustomization.yaml: %w", err)
	}
	generated := map[string]bool{}
	for _, g := range set.kust.ConfigMapGenerator {
		for _, f := range g.FileSources {
			key, file, found := strings.Cut(f, "=")
			if !found {
				file = key
				key = path.Base(f)
			}
			raw, ok := files[file]
			if !ok {
				return nil, fmt.Errorf("kustomization.yaml: configMapGenerator %s: no file %s", g.Name, file)
			}
			reg, err := registry.Parse(raw)
			if err != nil {
				return nil, fmt.Errorf("%s (ConfigMap %s): %w", file, g.Name, err)
			}
			set.registries[g.Name], set.regFile[g.Name] = reg, key
			generated[file] = true
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "kustomization.yaml" || generated[name] {
			continue
		}
		if !strings.HasSuffix(name, ".yaml") {
			return nil, fmt.Errorf("%s: not a manifest (.yaml)", name)
		}
		if !slices.Contains(set.kust.Resources, name) && !strings.HasSuffix(name, ".example.yaml") {
			return nil, fmt.Errorf("%s: not in kustomization.yaml's resources (an example not applied ends in .example.yaml)", name)
		}
		for i, doc := range bytes.Split(files[name], []byte("\n---\n")) {
			if err := set.add(doc); err != nil {
				return nil, fmt.Errorf("%s, document %d: %w", name, i+1, err)
			}
		}
	}
	for _, r := range set.kust.Resources {
		if _, ok := files[r]; !ok {
			return nil, fmt.Errorf("kustomization.yaml: resource %s: no such file", r)
		}
	}
	if set.deployment == nil {
		return nil, errors.New("no Deployment")
	}
	return set, nil
}

// strictDecode decodes a YAML document into v as the Kubernetes API
// server does: field names match case-sensitively, and an unknown or
// repeated field is an error naming it.
func strictDecode(doc []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, v)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// add decodes one document strictly as the type of its apiVersion and kind.
func (set *k8sSet) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	strict := func(v any) error { return strictDecode(doc, v) }
	switch tm.APIVersion + " " + tm.Kind {
	case "apps/v1 Deployment":
		if set.deployment != nil {
			return errors.New("a second Deployment")
		}
		set.deployment = &appsv1.Deployment{}
		return strict(set.deployment)
	case "v1 Service":
		v := &corev1.Service{}
		set.services = append(set.services, v)
		return strict(v)
	case "policy/v1 PodDisruptionBudget":
		v := &policyv1.PodDisruptionBudget{}
		set.pdbs = append(set.pdbs, v)
		return strict(v)
	case "networking.k8s.io/v1 NetworkPolicy":
		v := &networkingv1.NetworkPolicy{}
		set.policies = append(set.policies, v)
		return strict(v)
	case "networking.k8s.io/v1 Ingress":
		v := &networkingv1.Ingress{}
		set.ingresses = append(set.ingresses, v)
		return strict(v)
	case "v1 Secret":
		v := &corev1.Secret{}
		set.secrets = append(set.secrets, v)
		return strict(v)
	case "v1 PersistentVolumeClaim":
		return strict(&corev1.PersistentVolumeClaim{})
	}
	return fmt.Errorf("kind %q of %q: not one the checks know", tm.Kind, tm.APIVersion)
}

// checkK8s decodes files and checks them against srv; nil when they agree.
func checkK8s(files map[string][]byte, srv *server) error {
	set, err := decodeK8s(files)
	if err != nil {
		return err
	}
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	d := set.deployment
	pod := d.Spec.Template.Spec
	podLabels := labels.Set(d.Spec.Template.Labels)
	var lethe *corev1.Container
	for i := range pod.Containers {
		if pod.Containers[i].Image == letheImage {
			lethe = &pod.Containers[i]
		}
	}
	if lethe == nil || len(pod.Containers) < 2 {
		return fmt.Errorf("deployment %s: want the application and a container of image %q beside it", d.Name, letheImage)
	}
	if sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err != nil || !sel.Matches(podLabels) {
		fail("deployment %s: its selector does not select its pods (%v)", d.Name, err)
	}

	// Environment: only what the binary reads, the required ones, the
	// registry's variables, secrets that the example Secret holds.
	known := srv.root()
	env := map[string]corev1.EnvVar{}
	for _, e := range lethe.Env {
		env[e.Name] = e
		if strings.HasPrefix(e.Name, "LETHE_") {
			if _, ok := known[e.Name]; !ok {
				fail("container %s: env %s, which lethe does not read", lethe.Name, e.Name)
			}
		}
		if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil {
			if !secretHas(set.secrets, ref.SecretKeyRef.Name, ref.SecretKeyRef.Key) {
				fail("container %s: env %s takes key %s of Secret %s, which the example Secret does not hold", lethe.Name, e.Name, ref.SecretKeyRef.Key, ref.SecretKeyRef.Name)
			}
		}
	}
	for _, v := range k8sRequiredEnv {
		e, ok := env[v]
		if !ok || (e.Value == "" && e.ValueFrom == nil) {
			fail("container %s: no %s", lethe.Name, v)
		} else if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil && ref.SecretKeyRef.Optional != nil && *ref.SecretKeyRef.Optional {
			fail("container %s: %s is required, its secretKeyRef cannot be optional", lethe.Name, v)
		}
	}
	for _, v := range []string{"LETHE_DATABASE_URL", "LETHE_SUBJECT_KEY", "LETHE_ADMIN_TOKEN", "LETHE_EXPORT_KEY", "LETHE_AUDIT_KEY"} {
		if e, ok := env[v]; ok && e.Value != "" {
			fail("container %s: %s is a secret: take it from a Secret (secretKeyRef), not a value", lethe.Name, v)
		}
	}
	if d.Spec.Replicas != nil && *d.Spec.Replicas > 1 {
		if e := env["LETHE_DATABASE_URL"]; e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil ||
			!strings.HasPrefix(secretValue(set.secrets, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key), "postgres://") {
			fail("deployment %s: %d replicas need Lethe's state in Postgres (LETHE_DATABASE_URL postgres://...): SQLite serves one process", d.Name, *d.Spec.Replicas)
		}
	}

	// The registry: mounted from its ConfigMap at LETHE_CONFIG, its
	// variables set, its file:// stores on mounts.
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range lethe.VolumeMounts {
		mounts[m.MountPath] = m
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	cfg := env["LETHE_CONFIG"].Value
	m, ok := mounts[path.Dir(cfg)]
	var reg *registry.Registry
	if v := volumes[m.Name]; ok && v.ConfigMap != nil {
		reg = set.registries[v.ConfigMap.Name]
		if set.regFile[v.ConfigMap.Name] != path.Base(cfg) {
			fail("LETHE_CONFIG %s: ConfigMap %s holds %s", cfg, v.ConfigMap.Name, set.regFile[v.ConfigMap.Name])
		}
	}
	if reg == nil {
		fail("LETHE_CONFIG %q: no volume from a generated ConfigMap mounted on its folder", cfg)
	} else {
		if err := reg.CheckEnv(func(k string) (string, bool) { _, ok := env[k]; return "set", ok }); err != nil {
			fail("container %s: %v", lethe.Name, err)
		}
		for name, st := range reg.Stores {
			if u, err := url.Parse(st.URL); err == nil && u.Scheme == "file" && !writableUnder(mounts, u.Path) {
				fail("registry store %s (%s): no writable volume mounted there", name, st.URL)
			}
		}
	}

	// A read-only root: the exports and /tmp on writable volumes.
	if u, err := url.Parse(env["LETHE_EXPORT_URL"].Value); err == nil && u.Scheme == "file" && !writableUnder(mounts, u.Path) {
		fail("LETHE_EXPORT_URL %s: no writable volume mounted there", env["LETHE_EXPORT_URL"].Value)
	}
	if !writableUnder(mounts, "/tmp") {
		fail("container %s: no writable volume on /tmp (the spool of access packages)", lethe.Name)
	}

	// Arguments: a command of the binary and its flags.
	if len(lethe.Command) > 0 {
		fail("container %s: command %v replaces the image's ENTRYPOINT /lethe; give args", lethe.Name, lethe.Command)
	}
	if len(lethe.Args) == 0 || lethe.Args[0] != "serve" {
		fail("container %s: args %v; want serve first", lethe.Name, lethe.Args)
	} else if flags, err := srv.flagsOf(lethe.Args); err != nil {
		fail("container %s: args %v: %v", lethe.Name, lethe.Args, err)
	} else {
		for _, a := range lethe.Args[1:] {
			if !strings.HasPrefix(a, "-") {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if !flags[name] {
				fail("container %s: args pass %s, which lethe %s does not define", lethe.Name, a, lethe.Args[0])
			}
		}
	}

	// Ports: the containerPort is LETHE_ADDR's, and the probes name it.
	_, port, err := net.SplitHostPort(env["LETHE_ADDR"].Value)
	if err != nil {
		fail("LETHE_ADDR %q: %v", env["LETHE_ADDR"].Value, err)
	}
	var portName string
	for _, p := range lethe.Ports {
		if strconv.Itoa(int(p.ContainerPort)) == port {
			portName = p.Name
		}
	}
	if portName == "" {
		fail("container %s: no containerPort %s (the port of LETHE_ADDR), named", lethe.Name, port)
	}
	probes := map[string]*corev1.Probe{"liveness": lethe.LivenessProbe, "readiness": lethe.ReadinessProbe, "startup": lethe.StartupProbe}
	want := map[string]string{"liveness": "/healthz", "readiness": "/readyz", "startup": "/healthz"}
	for _, kind := range []string{"liveness", "readiness", "startup"} {
		p := probes[kind]
		if p == nil || p.HTTPGet == nil {
			fail("container %s: no HTTP %s probe", lethe.Name, kind)
			continue
		}
		if p.HTTPGet.Path != want[kind] {
			fail("container %s: %s probe on %s; want %s", lethe.Name, kind, p.HTTPGet.Path, want[kind])
		}
		if code := srv.status(p.HTTPGet.Path); code != http.StatusOK {
			fail("container %s: %s probe GET %s: the server answers %d", lethe.Name, kind, p.HTTPGet.Path, code)
		}
		if p.HTTPGet.Port != intstr.FromString(portName) {
			fail("container %s: %s probe on port %s; want the named port %q", lethe.Name, kind, p.HTTPGet.Port.String(), portName)
		}
	}

	// Resources and hardening.
	r := lethe.Resources
	if r.Requests.Cpu().IsZero() || r.Requests.Memory().IsZero() || r.Limits.Memory().IsZero() {
		fail("container %s: resources want cpu and memory requests and a memory limit: %v", lethe.Name, r)
	}
	sc, psc := lethe.SecurityContext, pod.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	isTrue := func(b *bool) bool { return b != nil && *b }
	if !isTrue(sc.ReadOnlyRootFilesystem) {
		fail("container %s: readOnlyRootFilesystem is not true", lethe.Name)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		fail("container %s: allowPrivilegeEscalation is not false", lethe.Name)
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		fail("container %s: capabilities must drop ALL and add none", lethe.Name)
	}
	if !isTrue(sc.RunAsNonRoot) && !isTrue(psc.RunAsNonRoot) {
		fail("container %s: runAsNonRoot is not true", lethe.Name)
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil {
		seccomp = psc.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		fail("container %s: seccompProfile is not RuntimeDefault", lethe.Name)
	}
	uid := sc.RunAsUser
	if uid == nil {
		uid = psc.RunAsUser
	}
	if uid != nil && *uid != srv.uid {
		fail("container %s: runAsUser %d, the image's USER is %d (its files are that user's)", lethe.Name, *uid, srv.uid)
	}

	// The Service, the PodDisruptionBudget and the NetworkPolicy select
	// the pod; the Service routes to Lethe's port.
	var letheSvc *corev1.Service
	var letheSvcPort networkingv1.ServiceBackendPort
	for _, s := range set.services {
		if !labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels) {
			continue
		}
		for _, p := range s.Spec.Ports {
			if p.TargetPort == intstr.FromString(portName) || p.TargetPort.String() == port {
				letheSvc, letheSvcPort = s, networkingv1.ServiceBackendPort{Name: p.Name, Number: p.Port}
			}
		}
	}
	if letheSvc == nil {
		fail("no Service selects the pod with a port to Lethe's %s", portName)
	}
	if !slices.ContainsFunc(set.pdbs, func(p *policyv1.PodDisruptionBudget) bool {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		return err == nil && sel.Matches(podLabels)
	}) {
		fail("no PodDisruptionBudget selects the pod")
	}
	errs = append(errs, checkPolicy(set.policies, podLabels, portName, port, set.secrets)...)
	errs = append(errs, checkIngress(set.ingresses, letheSvc, letheSvcPort, srv)...)
	return errors.Join(errs...)
}

// writableUnder reports whether dir is at or under a mount not read-only.
func writableUnder(mounts map[string]corev1.VolumeMount, dir string) bool {
	for p, m := range mounts {
		if !m.ReadOnly && (dir == p || strings.HasPrefix(dir, strings.TrimSuffix(p, "/")+"/")) {
			return true
		}
	}
	return false
}

func secretHas(secrets []*corev1.Secret, name, key string) bool {
	for _, s := range secrets {
		if s.Name == name {
			_, a := s.StringData[key]
			_, b := s.Data[key]
			return a || b
		}
	}
	return false
}

func secretValue(secrets []*corev1.Secret, name, key string) string {
	for _, s := range secrets {
		if s.Name == name {
			return s.StringData[key] + string(s.Data[key])
		}
	}
	return ""
}

// portIs reports whether a NetworkPolicy port names Lethe's port.
func portIs(p networkingv1.NetworkPolicyPort, name, number string) bool {
	return p.Port != nil && (*p.Port == intstr.FromString(name) || p.Port.String() == number)
}

// checkPolicy: a NetworkPolicy selects the pod for ingress and egress,
// lets the application's pods and another namespace (the ingress
// controller) reach Lethe's port, and lets out DNS and the stores'
// ports (those of the Secret's postgres:// URLs).
func checkPolicy(policies []*networkingv1.NetworkPolicy, pod labels.Set, portName, port string, secrets []*corev1.Secret) []error {
	var np *networkingv1.NetworkPolicy
	for _, p := range policies {
		if sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector); err == nil && sel.Matches(pod) {
			np = p
		}
	}
	if np == nil {
		return []error{errors.New("no NetworkPolicy selects the pod")}
	}
	var errs []error
	if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
		errs = append(errs, fmt.Errorf("NetworkPolicy %s: policyTypes %v; want Ingress and Egress", np.Name, np.Spec.PolicyTypes))
	}
	var fromApp, fromNamespace bool
	for _, rule := range np.Spec.Ingress {
		if !slices.ContainsFunc(rule.Ports, func(p networkingv1.NetworkPolicyPort) bool { return portIs(p, portName, port) }) {
			continue
		}
		for _, peer := range rule.From {
			if peer.IPBlock != nil {
				errs = append(errs, fmt.Errorf("NetworkPolicy %s: Lethe's port is open to %s", np.Name, peer.IPBlock.CIDR))
			}
			if peer.PodSelector != nil && peer.NamespaceSelector == nil {
				sel, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
				fromApp = fromApp || (err == nil && !sel.Empty() && sel.Matches(pod))
			}
			if peer.NamespaceSelector != nil && len(peer.NamespaceSelector.MatchLabels)+len(peer.NamespaceSelector.MatchExpressions) > 0 {
				fromNamespace = true
			}
		}
		if len(rule.From) == 0 {
			errs = append(errs, fmt.Errorf("NetworkPolicy %s: Lethe's port is open to every peer", np.Name))
		}
	}
	if !fromApp {
		errs = append(errs, fmt.Errorf("NetworkPolicy %s: the application's pods cannot reach Lethe's port %s", np.Name, portName))
	}
	if !fromNamespace {
		errs = append(errs, fmt.Errorf("NetworkPolicy %s: the ingress controller's namespace cannot reach Lethe's port %s", np.Name, portName))
	}
	out := map[string]bool{}
	for _, rule := range np.Spec.Egress {
		if len(rule.To) == 0 {
			errs = append(errs, fmt.Errorf("NetworkPolicy %s: an egress rule open to every peer", np.Name))
		}
		for _, p := range rule.Ports {
			proto := corev1.ProtocolTCP
			if p.Protocol != nil {
				proto = *p.Protocol
			}
			if p.Port != nil {
				out[p.Port.String()+"/"+string(proto)] = true
			}
		}
	}
	want := []string{"53/UDP", "53/TCP"}
	for _, s := range secrets {
		for _, v := range s.StringData {
			if u, err := url.Parse(v); err == nil && u.Scheme == "postgres" {
				want = append(want, u.Port()+"/TCP")
			}
		}
	}
	for _, w := range want {
		if !out[w] {
			errs = append(errs, fmt.Errorf("NetworkPolicy %s: no egress to port %s", np.Name, w))
		}
	}
	return errs
}

// endUserPrefixes are what end users reach of Lethe: the privacy page and
// the self-service routes it posts to and emails links to. The rest (the
// API, /metrics, /openapi.json, the probes, OpenDSR) stays inside.
var endUserPrefixes = []string{"/privacy", "/v1/self"}

// checkIngress: the ingress routes to Lethe only prefixes of routes the
// server serves without authentication (what end users need).
func checkIngress(ingresses []*networkingv1.Ingress, svc *corev1.Service, port networkingv1.ServiceBackendPort, srv *server) []error {
	var errs []error
	var routed []string
	for _, ing := range ingresses {
		if len(ing.Spec.TLS) == 0 {
			errs = append(errs, fmt.Errorf("Ingress %s: no tls", ing.Name))
		}
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				b := p.Backend.Service
				if svc == nil || b == nil || b.Name != svc.Name || (b.Port.Name != port.Name && b.Port.Number != port.Number) {
					continue
				}
				routed = append(routed, p.Path)
				if !slices.ContainsFunc(endUserPrefixes, func(e string) bool { return p.Path == e || strings.HasPrefix(p.Path, e+"/") }) {
					errs = append(errs, fmt.Errorf("Ingress %s: path %s is not for end users: route only %v to Lethe", ing.Name, p.Path, endUserPrefixes))
				}
				if p.PathType == nil || *p.PathType != networkingv1.PathTypePrefix {
					errs = append(errs, fmt.Errorf("Ingress %s: path %s: pathType Prefix, so that its routes below it are reached", ing.Name, p.Path))
				}
				var under []string
				for _, r := range srv.routes {
					if r == p.Path || strings.HasPrefix(r, strings.TrimSuffix(p.Path, "/")+"/") {
						under = append(under, r)
						if !srv.public[r] {
							errs = append(errs, fmt.Errorf("Ingress %s: path %s exposes %s, which is not for end users", ing.Name, p.Path, r))
						}
					}
				}
				// The running server's router has them too: a path without
				// parameters answers something else than 404 (405 for a
				// route of another method).
				served := false
				for _, r := range under {
					served = served || (!strings.Contains(r, "{") && srv.status(r) != http.StatusNotFound)
				}
				if len(under) == 0 || !served {
					errs = append(errs, fmt.Errorf("Ingress %s: path %s: the server has no route there (documented: %v)", ing.Name, p.Path, under))
				}
			}
		}
	}
	for _, need := range endUserPrefixes {
		if !slices.Contains(routed, need) {
			errs = append(errs, fmt.Errorf("no Ingress routes %s to Lethe", need))
		}
	}
	return errs
}

// kustomizeBuild builds files with kustomize, in memory, as kubectl
// apply -k would, and returns the output.
func kustomizeBuild(files map[string][]byte) ([]byte, error) {
	fs := filesys.MakeFsInMemory()
	for name, raw := range files {
		if err := fs.WriteFile("/k8s/"+name, raw); err != nil {
			return nil, err
		}
	}
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/k8s")
	if err != nil {
		return nil, err
	}
	return res.AsYaml()
}

// checkBuilt checks kustomize's output: the registry ConfigMap that the
// Deployment mounts is the generated one (its name carries a hash), and
// Lethe's image is mapped.
func checkBuilt(out []byte) error {
	var cmName, mounted, image string
	for _, doc := range bytes.Split(out, []byte("\n---\n")) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return err
		}
		switch tm.Kind {
		case "ConfigMap":
			var cm corev1.ConfigMap
			if err := strictDecode(doc, &cm); err != nil {
				return err
			}
			if _, err := registry.Parse([]byte(cm.Data["lethe.yaml"])); err != nil {
				return fmt.Errorf("ConfigMap %s: %w", cm.Name, err)
			}
			cmName = cm.Name
		case "Deployment":
			var d appsv1.Deployment
			if err := strictDecode(doc, &d); err != nil {
				return err
			}
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.ConfigMap != nil {
					mounted = v.ConfigMap.Name
				}
			}
			for _, c := range d.Spec.Template.Spec.Containers {
				if c.Name == "lethe" {
					image = c.Image
				}
			}
		}
	}
	if cmName == "" || !strings.HasPrefix(cmName, "lethe-registry-") || mounted != cmName {
		return fmt.Errorf("kustomize build: ConfigMap %q, the Deployment mounts %q", cmName, mounted)
	}
	if image == letheImage || image == "" {
		return fmt.Errorf("kustomize build: Lethe's image %q was not mapped by images:", image)
	}
	return nil
}

// TestK8sManifests decodes every manifest of deploy/k8s strictly, checks
// it against the binary and a running lethe serve, and builds it with
// kustomize.
func TestK8sManifests(t *testing.T) {
	srv := newK8sServer(t)
	files := k8sFiles(t)
	if err := checkK8s(files, srv); err != nil {
		t.Fatalf("deploy/k8s:\n%v", err)
	}
	out, err := kustomizeBuild(files)
	if err != nil {
		t.Fatalf("kustomize build deploy/k8s: %v", err)
	}
	if err := checkBuilt(out); err != nil {
		t.Fatal(err)
	}

	// Each check fails on a manifest that drifted.
	for _, tc := range []struct {
		name, file, old, new, want string
		build                      bool // the drift is kustomize's to find
	}{
		{"wrong probe path", "deployment.yaml", "path: /readyz", "path: /ready", "readiness probe on /ready", false},
		{"probe path the server lacks", "deployment.yaml", "path: /readyz", "path: /healthz/", "answers 404", false},
		{"unknown field", "deployment.yaml", "livenessProbe:", "livenesProbe:", `unknown field "spec.template.spec.containers[1].livenesProbe"`, false},
		{"unknown field in a Service", "service.yaml", "targetPort: lethe", "targetport: lethe", "unknown field", false},
		{"unknown env var", "deployment.yaml", "name: LETHE_PUBLIC_URL", "name: LETHE_PUBLIC_URI", "env LETHE_PUBLIC_URI, which lethe does not read", false},
		{"required env var missing", "deployment.yaml", "name: LETHE_SUBJECT_KEY", "name: SUBJECT_KEY", "no LETHE_SUBJECT_KEY", false},
		{"registry variable missing", "deployment.yaml", "name: APP_DATABASE_URL", "name: APP_DB_URL", "APP_DATABASE_URL", false},
		{"secret key not in the example", "deployment.yaml", "key: audit-key", "key: audit-seed", "audit-seed", false},
		{"unknown flag", "deployment.yaml", `"--workers=4"`, `"--worker=4"`, "--worker=4, which lethe serve does not define", false},
		{"unknown command", "deployment.yaml", `args: ["serve", "--workers=4"]`, `args: ["server"]`, "want serve first", false},
		{"containerPort not LETHE_ADDR's", "deployment.yaml", "containerPort: 8080", "containerPort: 8081", "no containerPort 8080", false},
		{"probe on another port", "deployment.yaml", "path: /healthz\n              port: lethe\n            periodSeconds: 10", "path: /healthz\n              port: http\n            periodSeconds: 10", "liveness probe on port http", false},
		{"writable root", "deployment.yaml", "readOnlyRootFilesystem: true\n            capabilities:\n              drop: [\"ALL\"]\n            seccompProfile", "readOnlyRootFilesystem: false\n            capabilities:\n              drop: [\"ALL\"]\n            seccompProfile", "readOnlyRootFilesystem is not true", false},
		{"no /tmp", "deployment.yaml", "mountPath: /tmp", "mountPath: /scratch", "no writable volume on /tmp", false},
		{"other user", "deployment.yaml", "runAsUser: 65532", "runAsUser: 1000", "runAsUser 1000", false},
		{"broken registry", "lethe.yaml", "erasure: delete", "erasure: shred", "lethe.yaml", false},
		{"policy selects another pod", "networkpolicy.yaml", "  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: studio-app\n  policyTypes", "  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: other\n  policyTypes", "no NetworkPolicy selects the pod", false},
		{"policy without DNS", "networkpolicy.yaml", "port: 53\n          protocol: UDP", "port: 54\n          protocol: UDP", "no egress to port 53/UDP", false},
		{"ingress exposes the admin API", "ingress.yaml", "path: /v1/self", "path: /v1", "exposes /v1/requests", false},
		{"ingress exposes the metrics", "ingress.yaml", "path: /privacy", "path: /metrics", "path /metrics is not for end users", false},
		{"ingress routes nothing", "ingress.yaml", "path: /privacy", "path: /private", "path /private: the server has no route there", false},
		{"PDB selects nothing", "pdb.yaml", "app.kubernetes.io/name: studio-app", "app.kubernetes.io/name: other", "no PodDisruptionBudget", false},
		{"resource not listed", "kustomization.yaml", "  - pdb.yaml\n", "", "pdb.yaml: not in kustomization.yaml's resources", false},
		{"kustomize: missing resource", "kustomization.yaml", "  - pdb.yaml\n", "  - pdb.yaml\n  - hpa.yaml\n", "hpa.yaml", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mutated := map[string][]byte{}
			for k, v := range files {
				mutated[k] = v
			}
			if !bytes.Contains(mutated[tc.file], []byte(tc.old)) {
				t.Fatalf("%s holds no %q", tc.file, tc.old)
			}
			mutated[tc.file] = bytes.Replace(mutated[tc.file], []byte(tc.old), []byte(tc.new), 1)
			var err error
			if tc.build {
				_, err = kustomizeBuild(mutated)
			} else {
				err = checkK8s(mutated, srv)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one saying %q", err, tc.want)
			}
		})
	}
}

// TestK8sRegistryIsTheDemos: the example registry is the demo
// application's, its stores moved to Postgres and a mounted folder.
func TestK8sRegistryIsTheDemos(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(k8sDir, "lethe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	demoReg, err := registry.Parse(demo.Registry(demoDSNEnv, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for c := range reg.Collections {
		got = append(got, c)
	}
	for c := range demoReg.Collections {
		want = append(want, c)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("deploy/k8s/lethe.yaml collections %v; the demo's are %v", got, want)
	}
	if st := reg.Stores["app"]; st == nil || st.Driver != registry.DriverPostgres || st.DSNEnv != "APP_DATABASE_URL" {
		t.Errorf("deploy/k8s/lethe.yaml: store app %+v; want postgres from APP_DATABASE_URL", st)
	}
}

// TestK8sSecretPlaceholders: lethe serve refuses to start with the example
// Secret's placeholder for each key, and its admin token is empty (the
// admin routes closed), so an example applied unchanged opens nothing.
func TestK8sSecretPlaceholders(t *testing.T) {
	set, err := decodeK8s(k8sFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.secrets) != 1 {
		t.Fatalf("%d example Secrets; want 1", len(set.secrets))
	}
	data := set.secrets[0].StringData
	if data["admin-token"] != "" {
		t.Errorf("the example admin token is %q; leave it empty so that the admin routes stay closed", data["admin-token"])
	}
	good := strings.Repeat("ab", 32)
	for key, v := range map[string]string{"subject-key": "LETHE_SUBJECT_KEY", "export-key": "LETHE_EXPORT_KEY", "audit-key": "LETHE_AUDIT_KEY"} {
		t.Run(key, func(t *testing.T) {
			placeholder, ok := data[key]
			if !ok || !strings.Contains(placeholder, "REPLACE-ME") {
				t.Fatalf("the example Secret's %s is %q; want a REPLACE-ME placeholder", key, placeholder)
			}
			// A serve that accepted the placeholder would run: it is stopped.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, "serve")
			cmd.Env = append(withoutLetheEnv(), "LETHE_SUBJECT_KEY="+good, "LETHE_EXPORT_KEY="+good, "LETHE_AUDIT_KEY="+good,
				"LETHE_DATABASE_URL=sqlite://"+filepath.Join(t.TempDir(), "state.db"), "LETHE_EXPORT_URL=file://"+t.TempDir(),
				"LETHE_ADDR=127.0.0.1:0", v+"="+placeholder)
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil || err == nil || !strings.Contains(string(out), v) {
				t.Errorf("lethe serve with %s=%q: %v, %s; want a refusal naming it", v, placeholder, err, out)
			}
		})
	}
}
