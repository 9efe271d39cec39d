package oauthproto

import (
	"reflect"
	"testing"
)

func TestParseChallenges(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []Challenge
	}{
		{
			name:   "bearer quoted params",
			values: []string{`Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="files:read files:write"`},
			want: []Challenge{{Scheme: "bearer", Params: map[string]string{
				"resource_metadata": "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
				"scope":             "files:read files:write",
			}}},
		},
		{
			name:   "RFC 9110 example: two challenges, escaped quotes, token value",
			values: []string{`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`},
			want: []Challenge{
				{Scheme: "newauth", Params: map[string]string{"realm": "apps", "type": "1", "title": `Login to "apps"`}},
				{Scheme: "basic", Params: map[string]string{"realm": "simple"}},
			},
		},
		{
			name:   "several header values, case-insensitive names",
			values: []string{`Basic realm="x"`, `BEARER Error="insufficient_scope", SCOPE="a b", Resource_Metadata=https://x/y`},
			want: []Challenge{
				{Scheme: "basic", Params: map[string]string{"realm": "x"}},
				{Scheme: "bearer", Params: map[string]string{"error": "insufficient_scope", "scope": "a b", "resource_metadata": "https://x/y"}},
			},
		},
		{
			name:   "token68 then bearer; comma inside quotes",
			values: []string{`Negotiate abc+/def==, Bearer realm="a,b" , error = "invalid_token"`},
			want: []Challenge{
				{Scheme: "negotiate", Params: map[string]string{}, Token68: "abc+/def=="},
				{Scheme: "bearer", Params: map[string]string{"realm": "a,b", "error": "invalid_token"}},
			},
		},
		{
			name:   "bare schemes and empty list elements",
			values: []string{`, Bearer ,, Basic`},
			want: []Challenge{
				{Scheme: "bearer", Params: map[string]string{}},
				{Scheme: "basic", Params: map[string]string{}},
			},
		},
		{
			name:   "duplicate param keeps first",
			values: []string{`Bearer scope="a", scope="b"`},
			want:   []Challenge{{Scheme: "bearer", Params: map[string]string{"scope": "a"}}},
		},
		{
			name:   "garbage is skipped, bearer survives",
			values: []string{`=junk, "quoted junk", Bearer realm="ok" trailing, Basic`},
			want: []Challenge{
				{Scheme: "bearer", Params: map[string]string{"realm": "ok"}},
				{Scheme: "basic", Params: map[string]string{}},
			},
		},
		{
			name:   "unterminated quote is lenient",
			values: []string{`Bearer scope="a b`},
			want:   []Challenge{{Scheme: "bearer", Params: map[string]string{"scope": "a b"}}},
		},
		{name: "empty", values: []string{"", "  "}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseChallenges(tt.values)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseChallenges(%q)\n got  %#v\n want %#v", tt.values, got, tt.want)
			}
		})
	}
}

func TestChallengeHelpers(t *testing.T) {
	cs := ParseChallenges([]string{
		`DPoP resource_metadata="https://dpop/x", algs="ES256"`,
		`Bearer error="insufficient_scope", scope="mcp:basic mcp:write", resource_metadata="https://rs/.well-known/oauth-protected-resource/mcp"`,
	})
	if got := ResourceMetadataURL(cs); got != "https://rs/.well-known/oauth-protected-resource/mcp" {
		t.Errorf("ResourceMetadataURL = %q, want the Bearer one", got)
	}
	if got := ChallengeScope(cs); got != "mcp:basic mcp:write" {
		t.Errorf("ChallengeScope = %q", got)
	}
	if got := ChallengeError(cs); got != "insufficient_scope" {
		t.Errorf("ChallengeError = %q", got)
	}
	// Without a Bearer challenge, resource_metadata of another scheme is used.
	cs = ParseChallenges([]string{`DPoP resource_metadata="https://dpop/x"`})
	if got := ResourceMetadataURL(cs); got != "https://dpop/x" {
		t.Errorf("ResourceMetadataURL (DPoP only) = %q", got)
	}
	if got := ChallengeScope(cs); got != "" {
		t.Errorf("ChallengeScope without bearer = %q, want empty", got)
	}
}

func TestFormatChallengesRoundTrip(t *testing.T) {
	in := []Challenge{
		{Scheme: "bearer", Params: map[string]string{"scope": `a "b" \c`, "error": ""}},
		{Scheme: "negotiate", Params: map[string]string{}, Token68: "YWJj=="},
	}
	got := ParseChallenges([]string{formatChallenges(in)})
	if !reflect.DeepEqual(got, in) {
		t.Fatalf("round trip: got %#v want %#v (header %q)", got, in, formatChallenges(in))
	}
}

func FuzzParseChallenges(f *testing.F) {
	for _, s := range []string{
		`Bearer resource_metadata="https://x/y", scope="a b"`,
		`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`,
		`Negotiate abc==, Bearer`,
		`Bearer error="insufficient_scope",scope="x"`,
		`,,=, "`, `Bearer a=b c=d`, `Basic realm="\`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cs := ParseChallenges([]string{s})
		for _, c := range cs {
			if c.Scheme == "" {
				t.Fatalf("empty scheme from %q", s)
			}
			if c.Token68 != "" && len(c.Params) != 0 {
				t.Fatalf("token68 and params both set from %q", s)
			}
		}
		// Round trip: what we parsed must survive formatting and re-parsing.
		again := ParseChallenges([]string{formatChallenges(cs)})
		if len(cs) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(cs, again) {
			t.Fatalf("round trip of %q:\n first  %#v\n second %#v\n header %q", s, cs, again, formatChallenges(cs))
		}
	})
}
