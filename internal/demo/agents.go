package demo

import (
	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
)

// ClusterAgent is the demo agent for the made-up cluster (no sign-in).
func ClusterAgent(url string) agentconfig.Agent {
	return agentconfig.Agent{
		Name: "cluster", Revision: "demo-1",
		Spec: v1alpha1.AIAgentConfigSpec{
			DisplayName:  "Demo cluster",
			Description:  "Answers questions about the demo cluster's pods, deployments and logs.",
			SystemPrompt: "You are the Rancher AI assistant for a small demo cluster. Use the tools to answer.",
			MCPURL:       url, AuthenticationType: v1alpha1.AuthNone,
			// Changes to the cluster wait for the user's confirmation.
			HumanValidationTools: []string{"scaleDeployment"},
		},
	}
}

// NotesAgent is the demo agent whose MCP server needs each user to sign in
// (OAUTH2, with an empty Secret: the agent discovers the authorization
// server and registers itself).
func NotesAgent(url string) agentconfig.Agent {
	return agentconfig.Agent{
		Name: "notes", Revision: "demo-1",
		Spec: v1alpha1.AIAgentConfigSpec{
			DisplayName:  "Notes",
			Description:  "Keeps and lists the user's own notes; tells who the user is signed in as.",
			SystemPrompt: "You keep notes for the user with the notes tools.",
			MCPURL:       url, AuthenticationType: v1alpha1.AuthOAuth2, AuthenticationSecret: "notes-auth",
			// addNote is not annotated read-only, so an OAUTH2 agent would
			// ask before each note; the demo keeps notes without asking.
			AutoApproveTools: []string{"addNote"},
		},
		AuthSecret: map[string][]byte{},
	}
}
