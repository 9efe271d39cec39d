{{- define "ai-agent.labels" -}}
app: rancher-ai-agent
app.kubernetes.io/name: rancher-ai-agent
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{- define "ai-agent.encryptionSecret" -}}
{{ .Values.oauth.encryptionKey.existingSecret | default "rancher-ai-agent-oauth-key" }}
{{- end }}

{{- define "ai-agent.mcpLabels" -}}
app: rancher-mcp-server
app.kubernetes.io/name: rancher-mcp-server
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}
