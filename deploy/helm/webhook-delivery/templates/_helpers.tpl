{{/* The chart's name, and the release's full name (63 characters at most, as Kubernetes names). */}}
{{- define "webhook-delivery.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "webhook-delivery.fullname" -}}
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

{{- define "webhook-delivery.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "webhook-delivery.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "webhook-delivery.selectorLabels" -}}
app.kubernetes.io/name: {{ include "webhook-delivery.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "webhook-delivery.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "webhook-delivery.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "webhook-delivery.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding ADMIN_API_KEY, PAYLOAD_KEYS, SECRET_KEYS, SMTP_URL...: the platform's, or the chart's own. */}}
{{- define "webhook-delivery.secretName" -}}
{{- default (printf "%s-secrets" (include "webhook-delivery.fullname" .)) .Values.existingSecret }}
{{- end }}

{{/* Settings and secrets the API and the worker read: the ConfigMap, the secrets, S3's credentials. */}}
{{- define "webhook-delivery.envFrom" -}}
- configMapRef:
    name: {{ include "webhook-delivery.fullname" . }}
- secretRef:
    name: {{ include "webhook-delivery.secretName" . }}
{{- with .Values.s3.existingSecret }}
- secretRef:
    name: {{ . }}
{{- end }}
{{- end }}

{{/*
How every process reaches Temporal. In the environment, not the ConfigMap, so the setup Job (a pre-install hook, run
before the chart's ConfigMap and Secret exist) reads the same: it needs nothing else.
*/}}
{{- define "webhook-delivery.temporalEnv" -}}
- name: TEMPORAL_ADDRESS
  value: {{ .Values.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
{{- if or .Values.temporal.tls.enabled .Values.temporal.tls.existingSecret }}
- name: TEMPORAL_TLS
  value: 'true'
{{- end }}
{{- with .Values.temporal.tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- if .Values.temporal.tls.existingSecret }}
- name: TEMPORAL_TLS_CERT_FILE
  value: /etc/temporal-tls/tls.crt
- name: TEMPORAL_TLS_KEY_FILE
  value: /etc/temporal-tls/tls.key
{{- if .Values.temporal.tls.privateCA }}
- name: TEMPORAL_TLS_CA_FILE
  value: /etc/temporal-tls/ca.crt
{{- end }}
{{- end }}
{{- if .Values.temporal.apiKey.existingSecret }}
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.temporal.apiKey.existingSecret }}
      key: {{ .Values.temporal.apiKey.key }}
{{- end }}
{{- end }}

{{/* Volumes: a writable /tmp on a read-only root, and Temporal's client certificate when mutual TLS is on. */}}
{{- define "webhook-delivery.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- with .Values.temporal.tls.existingSecret }}
- name: temporal-tls
  secret:
    secretName: {{ . }}
{{- end }}
{{- end }}

{{- define "webhook-delivery.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.temporal.tls.existingSecret }}
- name: temporal-tls
  mountPath: /etc/temporal-tls
  readOnly: true
{{- end }}
{{- end }}

{{/* A checksum of the chart's own config and secret, so a change rolls the pods. */}}
{{- define "webhook-delivery.podAnnotations" -}}
checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
