"""API shapes of team buys. Member names are masked; money is integer fen."""

from datetime import datetime

from ninja import Field, Schema

from shequn.core.schemas import Fen, Id, Moment, PageQuery, SmallCount, Text

from .models import Team, TeamMember, TeamOffer


class TeamQuery(PageQuery):
    status: Text = Field("", max_length=16)
    offer_id: Id | None = None


class OfferOut(Schema):
    id: int
    title: str
    sku_id: int
    product_title: str
    spec: str
    shelf_price_fen: int
    team_price_fen: int
    team_size: int
    time_limit_hours: int
    starts_at: datetime
    ends_at: datetime | None
    is_active: bool

    @staticmethod
    def from_model(offer: TeamOffer) -> "OfferOut":
        return OfferOut(
            id=offer.pk,
            title=offer.title,
            sku_id=offer.sku_id,
            product_title=offer.sku.product.title,
            spec=offer.sku.spec,
            shelf_price_fen=offer.sku.price_fen,
            team_price_fen=offer.team_price_fen,
            team_size=offer.team_size,
            time_limit_hours=offer.time_limit_hours,
            starts_at=offer.starts_at,
            ends_at=offer.ends_at,
            is_active=offer.is_active,
        )


class OfferIn(Schema):
    sku_id: Id
    team_size: SmallCount = Field(description="2..10")
    team_price_fen: Fen = Field(description="at least 1, below the SKU's shelf price")
    time_limit_hours: SmallCount = Field(24, description="1..72")
    title: Text = Field("", max_length=60)
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    is_active: bool = True


class TeamMemberOut(Schema):
    name: str  # masked, e.g. 王**
    is_opener: bool
    status: str


class TeamOut(Schema):
    id: int
    offer_id: int
    status: str
    team_size: int
    team_price_fen: int
    seats_taken: int
    seats_left: int
    paid_count: int
    expires_at: datetime
    seconds_left: int
    succeeded_at: datetime | None
    failed_at: datetime | None
    members: list[TeamMemberOut] | None = None

    @staticmethod
    def from_model(team: Team, *, members: list[dict] | None = None, seconds_left: int = 0) -> "TeamOut":
        return TeamOut(
            id=team.pk,
            offer_id=team.offer_id,
            status=team.status,
            team_size=team.team_size,
            team_price_fen=team.team_price_fen,
            seats_taken=team.seats_taken,
            seats_left=team.seats_left,
            paid_count=team.paid_count,
            expires_at=team.expires_at,
            seconds_left=seconds_left,
            succeeded_at=team.succeeded_at,
            failed_at=team.failed_at,
            members=[TeamMemberOut(**{k: m[k] for k in ("name", "is_opener", "status")}) for m in members]
            if members is not None
            else None,
        )


class DestinationIn(Schema):
    fulfilment: Text = Field("pickup", description="pickup or delivery", max_length=10)
    pickup_point_id: Id | None = None
    address_id: Id | None = None
    payment_method: Text = Field("sandbox", max_length=10)


class MembershipOut(Schema):
    team_id: int
    status: str
    is_opener: bool
    order_number: str
    order_total_fen: int
    pay_url: str = Field(description="POST here to start paying the order (payments API)")
    team: TeamOut

    @staticmethod
    def from_model(member: TeamMember, pay_url: str) -> "MembershipOut":
        return MembershipOut(
            team_id=member.team_id,
            status=member.status,
            is_opener=member.is_opener,
            order_number=member.order.number,
            order_total_fen=member.order.total_fen,
            pay_url=pay_url,
            team=TeamOut.from_model(member.team),
        )
