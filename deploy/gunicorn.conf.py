"""Gunicorn settings of the production stack (deploy/Procfile: `gunicorn -c deploy/gunicorn.conf.py`).

Read from the environment: HOST (127.0.0.1) and PORT (8000; honcho sets it), WEB_CONCURRENCY
worker processes (3: suits 2 cores), WEB_THREADS threads per worker (2).
"""
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# Threaded workers keep client connections alive and overlap database waits.
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "2"))
keepalive = 5
timeout = 60
graceful_timeout = 20
# Restart a worker after this many requests (jittered so they do not restart together).
max_requests = 2000
max_requests_jitter = 200
# The default control socket (~/.gunicorn/gunicorn.ctl) would be shared by every server of the user.
control_socket_disable = True
# The app writes its own access line (craneflow.access: request id, user, route, duration).
accesslog = None
errorlog = "-"
proc_name = "craneflow-web"
