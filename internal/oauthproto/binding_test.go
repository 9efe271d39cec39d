package oauthproto

import "testing"

func TestParsePRMDPoPFields(t *testing.T) {
	m, err := ParsePRM([]byte(`{"resource":"https://mcp.example/mcp","dpop_signing_alg_values_supported":["ES256"],"dpop_bound_access_tokens_required":true}`))
	if err != nil || len(m.DPoPSigningAlgValuesSupported) != 1 || !m.DPoPBoundAccessTokensRequired {
		t.Fatalf("%+v %v", m, err)
	}
}

func TestUseDPoP(t *testing.T) {
	asDPoP := ASMetadata{DPoPSigningAlgValuesSupported: []string{"ES256"}}
	for _, tt := range []struct {
		name string
		d    Discovery
		b    TokenBinding
		want bool
	}{
		{"AS advertises, resource silent", Discovery{AuthServer: asDPoP}, BindingAuto, false},
		{"resource PRM algs", Discovery{AuthServer: asDPoP, ResourceDPoPAlgs: []string{"ES256"}}, BindingAuto, true},
		{"resource DPoP challenge", Discovery{AuthServer: asDPoP, ChallengeDPoP: true}, BindingAuto, true},
		{"resource accepts, AS does not", Discovery{ChallengeDPoP: true}, BindingAuto, false},
		{"resource requires, AS silent", Discovery{ResourceDPoPRequired: true}, BindingAuto, true},
		{"forced bearer", Discovery{AuthServer: asDPoP, ResourceDPoPRequired: true}, BindingBearer, false},
		{"forced dpop", Discovery{}, BindingDPoP, true},
	} {
		if got := tt.d.UseDPoP(tt.b); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseTokenBinding(t *testing.T) {
	for in, want := range map[string]TokenBinding{"": BindingAuto, "auto": BindingAuto, "dpop": BindingDPoP, "bearer": BindingBearer} {
		if got, err := ParseTokenBinding(in); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	if _, err := ParseTokenBinding("mtls"); err == nil {
		t.Error("mtls accepted")
	}
}

func TestChallengeSchemes(t *testing.T) {
	cs := ParseChallenges([]string{`Bearer resource_metadata="https://x/prm"`})
	if HasDPoPChallenge(cs) || !RefusesDPoP(cs) {
		t.Error("Bearer-only challenge")
	}
	cs = ParseChallenges([]string{`Bearer resource_metadata="https://x/prm", DPoP algs="ES256"`})
	if !HasDPoPChallenge(cs) || RefusesDPoP(cs) {
		t.Error("Bearer and DPoP challenge")
	}
}
