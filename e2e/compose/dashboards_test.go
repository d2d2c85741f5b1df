package compose

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// dashboardExprs returns the PromQL expressions of every panel of the
// provisioned Grafana dashboard.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "grafana", "dashboards", "orderbus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	if d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("dashboard has uid %q and %d panels, want a uid and panels", d.UID, len(d.Panels))
	}
	var exprs []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	return exprs
}

var (
	promLabels   = regexp.MustCompile(`\{[^}]*\}`)
	promGrouping = regexp.MustCompile(`\b(by|without)\s*\([^)]*\)`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
)

// metricNames returns the metric names expr selects: its identifiers
// that are not functions, keywords, label matchers, groupings or numbers.
func metricNames(expr string) []string {
	expr = promLabels.ReplaceAllString(expr, "")
	expr = promGrouping.ReplaceAllString(expr, "")
	expr = promRange.ReplaceAllString(expr, "")
	var out []string
	for _, m := range promIdent.FindAllString(expr, -1) {
		if strings.HasSuffix(m, "(") || !strings.Contains(m, "_") {
			continue // a function, or a keyword such as by, le, or
		}
		out = append(out, m)
	}
	return out
}

// registeredMetrics returns the metric names the Go code of pkg/ and
// services/ registers: the Name of every prometheus *Opts literal and the
// first argument of every prometheus.NewDesc, string constants resolved.
func registeredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	root := repoRoot(t)
	names := map[string]bool{}
	for _, top := range []string{"pkg", "services"} {
		dirs := map[string][]*ast.File{}
		fset := token.NewFileSet()
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			dirs[filepath.Dir(path)] = append(dirs[filepath.Dir(path)], f)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, files := range dirs {
			consts := map[string]string{}
			for _, f := range files {
				ast.Inspect(f, func(n ast.Node) bool {
					if vs, ok := n.(*ast.ValueSpec); ok {
						for i, name := range vs.Names {
							if i < len(vs.Values) {
								if s, ok := stringLit(vs.Values[i]); ok {
									consts[name.Name] = s
								}
							}
						}
					}
					return true
				})
			}
			value := func(e ast.Expr) (string, bool) {
				if s, ok := stringLit(e); ok {
					return s, true
				}
				if id, ok := e.(*ast.Ident); ok {
					s, ok := consts[id.Name]
					return s, ok
				}
				return "", false
			}
			for _, f := range files {
				ast.Inspect(f, func(n ast.Node) bool {
					switch n := n.(type) {
					case *ast.KeyValueExpr:
						if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Name" {
							if s, ok := value(n.Value); ok {
								names[s] = true
							}
						}
					case *ast.CallExpr:
						if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "NewDesc" && len(n.Args) > 0 {
							if s, ok := value(n.Args[0]); ok {
								names[s] = true
							}
						}
					}
					return true
				})
			}
		}
	}
	return names
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// TestDashboardQueriesExistingMetrics checks that the provisioned Grafana
// dashboard parses and that every metric it queries is one the services
// register (a histogram's _bucket, _sum and _count series included).
func TestDashboardQueriesExistingMetrics(t *testing.T) {
	t.Parallel()
	registered := registeredMetrics(t)
	for _, want := range []string{"orders_placed_total", "orderbus_outbox_pending", "orderbus_consumer_paused"} {
		if !registered[want] {
			t.Fatalf("the registration scan missed %s: it is broken", want)
		}
	}
	seen := 0
	for _, expr := range dashboardExprs(t) {
		names := metricNames(expr)
		if len(names) == 0 {
			t.Errorf("expression %q selects no metric", expr)
		}
		for _, name := range names {
			seen++
			base := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(name, suffix); ok && registered[b] {
					base = b
				}
			}
			if !registered[base] {
				t.Errorf("dashboard queries %s (in %q), which no service registers", name, expr)
			}
		}
	}
	if seen < 8 {
		t.Errorf("the dashboard queries %d metrics, want at least 8", seen)
	}
}

// TestPrometheusScrapesEveryService checks that deploy/prometheus scrapes
// every service folder on the HTTP port compose gives it.
func TestPrometheusScrapesEveryService(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	p := loadProject(t, nil)
	entries, err := os.ReadDir(filepath.Join(root, "services"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, "services", e.Name(), "main.go")); err != nil {
			continue
		}
		svc, ok := p.Services[e.Name()]
		if !ok || len(svc.Ports) == 0 {
			t.Errorf("service %s: not in docker-compose.yml with a port", e.Name())
			continue
		}
		target := `"` + e.Name() + ":" + strconv.Itoa(int(svc.Ports[0].Target)) + `"`
		if !strings.Contains(string(b), target) {
			t.Errorf("prometheus.yml does not scrape %s", target)
		}
	}
}
