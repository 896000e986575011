{{/* Names and labels. */}}
{{- define "trendreel.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "trendreel.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "trendreel.labels" -}}
{{ include "trendreel.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "trendreel.image" -}}
{{- $tag := .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s/%s:%s" .root.Values.image.registry .name $tag -}}
{{- end -}}

{{- define "trendreel.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-credentials" (include "trendreel.fullname" .)) -}}
{{- end -}}

{{- define "trendreel.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "trendreel.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* Node placement: the arch value becomes kubernetes.io/arch next to the nodeSelector. */}}
{{- define "trendreel.placement" -}}
{{- $sel := deepCopy (.nodeSelector | default dict) -}}
{{- if .arch }}{{- $_ := set $sel "kubernetes.io/arch" .arch -}}{{- end -}}
{{- with $sel }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .runtimeClassName }}
runtimeClassName: {{ . }}
{{- end }}
{{- end -}}

{{/* The settings every trendreel process gets; credentials come from files (FILE__ variables,
     read by the images' entry point). */}}
{{- define "trendreel.env" -}}
{{- $v := .Values -}}
- name: FILE__TRENDREEL_DATABASE_URL
  value: /run/secrets/trendreel/database-url
{{- if $v.config.filesUrl }}
- name: TRENDREEL_FILES_URL
  value: {{ $v.config.filesUrl | quote }}
- name: TRENDREEL_S3__REGION
  value: {{ $v.config.s3.region | quote }}
- name: TRENDREEL_S3__ALLOW_HTTP
  value: {{ $v.config.s3.allowHttp | quote }}
{{- with $v.config.s3.endpoint }}
- name: TRENDREEL_S3__ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: FILE__TRENDREEL_S3__ACCESS_KEY_ID
  value: /run/secrets/trendreel/s3-access-key-id
- name: FILE__TRENDREEL_S3__SECRET_ACCESS_KEY
  value: /run/secrets/trendreel/s3-secret-access-key
{{- else }}
- name: TRENDREEL_FILES_URL
  value: file:///data/files
{{- end }}
- name: TRENDREEL_VECTORS_URL
  value: {{ $v.config.vectorsUrl | quote }}
- name: TRENDREEL_PUBLISH__SECRET_KEY_FILE
  value: /run/secrets/trendreel/publish-key
- name: TRENDREEL_STORY__BACKEND
  value: {{ $v.config.storyBackend | quote }}
{{- $llmUrl := $v.config.llmBaseUrl -}}
{{- if and (not $llmUrl) $v.llm.enabled -}}
{{- $llmUrl = printf "http://%s-llm:%d/v1" (include "trendreel.fullname" .) (int $v.llm.port) -}}
{{- end }}
{{- with $llmUrl }}
- name: TRENDREEL_LLM__BASE_URL
  value: {{ . | quote }}
- name: TRENDREEL_LLM__MODEL
  value: {{ $v.config.llmModel | quote }}
{{- if or $v.secrets.llmApiKey $v.secrets.existingSecret }}
- name: FILE__TRENDREEL_LLM__API_KEY
  value: /run/secrets/trendreel/llm-api-key
{{- end }}
{{- end }}
- name: TRENDREEL_RENDER__BACKEND
  value: {{ $v.config.renderBackend | quote }}
{{- if $v.modelserver.enabled }}
- name: TRENDREEL_RENDER__REMOTE__URL
  value: {{ printf "http://%s-modelserver:%d" (include "trendreel.fullname" .) (int $v.modelserver.port) | quote }}
- name: TRENDREEL_RENDER__REMOTE__KIND
  value: {{ ternary "render:ltx2" "render:compositor" (eq $v.modelserver.variant "gpu") | quote }}
{{- end }}
- name: TRENDREEL_RENDER__REMOTE__TOKEN_FILE
  value: /run/secrets/trendreel/modelserver-token
- name: TRENDREEL_LOG_LEVEL
  value: {{ $v.config.logLevel | quote }}
- name: TRENDREEL_LOG_JSON
  value: "true"
- name: TRENDREEL_HOME
  value: /var/lib/trendreel
- name: TRENDREEL_ENGINE__RUNNER
  value: {{ ternary "temporal" "inprocess" $v.workers.cpu.enabled | quote }}
- name: TEMPORAL_ADDRESS
  value: {{ $v.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ $v.temporal.namespace | quote }}
{{- range $name, $value := $v.config.extraEnv }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* Volumes every trendreel pod mounts: the credentials, a writable home and /tmp (the root file
     system is read-only), and the shared files volume when no S3 bucket is set. */}}
{{- define "trendreel.volumes" -}}
- name: credentials
  secret:
    secretName: {{ include "trendreel.secretName" . }}
    defaultMode: 0440
- name: home
  emptyDir: {}
- name: tmp
  emptyDir: {}
{{- if not .Values.config.filesUrl }}
- name: files
  persistentVolumeClaim:
    claimName: {{ include "trendreel.fullname" . }}-files
{{- end }}
{{- end -}}

{{- define "trendreel.volumeMounts" -}}
- name: credentials
  mountPath: /run/secrets/trendreel
  readOnly: true
- name: home
  mountPath: /var/lib/trendreel
- name: tmp
  mountPath: /tmp
{{- if not .Values.config.filesUrl }}
- name: files
  mountPath: /data/files
{{- end }}
{{- end -}}

{{- define "trendreel.podSpecCommon" -}}
serviceAccountName: {{ include "trendreel.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end -}}
