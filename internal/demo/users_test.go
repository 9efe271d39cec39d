package demo

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestUserFromCookie(t *testing.T) {
	for _, c := range []struct {
		cookie, want string
		err          error
	}{
		{"", DefaultUser, nil},
		{"bob", "bob", nil},
		{"team.a_1-x", "team.a_1-x", nil},
		{"Bob", "", ErrBadUser},
		{"-bob", "", ErrBadUser},
		{strings.Repeat("a", 33), "", ErrBadUser},
		{"a%20b", "", ErrBadUser},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if c.cookie != "" {
			r.AddCookie(&http.Cookie{Name: UserCookie, Value: c.cookie})
		}
		got, err := User(r)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("cookie %q: %q, %v; want %q, %v", c.cookie, got, err, c.want, c.err)
		}
	}
}

func TestAgentsHandlerListsWhatThePickerShows(t *testing.T) {
	rec := httptest.NewRecorder()
	AgentsHandler(ClusterAgent("http://x/mcp"), NotesAgent("http://y/mcp")).ServeHTTP(rec, httptest.NewRequest("GET", "/demo/agents", nil))
	var got []map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0]["name"] != "cluster" || got[0]["displayName"] != "Demo cluster" || got[1]["authenticationType"] != "OAUTH2" ||
		got[1]["description"] != NotesAgent("").Spec.Description {
		t.Fatalf("agents %v", got)
	}
	if strings.Contains(rec.Body.String(), "http://") {
		t.Fatalf("the picker's list leaks MCP URLs: %s", rec.Body)
	}
}

// The authorization page offers the browser's demo user as the name to
// sign in as, and escapes it.
func TestAuthorizationPageOffersTheDemoUser(t *testing.T) {
	as := NewAuthServer("http://as.test", time.Minute)
	srv := httptest.NewServer(as.Handler())
	defer srv.Close()
	reg, err := http.Post(srv.URL+"/register", "application/json", strings.NewReader(`{"redirect_uris":["http://agent.test/cb"]}`))
	if err != nil {
		t.Fatal(err)
	}
	var client struct {
		ClientID string `json:"client_id"`
	}
	_ = json.NewDecoder(reg.Body).Decode(&client)
	reg.Body.Close()
	q := url.Values{"client_id": {client.ClientID}, "redirect_uri": {"http://agent.test/cb"}, "response_type": {"code"},
		"code_challenge": {"abc"}, "code_challenge_method": {"S256"}, "state": {"s"}}
	page := func(cookie string) string {
		req, _ := http.NewRequest("GET", srv.URL+"/authorize?"+q.Encode(), nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: UserCookie, Value: cookie})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if p := page("bob"); !strings.Contains(p, `name="user" value="bob"`) {
		t.Fatalf("page for bob: %s", p)
	}
	if p := page(""); !strings.Contains(p, `name="user" value="demo-user"`) {
		t.Fatalf("page without cookie: %s", p)
	}
	if p := page(`x"><script>`); !strings.Contains(p, `name="user" value="demo-user"`) || strings.Contains(p, "<script>") {
		t.Fatalf("page for a bad cookie: %s", p)
	}
}
