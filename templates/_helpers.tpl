{#- Named helpers shared by every template. Each takes `ctx` (Helm's `.`). -#}

{%- macro name(ctx) -%}
{{ ctx.Values.nameOverride | default(ctx.Chart.Name) | trunc(63) | trimSuffix("-") }}
{%- endmacro -%}

{#- <release>-<name>, or the release alone when it already holds the name. -#}
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

{%- macro chart(ctx) -%}
{{ (ctx.Chart.Name ~ "-" ~ ctx.Chart.Version) | replace("+", "_") | trunc(63) | trimSuffix("-") }}
{%- endmacro -%}

{%- macro selector_labels(ctx) -%}
app.kubernetes.io/name: {{ name(ctx) }}
app.kubernetes.io/instance: {{ ctx.Release.Name }}
{%- endmacro -%}

{%- macro labels(ctx) -%}
helm.sh/chart: {{ chart(ctx) }}
{{ selector_labels(ctx) }}
{%- set version = ctx.Values.image.tag | default(ctx.Chart.AppVersion) %}
{%- if version %}
app.kubernetes.io/version: {{ version | quote }}
{%- endif %}
app.kubernetes.io/managed-by: {{ ctx.Release.Service }}
{%- endmacro -%}

{#- The shared ServiceAccount's name. -#}
{%- macro service_account_name(ctx) -%}
{%- if ctx.Values.serviceAccount.create -%}
{{ ctx.Values.serviceAccount.name | default(fullname(ctx) ~ "-app") }}
{%- else -%}
{{ ctx.Values.serviceAccount.name | default("default") }}
{%- endif -%}
{%- endmacro -%}

{#- The Secret holding the four core secrets. -#}
{%- macro core_secret_name(ctx) -%}
{%- set eso = ctx.Values.externalSecrets -%}
{%- if ctx.Values.secrets.existingSecret -%}
{{ ctx.Values.secrets.existingSecret }}
{%- elif eso.enabled and eso.coreSecrets.secretArn -%}
{{ eso.coreSecrets.targetSecretName | default(fullname(ctx) ~ "-secrets") }}
{%- else -%}
{{ fullname(ctx) }}-secrets
{%- endif -%}
{%- endmacro -%}

{%- macro url_scheme(ctx) -%}
{{ "https" if ctx.Values.ingress.tls else "http" }}
{%- endmacro -%}

{%- macro public_app_url(ctx) -%}
{{ ctx.Values.urls.publicApp | default(url_scheme(ctx) ~ "://" ~ ctx.Values.ingress.host) }}
{%- endmacro -%}

{%- macro public_api_url(ctx) -%}
{{ ctx.Values.urls.publicApi | default(url_scheme(ctx) ~ "://" ~ ctx.Values.ingress.host ~ "/api") }}
{%- endmacro -%}

{%- macro internal_api_url(ctx) -%}
http://{{ fullname(ctx) }}-api:8000
{%- endmacro -%}

{#- Pod placement for one component: nodeSelector (architecture merged in,
    an explicit kubernetes.io/arch wins), affinity, tolerations, and
    topology spread constraints with the component's selector labels. -#}
{%- macro pod_scheduling(ctx, component) -%}
{%- set s = ctx.Values.scheduling -%}
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
{%- set match = {"app.kubernetes.io/name": name(ctx), "app.kubernetes.io/instance": ctx.Release.Name, "app.kubernetes.io/component": component} %}
topologySpreadConstraints:
{%- for c in s.topologySpreadConstraints %}
  {%- set full = merge(c, {"maxSkew": 1, "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": match}}) %}
  - {{ full | toYaml | indent(4) | trim }}
{%- endfor %}
{%- endif %}
{%- endmacro -%}

{%- macro pod_annotations(ctx) -%}
{%- if ctx.Values.podAnnotations -%}
annotations:
  {{- ctx.Values.podAnnotations | toYaml | nindent(2) }}
{%- endif -%}
{%- endmacro -%}
