"""SCIM's own setting: how SCIM attributes map onto gnomon user attributes.

Kept out of the core ``Settings`` because only the SCIM server reads it; it is documented with
the others in docs/settings.md.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# SCIM attribute (core, or ``enterprise:`` for the enterprise extension) → gnomon attribute.
# The defaults carry the seed's HR fields (employee_id, department, job_title, manager_email,
# cost_center) through an IdP unchanged.
DEFAULT_ATTRIBUTE_MAP: dict[str, str] = {
    "title": "job_title",
    "enterprise:employeeNumber": "employee_id",
    "enterprise:department": "department",
    "enterprise:costCenter": "cost_center",
    "enterprise:organization": "organization",
    "enterprise:division": "division",
    "enterprise:manager": "manager_email",
}

MAPPABLE = frozenset(DEFAULT_ATTRIBUTE_MAP) | {"userType", "nickName", "locale", "timezone"}


class ScimSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GNOMON_SCIM_", extra="ignore")

    attribute_map: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_ATTRIBUTE_MAP),
        description="JSON object: SCIM attribute → gnomon user attribute.",
    )


@lru_cache(maxsize=1)
def attribute_map() -> dict[str, str]:
    mapping = ScimSettings().attribute_map
    unknown = sorted(set(mapping) - MAPPABLE)
    if unknown:
        raise ValueError(
            f"GNOMON_SCIM_ATTRIBUTE_MAP: cannot map {unknown}; mappable: {sorted(MAPPABLE)}"
        )
    return mapping
