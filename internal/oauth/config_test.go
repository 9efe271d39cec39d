package oauth

import (
	"errors"
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
