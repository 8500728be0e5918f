"""Gunicorn settings read from the working directory (bin/serve, bench/run).

The access log names the path but never the query string: a supervisor's
`GET /api/v1/staff?id_number=...` must not write a resident ID number into a log line.
"""

access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'
