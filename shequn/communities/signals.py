"""Signals the communities app sends inside its transactions, for the apps above it.

- ``member_joined(sender=CommunityMembership, membership=...)``: a user became a member of a
  community for the first time (a new membership row: coming back after leaving is not joining
  again). Receivers run in the joining transaction; an exception in one undoes the join.
"""

from django.dispatch import Signal

member_joined = Signal()
