package load

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteReport writes rep as a Markdown table.
func WriteReport(w io.Writer, rep Report) {
	c := rep.Config
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	think := ""
	if c.Think > 0 {
		think = fmt.Sprintf(", %v between turns", c.Think)
	}
	fmt.Fprintf(w, "| what (%d chats × %d turns, model %v, MCP %v%s) | figure |\n|---|---|\n", c.Chats, c.Turns, c.ModelLatency, c.MCPLatency, think)
	if rep.Turns > 0 {
		ratio := 0.0
		if rep.DirectP50 > 0 {
			ratio = float64(rep.AgentP50) / float64(rep.DirectP50)
		}
		fmt.Fprintf(w, "| turn through the agent, p50 / p99 | %s / %s |\n", ms(rep.AgentP50), ms(rep.AgentP99))
		fmt.Fprintf(w, "| the same calls made directly, p50 / p99 | %s / %s |\n", ms(rep.DirectP50), ms(rep.DirectP99))
		fmt.Fprintf(w, "| p50 through the agent ÷ direct | %.2f× |\n", ratio)
		fmt.Fprintf(w, "| agent CPU per turn (/proc, %d turns) | %.2f ms |\n", rep.Turns, float64(rep.CPUPerTurn)/float64(time.Millisecond))
		if d := rep.DirectCPUPerTurn; d > 0 {
			fmt.Fprintf(w, "| CPU per turn of the same calls made directly (%s MCP client, a process of its own) | %.2f ms |\n", cmp.Or(c.DirectMCPClient, MCPClientSDK), float64(d)/float64(time.Millisecond))
			fmt.Fprintf(w, "| agent CPU per turn above the direct calls' | %.2f ms |\n", float64(rep.CPUPerTurn-d)/float64(time.Millisecond))
		}
		if r := rep.RoundCPUPerTurn; len(r) > 1 {
			first, last := r[0], r[len(r)-1]
			fmt.Fprintf(w, "| agent CPU per turn, a chat's turns 1–%d / its last %d | %.2f ms / %.2f ms (%.2f×) |\n",
				RoundTurns, c.Turns-(len(r)-1)*RoundTurns, float64(first)/float64(time.Millisecond),
				float64(last)/float64(time.Millisecond), float64(last)/float64(first))
		}
		fmt.Fprintf(w, "| new connections per turn to the model / the MCP server | %.3f / %.3f |\n", rep.ModelConnsPerTurn, rep.MCPConnsPerTurn)
		fmt.Fprintf(w, "| connections accepted over the whole run, model / MCP | %d / %d |\n", rep.ModelConns, rep.MCPConns)
	}
	for i, n := range c.Idle {
		if i < len(rep.IdleRSS) {
			fmt.Fprintf(w, "| RSS per idle chat at %d chats | %.1f KiB |\n", n, float64(rep.IdleRSS[i])/1024)
		}
	}
	if len(rep.Metrics) > 0 {
		fmt.Fprintf(w, "\nThe server's metrics after the turns (histogram buckets left out):\n\n```\n%s\n```\n", strings.Join(rep.Metrics, "\n"))
	}
}
