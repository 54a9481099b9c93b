{{/* Chart name, overridable. */}}
{{- define "gracekeeper.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects: <release> or <release>-<chart>, 63 characters at most. */}}
{{- define "gracekeeper.fullname" -}}
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

{{- define "gracekeeper.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gracekeeper.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gracekeeper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gracekeeper.labels" -}}
helm.sh/chart: {{ include "gracekeeper.chart" . }}
{{ include "gracekeeper.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gracekeeper
{{- end }}

{{- define "gracekeeper.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gracekeeper.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "gracekeeper.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "gracekeeper.tlsSecretName" -}}
{{- if eq .Values.certificates.source "secret" }}
{{- required "certificates.secret.name is required when certificates.source is secret" .Values.certificates.secret.name }}
{{- else }}
{{- printf "%s-tls" (include "gracekeeper.fullname" .) }}
{{- end }}
{{- end }}

{{/* DNS names the serving certificate must carry: the Service as the API server addresses it. */}}
{{- define "gracekeeper.serviceDnsNames" -}}
{{- $svc := include "gracekeeper.fullname" . }}
{{- $ns := .Release.Namespace }}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | toJson }}
{{- end }}

{{/*
The certificates of `certificates.source: helm`, generated once per render and shared by the
Secret and both webhook configurations (the root context is one map for all templates).
An existing Secret with all three keys is reused, so upgrades keep the caBundle.
Returns a dict with caCert, cert, key (PEM).
*/}}
{{- define "gracekeeper.helmCerts" -}}
{{- if not (hasKey . "gracekeeperHelmCerts") }}
{{- $secretName := include "gracekeeper.tlsSecretName" . }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace $secretName }}
{{- $data := dict }}
{{- if $existing }}{{ $data = default (dict) $existing.data }}{{ end }}
{{- if and (hasKey $data "ca.crt") (hasKey $data "tls.crt") (hasKey $data "tls.key") }}
{{- $_ := set . "gracekeeperHelmCerts" (dict "caCert" (index $data "ca.crt" | b64dec) "cert" (index $data "tls.crt" | b64dec) "key" (index $data "tls.key" | b64dec)) }}
{{- else }}
{{- $days := int .Values.certificates.helm.validityDays }}
{{- $ca := genCA (printf "%s-ca" (include "gracekeeper.fullname" .)) $days }}
{{- $dns := include "gracekeeper.serviceDnsNames" . | fromJsonArray }}
{{- $leaf := genSignedCert (index $dns 2) nil $dns $days $ca }}
{{- $_ := set . "gracekeeperHelmCerts" (dict "caCert" $ca.Cert "cert" $leaf.Cert "key" $leaf.Key) }}
{{- end }}
{{- end }}
{{- .gracekeeperHelmCerts | toJson }}
{{- end }}

{{/* The base64 caBundle for the webhook configurations, or nothing when cert-manager injects it. */}}
{{- define "gracekeeper.caBundle" -}}
{{- if eq .Values.certificates.source "helm" }}
{{- (include "gracekeeper.helmCerts" . | fromJson).caCert | b64enc }}
{{- else if eq .Values.certificates.source "secret" }}
{{- required "certificates.secret.caBundle is required when certificates.source is secret" .Values.certificates.secret.caBundle }}
{{- end }}
{{- end }}

{{- define "gracekeeper.certManagerCertificateName" -}}
{{- printf "%s-serving" (include "gracekeeper.fullname" .) }}
{{- end }}

{{/* Namespaces no webhook entry selects: the exempt list plus the release namespace. */}}
{{- define "gracekeeper.excludedNamespaces" -}}
{{- append .Values.exemptNamespaces .Release.Namespace | uniq | toJson }}
{{- end }}

{{/*
namespaceSelector of the webhook entry for one mode (enforce|audit). The gracekeeper.io/mode
label picks the mode; in `mode: cluster` the entry of clusterDefaultMode also takes namespaces
without the label. Every entry leaves out the excluded namespaces.
Usage: include "gracekeeper.namespaceSelector" (dict "root" $ "mode" "enforce")
*/}}
{{- define "gracekeeper.namespaceSelector" -}}
{{- $root := .root }}
{{- $labelValues := list .mode }}
{{- $operator := "In" }}
{{- if and (eq $root.Values.mode "cluster") (eq $root.Values.clusterDefaultMode .mode) }}
{{- $operator = "NotIn" }}
{{- $labelValues = without (list "enforce" "audit" "off") .mode }}
{{- end -}}
matchExpressions:
  - key: gracekeeper.io/mode
    operator: {{ $operator }}
    values: {{ $labelValues | toJson }}
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values: {{ include "gracekeeper.excludedNamespaces" $root }}
{{- end }}

{{/* Fields shared by every webhook entry of one mode. Usage: dict "root" $ "mode" "audit" "kind" "mutate" */}}
{{- define "gracekeeper.webhookCommon" -}}
{{- $root := .root }}
{{- $caBundle := include "gracekeeper.caBundle" $root -}}
- name: {{ .mode }}.{{ .kind }}.gracekeeper.io
  admissionReviewVersions: ["v1"]
  sideEffects: None
  timeoutSeconds: {{ $root.Values.webhooks.timeoutSeconds }}
  failurePolicy: {{ index $root.Values.webhooks.failurePolicy .mode }}
  matchPolicy: Equivalent
  clientConfig:
    service:
      name: {{ include "gracekeeper.fullname" $root }}
      namespace: {{ $root.Release.Namespace }}
      path: /{{ .kind }}/{{ .mode }}
      port: {{ $root.Values.service.port }}
    {{- if $caBundle }}
    caBundle: {{ $caBundle }}
    {{- end }}
  namespaceSelector:
    {{- include "gracekeeper.namespaceSelector" . | nindent 4 }}
  {{- with $root.Values.webhooks.objectSelector }}
  objectSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- $conditions := list }}
  {{- if $root.Values.webhooks.skipTerminating }}
  {{- $conditions = append $conditions (dict "name" "not-terminating" "expression" "!has(object.metadata.deletionTimestamp)") }}
  {{- end }}
  {{- $conditions = concat $conditions $root.Values.webhooks.extraMatchConditions }}
  {{- with $conditions }}
  matchConditions:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* Annotations of both webhook configurations, as a YAML mapping. */}}
{{- define "gracekeeper.webhookAnnotations" -}}
{{- $annotations := deepCopy .Values.webhooks.annotations }}
{{- if eq .Values.certificates.source "cert-manager" }}
{{- $_ := set $annotations "cert-manager.io/inject-ca-from" (printf "%s/%s" .Release.Namespace (include "gracekeeper.certManagerCertificateName" .)) }}
{{- end }}
{{- toYaml $annotations }}
{{- end }}
