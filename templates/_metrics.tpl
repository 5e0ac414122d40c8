{%- from "_names.tpl" import fullname, component_labels, component_selector -%}

{#- The Service Prometheus scrapes a Temporal-polling component's
    metrics on (with tracecat.temporal.metrics.enabled). -#}
{%- macro metrics_service(ctx, component) -%}
{%- set m = ctx.Values.tracecat.temporal.metrics -%}
apiVersion: v1
kind: Service
metadata:
  name: {{ fullname(ctx) }}-{{ component }}-metrics
  labels:
    {{- component_labels(ctx, component) | block(4) }}
  {%- if m.scrape %}
  annotations:
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ m.port | quote }}
    prometheus.io/path: {{ m.path | default("/metrics") | quote }}
  {%- endif %}
spec:
  type: ClusterIP
  ports:
    - port: {{ m.port }}
      targetPort: metrics
      protocol: TCP
      name: metrics
  selector:
    {{- component_selector(ctx, component) | block(4) }}
{%- endmacro -%}
