{{/*
Prometheus' configuration is generated (files/prometheus/prometheus.yml, by `plexichat-obs
generate`, from the same source as Compose's and `plexichat-obs up`'s). These helpers are the
blocks that depend on the values; templates/prometheus/configmap.yaml merges them in.
*/}}

{{/* Intervals, Alertmanager and remote write: merged over the generated file's keys. */}}
{{- define "plexichat-obs.prometheus.valueBlocks" -}}
{{- $v := .Values.prometheus }}
global:
  scrape_interval: {{ $v.scrapeInterval }}
  evaluation_interval: {{ $v.evaluationInterval }}
{{- if .Values.alertmanager.enabled }}
alerting:
  alertmanagers:
    - static_configs:
        - targets: [{{ include "plexichat-obs.alertmanagerAddress" . | quote }}]
{{- end }}
{{- with $v.remoteWrite }}
remote_write:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
How Prometheus finds the service, for the generated job that has no targets: this release's
pods in its namespace (kubernetes; the relabelling goes before the job's own) or the Service.
*/}}
{{- define "plexichat-obs.prometheus.discovery" -}}
{{- if eq .Values.prometheus.discovery "kubernetes" }}
kubernetes_sd_configs:
  - role: pod
    namespaces:
      names: [{{ .Release.Namespace | quote }}]
    selectors:
      - role: pod
        label: "app.kubernetes.io/instance={{ .Release.Name }},app.kubernetes.io/component=plexichat"
relabel_configs:
  - source_labels: [__meta_kubernetes_pod_container_port_name]
    regex: http
    action: keep
  - source_labels: [__meta_kubernetes_pod_phase]
    regex: Running
    action: keep
  - source_labels: [__meta_kubernetes_namespace]
    target_label: namespace
  - source_labels: [__meta_kubernetes_pod_name]
    target_label: pod
{{- else }}
static_configs:
  - targets: ["{{ include "plexichat-obs.componentName" (dict "ctx" . "component" "plexichat") }}:{{ .Values.plexichat.service.port }}"]
{{- end }}
{{- end }}

{{/* Prometheus scrapes Alertmanager too when the release runs one. */}}
{{- define "plexichat-obs.prometheus.alertmanagerJobs" -}}
{{- if .Values.alertmanager.enabled }}
- job_name: alertmanager
  static_configs:
    - targets: [{{ include "plexichat-obs.alertmanagerAddress" . | quote }}]
{{- else }}
[]
{{- end }}
{{- end }}

{{/* And redis_exporter (job redis) when the release runs Redis and the exporter. */}}
{{- define "plexichat-obs.prometheus.redisJobs" -}}
{{- if and .Values.redis.enabled .Values.redisExporter.enabled }}
- job_name: redis
  static_configs:
    - targets: ["{{ include "plexichat-obs.componentName" (dict "ctx" . "component" "redis-exporter") }}:9121"]
{{- else }}
[]
{{- end }}
{{- end }}

{{/* And postgres_exporter (job postgres) when the service is given PostgreSQL and the exporter runs. */}}
{{- define "plexichat-obs.prometheus.postgresJobs" -}}
{{- if and .Values.plexichat.database.urlSecret.name .Values.postgresExporter.enabled }}
- job_name: postgres
  static_configs:
    - targets: ["{{ include "plexichat-obs.componentName" (dict "ctx" . "component" "postgres-exporter") }}:9187"]
{{- else }}
[]
{{- end }}
{{- end }}

{{/* And node_exporter (job node) on every node when nodeExporter.enabled: its DaemonSet's pods in
the release's namespace (templates/prometheus/rbac.yaml lets Prometheus list them), each named
by its node. */}}
{{- define "plexichat-obs.prometheus.nodeJobs" -}}
{{- if .Values.nodeExporter.enabled }}
- job_name: node
  kubernetes_sd_configs:
    - role: pod
      namespaces:
        names: [{{ .Release.Namespace | quote }}]
      selectors:
        - role: pod
          label: "app.kubernetes.io/instance={{ .Release.Name }},app.kubernetes.io/component=node-exporter"
  relabel_configs:
    - source_labels: [__meta_kubernetes_pod_container_port_name]
      regex: metrics
      action: keep
    - source_labels: [__meta_kubernetes_pod_node_name]
      target_label: instance
{{- else }}
[]
{{- end }}
{{- end }}

{{- define "plexichat-obs.alertmanagerAddress" -}}
{{ include "plexichat-obs.componentName" (dict "ctx" . "component" "alertmanager") }}:9093
{{- end }}
