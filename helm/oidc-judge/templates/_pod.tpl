{{/* The pod template shared by the Deployment (redis store) and the StatefulSet (sqlite store). */}}
{{- define "oidc-judge.podTemplate" -}}
metadata:
  labels:
    {{- include "oidc-judge.selectorLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    {{- if not .Values.secret.existingSecret }}
    checksum/secret: {{ toJson .Values.secret.values | sha256sum }}
    {{- end }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "oidc-judge.serviceAccountName" . }}
  automountServiceAccountToken: {{ include "oidc-judge.usesApi" . }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . | quote }}
  {{- end }}
  terminationGracePeriodSeconds: {{ int64 .Values.terminationGracePeriodSeconds }}
  containers:
    - name: oidc-judge
      image: {{ include "oidc-judge.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - serve
      ports:
        - name: http-judge
          containerPort: {{ int64 .Values.ports.http }}
          protocol: TCP
        - name: grpc-judge
          containerPort: {{ int64 .Values.ports.grpc }}
          protocol: TCP
        - name: http-web
          containerPort: {{ int64 .Values.ports.web }}
          protocol: TCP
        - name: http-health
          containerPort: {{ int64 .Values.ports.health }}
          protocol: TCP
      env:
        - name: OIDC_PROVIDER
          value: {{ required "config.OIDC_PROVIDER is required: the OpenID Provider's issuer URL" .Values.config.OIDC_PROVIDER | quote }}
        {{- if .Values.config.CLIENT_ID }}
        - name: CLIENT_ID
          value: {{ .Values.config.CLIENT_ID | quote }}
        {{- else if not .Values.secret.existingSecret }}
        {{- fail "config.CLIENT_ID is required (or keep CLIENT_ID in secret.existingSecret)" }}
        {{- end }}
        - name: SESSION_STORE_TYPE
          value: {{ .Values.store.type | quote }}
        {{- if eq .Values.store.type "sqlite" }}
        - name: SESSION_STORE_PATH
          value: {{ printf "%s/data.db" (trimSuffix "/" .Values.store.sqlite.mountPath) | quote }}
        {{- else }}
        - name: SESSION_STORE_REDIS_ADDR
          value: {{ required "config.SESSION_STORE_REDIS_ADDR is required with store.type=redis" .Values.config.SESSION_STORE_REDIS_ADDR | quote }}
        {{- end }}
        - name: SERVER_PORT
          value: {{ int64 .Values.ports.http | quote }}
        - name: GRPC_PORT
          value: {{ int64 .Values.ports.grpc | quote }}
        - name: WEB_SERVER_PORT
          value: {{ int64 .Values.ports.web | quote }}
        - name: READINESS_PROBE_PORT
          value: {{ int64 .Values.ports.health | quote }}
        {{- if .Values.assertionKeys.existingSecret }}
        {{- if or .Values.config.ASSERTION_KEY_FILE .Values.config.ASSERTION_PUBLISHED_KEY_FILES }}
        {{- fail "assertion keys: set assertionKeys.existingSecret or config.ASSERTION_KEY_FILE, not both" }}
        {{- end }}
        - name: ASSERTION_KEY_FILE
          value: {{ printf "%s/%s" (trimSuffix "/" .Values.assertionKeys.mountPath) .Values.assertionKeys.signingKey | quote }}
        {{- if .Values.assertionKeys.publishedKeys }}
        - name: ASSERTION_PUBLISHED_KEY_FILES
          value: {{ include "oidc-judge.assertionPublishedKeys" . | quote }}
        {{- end }}
        {{- end }}
        {{- range $name, $value := .Values.config }}
        {{- if and (not (has $name (list "OIDC_PROVIDER" "CLIENT_ID" "SESSION_STORE_REDIS_ADDR"))) (not (kindIs "invalid" $value)) }}
        - name: {{ $name }}
          value: {{ include "oidc-judge.envValue" $value | quote }}
        {{- end }}
        {{- end }}
        {{- with .Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      envFrom:
        - secretRef:
            name: {{ include "oidc-judge.secretName" . }}
      startupProbe:
        httpGet:
          path: /healthz
          port: http-health
        periodSeconds: 2
        failureThreshold: 30
      livenessProbe:
        httpGet:
          path: /healthz
          port: http-health
        periodSeconds: 10
        failureThreshold: 3
      readinessProbe:
        httpGet:
          path: /readyz
          port: http-health
        periodSeconds: 5
        failureThreshold: 2
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if eq .Values.store.type "sqlite" }}
        - name: data
          mountPath: {{ .Values.store.sqlite.mountPath }}
        {{- end }}
        {{- if .Values.assertionKeys.existingSecret }}
        - name: assertion-keys
          mountPath: {{ .Values.assertionKeys.mountPath }}
          readOnly: true
        {{- end }}
        {{- with .Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir: {}
    {{- with .Values.assertionKeys.existingSecret }}
    - name: assertion-keys
      secret:
        secretName: {{ . | quote }}
        defaultMode: 288
    {{- end }}
    {{- if and (eq .Values.store.type "sqlite") (not .Values.store.sqlite.persistence.enabled) }}
    - name: data
      emptyDir: {}
    {{- end }}
    {{- with .Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
