{{/*
A PersistentVolumeClaim for a component; call with
(dict "ctx" $ "component" "prometheus" "persistence" .Values.prometheus.persistence).
*/}}
{{- define "plexichat-obs.pvc" -}}
{{- if .persistence.enabled }}
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ include "plexichat-obs.componentName" . }}
  labels:
    {{- include "plexichat-obs.componentLabels" . | nindent 4 }}
spec:
  accessModes: ["ReadWriteOnce"]
  {{- with .persistence.storageClass }}
  storageClassName: {{ . }}
  {{- end }}
  resources:
    requests:
      storage: {{ .persistence.size }}
{{- end }}
{{- end }}
