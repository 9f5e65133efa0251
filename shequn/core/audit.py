"""Write the audit log. Every staff write calls ``record`` inside its transaction."""

from typing import Any

from django.db import models

from .models import AuditLog


def record(
    *,
    actor: Any,
    shop: Any,
    action: str,
    obj: models.Model | None = None,
    ip: str | None = None,
    **detail: Any,
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        shop=shop,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        detail=detail,
        ip=ip,
    )


def client_ip(request: Any) -> str | None:
    """The client address as seen by Django (set up the proxy to pass REMOTE_ADDR correctly)."""
    return request.META.get("REMOTE_ADDR") or None
