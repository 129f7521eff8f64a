"""Celery entry point: `celery -A web.worker worker` and `celery -A web.worker beat` (needs REDIS_URL)."""
from . import create_app
from .celery_app import make_celery

flask_app = create_app()
celery = make_celery(flask_app)
