"""Photos for litter reports: the pipeline (`media.photos`) and where the files go (`media.storage`).

Imports `models/` and below only, never `api/`; the API registers `media.messages.MESSAGES`.
"""
from __future__ import annotations

from .messages import MESSAGES
from .photos import (
    PhotoError,
    PhotoTooLarge,
    PhotoTooManyPixels,
    PhotoUnreadable,
    PhotoUnsupported,
    ProcessedPhoto,
    process_photo,
    sniff_format,
)
from .storage import (
    LocalDirectoryStorage,
    MemoryStorage,
    PhotoStorage,
    StorageUnavailable,
    new_photo_key,
    storage_from_config,
)

__all__ = [
    "MESSAGES",
    "LocalDirectoryStorage",
    "MemoryStorage",
    "PhotoError",
    "PhotoStorage",
    "PhotoTooLarge",
    "PhotoTooManyPixels",
    "PhotoUnreadable",
    "PhotoUnsupported",
    "ProcessedPhoto",
    "StorageUnavailable",
    "new_photo_key",
    "process_photo",
    "sniff_format",
    "storage_from_config",
]
