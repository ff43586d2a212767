{{/*
Names. Kubernetes names are at most 63 characters (DNS-1123 labels), so every name is cut
there; a component's name is "<fullname>-<component>" cut the same way.
*/}}
{{- define "plexichat-obs.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's name prefix: the release name, plus the chart name unless it is contained. */}}
{{- define "plexichat-obs.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "<fullname>-<component>"; call with (dict "ctx" $ "component" "prometheus"). */}}
{{- define "plexichat-obs.componentName" -}}
{{- printf "%s-%s" (include "plexichat-obs.fullname" .ctx) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "plexichat-obs.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "plexichat-obs.labels" -}}
helm.sh/chart: {{ include "plexichat-obs.chart" . }}
{{ include "plexichat-obs.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: plexichat-observability
{{- end }}

{{- define "plexichat-obs.selectorLabels" -}}
app.kubernetes.io/name: {{ include "plexichat-obs.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of a component's objects; call with (dict "ctx" $ "component" "grafana"). */}}
{{- define "plexichat-obs.componentLabels" -}}
{{ include "plexichat-obs.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "plexichat-obs.componentSelectorLabels" -}}
{{ include "plexichat-obs.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Image reference; call with an image values block and the chart's appVersion as default tag. */}}
{{- define "plexichat-obs.image" -}}
{{- printf "%s:%s" .image.repository (toString (default .default .image.tag)) }}
{{- end }}

{{- define "plexichat-obs.serviceAccountName" -}}
{{- if .Values.plexichat.serviceAccount.create }}
{{- default (include "plexichat-obs.componentName" (dict "ctx" . "component" "plexichat")) .Values.plexichat.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.plexichat.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret with grafana-admin-password and redis-password. */}}
{{- define "plexichat-obs.secretName" -}}
{{- default (include "plexichat-obs.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/*
Pod and container security: non-root, read-only root filesystem, no capabilities,
seccomp RuntimeDefault. The pod helper takes the id the image runs as (uid = gid), or
(list uid gid); compose/image-facts.yaml records each image's user.
*/}}
{{- define "plexichat-obs.podSecurityContext" -}}
{{- $ids := kindIs "slice" . | ternary . (list . .) }}
runAsNonRoot: true
runAsUser: {{ index $ids 0 }}
runAsGroup: {{ index $ids 1 }}
fsGroup: {{ index $ids 1 }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "plexichat-obs.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Where the service finds Redis: host of the bundled one, else externalRedis.host. */}}
{{- define "plexichat-obs.redisHost" -}}
{{- if .Values.redis.enabled }}
{{- include "plexichat-obs.componentName" (dict "ctx" . "component" "redis") }}
{{- else }}
{{- .Values.externalRedis.host }}
{{- end }}
{{- end }}

{{/* The OTLP endpoint the service exports traces to: bundled Tempo, else tracing.otlpEndpoint. */}}
{{- define "plexichat-obs.otlpEndpoint" -}}
{{- if .Values.tempo.enabled }}
{{- printf "http://%s:4318" (include "plexichat-obs.componentName" (dict "ctx" . "component" "tempo")) }}
{{- else }}
{{- .Values.tracing.otlpEndpoint }}
{{- end }}
{{- end }}

{{/* URL of the bundled Prometheus, else grafana.prometheusUrl. */}}
{{- define "plexichat-obs.prometheusUrl" -}}
{{- if .Values.prometheus.enabled }}
{{- printf "http://%s:%d" (include "plexichat-obs.componentName" (dict "ctx" . "component" "prometheus")) (int .Values.prometheus.service.port) }}
{{- else }}
{{- .Values.grafana.prometheusUrl }}
{{- end }}
{{- end }}

{{/* A ConfigMap name for a generated file: "<fullname>-<prefix>-<file name without extension>". */}}
{{- define "plexichat-obs.fileConfigMapName" -}}
{{- $stem := base .path | trimSuffix (ext .path) | lower | replace "_" "-" | replace "." "-" }}
{{- printf "%s-%s-%s" (include "plexichat-obs.fullname" .ctx) .prefix $stem | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
A Kubernetes quantity ("256Mi", "8Gi", "1G", "512M", "1073741824") as a whole number of bytes;
a quantity in another form fails the render naming it.
*/}}
{{- define "plexichat-obs.bytes" -}}
{{- $quantity := kindIs "float64" . | ternary (printf "%.0f" .) (toString .) }}
{{- $number := regexFind "^[0-9]+([.][0-9]+)?" $quantity }}
{{- $unit := trimPrefix $number $quantity }}
{{- $factors := dict "" 1.0 "k" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 }}
{{- if or (not $number) (not (hasKey $factors $unit)) }}
{{- fail (printf "%q is not a quantity the chart can read (expected e.g. 256Mi, 8Gi, 1G or a number of bytes)" $quantity) }}
{{- end }}
{{- mulf (float64 $number) (get $factors $unit) | floor | int64 }}
{{- end }}

{{/*
Redis' --maxmemory: redis.maxmemory, else 80 % of redis.resources.limits.memory in bytes, so
that Redis evicts (allkeys-lru) before the kernel kills it at the limit.
*/}}
{{- define "plexichat-obs.redisMaxmemory" -}}
{{- $v := .Values.redis }}
{{- if $v.maxmemory }}
{{- $v.maxmemory }}
{{- else }}
{{- $limit := dig "limits" "memory" "" ($v.resources | default dict) }}
{{- if not $limit }}
{{- fail "redis.maxmemory or redis.resources.limits.memory must be set: without either Redis never evicts and grows until it is killed" }}
{{- end }}
{{- mulf (include "plexichat-obs.bytes" $limit | float64) 0.8 | floor | int64 }}
{{- end }}
{{- end }}

{{/*
Prometheus' --storage.tsdb.retention.size: prometheus.retentionSize, else 85 % of the data
volume (prometheus.persistence.size: the claim, or the emptyDir's sizeLimit) in whole MB
(Prometheus' units are binary: 1MB = 1024 KB).
*/}}
{{- define "plexichat-obs.prometheusRetentionSize" -}}
{{- $v := .Values.prometheus }}
{{- if $v.retentionSize }}
{{- $v.retentionSize }}
{{- else }}
{{- $bytes := include "plexichat-obs.bytes" $v.persistence.size | float64 }}
{{- printf "%dMB" (divf (mulf $bytes 0.85) 1048576.0 | floor | int64) }}
{{- end }}
{{- end }}

{{/*
The optional watched sources this release runs, as a JSON list of jobs: each has a directory of
generated files (files/optional/<job>/: alerts.yaml, dashboard.json) that the Prometheus rules
and the Grafana dashboards take in only where it runs. PostgreSQL runs where
plexichat.database.urlSecret names the service's database and postgresExporter is enabled, the
host's node_exporter where nodeExporter is enabled. A
generated source without a switch here fails the render, so none is dropped in silence.
*/}}
{{- define "plexichat-obs.optionalSources" -}}
{{- $on := list }}
{{- range $path, $_ := .Files.Glob "files/optional/*/alerts.yaml" }}
{{- $job := base (dir $path) }}
{{- if eq $job "postgres" }}
{{- if and $.Values.plexichat.database.urlSecret.name $.Values.postgresExporter.enabled }}
{{- $on = append $on $job }}
{{- end }}
{{- else if eq $job "node" }}
{{- if $.Values.nodeExporter.enabled }}
{{- $on = append $on $job }}
{{- end }}
{{- else }}
{{- fail (printf "files/optional/%s: the chart has no switch for the optional source %s" $job $job) }}
{{- end }}
{{- end }}
{{- toJson $on }}
{{- end }}
