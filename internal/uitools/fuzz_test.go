package uitools

import (
	"encoding/json"
	"testing"
)

// FuzzParse: a UI tools document is refused or every tool has a name, and
// a selection built from it offers the model valid JSON schemas only.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"tools":[{"name":"open","description":"Open a page","prompt":"p","category":"nav","schema":{"type":"object","properties":{"url":{"type":"string"}}}}]}`,
		`{"tools":[{"name":"x","enabled":false},{"name":"y","schema":{"properties":{}}}]}`,
		`{"tools":[{"name":""}]}`, `{"tools":null}`, `[]`, `{`, `{"tools":[{"name":"z","schema":"not an object"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		for _, tool := range d.Tools {
			if tool.Name == "" {
				t.Fatal("tool without a name accepted")
			}
		}
		var r Registry
		r.Set(d)
		sel, ok := r.Select(nil)
		if !ok {
			return
		}
		for _, tool := range sel.Tools {
			if !json.Valid(tool.InputSchema) {
				t.Fatalf("tool %q offered with schema %s", tool.Name, tool.InputSchema)
			}
		}
	})
}
