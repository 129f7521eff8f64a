"""Field types for regulated identifiers and attachment references."""
from datetime import date, datetime, timedelta, timezone

from marshmallow import ValidationError, fields

from .messages import t

CHINA_TZ = timezone(timedelta(hours=8))
MAX_ID = 2**31 - 1  # database integer keys; larger ids cannot exist (and overflow the driver)


def today_in_china() -> date:
    return datetime.now(CHINA_TZ).date()


class PastDate(fields.Date):
    """A calendar date that is not later than today (China Standard Time)."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if result > today_in_china():
            raise ValidationError(t("date_future"))
        return result


class AttachmentIds(fields.List):
    """A list of attachment ids; ownership is checked by the service that uses them."""

    def __init__(self, **kwargs):
        super().__init__(fields.Integer(strict=True), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if len(result) > 20:
            raise ValidationError(t("length_max", max=20))
        if any(i <= 0 or i > MAX_ID for i in result):
            raise ValidationError(t("attachment_unknown"))
        return list(dict.fromkeys(result))


class StrictFloat(fields.Float):
    """A JSON number (integer or decimal); text such as "800" is refused like strict integers are."""

    def _validated(self, value):
        if isinstance(value, (str, bytes)):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)
