"""Users, groups and user attributes (``/users``, ``/groups``, ``/user-attributes``)."""

from __future__ import annotations

from collections.abc import Sequence

from gnomon.client.core import AsyncCore, SyncCore
from gnomon.client.models import Group, User, UserAttribute, UserBatchItem
from gnomon.client.resources.base import (
    AsyncCreatable,
    AsyncDeletable,
    AsyncGettable,
    AsyncListable,
    AsyncReplaceable,
    AsyncUpdatable,
    Body,
    Creatable,
    Deletable,
    Gettable,
    Listable,
    Replaceable,
    Updatable,
)

__all__ = [
    "AsyncGroups",
    "AsyncUserAttributes",
    "AsyncUsers",
    "Groups",
    "UserAttributes",
    "Users",
]


class Users(
    Listable[User],
    Gettable[User],
    Creatable[User],
    Updatable[User],
    Replaceable[User],
    Deletable[User],
):
    """``/users``; ``delete`` deactivates (the user's content stays)."""

    def __init__(self, core: SyncCore) -> None:
        super().__init__(core, "/users", User)

    def find_by_email(self, email: str) -> User | None:
        """The seed's ``findUser``: the user with this email, or None."""
        page = self.list(email=email, per_page=1)
        return page.items[0] if page.items else None

    def deactivate(self, user_id: str) -> None:
        self.delete(user_id)

    def create_many(
        self, users: Sequence[Body], *, idempotency_key: str | None = None
    ) -> list[UserBatchItem]:
        """``POST /users/batch``: up to 1000 create bodies in one request, each created or
        refused on its own (check ``item.ok``)."""
        raw = self._core.data(
            "POST",
            f"{self.path}/batch",
            json={"users": list(users)},
            idempotency_key=idempotency_key,
        )
        return [UserBatchItem.model_validate(item) for item in raw]


class AsyncUsers(
    AsyncListable[User],
    AsyncGettable[User],
    AsyncCreatable[User],
    AsyncUpdatable[User],
    AsyncReplaceable[User],
    AsyncDeletable[User],
):
    def __init__(self, core: AsyncCore) -> None:
        super().__init__(core, "/users", User)

    async def find_by_email(self, email: str) -> User | None:
        page = await self.list(email=email, per_page=1)
        return page.items[0] if page.items else None

    async def deactivate(self, user_id: str) -> None:
        await self.delete(user_id)

    async def create_many(
        self, users: Sequence[Body], *, idempotency_key: str | None = None
    ) -> list[UserBatchItem]:
        raw = await self._core.data(
            "POST",
            f"{self.path}/batch",
            json={"users": list(users)},
            idempotency_key=idempotency_key,
        )
        return [UserBatchItem.model_validate(item) for item in raw]


class Groups(
    Listable[Group],
    Gettable[Group],
    Creatable[Group],
    Updatable[Group],
    Deletable[Group],
):
    def __init__(self, core: SyncCore) -> None:
        super().__init__(core, "/groups", Group)


class AsyncGroups(
    AsyncListable[Group],
    AsyncGettable[Group],
    AsyncCreatable[Group],
    AsyncUpdatable[Group],
    AsyncDeletable[Group],
):
    def __init__(self, core: AsyncCore) -> None:
        super().__init__(core, "/groups", Group)


class UserAttributes(
    Listable[UserAttribute],
    Gettable[UserAttribute],
    Creatable[UserAttribute],
    Updatable[UserAttribute],
    Deletable[UserAttribute],
):
    def __init__(self, core: SyncCore) -> None:
        super().__init__(core, "/user-attributes", UserAttribute)


class AsyncUserAttributes(
    AsyncListable[UserAttribute],
    AsyncGettable[UserAttribute],
    AsyncCreatable[UserAttribute],
    AsyncUpdatable[UserAttribute],
    AsyncDeletable[UserAttribute],
):
    def __init__(self, core: AsyncCore) -> None:
        super().__init__(core, "/user-attributes", UserAttribute)
