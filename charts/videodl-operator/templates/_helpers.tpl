{{/* Names, labels and derived values shared by every template. */}}

{{- define "videodl.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "<release>-<chart>", or the release name alone when it already contains the chart name. */}}
{{- define "videodl.fullname" -}}
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

{{- define "videodl.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "videodl.selectorLabels" -}}
app.kubernetes.io/name: {{ include "videodl.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{/* Labels of every object; $component names its part (operator, worker, breaker, ...). */}}
{{- define "videodl.labels" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 -}}
helm.sh/chart: {{ include "videodl.chart" $root }}
app.kubernetes.io/name: {{ include "videodl.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ $component }}
app.kubernetes.io/part-of: videodl
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
{{- with $root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "videodl.serviceAccountName" -}}
{{- default (include "videodl.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{/*
An image reference from {repository, tag, digest} (list: values, field path for messages,
chart): repository@digest when a digest is set, else repository:tag (tag defaults to the
chart's appVersion).
*/}}
{{- define "videodl.imageRef" -}}
{{- $image := index . 0 }}
{{- $field := index . 1 }}
{{- $root := index . 2 }}
{{- $tag := default $root.Chart.AppVersion $image.tag }}
{{- if eq $tag "latest" }}
{{- fail (printf "%s.tag: \"latest\" is refused (it changes under running Pods); set a version such as %s, or %s.digest" $field $root.Chart.AppVersion $field) }}
{{- end }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository $tag }}
{{- end }}
{{- end }}

{{- define "videodl.image" -}}
{{- include "videodl.imageRef" (list .Values.image "image" .) }}
{{- end }}

{{- define "videodl.workerImage" -}}
{{- include "videodl.imageRef" (list .Values.workers.image "workers.image" .) }}
{{- end }}

{{/* "true" when the operator serves every namespace (cluster-wide RBAC). */}}
{{- define "videodl.clusterWide" -}}
{{- if not .Values.watch.namespaces }}true{{ end }}
{{- end }}

{{/* Namespaces with worker Pods, as a JSON list (templates use fromJsonArray). */}}
{{- define "videodl.workerNamespaces" -}}
{{- $namespaces := .Values.workers.namespaces }}
{{- if not $namespaces }}
{{- $namespaces = .Values.watch.namespaces | default (list .Release.Namespace) }}
{{- end }}
{{- $namespaces | uniq | toJson }}
{{- end }}

{{- define "videodl.breakerNamespace" -}}
{{- default .Release.Namespace .Values.breaker.configMap.namespace }}
{{- end }}

{{/* "true" when more than one replica runs, so a Lease elects the active one. */}}
{{- define "videodl.peering" -}}
{{- if gt (int .Values.operator.replicas) 1 }}true{{ end }}
{{- end }}

{{/* "k1=v1,k2=v2" from a map, keys sorted (the operator's RES=QTY lists). */}}
{{- define "videodl.pairs" -}}
{{- $pairs := list }}
{{- range $key, $value := . }}
{{- $pairs = append $pairs (printf "%s=%v" $key $value) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}

{{/* A command list as one shell-quoted line (the operator splits it with shlex): each
word in single quotes, a single quote inside a word written as '"'"'. */}}
{{- define "videodl.commandLine" -}}
{{- $words := list }}
{{- range . }}
{{- $words = append $words (printf "'%s'" (replace "'" "'\"'\"'" .)) }}
{{- end }}
{{- join " " $words }}
{{- end }}

{{/*
The operator's settings as its VIDEODL_* environment variables (see docs/operator.md):
everything the chart decides (names, namespaces, ports) and every value under admission,
workers and operator. Each is always set, so the chart, not an image default, decides.
*/}}
{{- define "videodl.operatorEnv" -}}
{{- $v := .Values }}
{{- $perNamespace := $v.admission.maxRunningPerNamespace }}
{{- if and (not (kindIs "invalid" $perNamespace)) (gt (int $perNamespace) (int $v.admission.maxRunning)) }}
{{- fail (printf "admission.maxRunningPerNamespace (%d) is above admission.maxRunning (%d): lower it or raise admission.maxRunning" (int $perNamespace) (int $v.admission.maxRunning)) }}
{{- end }}
{{- $classes := list }}
{{- range $level := list "lowest" "low" "normal" "high" "critical" }}
{{- $classes = append $classes (printf "%s=%s" (title $level) (index $v.priorityClasses.classes $level).name) }}
{{- end }}
{{- $env := dict
  "VIDEODL_NAMESPACES" (join "," $v.watch.namespaces)
  "VIDEODL_INSTANCE" .Release.Name
  "VIDEODL_MAX_RUNNING" $v.admission.maxRunning
  "VIDEODL_MAX_RUNNING_PER_NAMESPACE" (ternary "" $perNamespace (kindIs "invalid" $perNamespace))
  "VIDEODL_AGING_SECONDS" $v.admission.agingSeconds
  "VIDEODL_ADMISSION_INTERVAL_SECONDS" $v.admission.intervalSeconds
  "VIDEODL_BACKOFF_JITTER" $v.admission.backoffJitter
  "VIDEODL_WORKER_IMAGE" (include "videodl.workerImage" .)
  "VIDEODL_WORKER_COMMAND" (include "videodl.commandLine" $v.workers.command)
  "VIDEODL_CLEANUP_COMMAND" (include "videodl.commandLine" $v.workers.cleanupCommand)
  "VIDEODL_INDEXER_COMMAND" (include "videodl.commandLine" $v.workers.indexerCommand)
  "VIDEODL_WORKER_SERVICE_ACCOUNT" $v.workers.serviceAccount.name
  "VIDEODL_PRIORITY_CLASS_NAMES" (join "," $classes)
  "VIDEODL_WORKER_REQUESTS" (include "videodl.pairs" $v.workers.resources.requests)
  "VIDEODL_WORKER_LIMITS" (include "videodl.pairs" $v.workers.resources.limits)
  "VIDEODL_DEFAULT_CLAIM" $v.workers.defaultClaim
  "VIDEODL_S3_ENDPOINT" $v.workers.s3.endpoint
  "VIDEODL_S3_BUCKET" $v.workers.s3.bucket
  "VIDEODL_S3_REGION" $v.workers.s3.region
  "VIDEODL_S3_CREDENTIALS_SECRET" $v.workers.s3.credentialsSecret
  "VIDEODL_S3_FORCE_PATH_STYLE" $v.workers.s3.forcePathStyle
  "VIDEODL_S3_SCRATCH_SIZE_LIMIT" $v.workers.s3.scratchSizeLimit
  "VIDEODL_S3_PART_SIZE_BYTES" (int64 $v.workers.s3.partSizeBytes | toString)
  "VIDEODL_ACTIVE_DEADLINE_SECONDS" $v.workers.activeDeadlineSeconds
  "VIDEODL_PROGRESS_INTERVAL_SECONDS" $v.workers.progressIntervalSeconds
  "VIDEODL_TERMINATION_GRACE_SECONDS" $v.workers.terminationGraceSeconds
  "VIDEODL_WORKER_SCRATCH_DIR" $v.workers.scratchDir
  "VIDEODL_WORKER_ALLOWED_NETWORKS" (join "," $v.workers.allowedNetworks)
  "VIDEODL_WORKER_UNSCHEDULABLE_GRACE_SECONDS" $v.workers.unschedulableGraceSeconds
  "VIDEODL_WORKER_START_TIMEOUT_SECONDS" $v.workers.startTimeoutSeconds
  "VIDEODL_WORKER_BLOCKED_RETRY_SECONDS" $v.workers.blockedRetrySeconds
  "VIDEODL_METRICS_PORT" $v.metrics.port
  "VIDEODL_METRICS_BIND_ADDRESS" $v.metrics.bindAddress
  "VIDEODL_BREAKER_CONFIGMAP" $v.breaker.configMap.name
  "VIDEODL_BREAKER_NAMESPACE" (include "videodl.breakerNamespace" .)
  "VIDEODL_BREAKER_FAILURE_THRESHOLD" $v.breaker.failureThreshold
  "VIDEODL_BREAKER_WINDOW_SIZE" $v.breaker.windowSize
  "VIDEODL_BREAKER_MIN_CALLS" $v.breaker.minCalls
  "VIDEODL_BREAKER_FAILURE_RATIO" $v.breaker.failureRatio
  "VIDEODL_BREAKER_OPEN_SECONDS" $v.breaker.openSeconds
  "VIDEODL_BREAKER_MAX_OPEN_SECONDS" $v.breaker.maxOpenSeconds
  "VIDEODL_BREAKER_OPEN_JITTER" $v.breaker.openJitter
  "VIDEODL_BREAKER_PROBES" $v.breaker.probes
  "VIDEODL_BREAKER_PROBE_TIMEOUT_SECONDS" $v.breaker.probeTimeoutSeconds
  "VIDEODL_BREAKER_CLOSE_AFTER_SUCCESSES" $v.breaker.closeAfterSuccesses
  "VIDEODL_RECONCILE_WORKERS" $v.operator.reconcileWorkers
  "VIDEODL_MISSED_SLOTS_WARNING" $v.operator.missedSlotsWarning
  "VIDEODL_LOG_LEVEL" $v.operator.logLevel
-}}
# The root file system is read-only; libraries that write under $HOME get the emptyDir.
- name: HOME
  value: {{ .Values.operator.scratchDir | quote }}
- name: TMPDIR
  value: {{ .Values.operator.scratchDir | quote }}
# kopf names the process after its Pod; without it kopf looks the user up in /etc/passwd,
# which has no entry for the numeric UID the container runs as.
- name: POD_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
# Where the Lease of several replicas lives, when the ServiceAccount's namespace file is
# not mounted.
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- range $name, $value := $env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/*
What the operator does to the objects it serves, where it serves them. Each rule is the
least the code needs; see docs/install.md for the calls behind each verb.
*/}}
{{- define "videodl.operatorRules" -}}
# kopf lists and watches VideoDownloads; the operator merge-patches their metadata (the
# retry annotation it handled, its finalizer) and deletes finished ones after
# spec.ttlSecondsAfterFinished.
- apiGroups: [videodl.dev]
  resources: [videodownloads]
  verbs: [list, watch, patch, delete]
# Status is written through the status subresource only.
- apiGroups: [videodl.dev]
  resources: [videodownloads/status]
  verbs: [patch]
# One worker Pod per attempt (and a cleanup Pod for deletionPolicy Delete): created,
# watched by label for their outcome, deleted on suspend and on deletion.
- apiGroups: [""]
  resources: [pods]
  verbs: [list, watch, create, delete]
# A core/v1 Event on every phase transition.
- apiGroups: [""]
  resources: [events]
  verbs: [create]
# VideoPlaylists: watched, their status written; their children (VideoDownloads) created
# and their spec.suspend patched; their index chunks (ConfigMaps) created empty, handed to
# the indexer Pod and read back.
- apiGroups: [videodl.dev]
  resources: [videoplaylists]
  verbs: [list, watch]
- apiGroups: [videodl.dev]
  resources: [videoplaylists/status]
  verbs: [patch]
- apiGroups: [videodl.dev]
  resources: [videodownloads]
  verbs: [create]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, create, patch]
# VideoSubscriptions: watched, their status written; their scans (VideoPlaylists) created
# and deleted past the history limits; their downloads created and pruned (the verbs
# above); their ledger of seen videos (a ConfigMap) read, created and patched (above).
- apiGroups: [videodl.dev]
  resources: [videosubscriptions]
  verbs: [list, watch]
- apiGroups: [videodl.dev]
  resources: [videosubscriptions/status]
  verbs: [patch]
- apiGroups: [videodl.dev]
  resources: [videoplaylists]
  verbs: [create, delete]
{{- end }}


{{/* Labels the operator puts on every worker Pod (the NetworkPolicy selects by them). */}}
{{- define "videodl.workerPodLabels" -}}
app.kubernetes.io/name: videodl-worker
app.kubernetes.io/managed-by: videodl-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* An IPv4 address or CIDR as (list NUMBER PREFIX), as JSON. */}}
{{- define "videodl.ipv4" -}}
{{- $parts := split "/" . }}
{{- $octets := split "." $parts._0 }}
{{- $number := add (mul (int $octets._0) 16777216) (mul (int $octets._1) 65536) (mul (int $octets._2) 256) (int $octets._3) }}
{{- toJson (list $number (ternary 32 (int $parts._1) (eq (len $parts) 1))) }}
{{- end }}

{{/*
Where the IPv4 CIDR INNER stands to the IPv4 CIDR OUTER, from (list INNER OUTER): "inside"
when it is a strict part of it, "exact" when they are the same block, else "".
*/}}
{{- define "videodl.ipv4Within" -}}
{{- $inner := include "videodl.ipv4" (index . 0) | fromJsonArray }}
{{- $outer := include "videodl.ipv4" (index . 1) | fromJsonArray }}
{{- $innerPrefix := index $inner 1 | int }}
{{- $outerPrefix := index $outer 1 | int }}
{{- $block := 1 }}
{{- range until (sub 32 $outerPrefix | int) }}{{ $block = mul $block 2 }}{{ end }}
{{- if and (ge $innerPrefix $outerPrefix) (eq (div (index $inner 0 | int64) $block) (div (index $outer 0 | int64) $block)) }}
{{- ternary "exact" "inside" (eq $innerPrefix $outerPrefix) }}
{{- end }}
{{- end }}

{{/*
The except list of a worker NetworkPolicy ipBlock, as JSON, from (list CIDR EXCEPTIONS NAME):
the exceptions of the CIDR's address family, plus the cloud metadata address
169.254.169.254/32 whenever the CIDR contains it (Kubernetes requires exceptions to lie
inside the block). A CIDR that is the metadata address alone fails the render, naming the
value NAME it came from.
*/}}
{{- define "videodl.ipBlockExcept" -}}
{{- $cidr := index . 0 }}
{{- $except := list }}
{{- range index . 1 }}
{{- if eq (contains ":" .) (contains ":" $cidr) }}{{ $except = append $except . }}{{ end }}
{{- end }}
{{- if not (contains ":" $cidr) }}
{{- $metadata := include "videodl.ipv4Within" (list "169.254.169.254/32" $cidr) }}
{{- if eq $metadata "exact" }}
{{- fail (printf "%s: %s is the cloud metadata address, which the worker NetworkPolicy never allows" (index . 2) $cidr) }}
{{- else if and (eq $metadata "inside") (not (has "169.254.169.254/32" $except)) }}
{{- $except = append $except "169.254.169.254/32" }}
{{- end }}
{{- end }}
{{- toJson $except }}
{{- end }}
