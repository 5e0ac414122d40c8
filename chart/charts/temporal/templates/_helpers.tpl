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

{%- macro componentname(ctx, component) -%}
{{ fullname(ctx) }}{% if component %}-{{ component }}{% endif %}
{%- endmacro -%}

{%- macro chart(ctx) -%}
{{ (ctx.Chart.Name ~ "-" ~ ctx.Chart.Version) | replace("+", "_") | trunc(63) | trimSuffix("-") }}
{%- endmacro -%}

{%- macro resource_labels(ctx, component) -%}
{%- if component -%}
app.kubernetes.io/component: {{ component }}
{% endif -%}
app.kubernetes.io/name: {{ name(ctx) }}
helm.sh/chart: {{ chart(ctx) }}
app.kubernetes.io/managed-by: {{ ctx.Release.Service }}
app.kubernetes.io/instance: {{ ctx.Release.Name }}
app.kubernetes.io/version: {{ ctx.Chart.AppVersion | replace("+", "_") | quote }}
app.kubernetes.io/part-of: {{ ctx.Chart.Name }}
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

{#- The Secret holding a store's password: the user's, or the chart's own
    when the password is given inline. -#}
{%- macro store_secret_name(ctx, store) -%}
{%- set sql = ctx.Values.server.config.persistence.datastores[store].sql -%}
{{ sql.existingSecret | default(componentname(ctx, store ~ "-store")) }}
{%- endmacro -%}

{%- macro store_secret_key(ctx, store) -%}
{%- set sql = ctx.Values.server.config.persistence.datastores[store].sql -%}
{{ sql.secretKey if sql.existingSecret and sql.secretKey else "password" }}
{%- endmacro -%}

{#- A server service's settings, falling back to the server-wide ones. -#}
{%- macro service_resources(ctx, service) -%}
{{ ctx.Values.server[service].resources or ctx.Values.server.resources or {} }}
{%- endmacro -%}
