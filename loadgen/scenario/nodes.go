package scenario

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// Helpers for the decoder: reading scalars and positions out of
// goccy/go-yaml's AST, and the decoding view of the schema's struct tags.

// scalarText returns the text of a scalar node; numbers and booleans give
// their text as written. It reports false for mappings, lists and nil.
func (d *decoder) scalarText(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value == nil {
			return "", true
		}
		return v.Value.Value, true
	case *ast.NullNode:
		return "", true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		if tk := n.GetToken(); tk != nil {
			return tk.Value, true
		}
	}
	return "", false
}

// isNull reports whether n is an explicit null (~, null or nothing).
func isNull(n ast.Node) bool {
	_, ok := n.(*ast.NullNode)
	return ok
}

// describe names what a node is, for "got …" in messages.
func describe(n ast.Node) string {
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return "nothing"
	case *ast.StringNode:
		return fmt.Sprintf("text %q", truncate(v.Value))
	case *ast.LiteralNode:
		return "a block of text"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "the number " + truncate(n.GetToken().Value)
	case *ast.BoolNode:
		return "the boolean " + n.GetToken().Value
	case ast.MapNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	}
	return "a " + n.Type().String()
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// nodePos returns where a node starts in the file: for a block mapping its
// first key, otherwise its first token.
func nodePos(n ast.Node) pos {
	if n == nil {
		return pos{}
	}
	switch v := n.(type) {
	case *ast.MappingNode:
		if !v.IsFlowStyle && len(v.Values) > 0 && v.Values[0].Key != nil {
			return nodePos(v.Values[0].Key)
		}
	case *ast.MappingValueNode:
		if v.Key != nil {
			return nodePos(v.Key)
		}
	}
	tk := n.GetToken()
	if tk == nil {
		return pos{}
	}
	return tokenPos(tk)
}

func tokenPos(tk *token.Token) pos {
	if tk == nil || tk.Position == nil || tk.Position.Line <= 0 {
		return pos{}
	}
	return pos{tk.Position.Line, max(tk.Position.Column, 1)}
}

func tokenOffset(tk *token.Token) int {
	if tk == nil || tk.Position == nil {
		return 0
	}
	return tk.Position.Offset
}

// structInfo is the decoding view of a struct type.
type structInfo struct {
	fields []fieldInfo
	byName map[string]*fieldInfo
	names  []string // field names in declaration order, for messages
}

type fieldInfo struct {
	name     string
	index    []int
	required bool
	doc      string
}

var structInfos sync.Map // reflect.Type → *structInfo

func structInfoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{byName: map[string]*fieldInfo{}}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("yaml")
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			idx := append(slices.Clone(index), i)
			if strings.Contains(opts, "inline") {
				walk(f.Type, idx)
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			si.fields = append(si.fields, fieldInfo{
				name:     name,
				index:    idx,
				required: strings.Contains(opts, "required"),
				doc:      f.Tag.Get("doc"),
			})
		}
	}
	walk(t, nil)
	for i := range si.fields {
		si.byName[si.fields[i].name] = &si.fields[i]
		si.names = append(si.names, si.fields[i].name)
	}
	structInfos.Store(t, si)
	return si
}
