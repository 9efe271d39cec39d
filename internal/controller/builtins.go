package controller

import (
	"github.com/rancher/ai-agent/api/v1alpha1"
)

// BuiltinOptions say where the built-in agents' MCP server is and which CA
// it presents; the chart sets them, the defaults match the chart's defaults.
type BuiltinOptions struct {
	// MCPURL of the rancher-mcp-server; default
	// rancher-mcp-server.cattle-ai-agent-system.svc (scheme added for RANCHER auth).
	MCPURL string
	// CASecret and CAKey name the Secret holding the MCP server's CA;
	// default cattle-mcp-ca / tls.crt (the chart's MCP certificate).
	CASecret, CAKey string
}

func (o BuiltinOptions) withDefaults() BuiltinOptions {
	if o.MCPURL == "" {
		o.MCPURL = "rancher-mcp-server.cattle-ai-agent-system.svc"
	}
	if o.CASecret == "" {
		o.CASecret = "cattle-mcp-ca"
	}
	if o.CAKey == "" {
		o.CAKey = "tls.crt"
	}
	return o
}

// Builtins returns the specs of the agents the ai-agent manages itself,
// keyed by metadata.name. Each call returns fresh values.
func Builtins(o BuiltinOptions) map[string]v1alpha1.AIAgentConfigSpec {
	o = o.withDefaults()
	on := true
	spec := func(display, toolSet, description, prompt string, validation ...string) v1alpha1.AIAgentConfigSpec {
		enabled := on
		return v1alpha1.AIAgentConfigSpec{
			DisplayName: display, Description: description, SystemPrompt: prompt,
			MCPURL: o.MCPURL, AuthenticationType: v1alpha1.AuthRancher,
			CABundleRef: &v1alpha1.CABundleRef{Name: o.CASecret, Key: o.CAKey},
			BuiltIn:     true, Enabled: &enabled, ToolSet: toolSet, HumanValidationTools: validation,
		}
	}
	return map[string]v1alpha1.AIAgentConfigSpec{
		"rancher": spec("Rancher", "rancher", rancherDescription, rancherPrompt,
			"createKubernetesResource", "patchKubernetesResource", "createProject"),
		"fleet": spec("Fleet", "fleet", fleetDescription, fleetPrompt),
		"provisioning": spec("Cluster Provisioning", "provisioning", provisioningDescription, provisioningPrompt,
			"createImportedCluster", "scaleClusterNodePool", "createK3kCluster"),
	}
}

// keepUserFields copies into want the fields users may change on a built-in
// agent (the UI edits exactly these), so that drift repair leaves them alone.
func keepUserFields(want *v1alpha1.AIAgentConfigSpec, have v1alpha1.AIAgentConfigSpec) {
	want.Enabled = have.Enabled
	want.LLMModel = have.LLMModel
	want.LLMModelEnabled = have.LLMModelEnabled
	// An administrator may point a built-in agent at an MCP server that
	// signs each user in with OAuth 2 (rancher-ai-mcp in OAuth mode, see
	// the README) instead of forwarding the user's Rancher session: the
	// authentication, its Secret, the URL and the CA are then theirs. Any
	// other change of authentication is drift.
	if have.AuthenticationType == v1alpha1.AuthOAuth2 {
		want.AuthenticationType = have.AuthenticationType
		want.AuthenticationSecret = have.AuthenticationSecret
		want.MCPURL = have.MCPURL
		want.CABundleRef = have.CABundleRef
	}
}

const sharedRules = `
Rules:
- Use the tools to look things up instead of guessing; say so when a tool fails and why.
- NEVER ask the user for confirmation before calling a tool that changes something: human
  validation of such calls is handled outside of you, and the user has already agreed when
  the call reaches the server.
- Keep answers short, use Markdown, and show Kubernetes objects as YAML blocks.
- Only act on clusters and namespaces the user names or that the context makes unambiguous.`

const rancherDescription = `Manages and explains Kubernetes resources in the clusters that Rancher manages: ` +
	`workloads, pods, services, ingresses, config maps, secrets metadata, nodes, events, logs, projects and namespaces. ` +
	`Supervisor model should route prompts to this agent when they mention: kubernetes, cluster resources, pod, ` +
	`deployment, statefulset, daemonset, job, service, ingress, namespace, project, node, events, logs, ` +
	`troubleshooting a workload, creating or patching a resource, or Rancher itself.`

const rancherPrompt = `You are the Rancher assistant, an expert Kubernetes and Rancher operator.
You help the user understand and change the resources of the clusters Rancher manages: you
inspect workloads and their logs and events, explain what is wrong and how to fix it, and
create or patch resources when asked.` + sharedRules

const fleetDescription = `Handles GitOps continuous delivery with Rancher Fleet: GitRepos, Bundles, ` +
	`BundleDeployments, cluster groups and their deployment status. Supervisor model should route prompts ` +
	`to this agent when they mention: fleet, gitops, gitrepo, bundle, continuous delivery, git repository ` +
	`deployments, cluster groups or why a bundle is not ready.`

const fleetPrompt = `You are the Fleet assistant, an expert in GitOps with Rancher Fleet.
You explain the state of GitRepos, Bundles and BundleDeployments across clusters, find why a
deployment is stuck or modified, and help write fleet.yaml and GitRepo definitions.` + sharedRules

const provisioningDescription = `Creates, imports and scales downstream clusters: RKE2 and K3s ` +
	`provisioning, node pools, imported clusters and K3k virtual clusters. Supervisor model should route prompts ` +
	`to this agent when they mention: provision a cluster, create cluster, import cluster, node pool, scale nodes, ` +
	`machine pools, k3k, virtual cluster, or cluster provisioning status.`

const provisioningPrompt = `You are the Cluster Provisioning assistant, an expert in creating and
operating Rancher downstream clusters. You report provisioning progress and failures, import
existing clusters, scale node pools and create K3k virtual clusters.` + sharedRules
