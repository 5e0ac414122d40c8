{#- Named helpers of the workloads (environment, pods, URLs, secrets).
    Each takes `ctx` (Helm's `.`). Names, labels and ServiceAccounts are
    in _names.tpl and _accounts.tpl, imported here so `h.fullname` and the
    like still work for templates that import this file. -#}
{%- from "_names.tpl" import name, fullname, chart, image_tag, selector_labels, labels, component_labels, component_selector, temporal_fullname -%}
{%- from "_accounts.tpl" import service_account_name, executor_service_account_name, litellm_service_account_name, agent_executor_service_account_name -%}

{#- ===================== secrets ===================== -#}

{%- macro core_secret_name(ctx) -%}
{%- set eso = ctx.Values.externalSecrets -%}
{%- set create = ctx.Values.secrets.create.tracecat -%}
{%- if eso.enabled and eso.coreSecrets.enabled and eso.coreSecrets.secretArn -%}
{{ eso.coreSecrets.targetSecretName | go_value }}
{%- elif ctx.Values.secrets.existingSecret -%}
{{ ctx.Values.secrets.existingSecret }}
{%- elif create.enabled -%}
{{ required("secrets.create.tracecat.name is required when tracecat secret template is enabled", create.name) }}
{%- else -%}
{{ fail("Either secrets.existingSecret, secrets.create.tracecat.enabled, or externalSecrets.coreSecrets (with secretArn) must be configured") }}
{%- endif -%}
{%- endmacro -%}

{%- macro postgres_secret_name(ctx) -%}
{%- set eso = ctx.Values.externalSecrets -%}
{%- if eso.enabled and eso.postgres.enabled and eso.postgres.secretArn -%}
{{ eso.postgres.targetSecretName | go_value }}
{%- elif ctx.Values.externalPostgres.auth.existingSecret -%}
{{ ctx.Values.externalPostgres.auth.existingSecret }}
{%- elif ctx.Values.secrets.create.postgres.enabled -%}
{{ required("secrets.create.postgres.name is required when postgres secret template is enabled", ctx.Values.secrets.create.postgres.name) }}
{%- endif -%}
{%- endmacro -%}

{%- macro redis_secret_name(ctx) -%}
{%- set eso = ctx.Values.externalSecrets -%}
{%- if eso.enabled and eso.redis.enabled and eso.redis.secretArn -%}
{{ eso.redis.targetSecretName | go_value }}
{%- elif ctx.Values.externalRedis.auth.existingSecret -%}
{{ ctx.Values.externalRedis.auth.existingSecret }}
{%- elif ctx.Values.secrets.create.redis.enabled -%}
{{ required("secrets.create.redis.name is required when redis secret template is enabled", ctx.Values.secrets.create.redis.name) }}
{%- endif -%}
{%- endmacro -%}

{%- macro temporal_secret_name(ctx) -%}
{%- set eso = ctx.Values.externalSecrets -%}
{%- if eso.enabled and eso.temporal.enabled and eso.temporal.secretArn -%}
{{ eso.temporal.targetSecretName | go_value }}
{%- elif ctx.Values.externalTemporal.auth.existingSecret -%}
{{ ctx.Values.externalTemporal.auth.existingSecret }}
{%- endif -%}
{%- endmacro -%}

{#- ===================== URLs ===================== -#}

{%- macro url_scheme(ctx) -%}
{{ "https" if ctx.Values.ingress.tls else "http" }}
{%- endmacro -%}

{%- macro public_app_url(ctx) -%}
{{ ctx.Values.urls.publicApp or printf("%s://%s", url_scheme(ctx), ctx.Values.ingress.host) }}
{%- endmacro -%}

{%- macro public_api_url(ctx) -%}
{{ ctx.Values.urls.publicApi or printf("%s://%s/api", url_scheme(ctx), ctx.Values.ingress.host) }}
{%- endmacro -%}

{%- macro public_mcp_url(ctx) -%}
{{ ctx.Values.urls.publicMcp or printf("%s://%s", url_scheme(ctx), ctx.Values.ingress.host) }}
{%- endmacro -%}

{%- macro litellm_url(ctx) -%}
http://{{ fullname(ctx) }}-litellm:{{ ctx.Values.litellm.port | toString }}
{%- endmacro -%}

{%- macro internal_api_url(ctx) -%}
http://{{ fullname(ctx) }}-api:8000
{%- endmacro -%}

{#- ===================== Temporal ===================== -#}

{%- macro temporal_cluster_url(ctx) -%}
{%- if ctx.Values.temporal.enabled -%}
{%- set port = ctx.Values.temporal.server.frontend.service.port -%}
{{ temporal_fullname(ctx) }}-frontend:{{ port if port is defined else 7233 }}
{%- elif ctx.Values.externalTemporal.enabled -%}
{{ required("externalTemporal.clusterUrl is required when using external Temporal", ctx.Values.externalTemporal.clusterUrl) }}
{%- else -%}
{{ fail("Either temporal.enabled or externalTemporal.enabled must be true") }}
{%- endif -%}
{%- endmacro -%}

{%- macro temporal_namespace(ctx) -%}
{%- if ctx.Values.temporal.enabled -%}
{%- set nss = ctx.Values.temporal.server.config.namespaces.namespace -%}
{%- if nss -%}
{{ nss[0].name | default("default") }}
{%- else -%}
default
{%- endif -%}
{%- elif ctx.Values.externalTemporal.enabled -%}
{{ ctx.Values.externalTemporal.clusterNamespace | default("default") }}
{%- else -%}
default
{%- endif -%}
{%- endmacro -%}

{%- macro temporal_retention(ctx) -%}
{%- set nss = ctx.Values.temporal.server.config.namespaces.namespace if ctx.Values.temporal.enabled else none -%}
{%- if nss -%}
{{ nss[0].retention | default("720h") }}
{%- else -%}
720h
{%- endif -%}
{%- endmacro -%}

{%- macro temporal_queue(ctx) -%}
{%- if ctx.Values.externalTemporal.enabled -%}
{{ ctx.Values.externalTemporal.clusterQueue | default("tracecat-task-queue") }}
{%- elif ctx.Values.temporal.enabled -%}
{{ ctx.Values.temporal.clusterQueue | default("tracecat-task-queue") }}
{%- else -%}
tracecat-task-queue
{%- endif -%}
{%- endmacro -%}

{#- ===================== scheduling ===================== -#}

{#- Pod placement for one component: nodeSelector (architecture merged in,
    an explicit kubernetes.io/arch wins), affinity, tolerations, and
    topology spread constraints with the component's selector labels. -#}
{%- macro pod_scheduling(ctx, component) -%}
{%- set s = ctx.Values.scheduling -%}
{%- if s -%}
{%- set arch = {"kubernetes.io/arch": s.architecture} if s.architecture else {} -%}
{%- set node_selector = merge(s.nodeSelector or {}, arch) -%}
{%- if node_selector %}
nodeSelector:
  {{- node_selector | toYaml | nindent(2) }}
{%- endif %}
{%- if s.affinity %}
affinity:
  {{- s.affinity | toYaml | nindent(2) }}
{%- endif %}
{%- if s.tolerations %}
tolerations:
  {{- s.tolerations | toYaml | nindent(2) }}
{%- endif %}
{%- if s.topologySpreadConstraints %}
{#- Only the fields the reference writes, each constraint selecting its component's pods. #}
topologySpreadConstraints:
{%- for item in s.topologySpreadConstraints | go_each %}
  {%- set c = item | go_fields("maxSkew") %}
  - maxSkew: {{ c.maxSkew | default(1) }}
    topologyKey: {{ c.topologyKey | quote }}
    whenUnsatisfiable: {{ c.whenUnsatisfiable | default("ScheduleAnyway") }}
    {%- if c.minDomains %}
    minDomains: {{ c.minDomains }}
    {%- endif %}
    labelSelector:
      matchLabels:
        app.kubernetes.io/name: {{ name(ctx) }}
        app.kubernetes.io/instance: {{ ctx.Release.Name }}
        app.kubernetes.io/component: {{ component }}
{%- endfor %}
{%- endif %}
{%- endif -%}
{%- endmacro -%}

{#- Pod annotations: reloader, optional Prometheus scrape, then the user's. -#}
{%- macro pod_annotations(ctx, scrape) -%}
{%- set m = ctx.Values.tracecat.temporal.metrics -%}
{%- set scrape_on = scrape and m.enabled and m.scrape -%}
{%- if ctx.Values.reloader.enabled or scrape_on or ctx.Values.podAnnotations %}
annotations:
  {%- if ctx.Values.reloader.enabled %}
  reloader.stakater.com/auto: "true"
  {%- endif %}
  {%- if scrape_on %}
  prometheus.io/scrape: "true"
  prometheus.io/port: {{ m.port | quote }}
  prometheus.io/path: {{ m.path | default("/metrics") | quote }}
  {%- endif %}
  {%- if ctx.Values.podAnnotations %}
  {{- ctx.Values.podAnnotations | toYaml | nindent(2) }}
  {%- endif %}
{%- endif %}
{%- endmacro -%}

{#- ===================== environment ===================== -#}

{%- macro feature_flags(ctx) -%}
{{ [ctx.Values.tracecat.featureFlags, ctx.Values.enterprise.featureFlags] | select | join(",") }}
{%- endmacro -%}

{%- macro env_common(ctx) -%}
{%- if ctx.Values.tracecat.logLevel %}
- name: LOG_LEVEL
  value: {{ ctx.Values.tracecat.logLevel | quote }}
{%- endif %}
- name: TRACECAT__APP_ENV
  value: {{ ctx.Values.tracecat.appEnv | quote }}
{%- if ctx.Values.tracecat.aws.assumeRoleAccountId %}
- name: TRACECAT__AWS_ASSUME_ROLE_ACCOUNT_ID
  value: {{ ctx.Values.tracecat.aws.assumeRoleAccountId | quote }}
{%- endif %}
{%- if ctx.Values.tracecat.aws.assumeRolePrincipalArn %}
- name: TRACECAT__AWS_ASSUME_ROLE_PRINCIPAL_ARN
  value: {{ ctx.Values.tracecat.aws.assumeRolePrincipalArn | quote }}
{%- endif %}
- name: TRACECAT__FEATURE_FLAGS
  value: {{ feature_flags(ctx) | quote }}
- name: TRACECAT__EE_MULTI_TENANT
  value: {{ ctx.Values.enterprise.multiTenant | quote }}
{%- endmacro -%}

{%- macro env_temporal(ctx) -%}
- name: TEMPORAL__CLUSTER_URL
  value: {{ temporal_cluster_url(ctx) | quote }}
- name: TEMPORAL__CLUSTER_NAMESPACE
  value: {{ temporal_namespace(ctx) | quote }}
- name: TEMPORAL__CLUSTER_QUEUE
  value: {{ temporal_queue(ctx) | quote }}
{%- if ctx.Values.externalTemporal.enabled %}
{#- The API key comes from the named Secret only (an External Secrets
    target is for the KEDA trigger), as in the reference chart. -#}
{%- set tsecret = ctx.Values.externalTemporal.auth.existingSecret %}
{%- if ctx.Values.externalTemporal.auth.secretArn %}
- name: TEMPORAL__API_KEY__ARN
  value: {{ ctx.Values.externalTemporal.auth.secretArn | quote }}
{%- elif tsecret %}
- name: TEMPORAL__API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ tsecret }}
      key: apiKey
{%- endif %}
{%- endif %}
{%- endmacro -%}

{#- Temporal SDK metrics, for the processes that connect to Temporal. -#}
{%- macro env_metrics(ctx) -%}
{%- if ctx.Values.tracecat.temporal.metrics.enabled %}
- name: TEMPORAL__METRICS_PORT
  value: {{ ctx.Values.tracecat.temporal.metrics.port | quote }}
{%- endif %}
{%- endmacro -%}

{%- macro env_blob_storage(ctx) -%}
{%- set b = ctx.Values.tracecat.blobStorage -%}
{%- set s3 = ctx.Values.externalS3 -%}
{#- As the reference's included helper prints it: a missing S3 endpoint
    is `<no value>`, which still counts as set (Helm then blanks it). -#}
{%- set endpoint = (b.endpoint if b.endpoint else s3.endpoint) | go_value -%}
{%- if endpoint %}
- name: TRACECAT__BLOB_STORAGE_ENDPOINT
  value: {{ endpoint | quote }}
{%- endif %}
{%- if b.buckets.attachments %}
- name: TRACECAT__BLOB_STORAGE_BUCKET_ATTACHMENTS
  value: {{ b.buckets.attachments | quote }}
{%- endif %}
{%- if b.buckets.registry %}
- name: TRACECAT__BLOB_STORAGE_BUCKET_REGISTRY
  value: {{ b.buckets.registry | quote }}
{%- endif %}
{%- if b.buckets.workflow %}
- name: TRACECAT__BLOB_STORAGE_BUCKET_WORKFLOW
  value: {{ b.buckets.workflow | quote }}
{%- endif %}
{%- if s3.region %}
- name: AWS_REGION
  value: {{ s3.region | quote }}
- name: AWS_DEFAULT_REGION
  value: {{ s3.region | quote }}
{%- endif %}
{%- if s3.auth.existingSecret %}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ s3.auth.existingSecret }}
      key: accessKeyId
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ s3.auth.existingSecret }}
      key: secretAccessKey
{%- endif %}
{%- endmacro -%}

{%- macro env_postgres(ctx) -%}
{%- set pg = ctx.Values.externalPostgres -%}
{%- set host = required("externalPostgres.host is required", pg.host) -%}
{%- set secret = postgres_secret_name(ctx) -%}
{%- if not (secret or pg.auth.secretArn) -%}
{{ fail("externalPostgres.auth.existingSecret, externalPostgres.auth.secretArn, or secrets.create.postgres.enabled is required") }}
{%- endif -%}
{#- With a secret ARN the user is the one named, else the secret's. -#}
{%- if pg.auth.secretArn %}
{%- if pg.auth.username %}
- name: TRACECAT__DB_USER
  value: {{ pg.auth.username | quote }}
{%- elif secret %}
- name: TRACECAT__DB_USER
  valueFrom:
    secretKeyRef:
      name: {{ secret }}
      key: username
{%- endif %}
- name: TRACECAT__DB_PASS__ARN
  value: {{ pg.auth.secretArn | quote }}
{%- endif %}
{%- if secret %}
{%- if not pg.auth.secretArn %}
- name: TRACECAT__DB_USER
  valueFrom:
    secretKeyRef:
      name: {{ secret }}
      key: username
{%- endif %}
- name: TRACECAT__DB_PASS
  valueFrom:
    secretKeyRef:
      name: {{ secret }}
      key: password
{%- endif %}
- name: TRACECAT__DB_ENDPOINT
  value: {{ host | quote }}
- name: TRACECAT__DB_PORT
  value: {{ pg.port | default(5432) | quote }}
- name: TRACECAT__DB_NAME
  value: {{ pg.database | default("tracecat") | quote }}
- name: TRACECAT__DB_SSLMODE
  value: {{ pg.sslMode | default("prefer") | quote }}
{%- endmacro -%}

{%- macro env_redis(ctx) -%}
{%- set secret = redis_secret_name(ctx) -%}
{%- if ctx.Values.externalRedis.auth.secretArn %}
- name: REDIS_URL__ARN
  value: {{ ctx.Values.externalRedis.auth.secretArn | quote }}
{%- elif secret %}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ secret }}
      key: url
{%- else -%}
{{ fail("externalRedis.auth.existingSecret, externalRedis.auth.secretArn, or secrets.create.redis.enabled is required") }}
{%- endif %}
{%- endmacro -%}

{%- macro env_oidc(ctx) -%}
{%- set o = ctx.Values.tracecat.oidc -%}
{%- if o.issuer %}
- name: OIDC_ISSUER
  value: {{ o.issuer | quote }}
{%- endif %}
{%- if o.clientId %}
- name: OIDC_CLIENT_ID
  value: {{ o.clientId | quote }}
{%- endif %}
{%- if o.clientSecret %}
- name: OIDC_CLIENT_SECRET
  value: {{ o.clientSecret | quote }}
{%- endif %}
{%- if o.scopes %}
- name: OIDC_SCOPES
  value: {{ o.scopes | quote }}
{%- endif %}
{%- endmacro -%}

{#- Core secrets every backend process reads. -#}
{%- macro env_secrets(ctx) -%}
{%- set secret = core_secret_name(ctx) %}
- name: TRACECAT__DB_ENCRYPTION_KEY
  valueFrom:
    secretKeyRef:
      name: {{ secret }}
      key: dbEncryptionKey
- name: TRACECAT__SERVICE_KEY
  valueFrom:
    secretKeyRef:
      name: {{ secret }}
      key: serviceKey
- name: TRACECAT__SIGNING_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ secret }}
      key: signingSecret
{%- endmacro -%}

{#- The shared backend block: common, Temporal, blob storage, Postgres, Redis. -#}
{%- macro env_backend(ctx) -%}
{{ env_common(ctx) | block(0) }}
{{- env_temporal(ctx) | block(0) }}
{{- env_blob_storage(ctx) | block(0) }}
{{- env_postgres(ctx) | block(0) }}
{{- env_redis(ctx) | block(0) }}
{%- endmacro -%}

{#- The wait-for-Temporal init container of the workers. -#}
{%- macro wait_for_temporal(ctx, what) -%}
- name: wait-for-temporal-setup
  image: temporalio/admin-tools:1.29.1-tctl-1.18.4-cli-1.5.0
  command: ["/bin/sh", "-c"]
  args:
    - |
      echo "Waiting for Temporal setup to complete..."
      MAX_RETRIES=60
      RETRY_COUNT=0

      until temporal operator namespace describe "$TEMPORAL_NAMESPACE" 2>/dev/null; do
        RETRY_COUNT=$((RETRY_COUNT + 1))
        if [ $RETRY_COUNT -ge $MAX_RETRIES ]; then
          echo "Temporal namespace not ready after $MAX_RETRIES retries"
          exit 1
        fi
        echo "Attempt $RETRY_COUNT/$MAX_RETRIES - Namespace not ready, waiting..."
        sleep 5
      done

      echo "Temporal namespace exists, checking search attributes..."
      RETRY_COUNT=0
      while true; do
        EXISTING_ATTRS=$(temporal operator search-attribute list 2>/dev/null || echo "")
        MISSING_ATTRS=0
        {%- for attr, _ in ctx.Values.tracecat.temporal.searchAttributes | go_range %}
        if ! echo "$EXISTING_ATTRS" | grep -q "{{ attr }}"; then
          MISSING_ATTRS=1
        fi
        {%- endfor %}
        if [ $MISSING_ATTRS -eq 0 ]; then
          break
        fi
        RETRY_COUNT=$((RETRY_COUNT + 1))
        if [ $RETRY_COUNT -ge $MAX_RETRIES ]; then
          echo "Search attributes not ready after retries"
          exit 1
        fi
        echo "Search attributes not ready, waiting..."
        sleep 5
      done

      echo "Temporal setup complete, starting {{ what }}..."
  env:
    - name: TEMPORAL_ADDRESS
      value: {{ temporal_cluster_url(ctx) | quote }}
    - name: TEMPORAL_NAMESPACE
      value: {{ temporal_namespace(ctx) | quote }}
{%- endmacro -%}

{#- Security context of the nsjail sandbox (executors). -#}
{%- macro nsjail_security_context(ctx) -%}
{%- if not ctx.Values.tracecat.sandbox.disableNsjail %}
securityContext:
  privileged: true
  capabilities:
    add:
      - SYS_ADMIN
  seccompProfile:
    type: Unconfined
{%- endif %}
{%- endmacro -%}

{%- macro metrics_port(ctx) -%}
{%- if ctx.Values.tracecat.temporal.metrics.enabled %}
ports:
  - name: metrics
    containerPort: {{ ctx.Values.tracecat.temporal.metrics.port }}
    protocol: TCP
{%- endif %}
{%- endmacro -%}

{%- macro sandbox_env(ctx) -%}
- name: TRACECAT__DISABLE_NSJAIL
  value: {{ ctx.Values.tracecat.sandbox.disableNsjail | quote }}
- name: TRACECAT__SANDBOX_NSJAIL_PATH
  value: "/usr/local/bin/nsjail"
- name: TRACECAT__SANDBOX_ROOTFS_PATH
  value: "/var/lib/tracecat/sandbox-rootfs"
- name: TRACECAT__SANDBOX_CACHE_DIR
  value: "/var/lib/tracecat/sandbox-cache"
- name: TRACECAT__UNSAFE_DISABLE_SM_MASKING
  value: "false"
{%- endmacro -%}

{%- macro compression_env(cfg) -%}
- name: TRACECAT__CONTEXT_COMPRESSION_ENABLED
  value: {{ cfg.enabled | quote }}
- name: TRACECAT__CONTEXT_COMPRESSION_THRESHOLD_KB
  value: {{ cfg.thresholdKb | quote }}
{%- endmacro -%}

{#- Checks that hold for every install, run by the API Deployment. -#}
{%- macro validate(ctx) -%}
{%- if ctx.Release.IsInstall and not ctx.Values.tracecat.auth.superadminEmail -%}
{{ fail("tracecat.auth.superadminEmail is required on first install") }}
{%- endif -%}
{{- validate_infrastructure(ctx) -}}
{%- endmacro -%}

{#- The bundled Temporal's SQL stores, as the API and MCP Deployments check them. -#}
{%- macro validate_infrastructure(ctx) -%}
{%- if ctx.Values.temporal.enabled -%}
{%- for store in ["default", "visibility"] -%}
{%- set sql = dig("temporal", "server", "config", "persistence", "datastores", store, "sql", none, ctx.Values) -%}
{%- set at = "temporal.server.config.persistence.datastores." ~ store ~ ".sql" -%}
{%- if not sql -%}
{{ fail(at ~ " is required when temporal.enabled=true") }}
{%- elif dig("pluginName", "", sql) not in ["postgres12", "postgres12_pgx"] -%}
{{ fail(at ~ ".pluginName must be postgres12 or postgres12_pgx") }}
{%- elif not dig("connectAddr", "", sql) -%}
{{ fail(at ~ ".connectAddr is required when temporal.enabled=true") }}
{%- elif not dig("databaseName", "", sql) -%}
{{ fail(at ~ ".databaseName is required when temporal.enabled=true") }}
{%- elif not dig("user", "", sql) -%}
{{ fail(at ~ ".user is required when temporal.enabled=true") }}
{%- elif not (dig("existingSecret", "", sql) or dig("password", "", sql)) -%}
{{ fail(at ~ ".existingSecret (or sql.password) is required when temporal.enabled=true") }}
{%- endif -%}
{%- endfor -%}
{%- endif -%}
{%- endmacro -%}
