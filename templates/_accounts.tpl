{#- ServiceAccounts: the shared one, and the executors' and LiteLLM's
    dedicated ones (the agent executor falls back to the executor's). -#}
{%- from "_names.tpl" import fullname, labels -%}

{%- macro service_account_name(ctx) -%}
{%- if ctx.Values.serviceAccount.create -%}
{{ ctx.Values.serviceAccount.name | default(fullname(ctx) ~ "-app") }}
{%- else -%}
{{ ctx.Values.serviceAccount.name | default("default") }}
{%- endif -%}
{%- endmacro -%}

{#- A component's own account: its name when created (default
    FULLNAME-SUFFIX), an existing one by name, else `fallback`. -#}
{%- macro dedicated_service_account_name(ctx, sa, suffix, fallback) -%}
{%- if sa.create -%}
{{ sa.name | default(fullname(ctx) ~ "-" ~ suffix) }}
{%- elif sa.name -%}
{{ sa.name }}
{%- else -%}
{{ fallback }}
{%- endif -%}
{%- endmacro -%}

{%- macro executor_service_account_name(ctx) -%}
{{ dedicated_service_account_name(ctx, ctx.Values.executor.serviceAccount, "executor", service_account_name(ctx)) }}
{%- endmacro -%}

{%- macro litellm_service_account_name(ctx) -%}
{{ dedicated_service_account_name(ctx, ctx.Values.litellm.serviceAccount, "litellm", service_account_name(ctx)) }}
{%- endmacro -%}

{%- macro agent_executor_service_account_name(ctx) -%}
{{ dedicated_service_account_name(ctx, ctx.Values.agentExecutor.serviceAccount, "agent-executor", executor_service_account_name(ctx)) }}
{%- endmacro -%}

{#- A ServiceAccount object with the given annotations. -#}
{%- macro service_account(ctx, annotations, name) -%}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ name }}
  labels:
    {{- labels(ctx) | block(4) }}
  {%- if annotations %}
  annotations:
    {{- annotations | toYaml | nindent(4) }}
  {%- endif %}
{%- endmacro -%}
