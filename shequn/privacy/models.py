"""The log of members' data-rights requests (PIPL): exports and account deletions, with their outcome.

Rows outlive the account they concern: after a deletion the user row is anonymised, and the log
keeps only the masked phone captured at request time, so staff can show a request was handled
without holding the personal data it removed.
"""

from django.conf import settings
from django.db import models

from .enums import ExportFormat, RequestKind, RequestOutcome


class DataRequest(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=RequestKind.choices)
    outcome = models.CharField(max_length=10, choices=RequestOutcome.choices)
    export_format = models.CharField(max_length=4, choices=ExportFormat.choices, blank=True)
    # The member as staff may see them: 138****1234 (never the full number, never the name).
    member_masked = models.CharField(max_length=20, blank=True)
    # Why a deletion was refused (the blockers' codes), shown to staff.
    note = models.CharField(max_length=200, blank=True)
    # The shops whose members' data the request concerned (orders, memberships, wallets there):
    # their owners see the request in the console.
    shops = models.ManyToManyField("shops.Shop", blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.member_masked} {self.get_outcome_display()}"
