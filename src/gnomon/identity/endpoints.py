"""The identity routers, in the order they appear in the API docs."""

from __future__ import annotations

from fastapi import APIRouter

from gnomon.identity.attributes_endpoints import router as attributes_router
from gnomon.identity.groups_endpoints import router as groups_router
from gnomon.identity.users_endpoints import router as users_router
from gnomon.identity.whoami import router as whoami_router

routers: list[APIRouter] = [users_router, groups_router, attributes_router, whoami_router]
