package demo

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/rancher/ai-agent/internal/llm"
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
	if last.Role == llm.RoleTool {
		return llm.TextEntry(chunks(summary(last.Content))...)
	}
	prompt := strings.ToLower(firstLine(last.Content))
	if req.Purpose == "supervisor" {
		// Route like rancher-ai-llm-mock does: answer with the agent's name.
		if has(req.Tools, "notes") && aboutNotes(prompt) {
			return llm.TextEntry("notes")
		}
		return llm.TextEntry("cluster")
	}
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

func summary(result string) string {
	if strings.Contains(result, "CrashLoopBackOff") {
		return "Here is what I found:\n\n" + result + "\n\n`db-0` is in CrashLoopBackOff; ask me for its logs."
	}
	if strings.HasPrefix(result, "Scaled deployment") {
		return result
	}
	if strings.Contains(result, "notes") || strings.Contains(result, "note ") || strings.Contains(result, "signed in to the notes server") {
		return result
	}
	if strings.Contains(result, "permission denied") {
		return "The logs of `db-0` show `permission denied` on its data directory: check the volume's ownership.\n\n```\n" + result + "\n```"
	}
	return "Here is what I found:\n\n" + result
}

// chunks splits text into stream deltas of a few words, keeping every byte.
func chunks(s string) []string {
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
