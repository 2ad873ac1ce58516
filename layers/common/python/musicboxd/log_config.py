"""Powertools' logger configuration (JSON, level, Lambda context, correlation id) shared with the
package's stdlib loggers (``logging.getLogger(__name__)`` in services and adapters)."""

from __future__ import annotations

import logging
from typing import Any

PACKAGE = "musicboxd"


def share_logger_config(logger: Any) -> None:
    """Route every ``musicboxd.*`` logger through ``logger``'s handler and level (call once per function)."""
    from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

    logging.getLogger(PACKAGE)  # registered now, so modules imported later log through it too
    copy_config_to_registered_loggers(source_logger=logger, include={PACKAGE})
