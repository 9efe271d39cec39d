package main

import (
	"net"
	"strings"
	"testing"
)

// TestServeBusyPortNamesTheFlag: with the metrics port (or the main port)
// already taken, serve exits 1 with one sentence naming the flag to
// change, and the default metrics port is not Prometheus' 9090.
func TestServeBusyPortNamesTheFlag(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	env := map[string]string{"RANCHER_URL": "http://127.0.0.1:1", "ACTIVE_LLM": "scripted", "STORAGE": "memory"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "127.0.0.1:0", "--metrics-listen", busy.Addr().String()},
			"cannot listen on " + busy.Addr().String() + `: the port is already in use by another program (a Prometheus or a second agent?); give a free address with --metrics-listen ADDR, or --metrics-listen "" to serve no metrics`},
		{[]string{"--listen", busy.Addr().String(), "--metrics-listen", ""},
			"cannot listen on " + busy.Addr().String() + ": the port is already in use by another program (a Prometheus or a second agent?); give a free address with --listen ADDR"},
	} {
		code, _, errOut := runCLI(t, env, append([]string{"serve", "--config", "../../docs/examples/agents.yaml"}, tc.args...)...)
		if code != 1 || strings.TrimSpace(errOut) != "ai-agent serve: "+tc.want {
			t.Errorf("%v: exit %d, stderr:\n%s\nwant: ai-agent serve: %s", tc.args, code, errOut, tc.want)
		}
	}
	if defaultMetricsListen == ":9090" {
		t.Error("the default metrics port is Prometheus' own")
	}
	if _, _, help := runCLI(t, nil, "serve", "-h"); !strings.Contains(help, `(default ":9464")`) {
		t.Errorf("serve -h does not show the metrics default:\n%s", help)
	}
}
