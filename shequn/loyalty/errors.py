from shequn.core.errors import Conflict, InvalidInput, NotFound


class CardNotFound(NotFound):
    code = "card_not_found"


class PointsItemNotFound(NotFound):
    code = "points_item_not_found"


class LevelNotFound(NotFound):
    code = "level_not_found"


class LoyaltyInvalid(InvalidInput):
    code = "loyalty_invalid"


class PointsNotApplicable(InvalidInput):
    """Points asked for at checkout that this order cannot take (no card, above the cap)."""

    code = "points_not_applicable"


class InsufficientPoints(Conflict):
    code = "insufficient_points"
