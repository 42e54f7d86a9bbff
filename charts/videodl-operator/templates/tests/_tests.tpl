{{/* Shared parts of the `helm test` hooks (templates/tests/). */}}

{{- define "videodl.testName" -}}
{{- include "videodl.fullname" . }}-test
{{- end }}

{{/* Annotations of every test hook; $weight orders them (RBAC first, then the Pods). */}}
{{- define "videodl.testHook" -}}
{{- $weight := index . 1 -}}
helm.sh/hook: test
helm.sh/hook-weight: {{ $weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end }}

{{/* The Pod-level part of a test Pod spec: no restarts, its own account, restricted. */}}
{{- define "videodl.testPodSecurity" -}}
restartPolicy: Never
serviceAccountName: {{ include "videodl.testName" . }}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
{{- end }}

{{- define "videodl.testContainer" -}}
image: {{ include "videodl.workerImage" . }}
imagePullPolicy: {{ .Values.tests.imagePullPolicy }}
command:
  {{- toYaml .Values.tests.command | nindent 2 }}
resources:
  {{- toYaml .Values.tests.resources | nindent 2 }}
securityContext:
  allowPrivilegeEscalation: false
  privileged: false
  readOnlyRootFilesystem: true
  runAsNonRoot: true
  capabilities:
    drop: ["ALL"]
{{- end }}
