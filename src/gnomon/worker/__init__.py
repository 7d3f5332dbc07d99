"""Background work: webhook delivery (``gnomon worker``, or in-process under ``gnomon serve``)."""

from gnomon.worker.runner import BackgroundWorker, WebhookWorker, start_in_process

__all__ = ["BackgroundWorker", "WebhookWorker", "start_in_process"]
