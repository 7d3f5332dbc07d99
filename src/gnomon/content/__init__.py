"""Content: folders, documents (dashboards with tiles), permissions, export/import, validator.

Importing the package registers the content event types and the model checker that lets
``POST /model/validate`` report the content a proposed model would break.
"""

from gnomon.content import catalog as _catalog  # noqa: F401  (registers the event types)
from gnomon.content.validator import broken_content
from gnomon.modeling.service import register_content_checker

register_content_checker(broken_content)

__all__ = ["broken_content"]
