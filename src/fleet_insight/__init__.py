"""Fleet insight: health scores, resource advice and the HTML health report.

``resources`` and ``quantity`` are standard-library only (the healer imports them);
``source``, ``analysis`` and ``report`` need DuckDB, or google-cloud-bigquery for BigQuery.
See README.md in this package for the formula and the commands.
"""
