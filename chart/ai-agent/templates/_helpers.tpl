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

{{- /*
ai-agent.namespace fails outside cattle-ai-agent-system: the binary reads
its agents there and Rancher's UI reaches the agent only through
/api/v1/namespaces/cattle-ai-agent-system/services/http:rancher-ai-agent:80/proxy.
*/ -}}
{{- define "ai-agent.namespace" -}}
{{- if ne .Release.Namespace "cattle-ai-agent-system" }}
{{- fail (printf "install this chart in namespace cattle-ai-agent-system (helm ... -n cattle-ai-agent-system --create-namespace), not %q: the agent reads its AIAgentConfigs there and Rancher's UI only looks for the rancher-ai-agent Service there" .Release.Namespace) }}
{{- end }}
{{- end }}

{{- /*
ai-agent.image renders repository:tag of an image value, prefixed with
global.cattle.systemDefaultRegistry when Rancher sets it (air-gapped
installs). Call with (dict "root" $ "image" .Values.image).
*/ -}}
{{- define "ai-agent.image" -}}
{{- $reg := dig "cattle" "systemDefaultRegistry" "" (.root.Values.global | default dict) -}}
{{- if $reg }}{{ trimSuffix "/" $reg }}/{{ end }}{{ .image.repository }}:{{ .image.tag | default .root.Chart.AppVersion }}
{{- end }}

{{- /*
ai-agent.proxyEnv renders HTTP_PROXY, HTTPS_PROXY and NO_PROXY (and their
lower-case forms, which some clients read) from proxy.*, only when a proxy
is set. NO_PROXY defaults to what in-cluster calls need: loopback, .svc,
.cluster.local and the cluster's pod and service CIDRs.
*/ -}}
{{- define "ai-agent.proxyEnv" -}}
{{- $p := .Values.proxy }}
{{- if or $p.httpProxy $p.httpsProxy }}
{{- $no := $p.noProxy }}
{{- if not $no }}
{{- $no = list "127.0.0.1" "localhost" ".svc" ".cluster.local" $p.clusterCIDR $p.serviceCIDR | compact | join "," }}
{{- end }}
{{- range $name, $value := dict "HTTP_PROXY" $p.httpProxy "HTTPS_PROXY" $p.httpsProxy "NO_PROXY" $no }}
{{- if $value }}
- name: {{ $name }}
  value: {{ $value | quote }}
- name: {{ lower $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- /*
ai-agent.aliases maps the Python agent's chart values (rancher/rancher-ai-agent,
chart/agent) onto this chart's, in place, and prints one "old new" line per
old key that is set (NOTES.txt turns them into deprecation notes). It is
idempotent: every template that reads a mapped value includes it first.
Values that cannot be mapped fail with the key to use instead.
*/ -}}
{{- define "ai-agent.aliases" -}}
{{- $v := .Values }}
{{- $llm := $v.llm }}
{{- $top := dict "llmModel" "model" "ollamaLlmModel" "ollamaModel" "geminiLlmModel" "geminiModel" "openaiLlmModel" "openaiModel" "bedrockLlmModel" "bedrockModel" "genericOpenaiModel" "genericOpenaiModel" "ollamaUrl" "ollamaUrl" "googleApiKey" "googleApiKey" "openaiApiKey" "openaiApiKey" "openaiUrl" "openaiUrl" "genericOpenaiUrl" "genericOpenaiUrl" "genericOpenaiApiKey" "genericOpenaiApiKey" "activeLlm" "activeLlm" "langfuseHost" "langfuseHost" "langfusePublicKey" "langfusePublicKey" "langfuseSecretKey" "langfuseSecretKey" "systemPrompt" "systemPrompt" }}
{{- range $old, $new := $top }}
{{- $val := index $v $old }}
{{- if $val }}
{{- $cur := index $llm $new }}
{{- if and $cur (ne (toString $cur) (toString $val)) }}
{{- fail (printf "%s (the Python agent's chart) and llm.%s are both set and differ: keep only llm.%s" $old $new $new) }}
{{- end }}
{{- $_ := set $llm $new $val }}
{{- printf "%s llm.%s\n" $old $new }}
{{- end }}
{{- end }}
{{- $aws := dict "region" "awsRegion" "bearerToken" "awsBearerToken" "accessKeyId" "awsAccessKeyId" "secretAccessKey" "awsSecretAccessKey" "url" "bedrockUrl" }}
{{- range $old, $new := $aws }}
{{- $val := dig $old "" ($v.awsBedrock | default dict) }}
{{- if $val }}
{{- $cur := index $llm $new }}
{{- if and $cur (ne (toString $cur) (toString $val)) }}
{{- fail (printf "awsBedrock.%s (the Python agent's chart) and llm.%s are both set and differ: keep only llm.%s" $old $new $new) }}
{{- end }}
{{- $_ := set $llm $new $val }}
{{- printf "awsBedrock.%s llm.%s\n" $old $new }}
{{- end }}
{{- end }}
{{- $s := $v.storage }}
{{- if $s.enabled }}
{{- $_ := set $s "type" "postgres" }}
{{- printf "storage.enabled storage.type=postgres\n" }}
{{- end }}
{{- if $s.connectionString }}
{{- if and $s.postgres.connectionString (ne $s.postgres.connectionString $s.connectionString) }}
{{- fail "storage.connectionString (the Python agent's chart) and storage.postgres.connectionString are both set and differ: keep only storage.postgres.connectionString" }}
{{- end }}
{{- $_ := set $s.postgres "connectionString" $s.connectionString }}
{{- printf "storage.connectionString storage.postgres.connectionString\n" }}
{{- end }}
{{- with $v.mcp }}
{{- range $k, $val := (.image | default dict) }}
{{- if $val }}
{{- $_ := set $v.mcpServer.image $k $val }}
{{- printf "mcp.image.%s mcpServer.image.%s\n" $k $k }}
{{- end }}
{{- end }}
{{- if hasKey . "readOnly" }}
{{- $_ := set $v.mcpServer "readOnly" .readOnly }}
{{- printf "mcp.readOnly mcpServer.readOnly\n" }}
{{- end }}
{{- end }}
{{- with (dig "image" dict ($v.aiAgent | default dict)) }}
{{- range $k := list "repository" "tag" }}
{{- if index $.Values.aiAgent.image $k }}
{{- fail (printf "aiAgent.image.%s names the Python agent's image, which this chart does not run: remove it and set image.%s (the Go agent, default %s) instead" $k $k (ternary "rancher/rancher-ai-agent-go" "the chart's appVersion" (eq $k "repository"))) }}
{{- end }}
{{- end }}
{{- with .pullPolicy }}
{{- $_ := set $v.image "pullPolicy" . }}
{{- printf "aiAgent.image.pullPolicy image.pullPolicy\n" }}
{{- end }}
{{- end }}
{{- with $v.rag }}
{{- if or .enabled .pvc .embeddings_model }}
{{- fail "rag.* (the Python agent's documentation RAG) does not exist in the Go agent: remove rag.enabled, rag.pvc and rag.embeddings_model from your values" }}
{{- end }}
{{- end }}
{{- end }}

{{- /*
ai-agent.legacyLLM is the data of the Python agent's chart's Secret
llm-config (all its LLM settings) as JSON, decoded; {} when there is none,
and always in helm template, where lookup sees no cluster.
*/ -}}
{{- define "ai-agent.legacyLLM" -}}
{{- $old := dict }}
{{- $legacy := lookup "v1" "Secret" .Release.Namespace "llm-config" }}
{{- range $k, $b64 := (dig "data" dict ($legacy | default dict)) }}
{{- $_ := set $old $k (b64dec $b64) }}
{{- end }}
{{- toJson $old }}
{{- end }}
