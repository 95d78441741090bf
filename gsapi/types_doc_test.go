package gsapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTypeDocsListEveryField: the message types a gsapi user handles are
// declared in internal/wire and named here by aliases, which go doc prints
// without fields. So each alias of a struct lists the struct's fields in its
// doc comment, one indented line each: name, type, meaning. This test reads
// both sources and requires every exported field, in order, with its type
// as declared, and no line for a field that does not exist; and every type
// those lines name must be one a user can write (declared in gsapi, or
// predeclared).
func TestTypeDocsListEveryField(t *testing.T) {
	fset := token.NewFileSet()
	structs := map[string][][2]string{} // wire struct name → exported (field, type)
	wireFiles, err := filepath.Glob("../internal/wire/*.go")
	require.NoError(t, err)
	for _, name := range wireFiles {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, sp := range g.Specs {
				ts := sp.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				var fields [][2]string
				for _, fl := range st.Fields.List {
					for _, n := range fl.Names {
						if n.IsExported() {
							fields = append(fields, [2]string{n.Name, exprString(fl.Type)})
						}
					}
				}
				structs[ts.Name.Name] = fields
			}
		}
	}
	require.Contains(t, structs, "Notification", "the scan must find internal/wire's structs")

	declared := map[string]bool{}
	gsapiFiles, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var typesFile *ast.File
	for _, name := range gsapiFiles {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		require.NoError(t, err)
		for n, obj := range f.Scope.Objects {
			if obj.Kind == ast.Typ {
				declared[n] = true
			}
		}
		if name == "types.go" {
			typesFile = f
		}
	}
	require.NotNil(t, typesFile)

	documented := 0
	for _, d := range typesFile.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.TYPE {
			continue
		}
		for _, sp := range g.Specs {
			ts := sp.(*ast.TypeSpec)
			sel, ok := ts.Type.(*ast.SelectorExpr)
			if !ts.Assign.IsValid() || !ok {
				continue
			}
			want, isStruct := structs[sel.Sel.Name]
			if !isStruct {
				continue
			}
			doc := ts.Doc
			if doc == nil {
				doc = g.Doc
			}
			require.NotNil(t, doc, "alias %s must have a doc comment", ts.Name.Name)
			var got [][2]string
			for _, line := range strings.Split(doc.Text(), "\n") {
				if !strings.HasPrefix(line, "\t") {
					continue
				}
				f := strings.Fields(line)
				require.GreaterOrEqual(t, len(f), 3, "%s: field line %q must give a name, a type and a meaning", ts.Name.Name, line)
				got = append(got, [2]string{f[0], f[1]})
				assert.True(t, typeUsable(f[1], declared), "%s.%s: its type %s must be declared in gsapi (or predeclared) for users to write it", ts.Name.Name, f[0], f[1])
			}
			assert.Equal(t, want, got, "the doc comment of %s must list the fields of wire.%s, in order, with their types", ts.Name.Name, sel.Sel.Name)
			documented++
		}
	}
	assert.GreaterOrEqual(t, documented, 9, "Notification, Proposal, Provider, Attributes, Adapter, Responsiveness, LeaveInfo, ExpelInfo and Request must be documented")
}

// exprString prints a field type as declared: int32, []Provider, *Request.
func exprString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.StarExpr:
		return "*" + exprString(x.X)
	case *ast.ArrayType:
		return "[]" + exprString(x.Elt)
	case *ast.SelectorExpr:
		return exprString(x.X) + "." + x.Sel.Name
	}
	return "?"
}

// typeUsable reports whether a documented type names only types a gsapi
// user can write.
func typeUsable(typ string, declared map[string]bool) bool {
	name := strings.TrimLeft(typ, "[]*")
	if token.IsKeyword(name) || name == "" {
		return false
	}
	switch name {
	case "bool", "byte", "string", "int", "int32", "int64", "uint32", "uint64":
		return true
	}
	return declared[name]
}
