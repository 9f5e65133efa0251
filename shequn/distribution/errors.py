"""Stable error codes of referral distribution. Codes never change once shipped."""

from shequn.core.errors import Conflict, InvalidInput, NotFound


class PromoterNotFound(NotFound):
    code = "promoter_not_found"


class RuleNotFound(NotFound):
    code = "rule_not_found"


class LevelNotFound(NotFound):
    code = "level_not_found"


class InvalidCode(NotFound):
    code = "invalid_code"


class TierLimit(InvalidInput):
    """At most two tiers: a third tier cannot be configured."""

    code = "tier_limit"


class RecruitmentBonusForbidden(InvalidInput):
    code = "recruitment_bonus_forbidden"


class TeamBonusForbidden(InvalidInput):
    code = "team_bonus_forbidden"


class JoinFeeForbidden(InvalidInput):
    code = "join_fee_forbidden"


class InvalidRule(InvalidInput):
    code = "invalid_rule"


class SelfReferral(InvalidInput):
    code = "self_referral"


class ReferralCycle(InvalidInput):
    code = "referral_cycle"


class AlreadyPromoter(Conflict):
    code = "already_promoter"


class InvalidPromoterTransition(Conflict):
    code = "invalid_promoter_transition"
