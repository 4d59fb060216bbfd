package scenario

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// The decoder turns goccy/go-yaml's AST into the scenario types. It exists
// instead of yaml.Unmarshal with yaml.Strict() because that decoder stops at
// the first problem and reports unknown fields in map order; a user fixing a
// file wants every problem at once, in file order, each with its position
// and the fields that would have been valid. Decoding is driven by the `yaml`
// struct tags (name plus the options required and inline) and a `doc` tag
// that says what a missing required field should hold.

// maxValues bounds how many YAML values one file may expand to, so that a
// few aliases cannot make a small file decode into an enormous one.
const maxValues = 100_000

// nodeDecoder is implemented by types with their own YAML forms (Rate,
// Duration, RateSpec, Bound). They are never handed a null node.
type nodeDecoder interface {
	decodeYAML(d *decoder, n ast.Node, path string)
}

type decoder struct {
	src       *source
	errs      Errors
	anchors   []*ast.AnchorNode // in file order
	budget    int
	exhausted bool
}

// decodeFile parses data and decodes its single document into s.
func decodeFile(src *source, data []byte, s *Scenario) Errors {
	d := &decoder{src: src, budget: maxValues}
	f, err := parseYAML(data)
	if err != nil {
		return Errors{d.syntaxError(err)}
	}
	var docs []*ast.DocumentNode
	for _, doc := range f.Docs {
		if doc != nil && doc.Body != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		return Errors{{File: src.file, Line: 1, Column: 1, Message: "the file is empty; a scenario needs at least phases (see `oms-sim scenarios` for examples)"}}
	}
	if len(docs) > 1 {
		p := nodePos(docs[1].Body)
		if tk := docs[1].Start; tk != nil {
			p = tokenPos(tk)
		}
		d.errs = append(d.errs, &Error{File: src.file, Line: p.line, Column: p.col,
			Message: fmt.Sprintf("a file holds one scenario, found %d documents separated by ---", len(docs))})
	}
	body := docs[0].Body
	d.collectAnchors(body)
	d.decode(body, reflect.ValueOf(s).Elem(), "")
	return d.errs
}

// parseYAML runs goccy/go-yaml's parser, turning a panic on hostile input
// into an ordinary error.
func parseYAML(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("cannot parse this YAML (parser error: %v)", r)
		}
	}()
	return parser.ParseBytes(data, 0)
}

// syntaxError converts a parser error into an *Error with its position.
func (d *decoder) syntaxError(err error) *Error {
	e := &Error{File: d.src.file, Line: 1, Column: 1, Message: err.Error()}
	var ye interface {
		GetToken() *token.Token
		GetMessage() string
	}
	if errors.As(err, &ye) {
		if tk := ye.GetToken(); tk != nil && tk.Position != nil && tk.Position.Line > 0 {
			e.Line, e.Column = tk.Position.Line, max(tk.Position.Column, 1)
		}
		e.Message = ye.GetMessage()
	}
	e.Message = "invalid YAML: " + e.Message
	return e
}

// fail records a problem at node n (or, if n has no position, where path's
// parent is) and marks path as failed so validation does not add to it.
func (d *decoder) fail(n ast.Node, path, format string, args ...any) {
	p := nodePos(n)
	if p.line == 0 {
		p = d.src.locate(parentPath(path))
	}
	d.failAt(p, path, format, args...)
}

func (d *decoder) failAt(p pos, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.src.file, Line: p.line, Column: p.col, Field: path, Message: fmt.Sprintf(format, args...)})
	d.src.bad[path] = true
}

// spend charges one value against the budget and reports whether it ran out.
func (d *decoder) spend(n ast.Node, path string) bool {
	d.budget--
	if d.budget >= 0 {
		return false
	}
	if !d.exhausted {
		d.exhausted = true
		d.fail(n, path, "the file expands to more than %d values (too many aliases?); stopped decoding", maxValues)
	}
	return true
}

// collectAnchors lists every anchor in file order, for alias lookup.
func (d *decoder) collectAnchors(body ast.Node) {
	for _, n := range ast.Filter(ast.AnchorType, body) {
		if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil && a.Name.GetToken() != nil {
			d.anchors = append(d.anchors, a)
		}
	}
	slices.SortStableFunc(d.anchors, func(a, b *ast.AnchorNode) int {
		return tokenOffset(a.GetToken()) - tokenOffset(b.GetToken())
	})
}

// anchorFor finds the node an alias refers to: the last anchor of that name
// defined before the alias.
func (d *decoder) anchorFor(alias *ast.AliasNode) ast.Node {
	if alias.Value == nil || alias.Value.GetToken() == nil {
		return nil
	}
	name := alias.Value.GetToken().Value
	at := tokenOffset(alias.GetToken())
	var found ast.Node
	for _, a := range d.anchors {
		if tokenOffset(a.GetToken()) >= at {
			break
		}
		if a.Name.GetToken().Value == name {
			found = a.Value
		}
	}
	return found
}

// resolve looks through tags, anchors and aliases to the node that holds
// the value. It returns nil for a missing node or an unknown alias (which it
// reports).
func (d *decoder) resolve(n ast.Node, path string) ast.Node {
	for hops := 0; n != nil; hops++ {
		if hops > 64 {
			d.fail(n, path, "aliases nest too deeply")
			return nil
		}
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		case *ast.MappingKeyNode:
			n = v.Value
		case *ast.AliasNode:
			target := d.anchorFor(v)
			if target == nil {
				name := ""
				if v.Value != nil && v.Value.GetToken() != nil {
					name = v.Value.GetToken().Value
				}
				d.fail(v, path, "alias *%s does not refer to an anchor &%s defined before it", name, name)
				return nil
			}
			n = target
		default:
			return n
		}
	}
	return nil
}

// decode stores node n into v, recording where path is in the file.
func (d *decoder) decode(n ast.Node, v reflect.Value, path string) {
	if n == nil || d.spend(n, path) {
		return
	}
	if p := nodePos(n); p.line > 0 {
		if _, seen := d.src.pos[path]; !seen {
			d.src.pos[path] = p
		}
	}
	n = d.resolve(n, path)
	if n == nil || isNull(n) {
		return // null leaves the field unset
	}
	if v.CanAddr() {
		if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
			nd.decodeYAML(d, n, path)
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		nv := reflect.New(v.Type().Elem())
		if nd, ok := nv.Interface().(nodeDecoder); ok {
			nd.decodeYAML(d, n, path)
		} else {
			d.decodeValue(n, nv.Elem(), path)
		}
		v.Set(nv)
	default:
		d.decodeValue(n, v, path)
	}
}

// decodeValue decodes a resolved, non-null node into a non-pointer value.
func (d *decoder) decodeValue(n ast.Node, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			d.fail(n, path, "must be a list (one item per line starting with \"- \", or [a, b]), got %s", describe(n))
			return
		}
		out := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
		for i, item := range seq.Values {
			d.decode(item, out.Index(i), indexPath(path, i))
		}
		v.Set(out)
	case reflect.String:
		s, ok := d.scalarText(n)
		if !ok {
			d.fail(n, path, "must be text, got %s", describe(n))
			return
		}
		v.SetString(s)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := n.(*ast.IntegerNode)
		if !ok {
			d.fail(n, path, "must be a whole number, got %s", describe(n))
			return
		}
		var x int64
		switch val := i.Value.(type) {
		case int64:
			x = val
		case uint64:
			if val > math.MaxInt64 {
				d.fail(n, path, "%s is too large", i.GetToken().Value)
				return
			}
			x = int64(val)
		}
		if v.OverflowInt(x) {
			d.fail(n, path, "%d is out of range", x)
			return
		}
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, ok := n.(*ast.IntegerNode)
		if !ok {
			d.fail(n, path, "must be a whole number ≥ 0, got %s", describe(n))
			return
		}
		var x uint64
		switch val := i.Value.(type) {
		case int64:
			if val < 0 {
				d.fail(n, path, "must be a whole number ≥ 0, got %d", val)
				return
			}
			x = uint64(val)
		case uint64:
			x = val
		}
		if v.OverflowUint(x) {
			d.fail(n, path, "%d is out of range", x)
			return
		}
		v.SetUint(x)
	case reflect.Float32, reflect.Float64:
		var x float64
		switch val := n.(type) {
		case *ast.FloatNode:
			x = val.Value
		case *ast.IntegerNode:
			switch iv := val.Value.(type) {
			case int64:
				x = float64(iv)
			case uint64:
				x = float64(iv)
			}
		case *ast.InfinityNode, *ast.NanNode:
			d.fail(n, path, "must be a finite number, got %s", n.GetToken().Value)
			return
		default:
			d.fail(n, path, "must be a number, got %s", describe(n))
			return
		}
		if math.IsInf(x, 0) || math.IsNaN(x) {
			d.fail(n, path, "must be a finite number")
			return
		}
		v.SetFloat(x)
	case reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.fail(n, path, "must be true or false, got %s", describe(n))
			return
		}
		v.SetBool(b.Value)
	default:
		d.fail(n, path, "cannot decode into %s", v.Type()) // a bug in the schema types
	}
}

// mapEntry is one key: value pair of a mapping, after merge keys.
type mapEntry struct {
	key   string
	at    pos // position of the key
	value ast.Node
}

// decodeStruct decodes a mapping into a struct, reporting every unknown
// field and every missing required one.
func (d *decoder) decodeStruct(n ast.Node, v reflect.Value, path string) {
	info := structInfoOf(v.Type())
	if _, ok := n.(ast.MapNode); !ok {
		d.fail(n, path, "must be a mapping with fields %s, got %s", strings.Join(info.names, ", "), describe(n))
		return
	}
	present := map[string]bool{}
	for _, e := range d.entries(n, path, 0) {
		f, ok := info.byName[e.key]
		fieldPath := joinPath(path, e.key)
		if !ok && path == "" && strings.HasPrefix(e.key, "x-") {
			continue // extension keys at the top level hold anchors for reuse
		}
		if !ok {
			d.src.unknown[path] = true
			d.failAt(e.at, fieldPath, "unknown field %q; valid fields are %s%s", e.key, strings.Join(info.names, ", "), suggest(e.key, info.names))
			continue
		}
		if r := d.peek(e.value); r != nil && !isNull(r) {
			present[e.key] = true
		}
		d.decode(e.value, v.FieldByIndex(f.index), fieldPath)
	}
	for _, f := range info.fields {
		if f.required && !present[f.name] {
			fieldPath := joinPath(path, f.name)
			if d.src.bad[fieldPath] {
				continue
			}
			d.fail(n, fieldPath, "required field is missing; expected %s", f.doc)
		}
	}
}

// peek resolves n without reporting anything, to see whether it is null.
func (d *decoder) peek(n ast.Node) ast.Node {
	for hops := 0; n != nil && hops <= 64; hops++ {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		case *ast.MappingKeyNode:
			n = v.Value
		case *ast.AliasNode:
			n = d.anchorFor(v)
		default:
			return n
		}
	}
	return nil
}

// entries lists a mapping's pairs in file order, followed by pairs merged
// in with `<<: *alias` that the mapping does not set itself.
func (d *decoder) entries(n ast.Node, path string, depth int) []mapEntry {
	m, ok := n.(ast.MapNode)
	if !ok {
		return nil
	}
	var own, merged []mapEntry
	seen := map[string]bool{}
	it := m.MapRange()
	for it.Next() {
		k, val := it.Key(), it.Value()
		if k == nil {
			continue
		}
		if k.IsMergeKey() {
			if depth > 8 {
				d.fail(k, path, "merge keys (<<) nest too deeply")
				continue
			}
			src := d.resolve(val, path)
			var sources []ast.Node
			switch s := src.(type) {
			case ast.MapNode:
				sources = append(sources, src)
			case *ast.SequenceNode:
				for _, item := range s.Values {
					if r := d.resolve(item, path); r != nil {
						sources = append(sources, r)
					}
				}
			}
			if len(sources) == 0 {
				d.fail(k, path, "<< must merge an alias of a mapping, like <<: *defaults")
				continue
			}
			for _, s := range sources {
				if _, ok := s.(ast.MapNode); !ok {
					d.fail(k, path, "<< must merge an alias of a mapping, like <<: *defaults")
					continue
				}
				merged = append(merged, d.entries(s, path, depth+1)...)
			}
			continue
		}
		key, ok := d.scalarText(d.resolve(k, path))
		if !ok {
			d.fail(k, path, "a key must be a plain field name, got %s", describe(d.peek(k)))
			continue
		}
		own = append(own, mapEntry{key: key, at: nodePos(k), value: val})
		seen[key] = true
	}
	for _, e := range merged {
		if !seen[e.key] {
			own = append(own, e)
			seen[e.key] = true
		}
	}
	return own
}

// reflectValueOf returns the settable value behind a pointer.
func reflectValueOf(p any) reflect.Value { return reflect.ValueOf(p).Elem() }
