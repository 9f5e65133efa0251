"""The member's data rights under /api/v1/me/: export, and account deletion confirmed by SMS."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from shequn.accounts.models import User
from shequn.accounts.schemas import OtpSentOut
from shequn.core.audit import client_ip
from shequn.core.errors import NotAuthenticated
from shequn.core.schemas import error_responses

from . import actions, selectors
from .exports import as_download
from .schemas import DeletionCheckOut, DeletionDoneOut, DeletionIn, ExportQuery

router = Router(tags=["privacy"])

# The export's two formats: a JSON document ({"format", "exported_at", "readme", "tables"}) or a zip.
_EXPORT_CONTENT = {
    "application/json": {"schema": {"type": "object"}},
    "application/zip": {"schema": {"type": "string", "format": "binary"}},
}


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated(_("请先登录"))
    return user


@router.get(
    "/export",
    response={200: None, **error_responses(401, 422)},
    openapi_extra={
        "responses": {
            "200": {
                "description": "The member's data: a JSON document, or a zip holding one CSV per table",
                "content": _EXPORT_CONTENT,
            }
        }
    },
)
def export(request: HttpRequest, query: Query[ExportQuery]) -> Any:
    """Download everything shequn holds about the caller (profile, addresses, orders with lines,
    payments, refunds, memberships, sign-ups, wallet, messages, board posts). Logged for staff."""
    return as_download(actions.do_export(_user(request), query.format))


@router.get("/deletion", response={200: DeletionCheckOut, **error_responses(401)})
def deletion_check(request: HttpRequest) -> Any:
    """Whether the account can be deleted now, what stands in the way, and what is kept."""
    user = _user(request)
    blockers = selectors.deletion_blockers(user)
    return {
        "can_delete": not blockers,
        "blockers": blockers,
        "kept": str(actions.KEPT_AFTER_DELETION),
        "forfeited_fen": selectors.forfeited_on_deletion_fen(user),
    }


@router.post("/deletion/code", response={200: OtpSentOut, **error_responses(401, 409, 429, 502)})
def send_deletion_code(request: HttpRequest) -> Any:
    """Text a code to the account's phone that confirms the deletion (409 while something blocks it)."""
    sent = actions.do_send_deletion_code(_user(request), ip=client_ip(request))
    return {"sent": True, "expires_in": sent.expires_in, "resend_after": sent.resend_after}


@router.post("/deletion", response={200: DeletionDoneOut, **error_responses(401, 409, 422, 429)})
def delete_account(request: HttpRequest, payload: DeletionIn) -> Any:
    """Delete the account: personal data anonymised, records kept (see GET /me/deletion); every
    token and session of the account stops working."""
    actions.do_delete_account(_user(request), payload.code, ip=client_ip(request))
    return {"deleted": True}
