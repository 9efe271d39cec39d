// Package uitools holds the "UI tools": widgets of the Rancher AI UI
// (suggestions, select-option, explore, show-yaml...) that a model may pick
// after its answer. Their definitions come from the UI's ConfigMap
// cattle-ai-agent-system/rancher-ai-ui (data.config), published by the UI;
// this package parses that document and offers the tools a prompt allows.
package uitools
