"""gnomon's Python SDK.

Depends on httpx and pydantic only (pyarrow/pandas optional) and imports nothing else from
gnomon, so it can ship as its own package.

>>> from gnomon.client import Gnomon  # doctest: +SKIP
>>> with Gnomon("http://127.0.0.1:8080", "gnm_...") as gn:  # doctest: +SKIP
...     for key in gn.api_keys.iter():
...         print(key.name)
"""

from gnomon.client.batch import BatchError, BatchResults, Settled
from gnomon.client.client import AsyncGnomon, Gnomon
from gnomon.client.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    AuthorizationError,
    BadRequestError,
    ConflictError,
    GnomonClientError,
    NotFoundError,
    PreconditionFailedError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from gnomon.client.pagination import Page
from gnomon.client.results import MissingDependencyError, QueryResult
from gnomon.client.transport import RetryPolicy

__all__ = [
    "APIConnectionError",
    "APIError",
    "AsyncGnomon",
    "AuthenticationError",
    "AuthorizationError",
    "BadRequestError",
    "BatchError",
    "BatchResults",
    "ConflictError",
    "Gnomon",
    "GnomonClientError",
    "MissingDependencyError",
    "NotFoundError",
    "Page",
    "PreconditionFailedError",
    "QueryResult",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "Settled",
    "ValidationError",
]
