package v1alpha1_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/rancher/ai-agent/api/v1alpha1"
)

// TestToolNamesReadsTheOlderShape: the Python agent's older CRD stored
// humanValidationTools as {name, type} objects; they read as their names.
func TestToolNamesReadsTheOlderShape(t *testing.T) {
	for in, want := range map[string]string{
		`{"displayName":"R","humanValidationTools":["a","b"]}`:                                                   "[a b]",
		`{"displayName":"R","humanValidationTools":[{"name":"a","type":"CREATE"},{"name":"b","type":"UPDATE"}]}`: "[a b]",
		`{"displayName":"R","humanValidationTools":["a",{"name":"b"}]}`:                                          "[a b]",
		`{"displayName":"R","humanValidationTools":null}`:                                                        "[]",
	} {
		var s v1alpha1.AIAgentConfigSpec
		if err := json.Unmarshal([]byte(in), &s); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := fmt.Sprint(s.HumanValidationTools); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{`{"humanValidationTools":[1]}`, `{"humanValidationTools":"a"}`} {
		var s v1alpha1.AIAgentConfigSpec
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s decoded to %v", bad, s.HumanValidationTools)
		}
	}
	// Written back, the list is plain names.
	b, _ := json.Marshal(v1alpha1.AIAgentConfigSpec{DisplayName: "R", HumanValidationTools: v1alpha1.ToolNames{"a"}})
	if want := `{"displayName":"R","humanValidationTools":["a"]}`; string(b) != want {
		t.Errorf("marshal %s, want %s", b, want)
	}
}
