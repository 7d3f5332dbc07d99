"""All content routes under one router (one line in ``api_routers``)."""

from __future__ import annotations

from fastapi import APIRouter

from gnomon.content.endpoints_documents import router as documents_router
from gnomon.content.endpoints_documents import validation_router
from gnomon.content.endpoints_folders import router as folders_router

router = APIRouter()
router.include_router(folders_router)
router.include_router(documents_router)
router.include_router(validation_router)
