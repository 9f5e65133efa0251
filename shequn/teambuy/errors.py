"""Stable error codes of team buys. Codes never change once shipped."""

from shequn.core.errors import Conflict, InvalidInput, NotFound


class OfferNotFound(NotFound):
    code = "team_offer_not_found"


class TeamNotFound(NotFound):
    code = "team_not_found"


class InvalidOffer(InvalidInput):
    code = "invalid_team_offer"


class OfferClosed(Conflict):
    code = "team_offer_closed"


class TeamFull(Conflict):
    code = "team_full"


class TeamClosed(Conflict):
    code = "team_closed"


class AlreadyInTeam(Conflict):
    code = "already_in_team"
