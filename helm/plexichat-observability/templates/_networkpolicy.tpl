{{/*
An ingress-only NetworkPolicy for a component; call with
(dict "ctx" $ "component" "redis" "port" 6379 "from" (list <selector labels>...)).
An empty "from" admits every source on the port.
*/}}
{{- define "plexichat-obs.networkPolicy" }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "plexichat-obs.componentName" (dict "ctx" .ctx "component" .component) }}
  labels:
    {{- include "plexichat-obs.componentLabels" (dict "ctx" .ctx "component" .component) | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "plexichat-obs.componentSelectorLabels" (dict "ctx" .ctx "component" .component) | nindent 6 }}
  policyTypes: ["Ingress"]
  ingress:
    - ports:
        - port: {{ .port }}
          protocol: TCP
      {{- with .from }}
      from:
        {{- range . }}
        - podSelector:
            matchLabels:
              {{- . | nindent 14 }}
        {{- end }}
      {{- end }}
{{- end }}
