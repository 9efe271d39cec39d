package provider

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// sigV4Check recomputes the AWS Signature Version 4 of r from the secret
// key, as the AWS documentation ("Create a signed AWS API request")
// describes: canonical request, string to sign, derived signing key. It is
// written here, not borrowed from the SDK, so that the test does not
// agree with the code it checks. It returns the access key id that signed.
func sigV4Check(r *http.Request, body []byte, secrets map[string]string) (string, error) {
	auth := r.Header.Get("Authorization")
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return "", fmt.Errorf("not SigV4: %q", auth)
	}
	fields := map[string]string{}
	for _, f := range strings.Split(strings.TrimPrefix(auth, algo), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/") // id/date/region/service/aws4_request
	if len(scope) != 5 || scope[3] != "bedrock" || scope[4] != "aws4_request" {
		return "", fmt.Errorf("credential scope %q", fields["Credential"])
	}
	secret, ok := secrets[scope[0]]
	if !ok {
		return "", fmt.Errorf("unknown access key %q", scope[0])
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	var canonHeaders strings.Builder
	for _, h := range signed {
		v := strings.Join(r.Header.Values(http.CanonicalHeaderKey(h)), ",")
		switch h {
		case "host":
			v = r.Host
		case "content-length":
			v = strconv.FormatInt(r.ContentLength, 10)
		}
		canonHeaders.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	if !sort.StringsAreSorted(signed) {
		return "", errors.New("signed headers not sorted")
	}
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var canonQuery []string
	for _, k := range keys {
		canonQuery = append(canonQuery, k+"="+q.Get(k))
	}
	canonical := strings.Join([]string{r.Method, r.URL.EscapedPath(), strings.Join(canonQuery, "&"),
		canonHeaders.String(), fields["SignedHeaders"], payload}, "\n")
	ch := sha256.Sum256([]byte(canonical))
	toSign := strings.Join([]string{"AWS4-HMAC-SHA256", r.Header.Get("X-Amz-Date"),
		strings.Join(scope[1:], "/"), hex.EncodeToString(ch[:])}, "\n")
	mac := func(key []byte, s string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	k := mac(mac(mac(mac([]byte("AWS4"+secret), scope[1]), scope[2]), scope[3]), "aws4_request")
	if want := hex.EncodeToString(mac(k, toSign)); !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return "", errors.New("signature does not match")
	}
	return scope[0], nil
}

// sigV4Bedrock is a Bedrock runtime that answers only requests signed with
// one of secrets; it records who signed and the session token.
type sigV4Bedrock struct {
	*httptest.Server
	mu      sync.Mutex
	signers []string
	tokens  []string
}

func startSigV4Bedrock(t *testing.T, secrets map[string]string) *sigV4Bedrock {
	b := &sigV4Bedrock{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, err := sigV4Check(r, body, secrets)
		if err != nil {
			w.Header().Set("X-Amzn-Errortype", "InvalidSignatureException")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `{"message":%q}`, err.Error())
			return
		}
		b.mu.Lock()
		b.signers = append(b.signers, id)
		b.tokens = append(b.tokens, r.Header.Get("X-Amz-Security-Token"))
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		_, _ = w.Write(event(t, "event", "contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"signed"}}`))
		_, _ = w.Write(event(t, "event", "messageStop", `{"stopReason":"end_turn"}`))
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *sigV4Bedrock) seen() ([]string, []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.signers...), append([]string(nil), b.tokens...)
}

// bedrockFromEnv builds the model as serve does, from env only.
func bedrockFromEnv(t *testing.T, env map[string]string) (string, error) {
	t.Helper()
	m, _, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		return "", err
	}
	r := drain(testCtx(t), m, conversation())
	return joined(r), r.err
}

// rotating hands out the next key pair at each retrieval (temporary
// credentials that expire at once).
type rotating struct {
	mu   sync.Mutex
	ids  []string
	next int
}

func (p *rotating) Retrieve(context.Context) (aws.Credentials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := p.ids[p.next%len(p.ids)]
	p.next++
	return aws.Credentials{AccessKeyID: id, SecretAccessKey: "secret-of-" + id, CanExpire: true, Expires: time.Now().Add(-time.Second)}, nil
}

func TestBedrockSigV4(t *testing.T) {
	// Nothing may leave loopback: no EC2 metadata service, no home files.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	srv := startSigV4Bedrock(t, map[string]string{"AKIDENV": "env-secret", "AKIDFILE": "file-secret", "AKIDROT1": "secret-of-AKIDROT1", "AKIDROT2": "secret-of-AKIDROT2"})
	base := map[string]string{"ACTIVE_LLM": "bedrock", "BEDROCK_MODEL": "m", "AWS_REGION": "eu-west-1", "BEDROCK_URL": srv.URL}

	t.Run("access keys with a session token", func(t *testing.T) {
		got, err := bedrockFromEnv(t, envWith(base, "AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY", "env-secret", "AWS_SESSION_TOKEN", "session-1"))
		if err != nil || got != "signed" {
			t.Fatalf("answer %q, %v", got, err)
		}
		if ids, toks := srv.seen(); ids[len(ids)-1] != "AKIDENV" || toks[len(toks)-1] != "session-1" {
			t.Fatalf("signed by %q with session token %q", ids, toks)
		}
	})
	t.Run("a wrong secret is refused by the server", func(t *testing.T) {
		_, err := bedrockFromEnv(t, envWith(base, "AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY", "not-the-secret"))
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
			t.Fatalf("err %v, want the server's 403", err)
		}
		if strings.Contains(err.Error(), "not-the-secret") {
			t.Fatalf("the error carries the secret: %v", err)
		}
	})
	t.Run("shared credentials file with a profile (the default chain)", func(t *testing.T) {
		dir := t.TempDir()
		file := filepath.Join(dir, "credentials")
		if err := os.WriteFile(file, []byte("[default]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = other\n\n[rancher]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", file)
		t.Setenv("AWS_PROFILE", "rancher")
		got, err := bedrockFromEnv(t, base)
		if err != nil || got != "signed" {
			t.Fatalf("answer %q, %v", got, err)
		}
		if ids, _ := srv.seen(); ids[len(ids)-1] != "AKIDFILE" {
			t.Fatalf("signed by %q, want the profile's key", ids)
		}
	})
	t.Run("credentials that rotate are asked for at each request", func(t *testing.T) {
		c, err := ConfigFromEnv(func(k string) string { return base[k] })
		if err != nil {
			t.Fatal(err)
		}
		c.AWSCredentials = &rotating{ids: []string{"AKIDROT1", "AKIDROT2"}}
		m, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		before, _ := srv.seen()
		for range 2 {
			if r := drain(testCtx(t), m, conversation()); r.err != nil {
				t.Fatal(r.err)
			}
		}
		ids, _ := srv.seen()
		if got := ids[len(before):]; len(got) != 2 || got[0] == got[1] {
			t.Fatalf("two requests signed by %q, want the rotated keys", got)
		}
	})
	t.Run("the API key wins over access keys", func(t *testing.T) {
		var auth string
		bearerSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth = r.Header.Get("Authorization")
			w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
			_, _ = w.Write(event(t, "event", "messageStop", `{"stopReason":"end_turn"}`))
		}))
		defer bearerSrv.Close()
		c, err := ConfigFromEnv(func(k string) string {
			return envWith(base, "AWS_BEARER_TOKEN_BEDROCK", "br-key", "AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY", "env-secret", "BEDROCK_URL", bearerSrv.URL)[k]
		})
		if err != nil || c.APIKey != "br-key" {
			t.Fatalf("config %v, %v", c, err)
		}
		m, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		_ = drain(testCtx(t), m, conversation())
		if auth != "Bearer br-key" {
			t.Fatalf("Authorization %q, want the API key although access keys are set", auth)
		}
	})
	t.Run("no credentials at all", func(t *testing.T) {
		_, err := bedrockFromEnv(t, base)
		var ce *ConfigError
		if !errors.As(err, &ce) || !errors.Is(err, ErrMissingSetting) || !strings.Contains(err.Error(), "AWS_BEARER_TOKEN_BEDROCK") || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
			t.Fatalf("err %v, want a sentence naming what to set", err)
		}
	})
	t.Run("one key of a pair", func(t *testing.T) {
		_, err := bedrockFromEnv(t, envWith(base, "AWS_ACCESS_KEY_ID", "AKIDENV"))
		if !errors.Is(err, ErrMissingSetting) || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
			t.Fatalf("err %v", err)
		}
	})
}
