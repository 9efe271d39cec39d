package oauth

import (
	"errors"
	"strings"
	"testing"
)

func TestConfigGrantTypes(t *testing.T) {
	for _, tt := range []struct {
		data map[string]string
		ok   bool
	}{
		{map[string]string{"grantType": "client-credentials", "clientID": "c", "clientSecret": "s"}, true},
		{map[string]string{"grantType": "client-credentials", "clientID": "c"}, false},
		{map[string]string{"grantType": "client-credentials", "clientID": "c", "privateKey": "not a key"}, false},
		{map[string]string{"grantType": "workload-identity", "clientID": "c"}, true},
		{map[string]string{"grantType": "workload-identity"}, false},
		{map[string]string{"grantType": "enterprise", "clientID": "c", "idpIssuer": "https://idp"}, false},
		{map[string]string{"grantType": "enterprise", "clientID": "c", "idpIssuer": "https://idp", "idpClientID": "i"}, true},
		{map[string]string{"grantType": "password"}, false},
	} {
		data := map[string][]byte{}
		for k, v := range tt.data {
			data[k] = []byte(v)
		}
		c, err := ConfigFromSecret(data)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrBadSecret)) {
			t.Errorf("%v: %v", tt.data, err)
		}
		if tt.ok && c.GrantType == GrantWorkloadIdentity && c.TokenPath != defaultTokenPath {
			t.Errorf("token path %q", c.TokenPath)
		}
	}
}

func TestConfigTokenBinding(t *testing.T) {
	c, err := ConfigFromSecret(map[string][]byte{"tokenBinding": []byte("DPoP")})
	if err != nil || c.TokenBinding != "dpop" {
		t.Fatalf("%q %v", c.TokenBinding, err)
	}
	_, err = ConfigFromSecret(map[string][]byte{"tokenBinding": []byte("mtls")})
	if !errors.Is(err, ErrBadSecret) || !strings.Contains(err.Error(), `"auto", "dpop", "bearer"`) {
		t.Fatalf("%v", err)
	}
}
