"""The SCIM resources gnomon serves, built on ``scim2-models``, and the discovery documents."""

from __future__ import annotations

from typing import Annotated, Any

from scim2_models import (
    URN,
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    Context,
    EnterpriseUser,
    ETag,
    Extension,
    Filter,
    Group,
    Mutability,
    Patch,
    Required,
    ResourceType,
    ServiceProviderConfig,
    Sort,
    User,
)

MAX_RESULTS = 200
GNOMON_USER_SCHEMA = "urn:gnomon:params:scim:schemas:extension:gnomon:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


class GnomonAttributeValue(ComplexAttribute):
    """One value of a gnomon user attribute (several entries for a multi-valued one)."""

    name: Annotated[str | None, Required.true, CaseExact.true] = None
    value: str | None = None


class GnomonUser(Extension):
    """gnomon's extension: the user's other attribute values, for the IdP to read.

    Read-only: an IdP writes attributes through the mapped SCIM attributes (see
    :mod:`gnomon.scim.settings`), so that one attribute has one source.
    """

    __schema__ = URN(GNOMON_USER_SCHEMA)

    user_attributes: Annotated[list[GnomonAttributeValue] | None, Mutability.read_only] = None


ScimUser = User[EnterpriseUser | GnomonUser]
ScimGroup = Group


def service_provider_config(
    base_url: str, *, max_operations: int, max_payload_size: int
) -> dict[str, Any]:
    spc = ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True),
        bulk=Bulk(supported=True, max_operations=max_operations, max_payload_size=max_payload_size),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=True),
        etag=ETag(supported=True),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="Bearer token",
                description="A gnomon organization API key: Authorization: Bearer <key>.",
                primary=True,
            )
        ],
    )
    out = spc.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    out["meta"] = {
        "resourceType": "ServiceProviderConfig",
        "location": f"{base_url}/ServiceProviderConfig",
    }
    return out


def _dump_with_meta(obj: Any, resource_type: str, location: str) -> dict[str, Any]:
    out: dict[str, Any] = obj.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    out["meta"] = {"resourceType": resource_type, "location": location}
    return out


def resource_types(base_url: str) -> list[dict[str, Any]]:
    out = []
    for model, name in ((ScimUser, "User"), (ScimGroup, "Group")):
        rt = ResourceType.from_resource(model)
        out.append(_dump_with_meta(rt, "ResourceType", f"{base_url}/ResourceTypes/{name}"))
    return out


def schemas(base_url: str) -> list[dict[str, Any]]:
    out = []
    for model in (User, Group, EnterpriseUser, GnomonUser):
        schema = model.to_schema()
        out.append(_dump_with_meta(schema, "Schema", f"{base_url}/Schemas/{schema.id}"))
    return out
