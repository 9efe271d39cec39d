package demo

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/modeltext"
)

// Script answers a model call of the demo the way a small, honest model
// would: it picks a tool from the user's words, then summarises the tool's
// result, streamed a few words per chunk. It is the scripted model's
// Fallback, so entries pushed through the control API still come first.
func Script(req llm.Request) llm.Entry {
	if len(req.Messages) == 0 {
		return llm.TextEntry("Hello!")
	}
	last := req.Messages[len(req.Messages)-1]
	if req.Purpose == "supervisor" {
		return route(req, last)
	}
	if last.Role == llm.RoleTool {
		return answer(modeltext.ToolResultData(last.Content))
	}
	prompt := strings.ToLower(firstLine(last.Content))
	if has(req.Tools, "addNote") {
		return notesCall(firstLine(last.Content), prompt)
	}
	if has(req.Tools, "scaleDeployment") && strings.Contains(prompt, "scale") {
		if m := scaleTo.FindStringSubmatch(prompt); m != nil {
			var n int
			fmt.Sscan(m[2], &n)
			return call("scaleDeployment", map[string]any{"name": m[1], "namespace": namespaceIn(prompt), "replicas": n})
		}
	}
	if has(req.Tools, "listKubernetesResources") {
		if kind := kindIn(prompt); kind != "" {
			return call("listKubernetesResources", map[string]any{"kind": kind, "namespace": namespaceIn(prompt)})
		}
		if pod := podIn(prompt); pod != "" && strings.Contains(prompt, "log") {
			return call("getPodLogs", map[string]any{"name": pod})
		}
	}
	if has(req.Tools, "add") {
		if nums := numbers.FindAllString(prompt, 2); len(nums) == 2 {
			var a, b float64
			fmt.Sscan(nums[0], &a)
			fmt.Sscan(nums[1], &b)
			return call("add", map[string]any{"a": a, "b": b})
		}
	}
	return llm.TextEntry(chunks("I am the demo agent, played by a scripted model. Try \"list the pods in default\", " +
		"\"show the logs of db-0\", \"scale web to 3\", \"add 4 and 5\", \"show my notes\" or \"remember to check db-0\".")...)
}

var (
	numbers = regexp.MustCompile(`-?\d+(\.\d+)?`)
	scaleTo = regexp.MustCompile(`scale (?:deployment )?([a-z0-9-]+) to (\d+)`)
)

func has(tools []llm.Tool, name string) bool {
	for _, t := range tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

func call(name string, args map[string]any) llm.Entry {
	b, _ := json.Marshal(args)
	return llm.Entry{ToolCalls: []llm.ScriptedCall{{Name: name, Args: b}}}
}

func kindIn(p string) string {
	for _, k := range []string{"pod", "deployment", "statefulset"} {
		if strings.Contains(p, k) && !strings.Contains(p, "log") {
			return map[string]string{"pod": "Pod", "deployment": "Deployment", "statefulset": "StatefulSet"}[k]
		}
	}
	return ""
}

func namespaceIn(p string) string {
	for _, ns := range []string{"kube-system", "default"} {
		if strings.Contains(p, ns) {
			return ns
		}
	}
	return ""
}

func podIn(p string) string {
	for _, r := range inventory() {
		if r.Kind == "Pod" && strings.Contains(p, r.Name) {
			return r.Name
		}
	}
	if strings.Contains(p, "db") {
		return "db-0"
	}
	return ""
}

func aboutNotes(p string) bool {
	for _, w := range []string{"note", "remember", "who am i", "whoami", "signed in"} {
		if strings.Contains(p, w) {
			return true
		}
	}
	return false
}

// notesCall picks a notes tool: "remember <text>" keeps a note, "who am I"
// asks the server who the token belongs to, anything else lists the notes.
func notesCall(original, p string) llm.Entry {
	switch {
	case strings.HasPrefix(p, "remember "):
		return call("addNote", map[string]any{"text": strings.TrimSpace(original[len("remember "):])})
	case strings.Contains(p, "who am i") || strings.Contains(p, "whoami") || strings.Contains(p, "signed in"):
		return call("whoami", map[string]any{})
	default:
		return call("listNotes", map[string]any{})
	}
}

// route is the supervisor's part. Most prompts are handed to an agent the
// way rancher-ai-llm-mock scripts it (the answer is the agent's name); a
// question about logs is delegated with a tool call instead, so the page
// shows the sub-agent at work (<processing-subagent-start>), and the
// child's answer comes back as the tool result, which is passed on.
func route(req llm.Request, last llm.Message) llm.Entry {
	if last.Role == llm.RoleTool {
		return llm.TextEntry(reframe(modeltext.ToolResultData(last.Content))...)
	}
	original := firstLine(last.Content)
	prompt := strings.ToLower(original)
	switch {
	case has(req.Tools, "notes") && aboutNotes(prompt):
		return llm.TextEntry("notes")
	case has(req.Tools, "cluster") && strings.Contains(prompt, "log"):
		return call("cluster", map[string]any{"query": original})
	default:
		return llm.TextEntry("cluster")
	}
}

// answer is the model's turn after a tool result: a short <think> section
// and the Markdown summary, each tag its own frame as the UI requires
// (ui-protocol §2.2). Documentation links come from the MCP server's
// docLinks, as the agent's own frames.
func answer(result string) llm.Entry {
	text, _ := summary(result)
	lines := strings.Count(strings.TrimSpace(result), "\n") + 1
	out := []string{"<think>", fmt.Sprintf("The tool answered with %d line(s). ", lines),
		"I will sum them up and point at anything that is not healthy.", "</think>"}
	out = append(out, chunks(text)...)
	return llm.TextEntry(out...)
}

// listHeader is the first line of a listKubernetesResources result.
var listHeader = regexp.MustCompile(`^(\d+) (\w+) in cluster (\S+):$`)

// summary turns a tool result into a Markdown answer and the Kubernetes
// documentation page that goes with it ("" for none).
func summary(result string) (string, string) {
	lines := strings.Split(strings.TrimSpace(result), "\n")
	if m := listHeader.FindStringSubmatch(lines[0]); m != nil {
		return listAnswer(m[2], m[3], lines[1:]), docs[m[2]]
	}
	switch {
	case strings.HasPrefix(result, "Scaled deployment"):
		return result, docs["Deployment"]
	case strings.Contains(result, "notes") || strings.Contains(result, "note ") || strings.Contains(result, "signed in to the notes server"):
		return result, ""
	case strings.Contains(result, "permission denied"):
		return "The logs of `db-0` show **permission denied** on its data directory: check the volume's ownership.\n\n```\n" + result + "\n```", docs["logs"]
	}
	return "Here is what I found:\n\n" + result, ""
}

// docs are the Kubernetes pages the demo cites, by kind.
var docs = map[string]string{
	"Pod":         "https://kubernetes.io/docs/concepts/workloads/pods/",
	"Deployment":  "https://kubernetes.io/docs/concepts/workloads/controllers/deployment/",
	"StatefulSet": "https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/",
	"logs":        "https://kubernetes.io/docs/tasks/debug/debug-application/debug-running-pod/",
}

// listAnswer renders "namespace/name: status" lines: pods as a bulleted
// list, other kinds as a table; anything unhealthy in bold.
func listAnswer(kind, cluster string, lines []string) string {
	type row struct{ ns, name, status string }
	var rows []row
	var bad []string
	for _, l := range lines {
		ref, status, _ := strings.Cut(l, ": ")
		ns, name, _ := strings.Cut(ref, "/")
		if status == "CrashLoopBackOff" || strings.HasPrefix(status, "0/") {
			bad = append(bad, name)
			status = "**" + status + "**"
		}
		rows = append(rows, row{ns, name, status})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Here are the %d %s resources of cluster `%s`:\n\n", len(rows), kind, cluster)
	if kind == "Pod" {
		for _, r := range rows {
			fmt.Fprintf(&b, "- `%s` in `%s`: %s\n", r.name, r.ns, r.status)
		}
	} else {
		b.WriteString("| Name | Namespace | Ready |\n|---|---|---|\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", r.name, r.ns, r.status)
		}
	}
	for _, n := range bad {
		if kind == "Pod" {
			fmt.Fprintf(&b, "\n`%s` is in CrashLoopBackOff; ask me for its logs.\n", n)
		} else {
			fmt.Fprintf(&b, "\n`%s` has no ready replica.\n", n)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// reframe splits an answer that came back whole (a delegated agent's
// final text) into stream frames again: <think>, </think> and each
// <mcp-doclink>…</mcp-doclink> on their own, the text a few words a chunk.
func reframe(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '<')
		tag := ""
		switch {
		case i < 0:
			i = len(s)
		case strings.HasPrefix(s[i:], "<think>"):
			tag = "<think>"
		case strings.HasPrefix(s[i:], "</think>"):
			tag = "</think>"
		case strings.HasPrefix(s[i:], "<mcp-doclink>") && strings.Contains(s[i:], "</mcp-doclink>"):
			tag = s[i : i+strings.Index(s[i:], "</mcp-doclink>")+len("</mcp-doclink>")]
		default:
			i++ // a '<' of the text
			if j := strings.IndexByte(s[i:], '<'); j >= 0 {
				i += j
			} else {
				i = len(s)
			}
			out = append(out, chunks(s[:i])...)
			s = s[i:]
			continue
		}
		out = append(out, chunks(s[:i])...)
		if tag != "" {
			out = append(out, tag)
		}
		s = s[i+len(tag):]
	}
	return out
}

// chunks splits text into stream deltas of a few words, keeping every byte.
func chunks(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	words := strings.SplitAfter(s, " ")
	for i := 0; i < len(words); i += 3 {
		out = append(out, strings.Join(words[i:min(i+3, len(words))], ""))
	}
	return out
}

func firstLine(s string) string {
	if i := strings.Index(s, "\n\n  Use the following parameters"); i >= 0 {
		return s[:i]
	}
	return s
}
