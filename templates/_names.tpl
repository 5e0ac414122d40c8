{#- Names and labels, which nearly every template needs. They live apart
    from _helpers.tpl because an import runs every macro definition of the
    file it names, in each template that imports it: a Service should not
    pay for the workloads' helpers. Each macro takes `ctx` (Helm's `.`). -#}

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

{#- The backend image tag, which is also the version label. -#}
{%- macro image_tag(ctx) -%}
{{ ctx.Values.image.tag | default(ctx.Chart.AppVersion) }}
{%- endmacro -%}

{%- macro selector_labels(ctx) -%}
app.kubernetes.io/name: {{ name(ctx) }}
app.kubernetes.io/instance: {{ ctx.Release.Name }}
{%- endmacro -%}

{%- macro labels(ctx) -%}
helm.sh/chart: {{ chart(ctx) }}
{{- selector_labels(ctx) | block(0) }}
{%- set version = image_tag(ctx) %}
{%- if version %}
app.kubernetes.io/version: {{ version | quote }}
{%- endif %}
app.kubernetes.io/managed-by: {{ ctx.Release.Service }}
{%- endmacro -%}

{#- Labels of a component's Deployment, Service and pods. -#}
{%- macro component_labels(ctx, component) -%}
{{ labels(ctx) | trim }}
app.kubernetes.io/component: {{ component }}
{%- endmacro -%}

{%- macro component_selector(ctx, component) -%}
{{ selector_labels(ctx) | trim }}
app.kubernetes.io/component: {{ component }}
{%- endmacro -%}

{#- The subchart's fullname, mirrored so Tracecat can address it. -#}
{%- macro temporal_fullname(ctx) -%}
{%- set t = ctx.Values.temporal -%}
{%- if t.fullnameOverride -%}
{{ t.fullnameOverride | trunc(63) | trimSuffix("-") }}
{%- else -%}
{%- set n = t.nameOverride | default("temporal") -%}
{%- if contains(ctx.Release.Name, n) -%}
{{ ctx.Release.Name | trunc(63) | trimSuffix("-") }}
{%- else -%}
{{ (ctx.Release.Name ~ "-" ~ n) | trunc(63) | trimSuffix("-") }}
{%- endif -%}
{%- endif -%}
{%- endmacro -%}
