"""Fixed-window rate limiting per client IP: in Redis when REDIS_URL is set (shared by every web
process), in this process otherwise. Redis unreachable: requests pass (logged), the portal stays up."""
import logging
import threading
import time
from functools import wraps

import redis
from flask import current_app, make_response, render_template, request

log = logging.getLogger("craneflow.ratelimit")
WINDOW_SECONDS = 60


class InProcessCounter:
    def __init__(self):
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, int], int] = {}

    def hit(self, key: str, window: int) -> int:
        with self._lock:
            if len(self._counts) > 10_000:  # drop the windows that have passed
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
            count = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = count
            return count

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class RedisCounter:
    PREFIX = "craneflow:ratelimit:"

    def __init__(self, url: str):
        self._client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    def hit(self, key: str, window: int) -> int:
        name = f"{self.PREFIX}{key}:{window}"
        with self._client.pipeline() as pipe:
            pipe.incr(name)
            pipe.expire(name, WINDOW_SECONDS * 2)
            count, _ = pipe.execute()
        return int(count)

    def reset(self) -> None:
        for name in self._client.scan_iter(f"{self.PREFIX}*"):
            self._client.delete(name)


def counter(app=None):
    """The application's counter (created on first use)."""
    app = app or current_app
    found = app.extensions.get("craneflow_ratelimit")
    if found is None:
        url = app.config.get("REDIS_URL")
        found = app.extensions["craneflow_ratelimit"] = RedisCounter(url) if url else InProcessCounter()
    return found


def _too_many(retry_after: int):
    response = make_response(render_template("verify/rate_limited.html", retry_after=retry_after), 429)
    response.headers["Retry-After"] = str(retry_after)
    return response


def rate_limited(scope: str, limit_key: str):
    """Limit a view to app.config[limit_key] requests per minute and client IP (0: no limit)."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            limit = current_app.config.get(limit_key, 0)
            if limit > 0:
                now = time.time()
                window = int(now // WINDOW_SECONDS)
                try:
                    count = counter().hit(f"{scope}:{request.remote_addr or '-'}", window)
                except redis.RedisError:
                    log.warning("rate limit store unavailable; request let through", exc_info=True)
                    count = 0
                if count > limit:
                    return _too_many(max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999)))
            return view(*args, **kwargs)
        return wrapper
    return decorate
