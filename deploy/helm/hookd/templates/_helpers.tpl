{{/* The release's name for its objects, at most 63 characters. */}}
{{- define "hookd.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object; "component" is api or worker where it applies. */}}
{{- define "hookd.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ (.Values.image.tag | default .Chart.AppVersion) | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: pass (dict "root" $ "component" "api"). */}}
{{- define "hookd.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "hookd.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "hookd.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "hookd.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* Where the Temporal TLS Secret is mounted. */}}
{{- define "hookd.tlsDir" -}}/etc/hookd/temporal-tls{{- end -}}

{{/*
extraEnv entries are checked: the secrets hookd reads come from Secrets,
never from a value in the chart's values (which Helm keeps in the release).
*/}}
{{- define "hookd.checkEnv" -}}
{{- range . -}}
{{- if and (has .name (list "HOOKD_DATABASE_URL" "HOOKD_API_KEY" "TEMPORAL_API_KEY")) (hasKey . "value") -}}
{{- fail (printf "extraEnv: %s may not be given as a value; it is read from a Secret (database.secretName, apiKey.secretName, temporal.apiKey.secretName)" .name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The environment both processes share: the database and Temporal, TLS,
logging, and the release's extraEnv followed by the component's.
Pass (dict "root" $ "extra" .Values.api.extraEnv).
*/}}
{{- define "hookd.env" -}}
{{- $v := .root.Values -}}
{{- include "hookd.checkEnv" $v.extraEnv -}}
{{- include "hookd.checkEnv" .extra -}}
- name: HOOKD_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "database.secretName: the Secret holding HOOKD_DATABASE_URL" $v.database.secretName }}
      key: {{ required "database.key" $v.database.key }}
- name: HOOKD_TEMPORAL_ADDRESS
  value: {{ required "temporal.address: the Temporal frontend, host:port" $v.temporal.address | quote }}
- name: HOOKD_TEMPORAL_NAMESPACE
  value: {{ required "temporal.namespace" $v.temporal.namespace | quote }}
- name: HOOKD_LOG_LEVEL
  value: {{ $v.logLevel | quote }}
- name: HOOKD_LOG_FORMAT
  value: json
{{- with $v.allowPrivateTargets }}
- name: HOOKD_ALLOW_PRIVATE_TARGETS
  value: {{ . | quote }}
{{- end }}
{{- if $v.temporal.apiKey.secretName }}
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $v.temporal.apiKey.secretName }}
      key: {{ required "temporal.apiKey.key" $v.temporal.apiKey.key }}
{{- end }}
{{- if $v.temporal.tls.enabled }}
- name: TEMPORAL_TLS
  value: "true"
{{- with $v.temporal.tls.secretName }}
{{- if $v.temporal.tls.certKey }}
- name: TEMPORAL_TLS_CLIENT_CERT_PATH
  value: {{ printf "%s/%s" (include "hookd.tlsDir" $) $v.temporal.tls.certKey | quote }}
{{- end }}
{{- if $v.temporal.tls.keyKey }}
- name: TEMPORAL_TLS_CLIENT_KEY_PATH
  value: {{ printf "%s/%s" (include "hookd.tlsDir" $) $v.temporal.tls.keyKey | quote }}
{{- end }}
{{- if $v.temporal.tls.caKey }}
- name: TEMPORAL_TLS_SERVER_CA_CERT_PATH
  value: {{ printf "%s/%s" (include "hookd.tlsDir" $) $v.temporal.tls.caKey | quote }}
{{- end }}
{{- end }}
{{- with $v.temporal.tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Volumes: a writable /tmp (the root filesystem is read-only) and the Temporal TLS Secret. */}}
{{- define "hookd.volumes" -}}
- name: tmp
  emptyDir: {}
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.secretName }}
- name: temporal-tls
  secret:
    secretName: {{ .Values.temporal.tls.secretName }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "hookd.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.secretName }}
- name: temporal-tls
  mountPath: {{ include "hookd.tlsDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* Prometheus' scrape annotations for a pod serving /metrics on port. */}}
{{- define "hookd.scrapeAnnotations" -}}
{{- if .root.Values.metrics.annotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end -}}
