"""Conversions of single driver values into JSON values and text.

Drivers hand back Decimal, date, datetime, time, timedelta, UUID, bytes, lists and dicts. JSON
and CSV know none of these, so every encoder goes through the two functions here and they agree
on the representation:

- Decimal → a JSON number: ``int`` when integral (exact, any size), otherwise ``float`` (the
  nearest double; a JSON client parses it as a double anyway). CSV keeps the exact digits.
- NaN and ±Infinity → ``null`` (JSON cannot carry them) and an empty CSV field.
- date/datetime/time → ISO 8601 text; timedelta → an ISO 8601 duration (``P1DT2H``).
- bytes → base64 (standard alphabet, padded).
- lists and dicts → JSON arrays and objects (in CSV: their JSON text).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

JSON_NATIVE: Final = frozenset({str, int, bool, type(None)})


def iso_duration(value: dt.timedelta) -> str:
    """ISO 8601 duration for a timedelta (``-P1DT0.5S`` style; days never folded into months)."""
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if micros < 0 else ""
    micros = abs(micros)
    days, rest = divmod(micros, 86_400_000_000)
    hours, rest = divmod(rest, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    out = f"{sign}P"
    if days:
        out += f"{days}D"
    clock = ""
    if hours:
        clock += f"{hours}H"
    if minutes:
        clock += f"{minutes}M"
    if seconds or fraction or not (days or hours or minutes):
        clock += f"{seconds}.{fraction:06d}".rstrip("0").rstrip(".") + "S"
    return out + ("T" + clock if clock else "")


def _float_json(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _decimal_json(value: Decimal) -> int | float | None:
    # Most decimals (amounts, averages) are not whole: a float that is neither whole nor
    # infinite can only come from such a decimal, and is its answer. Decimal arithmetic costs
    # a microsecond a value, a sum over a few hundred rows as long as the rest of the request.
    try:
        as_float = float(value)
    except ValueError:  # a signalling NaN
        return None
    if not as_float.is_integer() and math.isfinite(as_float):
        return as_float
    if not value.is_finite():
        return None
    if value == value.to_integral_value():
        return int(value)
    return as_float


def _b64(value: bytes | bytearray | memoryview) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


def _iso(value: dt.date | dt.time) -> str:
    return value.isoformat()


def _list_json(value: list[Any] | tuple[Any, ...]) -> list[Any]:
    return [to_json_value(item) for item in value]


def _dict_json(value: dict[Any, Any]) -> dict[str, Any]:
    return {str(k): to_json_value(v) for k, v in value.items()}


_JSON_CONVERTERS: Final[dict[type, Callable[[Any], Any]]] = {
    float: _float_json,
    Decimal: _decimal_json,
    dt.date: _iso,
    dt.datetime: _iso,
    dt.time: _iso,
    dt.timedelta: iso_duration,
    uuid.UUID: str,
    bytes: _b64,
    bytearray: _b64,
    memoryview: _b64,
    list: _list_json,
    tuple: _list_json,
    dict: _dict_json,
}


def to_json_value(value: Any) -> Any:
    """A value that ``json.dumps`` accepts (with ``allow_nan=False``)."""
    kind = type(value)
    if kind in JSON_NATIVE:
        return value
    convert = _JSON_CONVERTERS.get(kind)
    if convert is not None:
        return convert(value)
    for base, base_convert in _JSON_CONVERTERS.items():
        if isinstance(value, base):  # subclasses, e.g. pendulum datetimes or str enums
            return base_convert(value)
    if isinstance(value, str | int):
        return value
    return str(value)


def _float_text(value: float) -> str:
    return repr(value) if math.isfinite(value) else ""


def _decimal_text(value: Decimal) -> str:
    return format(value, "f") if value.is_finite() else ""


def _json_text(value: Any) -> str:
    return json.dumps(to_json_value(value), ensure_ascii=False, separators=(",", ":"))


_TEXT_CONVERTERS: Final[dict[type, Callable[[Any], str]]] = {
    str: str,
    int: str,
    bool: lambda v: "true" if v else "false",
    float: _float_text,
    Decimal: _decimal_text,
    dt.date: _iso,
    dt.datetime: _iso,
    dt.time: _iso,
    dt.timedelta: iso_duration,
    uuid.UUID: str,
    bytes: _b64,
    bytearray: _b64,
    memoryview: _b64,
    list: _json_text,
    tuple: _json_text,
    dict: _json_text,
}


def to_text(value: Any) -> str:
    """Text for a CSV cell or a string Arrow column; NULL is the empty string."""
    if value is None:
        return ""
    convert = _TEXT_CONVERTERS.get(type(value))
    if convert is not None:
        return convert(value)
    for base, base_convert in _TEXT_CONVERTERS.items():
        if isinstance(value, base):
            return base_convert(value)
    return str(value)
