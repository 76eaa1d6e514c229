{{/* Names, labels and the values every template shares. */}}

{{- define "oidc-judge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "oidc-judge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "oidc-judge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "oidc-judge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "oidc-judge.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "oidc-judge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "oidc-judge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "oidc-judge.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Cluster-wide names carry the namespace: one release name may be used in several namespaces. */}}
{{- define "oidc-judge.clusterRoleName" -}}
{{- printf "%s-%s" .Release.Namespace (include "oidc-judge.fullname" .) -}}
{{- end -}}

{{- define "oidc-judge.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "oidc-judge.secretName" -}}
{{- default (include "oidc-judge.fullname" .) .Values.secret.existingSecret -}}
{{- end -}}

{{/* The Service's cluster-local host name, as Istio names it. */}}
{{- define "oidc-judge.host" -}}
{{- printf "%s.%s.svc.cluster.local" (include "oidc-judge.fullname" .) .Release.Namespace -}}
{{- end -}}

{{/* A config value as the environment variable's text: lists of strings comma-joined, structures as JSON, numbers without exponent. */}}
{{- define "oidc-judge.envValue" -}}
{{- if kindIs "slice" . -}}
{{- if eq (len .) 0 -}}
{{- else if kindIs "string" (first .) -}}
{{- join "," . -}}
{{- else -}}
{{- toJson . -}}
{{- end -}}
{{- else if kindIs "map" . -}}
{{- toJson . -}}
{{- else if kindIs "float64" . -}}
{{- int64 . -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/* "true" when a boolean setting is on: its value in `config`, else its default. Args: (list $config "NAME" default). */}}
{{- define "oidc-judge.flag" -}}
{{- $config := index . 0 -}}
{{- $v := index . 2 -}}
{{- if hasKey $config (index . 1) -}}
{{- $v = index $config (index . 1) -}}
{{- end -}}
{{- ternary "true" "false" (has (lower (toString $v)) (list "true" "1" "t" "on" "yes" "y")) -}}
{{- end -}}

{{- define "oidc-judge.kubernetesAuthn" -}}
{{- include "oidc-judge.flag" (list .Values.config "KUBERNETES_AUTHN_ENABLED" true) -}}
{{- end -}}

{{/* "true" when the service calls the Kubernetes API (and so needs its service account token). */}}
{{- define "oidc-judge.usesApi" -}}
{{- $k8s := eq (include "oidc-judge.kubernetesAuthn" .) "true" -}}
{{- ternary "true" "false" (or $k8s .Values.rbac.subjectAccessReview .Values.rbac.impersonation) -}}
{{- end -}}

{{/* The headers the judge sets upstream (USERID_HEADER, GROUPS_HEADER, AUTH_METHOD_HEADER, CLAIM_HEADERS, USERID_TOKEN_HEADER, HEADER_PRESET's, FORWARD_ID_TOKEN_HEADER, FORWARD_ACCESS_TOKEN_HEADER, and Cookie without the judge's cookies), one per line, lower case. */}}
{{- define "oidc-judge.upstreamHeaders" -}}
{{- $c := .Values.config -}}
{{- $out := list (lower (default "kubeflow-userid" (index $c "USERID_HEADER"))) (lower (default "kubeflow-groups" (index $c "GROUPS_HEADER"))) (lower (default "Auth-Method" (index $c "AUTH_METHOD_HEADER"))) -}}
{{- $claims := index $c "CLAIM_HEADERS" -}}
{{- if kindIs "string" $claims -}}
{{- $claims = splitList "," $claims -}}
{{- end -}}
{{- if kindIs "map" $claims -}}
{{- range $header, $claim := $claims -}}
{{- $out = append $out (lower $header) -}}
{{- end -}}
{{- else if kindIs "slice" $claims -}}
{{- range $claims -}}
{{- if trim . -}}
{{- $out = append $out (lower (trim (last (splitList ":" .)))) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- with index $c "USERID_TOKEN_HEADER" -}}
{{- $out = append $out (lower .) -}}
{{- end -}}
{{- $presets := default (list) (index $c "HEADER_PRESET") -}}
{{- if kindIs "string" $presets -}}
{{- $presets = splitList "," $presets -}}
{{- end -}}
{{- range $presets -}}
{{- if eq (trim .) "oauth2-proxy" -}}
{{- $out = append (append (append (append $out "x-auth-request-user") "x-auth-request-groups") "x-auth-request-email") "x-auth-request-preferred-username" -}}
{{- else if eq (trim .) "authelia" -}}
{{- $out = append (append (append (append $out "remote-user") "remote-groups") "remote-name") "remote-email" -}}
{{- end -}}
{{- end -}}
{{- range $k := list "FORWARD_ID_TOKEN_HEADER" "FORWARD_ACCESS_TOKEN_HEADER" -}}
{{- with index $c $k -}}
{{- $out = append $out (lower (trim .)) -}}
{{- end -}}
{{- end -}}
{{- $out = append $out "cookie" -}}
{{- join "\n" (uniq $out) -}}
{{- end -}}

{{/* Prefixes of the judge's strip list, both spellings: the HTTP check must carry them for the judge to name them for removal. */}}
{{- define "oidc-judge.checkPrefixes" -}}
{{- join "\n" (list "x-auth-request-" "x_auth_request_" "x-forwarded-" "x_forwarded_" "x-original-" "x_original_") -}}
{{- end -}}

{{/* Request headers the HTTP check must carry (see istio/mesh-config.yaml). */}}
{{- define "oidc-judge.checkHeaders" -}}
{{- $c := .Values.config -}}
{{- $out := list "authorization" "cookie" "origin" "sec-fetch-site" "sec-fetch-mode" "accept" "x-requested-with" "access-control-request-method" "x-http-method-override" "x-http-method" "x-method-override" "x-request-id" "x-forwarded-proto" "x-forwarded-for" -}}
{{- $out = append $out (lower (default "Authorization" (index $c "AUTH_HEADER"))) -}}
{{- $out = append $out (lower (default "Authorization" (index $c "ID_TOKEN_HEADER"))) -}}
{{- join "\n" (uniq $out) -}}
{{- end -}}

{{/* Response headers of the judge's denials the client must get. */}}
{{- define "oidc-judge.denyHeaders" -}}
{{- join "\n" (list "location" "set-cookie" "www-authenticate" "retry-after" "content-type" "cache-control") -}}
{{- end -}}

{{/* ASSERTION_PUBLISHED_KEY_FILES: the published-only keys of assertionKeys.existingSecret, as mounted paths. */}}
{{- define "oidc-judge.assertionPublishedKeys" -}}
{{- $mount := trimSuffix "/" .Values.assertionKeys.mountPath -}}
{{- $paths := list -}}
{{- range .Values.assertionKeys.publishedKeys -}}
{{- $paths = append $paths (printf "%s/%s" $mount .) -}}
{{- end -}}
{{- join "," $paths -}}
{{- end -}}
