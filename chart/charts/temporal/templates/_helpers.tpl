{#- Helpers of the Temporal subchart. Each takes `ctx` (Helm's `.`). -#}

{%- macro name(ctx) -%}
{{ ctx.Values.nameOverride | default(ctx.Chart.Name) | trunc(63) | trimSuffix("-") }}
{%- endmacro -%}

{%- macro fullname(ctx) -%}
{%- if ctx.Values.fullnameOverride -%}
{{ ctx.Values.fullnameOverride | trunc(63) | trimSuffix("-") }}
{%- else -%}
{%- set n = ctx.Values.nameOverride | default(ctx.Chart.Name) -%}
{%- if contains(ctx.Release.Name, n) -%}
{{ ctx.Release.Name | trunc(63) | trimSuffix("-") }}
{%- else -%}
{{ (ctx.Release.Name ~ "-" ~ n) | trunc(63) | trimSuffix("-") }}
{%- endif -%}
{%- endif -%}
{%- endmacro -%}

{#- The full name cut so that "-COMPONENT" still fits in 63 characters. -#}
{%- macro componentname(ctx, component) -%}
{%- set c = component | trimPrefix("-") -%}
{{ ((fullname(ctx) | trunc(62 - (c | length)) | trimSuffix("-")) ~ "-" ~ c) | trimSuffix("-") }}
{%- endmacro -%}

{%- macro chart(ctx) -%}
{{ (ctx.Chart.Name ~ "-" ~ ctx.Chart.Version) | replace("+", "_") | trunc(63) | trimSuffix("-") }}
{%- endmacro -%}

{%- macro app_version(ctx) -%}
{%- if ctx.Chart.AppVersion -%}
{{ ctx.Chart.AppVersion | replace("+", "_") | quote }}
{%- else -%}
{{ chart(ctx) }}
{%- endif -%}
{%- endmacro -%}

{#- Settings of a resource type (deployment, pod, ...) live on the component
    (server, admintools, web) and, for server services, on the service too;
    the service's win. `suffix` is "Annotations" or "Labels". -#}
{%- macro scoped(ctx, scope, rtype, suffix) -%}
{%- set component = scope if scope in ["admintools", "web"] else "server" -%}
{%- set cv = ctx.Values[component] -%}
{%- if rtype -%}
{%- set key = rtype ~ suffix -%}
{%- set own = cv[scope][key] if hasKey(cv, scope) else {} -%}
{%- for k, v in merge(own, cv[key]) | items %}
{{ k }}: {{ v | quote }}
{%- endfor -%}
{%- endif -%}
{%- for k, v in ctx.Values["additional" ~ suffix] | go_range %}
{{ k }}: {{ v | quote }}
{%- endfor -%}
{%- endmacro -%}

{%- macro resource_annotations(ctx, scope, rtype) -%}
{{ scoped(ctx, scope, rtype, "Annotations") }}
{%- endmacro -%}

{%- macro resource_labels(ctx, scope, rtype) -%}
{%- if scope -%}
app.kubernetes.io/component: {{ scope }}
{% endif -%}
app.kubernetes.io/name: {{ name(ctx) }}
helm.sh/chart: {{ chart(ctx) }}
app.kubernetes.io/managed-by: {{ ctx.Release.Service }}
app.kubernetes.io/instance: {{ ctx.Release.Name }}
app.kubernetes.io/version: {{ app_version(ctx) }}
app.kubernetes.io/part-of: {{ ctx.Chart.Name }}
{{- scoped(ctx, scope, rtype, "Labels") }}
{%- endmacro -%}

{%- macro selector_labels(ctx, component) -%}
app.kubernetes.io/name: {{ name(ctx) }}
app.kubernetes.io/instance: {{ ctx.Release.Name }}
app.kubernetes.io/component: {{ component }}
{%- endmacro -%}

{%- macro service_account_name(ctx) -%}
{%- if ctx.Values.serviceAccount.create -%}
{{ ctx.Values.serviceAccount.name | default(fullname(ctx)) }}
{%- else -%}
{{ ctx.Values.serviceAccount.name | default("default") }}
{%- endif -%}
{%- endmacro -%}

{#- "internalFrontend" in values is "internal-frontend" in object names. -#}
{%- macro service_name(raw) -%}
{{ "internal-frontend" if raw == "internalFrontend" else raw }}
{%- endmacro -%}

{%- macro internal_frontend(ctx) -%}
{{ "1" if hasKey(ctx.Values.server, "internalFrontend") and ctx.Values.server.internalFrontend.enabled else "" }}
{%- endmacro -%}

{#- A service runs unless it says `enabled: false`. -#}
{%- macro service_on(sv) -%}
{{ "1" if not hasKey(sv, "enabled") or sv.enabled else "" }}
{%- endmacro -%}

{#- The store that `kind` ("default" or "visibility") names, as JSON:
    name, driver and the driver's settings, with createDatabase and
    manageSchema on unless set. -#}
{%- macro store(ctx, kind) -%}
{%- set p = ctx.Values.server.config.persistence -%}
{%- set sname = get(p, kind ~ "Store") -%}
{%- set cfg = get(p.datastores, sname) -%}
{%- if hasKey(cfg, "sql") -%}
{%- set driver = "sql" -%}
{%- elif hasKey(cfg, "cassandra") -%}
{%- set driver = "cassandra" -%}
{%- elif hasKey(cfg, "elasticsearch") -%}
{%- set driver = "elasticsearch" -%}
{%- else -%}
{{ fail("No valid driver configured for " ~ sname ~ " store") }}
{%- endif -%}
{%- set sc = cfg[driver] -%}
{#- The reference sets defaults into the driver's table: a null one fails. -#}
{%- if sc is none -%}
{{ fail("error calling set: assignment to entry in nil map (datastores." ~ sname ~ "." ~ driver ~ " is null)") }}
{%- endif -%}
{%- if driver != "elasticsearch" and not hasKey(sc, "createDatabase") -%}
{%- set sc = merge(sc, {"createDatabase": true}) -%}
{%- endif -%}
{%- if not hasKey(sc, "manageSchema") -%}
{%- set sc = merge(sc, {"manageSchema": true}) -%}
{%- endif -%}
{{ dict("name", sname, "driver", driver, "config", sc) | toJson }}
{%- endmacro -%}

{#- Both stores, in Helm's (sorted) order. -#}
{%- macro stores(ctx) -%}
{{ [store(ctx, "default") | fromJson, store(ctx, "visibility") | fromJson] | toJson }}
{%- endmacro -%}

{#- The persistence section of the server config: passwords become
    environment look-ups, settings only the chart reads are dropped. -#}
{%- macro persistence_config(p) -%}
{%- set out = namespace(ds={}) -%}
{%- for dname, ds in (p.datastores or {}) | items -%}
{%- set d = namespace(v=ds) -%}
{%- for st in ["sql", "cassandra", "elasticsearch"] -%}
{%- if hasKey(d.v, st) -%}
{%- set sc = d.v[st] -%}
{%- if hasKey(sc, "password") -%}
{%- if dname == p.defaultStore -%}
{%- set sc = mergeOverwrite(omit(sc, "password"), {"password": "__ENV_TEMPORAL_DEFAULT_STORE_PASSWORD__"}) -%}
{%- elif dname == p.visibilityStore -%}
{%- set sc = mergeOverwrite(omit(sc, "password"), {"password": "__ENV_TEMPORAL_VISIBILITY_STORE_PASSWORD__"}) -%}
{%- else -%}
{%- set sc = omit(sc, "password") -%}
{%- endif -%}
{%- endif -%}
{%- set d.v = mergeOverwrite(omit(d.v, st), dict(st, omit(sc, "existingSecret", "secretKey", "createDatabase", "manageSchema"))) -%}
{%- endif -%}
{%- endfor -%}
{%- set out.ds = mergeOverwrite(out.ds, dict(dname, d.v)) -%}
{%- endfor -%}
{{ regexReplaceAll("__ENV_(TEMPORAL_.+)__", mergeOverwrite(omit(p, "datastores"), {"datastores": out.ds}) | toYaml, '{{ env "$1" | quote }}') }}
{%- endmacro -%}

{#- The secretKeyRef of a store's password. -#}
{%- macro password_env(ctx, s) -%}
valueFrom:
  secretKeyRef:
    name: {{ s.config.existingSecret | default(componentname(ctx, s.name ~ "-store")) }}
    key: {{ s.config.secretKey | default("password") }}
{%- endmacro -%}

{%- macro store_secret_name(ctx, s) -%}
{{ s.config.existingSecret if s.config.existingSecret else componentname(ctx, s.name ~ "-store") }}
{%- endmacro -%}

{#- The admin tools' environment for reaching a store. -#}
{%- macro admintools_env(ctx, s) -%}
{%- set c = s.config -%}
{%- if s.driver == "cassandra" -%}
- name: CASSANDRA_HOST
  value: {{ required("Please specify hosts for " ~ s.name ~ " store", c.hosts) | splitList(",") | first }}
- name: CASSANDRA_PORT
  value: {{ c.port | quote }}
- name: CASSANDRA_KEYSPACE
  value: {{ required("Please specify keyspace for " ~ s.name ~ " store", c.keyspace) }}
- name: CASSANDRA_USER
  value: {{ c.user }}
- name: CASSANDRA_PASSWORD
  {{- password_env(ctx, s) | nindent(2) }}
{%- if c.tls %}
- name: CASSANDRA_ENABLE_TLS
  value: {{ c.tls.enabled | quote }}
{%- if c.tls.caFile %}
- name: CASSANDRA_TLS_CA
  value: {{ c.tls.caFile }}
{%- endif %}
{%- if hasKey(c.tls, "enableHostVerification") %}
- name: CASSANDRA_TLS_DISABLE_HOST_VERIFICATION
  value: {{ (not c.tls.enableHostVerification) | quote }}
{%- endif %}
{%- endif %}
{%- elif s.driver == "sql" -%}
- name: SQL_PLUGIN
  value: {{ required("Please specify pluginName for " ~ s.name ~ " store (e.g., mysql8, postgres12, postgres12_pgx)", c.pluginName) }}
- name: SQL_HOST
  value: {{ required("Please specify connectAddr for " ~ s.name ~ " store", c.connectAddr) | splitList(":") | first }}
- name: SQL_PORT
  value: {{ required("Please specify connectAddr for " ~ s.name ~ " store", c.connectAddr) | splitList(":") | last | quote }}
- name: SQL_DATABASE
  value: {{ required("Please specify databaseName for " ~ s.name ~ " store", c.databaseName) }}
- name: SQL_USER
  value: {{ c.user | quote }}
- name: SQL_PASSWORD
  {{- password_env(ctx, s) | nindent(2) }}
{%- if c.connectAttributes %}
- name: SQL_CONNECT_ATTRIBUTES
  {%- set attrs = namespace(l=[]) %}
  {%- for k, v in c.connectAttributes | go_range %}{% set attrs.l = attrs.l + [k ~ "=" ~ (v | toString)] %}{% endfor %}
  value: {{ attrs.l | join("&") | quote }}
{%- endif %}
{%- if c.tls %}
- name: SQL_TLS
  value: {{ c.tls.enabled | quote }}
{%- if c.tls.caFile %}
- name: SQL_TLS_CA_FILE
  value: {{ c.tls.caFile }}
{%- endif %}
{%- if c.tls.certFile and c.tls.keyFile %}
- name: SQL_TLS_CERT_FILE
  value: {{ c.tls.certFile }}
- name: SQL_TLS_KEY_FILE
  value: {{ c.tls.keyFile }}
{%- endif %}
{%- if c.tls.serverName %}
- name: SQL_TLS_SERVER_NAME
  value: {{ c.tls.serverName }}
{%- endif %}
{%- if hasKey(c.tls, "enableHostVerification") %}
- name: SQL_TLS_DISABLE_HOST_VERIFICATION
  value: {{ (not c.tls.enableHostVerification) | quote }}
{%- endif %}
{%- endif %}
{%- elif s.driver == "elasticsearch" -%}
{%- set url = c.urls[0] if hasKey(c, "urls") and c.urls else c.url -%}
- name: ES_SCHEME
  value: {{ url.scheme }}
- name: ES_HOST
  value: {{ url.host | splitList(":") | first }}
- name: ES_PORT
  value: {{ url.host | splitList(":") | last | quote }}
- name: ES_SERVER
  value: {{ urlJoin(url) }}
- name: ES_USER
  value: {{ c.username | quote }}
- name: ES_PWD
  {{- password_env(ctx, s) | nindent(2) }}
- name: ES_VERSION
  value: {{ c.version }}
- name: ES_VISIBILITY_INDEX
  value: {{ c.indices.visibility }}
{%- else -%}
{{ fail("No valid persistence driver configuration found for " ~ s.name ~ " store") }}
{%- endif -%}
{%- endmacro -%}

{#- A value rendered as a template (strings as they are, others as YAML);
    it may `include` these helpers by their Go names. -#}
{%- macro tpl_value(value, ctx) -%}
{%- set helpers = {
  "from": "_helpers.tpl",
  "names": {
    "temporal.name": "name",
    "temporal.fullname": "fullname",
    "temporal.chart": "chart",
    "temporal.appVersion": "app_version",
    "temporal.serviceAccountName": "service_account_name"
  }
} -%}
{{ tpl(value if value is string else value | toYaml, ctx, helpers) }}
{%- endmacro -%}

{#- The Ingress of the frontend or the web UI; each host entry is
    "HOST/PATH". -#}
{%- macro ingress(ctx, component, ing, port) -%}
{%- set caps = ctx.Capabilities.APIVersions -%}
{%- if caps.Has("networking.k8s.io/v1") %}
apiVersion: networking.k8s.io/v1
{%- elif caps.Has("networking.k8s.io/v1beta1") %}
apiVersion: networking.k8s.io/v1beta1
{%- elif caps.Has("extensions/v1beta1") %}
apiVersion: extensions/v1beta1
{%- endif %}
kind: Ingress
metadata:
  name: {{ componentname(ctx, component) }}
  labels:
    {{- resource_labels(ctx, component, "") | nindent(4) }}
{%- if ing.annotations %}
  annotations:
{{ ing.annotations | toYaml | indent(4) }}
{%- endif %}
spec:
  {%- if ing.className %}
  ingressClassName: {{ ing.className | quote }}
  {%- endif %}
  {%- if ing.tls %}
  tls:
    {%- for item in ing.tls | go_each %}
    {%- set tls = item | go_fields("hosts") %}
    - hosts:
      {%- for host in tls.hosts | go_each %}
      - {{ host | quote }}
      {%- endfor %}
      secretName: {{ tls.secretName }}
    {%- endfor %}
  {%- endif %}
  rules:
    {%- for entry in ing.hosts | go_each %}
      {%- set url = entry | splitList("/") %}
      - host: {{ url | first }}
        http:
          paths:
            - path: /{{ url[1:] | join("/") }}
              {%- if caps.Has("networking.k8s.io/v1") %}
              pathType: Prefix
              backend:
                service:
                  name: {{ fullname(ctx) }}-{{ component }}
                  port:
                    number: {{ port }}
              {%- elif caps.Has("networking.k8s.io/v1beta1") %}
              backend:
                serviceName: {{ fullname(ctx) }}-{{ component }}
                servicePort: {{ port }}
              {%- endif %}
    {%- endfor %}
{%- endmacro -%}
