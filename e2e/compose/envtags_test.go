package compose

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
)

// pkgModule is the import path of the repository's pkg module; a config
// struct may embed types from it (config.Service, natsjs.ConsumerSettings).
const pkgModule = "github.com/orderbus/orderbus/pkg"

// envVar is one environment variable a service's configuration reads.
type envVar struct {
	Name     string
	Required bool   // tagged required (or notEmpty): the service does not start without it
	Default  string // its envDefault, if any
	Field    string // Type.Field that reads it, for messages
}

// serviceEnv returns the environment variables the service in
// root/services/name reads, keyed by name: the `env` tags of the struct
// types declared in its config.go, with embedded and nested structs of
// its own package or of the pkg module followed (and envPrefix applied),
// as caarlos0/env does when config.Load fills them.
func serviceEnv(root, name string) (map[string]envVar, error) {
	dir := filepath.Join(root, "services", name)
	cfgFile := filepath.Join(dir, "config.go")
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, cfgFile, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	r := &tagReader{root: root, fset: fset, pkgs: map[string]map[string]*ast.StructType{}}
	own, err := r.structs(dir)
	if err != nil {
		return nil, err
	}
	vars := map[string]envVar{}
	found := false
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.TYPE {
			continue
		}
		for _, spec := range gen.Specs {
			ts := spec.(*ast.TypeSpec)
			st, ok := own[ts.Name.Name]
			if !ok {
				continue
			}
			before := len(vars)
			if err := r.collect(vars, st, ts.Name.Name, "", dir, importsOf(f)); err != nil {
				return nil, err
			}
			found = found || len(vars) > before
		}
	}
	if !found {
		return nil, fmt.Errorf("%s: no struct type with env tags", cfgFile)
	}
	return vars, nil
}

// tagReader parses packages on demand and remembers their struct types.
type tagReader struct {
	root string
	fset *token.FileSet
	pkgs map[string]map[string]*ast.StructType // by directory, then type name
	// imports of every file of a package, by directory (alias -> path).
	imports map[string]map[string]string
}

// structs returns the struct types declared in the non-test Go files of dir.
func (r *tagReader) structs(dir string) (map[string]*ast.StructType, error) {
	if s, ok := r.pkgs[dir]; ok {
		return s, nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	if r.imports == nil {
		r.imports = map[string]map[string]string{}
	}
	structs := map[string]*ast.StructType{}
	imports := map[string]string{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(r.fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for alias, p := range importsOf(f) {
			imports[alias] = p
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if st, ok := ts.Type.(*ast.StructType); ok {
					structs[ts.Name.Name] = st
				}
			}
			return true
		})
	}
	r.pkgs[dir], r.imports[dir] = structs, imports
	return structs, nil
}

// collect adds the env tags of st's fields to vars, following struct
// fields whose type is declared in this repository.
func (r *tagReader) collect(vars map[string]envVar, st *ast.StructType, typeName, prefix, dir string, imports map[string]string) error {
	for _, field := range st.Fields.List {
		tag := reflect.StructTag("")
		if field.Tag != nil {
			raw, err := strconv.Unquote(field.Tag.Value)
			if err != nil {
				return err
			}
			tag = reflect.StructTag(raw)
		}
		fieldName := typeName + "." + fieldLabel(field)
		if envTag, ok := tag.Lookup("env"); ok && envTag != "" && !strings.HasPrefix(envTag, ",") {
			opts := strings.Split(envTag, ",")
			v := envVar{Name: prefix + opts[0], Default: tag.Get("envDefault"), Field: fieldName}
			for _, o := range opts[1:] {
				if o == "required" || o == "notEmpty" {
					v.Required = true
				}
			}
			if prev, dup := vars[v.Name]; dup {
				return fmt.Errorf("%s read by both %s and %s", v.Name, prev.Field, v.Field)
			}
			vars[v.Name] = v
			continue
		}
		// A struct field without a variable of its own: caarlos0/env fills
		// its fields, with envPrefix prepended to their names.
		nestedDir, nestedType, ok := r.resolve(field.Type, dir, imports)
		if !ok {
			continue
		}
		declared, err := r.structs(nestedDir)
		if err != nil {
			return err
		}
		nested, ok := declared[nestedType]
		if !ok {
			continue // not a struct (or not in this repository)
		}
		if err := r.collect(vars, nested, nestedType, prefix+tag.Get("envPrefix"), nestedDir, r.imports[nestedDir]); err != nil {
			return err
		}
	}
	return nil
}

// resolve returns the directory and name of the type expr names, when
// that type is declared in dir's package or in the pkg module.
func (r *tagReader) resolve(expr ast.Expr, dir string, imports map[string]string) (string, string, bool) {
	if star, ok := expr.(*ast.StarExpr); ok {
		expr = star.X
	}
	switch t := expr.(type) {
	case *ast.Ident:
		return dir, t.Name, true
	case *ast.SelectorExpr:
		pkg, ok := t.X.(*ast.Ident)
		if !ok {
			return "", "", false
		}
		path, ok := imports[pkg.Name]
		if !ok || (path != pkgModule && !strings.HasPrefix(path, pkgModule+"/")) {
			return "", "", false
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(path, pkgModule), "/")
		return filepath.Join(r.root, "pkg", filepath.FromSlash(rel)), t.Sel.Name, true
	}
	return "", "", false
}

// importsOf maps each import's name in f (its alias, or the last element
// of its path) to the path.
func importsOf(f *ast.File) map[string]string {
	m := map[string]string{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		m[name] = path
	}
	return m
}

// fieldLabel names a field for messages: its name, or its type when it is
// embedded.
func fieldLabel(f *ast.Field) string {
	if len(f.Names) > 0 {
		return f.Names[0].Name
	}
	return types.ExprString(f.Type)
}

// serviceDirs returns the services of the repository: the folders under
// services/ with a config.go.
func serviceDirs(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "services"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, "services", e.Name(), "config.go")); err == nil {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
