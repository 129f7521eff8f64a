"""Field types for regulated identifiers and attachment references."""
import re
from datetime import date, datetime, timedelta, timezone

from marshmallow import ValidationError, fields

from engine.domain import regions, resident_id, uscc

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


class Uscc(fields.String):
    """统一社会信用代码 (GB 32100): 18 characters with a check character; stored upper-case."""

    def _deserialize(self, value, attr, data, **kwargs):
        code = uscc.normalize(super()._deserialize(value, attr, data, **kwargs))
        error = uscc.uscc_error(code)
        if error:
            raise ValidationError(t(f"uscc_{error}"))
        return code


class ResidentId(fields.String):
    """Resident identity card number (GB 11643): check digit and a real, past birth date."""

    def _deserialize(self, value, attr, data, **kwargs):
        number = resident_id.normalize(super()._deserialize(value, attr, data, **kwargs))
        error = resident_id.resident_id_error(number, today=today_in_china())
        if error:
            raise ValidationError(t(f"resident_id_{error}"))
        return number


class HubeiRegion(fields.String):
    """A GB/T 2260 code of a Hubei prefecture-level or county-level unit."""

    def _deserialize(self, value, attr, data, **kwargs):
        code = super()._deserialize(value, attr, data, **kwargs).strip()
        region = regions.get_region(code)
        if region is None or region.level == "province":
            raise ValidationError(t("region_unknown"))
        return code


class Phone(fields.String):
    """A mainland mobile number (11 digits, starting 1) or a landline with area code."""

    PATTERN = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")

    def _deserialize(self, value, attr, data, **kwargs):
        phone = super()._deserialize(value, attr, data, **kwargs).strip().replace(" ", "")
        if not self.PATTERN.match(phone):
            raise ValidationError(t("phone_invalid"))
        return phone


class FutureDate(fields.Date):
    """A validity end date: not already past."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if result < today_in_china():
            raise ValidationError(t("date_expired"))
        return result
