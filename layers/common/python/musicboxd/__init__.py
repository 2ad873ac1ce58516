"""Musicboxd album catalog: shared code of the Lambda layer.

Import direction: handlers (functions/*) -> api -> services -> ports/models
(no AWS or HTTP imports) <- adapters (httpx, PynamoDB, SSM).
"""

__version__ = "0.1.0"
