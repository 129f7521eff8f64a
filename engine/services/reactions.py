"""What follows a transition besides the transition itself. Importing this module registers the
audit subscribers and the outbox and due-job handlers that turn transitions into notifications
and data-exchange records; the web app, the workers and the sweep all import it."""
from . import timers  # noqa: F401  (the "timer" due-job handler)
from . import notifications  # noqa: F401  (task, return, deadline and expiry notices; the email topic)
from . import exchange  # noqa: F401  (change records, their push topic)
from . import audit_schedule  # noqa: F401  (audit chain verification, on request and daily)
