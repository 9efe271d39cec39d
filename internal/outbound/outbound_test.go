package outbound

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestOutboundBlocksLinkLocalAndMetadata(t *testing.T) {
	hc := NewClient(Options{Timeout: 2 * time.Second})
	for _, u := range []string{
		"http://169.254.169.254/latest/meta-data/",
		"http://[fe80::1]:80/",
		"http://100.100.100.200/",
		"http://[fd00:ec2::254]/",
		"http://[::ffff:169.254.169.254]/", // IPv4-mapped form
	} {
		_, err := hc.Get(u)
		if !errors.Is(err, ErrBlockedAddress) {
			t.Errorf("GET %s: err = %v, want ErrBlockedAddress", u, err)
		}
	}
}

func TestBlockedAddr(t *testing.T) {
	for ip, want := range map[string]bool{
		"169.254.169.254": true, "169.254.0.1": true, "fe80::abcd": true,
		"100.100.100.200": true, "fd00:ec2::254": true, "::ffff:169.254.1.1": true,
		"127.0.0.1": false, "::1": false, "100.100.100.201": false, "10.0.0.1": false,
		"fd00:ec2::253": false, "8.8.8.8": false,
	} {
		if got := blockedAddr(netip.MustParseAddr(ip)); got != want {
			t.Errorf("blockedAddr(%s) = %v, want %v", ip, got, want)
		}
	}
}

func TestOutboundAllowsLoopbackAndSameOriginRedirect(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "/end", http.StatusFound)
			return
		}
		io.WriteString(w, "ok:"+r.URL.Path)
	}))
	defer srv.Close()
	hc := NewClient(Options{})
	resp, err := hc.Get(srv.URL + "/start")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "ok:/end" {
		t.Fatalf("body = %q, want ok:/end", b)
	}
}

func TestOutboundRefusesCrossOriginRedirect(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("cross-origin target must not be contacted")
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/x", http.StatusFound)
	}))
	defer srv.Close()
	_, err := NewClient(Options{}).Get(srv.URL)
	if !errors.Is(err, ErrCrossOriginRedirect) {
		t.Fatalf("err = %v, want ErrCrossOriginRedirect", err)
	}
}

func TestOutboundBodyLimit(t *testing.T) {
	big := strings.Repeat("a", 2048)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.(http.Flusher).Flush() // no Content-Length: streamed
		}
		io.WriteString(w, big)
	}))
	defer srv.Close()
	hc := NewClient(Options{MaxBody: 1024})

	// Announced Content-Length over the limit: refused up front.
	if _, err := hc.Get(srv.URL + "/cl"); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("content-length case: err = %v, want ErrBodyTooLarge", err)
	}
	// Streamed body: error while reading.
	resp, err := hc.Get(srv.URL + "/chunked")
	if err != nil {
		t.Fatalf("GET chunked: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("chunked read: err = %v, want ErrBodyTooLarge", err)
	}
	if len(b) > 1024 {
		t.Fatalf("read %d bytes, more than the limit", len(b))
	}
	// Exactly at the limit is fine.
	hc = NewClient(Options{MaxBody: 2048})
	resp, err = hc.Get(srv.URL + "/chunked")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, err := io.ReadAll(resp.Body); err != nil || len(b) != 2048 {
		t.Fatalf("at limit: %d bytes, err %v", len(b), err)
	}
}

func TestOutboundTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	hc := NewClient(Options{Timeout: 150 * time.Millisecond})
	start := time.Now()
	_, err := hc.Get(srv.URL)
	if err == nil {
		t.Fatal("expected timeout error")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	if hc.Timeout != 150*time.Millisecond {
		t.Fatalf("client timeout = %v", hc.Timeout)
	}
	if NewClient(Options{}).Timeout != DefaultTimeout {
		t.Fatal("default timeout not applied")
	}
}

func TestOutboundTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "tls")
	}))
	defer srv.Close()
	if _, err := NewClient(Options{}).Get(srv.URL); err == nil {
		t.Fatal("self-signed server accepted without RootCAs")
	}
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	resp, err := NewClient(Options{RootCAs: pool}).Get(srv.URL)
	if err != nil {
		t.Fatalf("with RootCAs: %v", err)
	}
	resp.Body.Close()
	resp, err = NewClient(Options{InsecureSkipTLS: true}).Get(srv.URL)
	if err != nil {
		t.Fatalf("with InsecureSkipTLS: %v", err)
	}
	resp.Body.Close()
}

func TestReadBodyHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadBody(ctx, strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}
