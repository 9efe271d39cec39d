package oauthproto

import (
	"slices"
	"testing"
)

func TestSelectScopes(t *testing.T) {
	if got := SelectScopes("mcp:basic  mcp:write mcp:basic", []string{"x"}); !slices.Equal(got, []string{"mcp:basic", "mcp:write"}) {
		t.Errorf("challenge: %v", got)
	}
	if got := SelectScopes("", []string{"a", "b"}); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("prm: %v", got)
	}
	if got := SelectScopes(" ", nil); got != nil {
		t.Errorf("none: %v", got)
	}
}

func TestWithOfflineAccess(t *testing.T) {
	in := []string{"a"}
	if got := WithOfflineAccess(in, []string{"a", "offline_access"}); !slices.Equal(got, []string{"a", "offline_access"}) {
		t.Errorf("supported: %v", got)
	}
	if !slices.Equal(in, []string{"a"}) {
		t.Error("input mutated")
	}
	if got := WithOfflineAccess(in, []string{"a"}); !slices.Equal(got, []string{"a"}) {
		t.Errorf("unsupported: %v", got)
	}
	if got := WithOfflineAccess([]string{"offline_access"}, []string{"offline_access"}); len(got) != 1 {
		t.Errorf("duplicate: %v", got)
	}
}

func TestUnionScopes(t *testing.T) {
	if got := UnionScopes([]string{"mcp:basic"}, []string{"mcp:write", "mcp:basic"}, nil, []string{""}); !slices.Equal(got, []string{"mcp:basic", "mcp:write"}) {
		t.Errorf("union: %v", got)
	}
}
