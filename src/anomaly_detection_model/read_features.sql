-- Feature rows of one training/evaluation window. Shared verbatim by the
-- BigQuery and the DuckDB feature stores: {table} is the quoted table name,
-- the two placeholders are the window start (inclusive) and end (exclusive).
SELECT
  window_start, window_end, project_id, location, cluster, namespace,
  controller_kind, controller_name,
  cpu_utilization_mean, cpu_utilization_max, memory_utilization_mean, memory_utilization_max,
  restart_delta, oom_killed_count, error_log_count, warning_log_count,
  pod_count, sample_count, last_pod_name, last_container_name
FROM {table}
WHERE window_start >= ? AND window_start < ?
ORDER BY window_start, project_id, cluster, namespace, controller_name
