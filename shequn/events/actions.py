"""Every events write. ``check_*`` validates and authorises, ``do_*`` changes data.

Seats
-----
*Free events* count seats in ``Event.confirmed_count``: a seat is taken by one conditional
``UPDATE ... SET confirmed_count = confirmed_count + 1 WHERE confirmed_count < capacity`` and a
check constraint keeps the count within capacity, so simultaneous RSVPs never overbook. Who
does not get a seat joins the waitlist with the next ``waitlist_sequence`` number (one ``F()``
increment; the row lock it takes hands out distinct positions). When a confirmed member
cancels, the seat is given back and, in the same transaction, taken again for the first
waitlisted member, who is confirmed and notified.

*Paid events* sell a ticket product (kind ``ticket``) through the ordinary order flow. Its SKU
stock is the number of seats held by no order: the orders app reserves a seat when the order is
created and gives it back when an unpaid order closes (``TicketRules.released``). Payment
confirms the registration (``TicketRules.paid``, idempotent). A full event puts a member on the
waitlist without paying. When a seat comes back (a ticket refunded, an unpaid order closed, an
offer declined or lapsed) the first waitlisted member is *offered* it: status ``offered``, a
deadline (``OFFER_WINDOW``, never past the start), a notification with the event page where
they pay. While offers are open, nobody else may buy the offered seats (``check_purchase``
keeps ``stock - open offers`` for the public). An offer not paid by its deadline lapses
(ETA task plus a sweeper) and passes to the next in line. A member cancels a paid ticket
through the order's refund flow: ``refund_refusal`` allows it until ``REFUND_CUTOFF`` before the
start (any time once the event is cancelled) and such requests are approved by rule; when the
gateway confirms, ``refunded`` ends the registration, puts the seat back in stock and promotes.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.catalog.actions import save_kind_product
from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Sku
from shequn.communities import selectors as community_selectors
from shequn.communities.enums import SubGroupKind
from shequn.communities.models import Community, SubGroup
from shequn.core import audit
from shequn.core.errors import InvalidInput, NotAuthenticated
from shequn.core.events import on_commit
from shequn.core.i18n import in_language_of
from shequn.notifications.actions import notify
from shequn.shops.models import Shop

from . import selectors, signals, tasks
from .enums import LIVE_STATUSES, EventStatus, RegistrationStatus
from .errors import (
    AlreadyRegistered,
    CannotCancel,
    CheckInRefused,
    EventFull,
    EventNotFound,
    InvalidEvent,
    InvalidEventTransition,
    RegistrationClosed,
    RegistrationNotFound,
    TicketNotFound,
    TicketRequired,
)
from .models import Event, Registration

TITLE_MAX = 60
VENUE_MAX = 60
ADDRESS_MAX = 200
DESCRIPTION_MAX = 5000
CAPACITY_MAX = 100_000
PRICE_MAX_FEN = 10_000_000  # ¥100,000
REMINDER_HOURS_MAX = 168
# Paid tickets: refunds by rule until this long before the start; staff decide after that.
REFUND_CUTOFF = timedelta(hours=24)
# A seat offered to the next waitlisted member stays theirs this long (never past the start).
OFFER_WINDOW = timedelta(hours=12)
TICKET_SPEC = "门票"


def event_path(event: Event) -> str:
    return reverse("events:event_detail", args=[event.community_id, event.pk])


def checkin_url(registration: Registration) -> str:
    """What the ticket's QR code encodes: the console's check-in page for this token."""
    return settings.SITE_URL + reverse("events:console_checkin_token", args=[registration.checkin_token])


def _new_token() -> str:
    return secrets.token_urlsafe(18)  # 24 characters, 144 random bits


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment)


def _when(event: Event) -> str:
    return _local(event.starts_at).strftime(_("%m月%d日 %H:%M"))


# --- members -----------------------------------------------------------------------


def check_member(user: Any, community: Community) -> None:
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("请先登录"), code="not_authenticated")
    if not community.is_active or not community_selectors.is_community_member(user, community):
        raise EventNotFound(_(selectors.EVENT_NOT_FOUND))


def check_open_for_registration(event: Event, *, now: datetime) -> None:
    if event.status == EventStatus.CANCELLED:
        raise RegistrationClosed(_("活动已取消"))
    if event.status != EventStatus.PUBLISHED:
        raise RegistrationClosed(_("活动尚未开放报名"))
    if now >= event.starts_at:
        raise RegistrationClosed(_("活动已开始，报名已截止"))
    if event.rsvp_deadline is not None and now > event.rsvp_deadline:
        raise RegistrationClosed(_("报名已截止"))


def _take_seat(event_id: int) -> bool:
    """One seat in a single conditional statement; a full event refuses."""
    return bool(
        Event.objects.filter(pk=event_id, confirmed_count__lt=F("capacity")).update(
            confirmed_count=F("confirmed_count") + 1
        )
    )


def _release_seat(event_id: int) -> None:
    Event.objects.filter(pk=event_id, confirmed_count__gt=0).update(confirmed_count=F("confirmed_count") - 1)


def _next_position(event_id: int) -> int:
    """The next waitlist number. The increment locks the event row until commit, so two
    transactions never read the same number."""
    Event.objects.filter(pk=event_id).update(waitlist_sequence=F("waitlist_sequence") + 1)
    return int(Event.objects.values_list("waitlist_sequence", flat=True).get(pk=event_id))


def do_rsvp(user: Any, event: Event) -> Registration:
    """Sign up: a free seat confirms at once, a full event puts the member on the waitlist.

    Paid events with seats left answer ``ticket_required`` (buy the ticket instead); full paid
    events take waitlist sign-ups like free ones. A second tap returns the live registration.
    """
    check_member(user, event.community)
    now = timezone.now()
    check_open_for_registration(event, now=now)
    existing = selectors.live_registration(user, event)
    if existing is not None:
        return existing
    if event.is_paid and selectors.seats_left(event) > 0 and not selectors.waitlist_count(event):
        sku = selectors.ticket_sku(event)
        raise TicketRequired(_("还有名额，请直接购买门票"), details={"sku_id": sku.pk if sku else None})
    try:
        with transaction.atomic():
            if not event.is_paid and _take_seat(event.pk):
                return Registration.objects.create(
                    event=event,
                    user=user,
                    status=RegistrationStatus.CONFIRMED,
                    confirmed_at=now,
                    checkin_token=_new_token(),
                )
            return Registration.objects.create(
                event=event,
                user=user,
                status=RegistrationStatus.WAITLISTED,
                position=_next_position(event.pk),
                checkin_token=_new_token(),
            )
    except IntegrityError:  # a double tap created the row first; its seat change rolled back with ours
        existing = selectors.live_registration(user, event)
        if existing is None:
            raise
        return existing


def do_cancel_registration(user: Any, event: Event) -> Registration:
    """The member leaves: a waitlist place or an offer ends; a free seat goes to the next in line.

    A paid ticket is cancelled by refunding its order (``cannot_cancel`` points there).
    """
    check_member(user, event.community)
    registration = selectors.live_registration(user, event)
    if registration is None:
        raise RegistrationNotFound(_("你没有报名这个活动"))
    now = timezone.now()
    if registration.status == RegistrationStatus.CONFIRMED:
        if event.is_paid:
            raise CannotCancel(
                _("付费门票请在订单中申请退款，退款成功后名额会让给候补成员"),
                details={"order_id": registration.order_id},
            )
        if now >= event.starts_at:
            raise CannotCancel(_("活动已开始，不能取消报名"))
    with transaction.atomic():
        changed = Registration.objects.filter(pk=registration.pk, status=registration.status).update(
            status=RegistrationStatus.CANCELLED, cancelled_at=now
        )
        if changed:
            if registration.status == RegistrationStatus.CONFIRMED:
                _release_seat(event.pk)
            if registration.status != RegistrationStatus.WAITLISTED:
                promote_waitlist(event.pk, now=now)
    registration.refresh_from_db()
    return registration


def promote_waitlist(event_id: int, *, now: datetime | None = None) -> list[Registration]:
    """Give free seats to the waitlist, first in line first: free events confirm, paid events offer.

    Safe to call any time and twice: it only moves seats that are free now.
    """
    now = now or timezone.now()
    event = Event.objects.select_related("community", "shop").filter(pk=event_id).first()
    if event is None or event.status != EventStatus.PUBLISHED or now >= event.starts_at:
        return []
    if event.is_paid:
        return _offer_seats(event, now)
    promoted: list[Registration] = []
    with transaction.atomic():
        while True:
            first = (
                Registration.objects.select_related("user")
                .filter(event_id=event_id, status=RegistrationStatus.WAITLISTED)
                .order_by("position", "id")
                .first()
            )
            if first is None or not _take_seat(event_id):
                break
            if not Registration.objects.filter(pk=first.pk, status=RegistrationStatus.WAITLISTED).update(
                status=RegistrationStatus.CONFIRMED, confirmed_at=now
            ):
                _release_seat(event_id)  # they left at this very moment: the next one gets it
                continue
            first.status = RegistrationStatus.CONFIRMED
            with in_language_of(first.user):
                notify(
                    first.user,
                    shop=event.shop,
                    kind="events.promoted",
                    title=_("候补成功：%(title)s") % {"title": event.title},
                    body=_("有人取消了报名，你已从候补转为正式报名。%(event)s 在 %(venue)s，记得准时到场。")
                    % {"event": _when(event), "venue": event.venue},
                    link=event_path(event),
                )
            promoted.append(first)
    return promoted


def _offer_seats(event: Event, now: datetime) -> list[Registration]:
    offered: list[Registration] = []
    with transaction.atomic():
        # One promoter per event at a time: open offers and stock are read and changed together.
        Event.objects.select_for_update().filter(pk=event.pk).first()
        sku = selectors.ticket_sku(event)
        free = (sku.stock if sku else 0) - selectors.open_offers(event, now=now)
        expires_at = min(now + OFFER_WINDOW, event.starts_at)
        while free > 0:
            first = (
                Registration.objects.select_related("user")
                .filter(event=event, status=RegistrationStatus.WAITLISTED)
                .order_by("position", "id")
                .first()
            )
            if first is None:
                break
            if not Registration.objects.filter(pk=first.pk, status=RegistrationStatus.WAITLISTED).update(
                status=RegistrationStatus.OFFERED, offer_expires_at=expires_at
            ):
                continue
            first.status, first.offer_expires_at = RegistrationStatus.OFFERED, expires_at
            free -= 1
            with in_language_of(first.user):
                notify(
                    first.user,
                    shop=event.shop,
                    kind="events.offered",
                    title=_("候补名额：%(title)s") % {"title": event.title},
                    body=_("有人退票，名额为你保留到 %(until)s，请在此之前完成支付，逾期名额将转给下一位候补成员。")
                    % {"until": _local(expires_at).strftime(_("%m月%d日 %H:%M"))},
                    link=event_path(event),
                )
            on_commit(tasks.schedule_offer_expiry, first.pk, expires_at)
            offered.append(first)
    return offered


def expire_offer(registration_id: int, *, now: datetime | None = None) -> bool:
    """An offer not paid by its deadline lapses and passes to the next in line. True if it lapsed now."""
    now = now or timezone.now()
    with transaction.atomic():
        registration = (
            Registration.objects.select_related("event", "event__shop", "user").filter(pk=registration_id).first()
        )
        if registration is None:
            return False
        if not Registration.objects.filter(
            pk=registration_id, status=RegistrationStatus.OFFERED, offer_expires_at__lte=now
        ).update(status=RegistrationStatus.CANCELLED, cancelled_at=now):
            return False
        event = registration.event
        with in_language_of(registration.user):
            notify(
                registration.user,
                shop=event.shop,
                kind="events.offer_lapsed",
                title=_("候补名额已失效：%(title)s") % {"title": event.title},
                body=_("你没有在期限内完成支付，名额已转给下一位候补成员。"),
                link=event_path(event),
            )
        promote_waitlist(event.pk, now=now)
    return True


def expire_due_offers(*, now: datetime | None = None) -> int:
    """The sweeper: lapse every offer past its deadline. Returns how many lapsed."""
    now = now or timezone.now()
    due = Registration.objects.filter(status=RegistrationStatus.OFFERED, offer_expires_at__lte=now).values_list(
        "pk", flat=True
    )
    return sum(expire_offer(registration_id, now=now) for registration_id in list(due))


# --- paid tickets (called by the orders app through TicketRules) ----------------------


def event_of_product(product_id: int) -> Event | None:
    return Event.objects.select_related("community", "shop").filter(ticket_product_id=product_id).first()


def check_ticket_purchase(user: Any, sku: Sku, quantity: int) -> None:
    event = event_of_product(sku.product_id)
    if event is None:
        raise EventNotFound(_("活动不存在"))
    check_member(user, event.community)
    if quantity != 1:
        raise InvalidInput(_("每人限购 1 张门票"), code="one_ticket_each")
    now = timezone.now()
    registration = selectors.live_registration(user, event)
    if registration is not None and registration.status == RegistrationStatus.CONFIRMED:
        raise AlreadyRegistered(_("你已持有本活动门票"))
    offered = (
        registration is not None
        and registration.status == RegistrationStatus.OFFERED
        and registration.offer_expires_at is not None
        and registration.offer_expires_at > now
    )
    if offered:  # the seat kept for them: only the start and a cancellation stop it
        if event.status != EventStatus.PUBLISHED or now >= event.starts_at:
            raise RegistrationClosed(_("活动已取消或已开始"))
        return
    check_open_for_registration(event, now=now)
    stock = Sku.objects.values_list("stock", flat=True).get(pk=sku.pk)
    if selectors.waitlist_count(event) or stock - selectors.open_offers(event, now=now) < 1:
        raise EventFull(_("名额已满，可以加入候补，有人退票时按顺序通知你"))


def grant_ticket(order: Any, line: Any) -> str | None:
    """The order was paid: its member's registration is confirmed (idempotent per order).

    The order reserved the seat in stock when it was created, so the seat is theirs; only a
    cancelled or started event, or a second ticket, is refused (and refunded by the orders app).
    """
    event = event_of_product(line.product_id)
    if event is None:
        return _("活动不存在，门票款将原路退回")
    now = timezone.now()
    with transaction.atomic():
        mine = Registration.objects.filter(event=event, order_id=order.pk).first()
        if mine is not None and mine.status == RegistrationStatus.CONFIRMED:
            return None
        if event.status != EventStatus.PUBLISHED:
            return _("活动已取消，门票款将原路退回")
        if now >= event.starts_at:
            return _("活动已开始，门票款将原路退回")
        registration = selectors.live_registration(order.user, event)
        if registration is not None and registration.status == RegistrationStatus.CONFIRMED:
            return _("你已持有本活动门票，重复购买的款项将原路退回")
        if not _take_seat(event.pk):
            return _("名额已满，门票款将原路退回")
        if registration is not None:
            Registration.objects.filter(pk=registration.pk).update(
                status=RegistrationStatus.CONFIRMED, order_id=order.pk, confirmed_at=now, offer_expires_at=None
            )
        else:
            Registration.objects.create(
                event=event,
                user=order.user,
                status=RegistrationStatus.CONFIRMED,
                order_id=order.pk,
                confirmed_at=now,
                checkin_token=_new_token(),
            )
    return None


def ticket_released(order: Any, line: Any) -> None:
    """An unpaid ticket order closed: its seat is back in stock (an open offer stays open)."""
    event = event_of_product(line.product_id)
    if event is not None:
        promote_waitlist(event.pk)


def ticket_refund_refusal(order: Any, line: Any) -> CannotCancel | None:
    event = event_of_product(line.product_id)
    if event is None or event.status == EventStatus.CANCELLED:
        return None
    registration = Registration.objects.filter(event=event, order_id=order.pk).first()
    if registration is not None and registration.checked_in_at is not None:
        return CannotCancel(_("已签到的门票不能退款"))
    if timezone.now() >= event.starts_at - REFUND_CUTOFF:
        hours = int(REFUND_CUTOFF.total_seconds() // 3600)
        return CannotCancel(_("活动开始前 %(hours)s 小时内不能退票，如有特殊情况请联系商家") % {"hours": hours})
    return None


def ticket_refunded(order: Any, line: Any, amount_fen: int) -> None:
    """The gateway confirmed a refund of a ticket. Once the line is refunded in full the
    registration ends, the seat goes back to stock and the waitlist is offered it.
    A partial refund (a goodwill gesture by staff) keeps the ticket."""
    if line.refunded_fen < line.total_fen:
        return
    event = event_of_product(line.product_id)
    if event is None:
        return
    now = timezone.now()
    with transaction.atomic():
        registration = Registration.objects.filter(event=event, order_id=order.pk).first()
        if registration is not None and registration.status == RegistrationStatus.REFUNDED:
            return  # told twice
        if registration is None:
            # Paid but never granted (refused at payment): keep a row so a repeat call restores nothing.
            Registration.objects.create(
                event=event,
                user=order.user,
                status=RegistrationStatus.REFUNDED,
                order_id=order.pk,
                cancelled_at=now,
                checkin_token=_new_token(),
            )
        else:
            Registration.objects.filter(pk=registration.pk).update(status=RegistrationStatus.REFUNDED, cancelled_at=now)
            if registration.status == RegistrationStatus.CONFIRMED:
                _release_seat(event.pk)
        Sku.objects.filter(pk=line.sku_id).update(stock=F("stock") + line.quantity)
        promote_waitlist(event.pk, now=now)


def ticket_landing_url(order: Any) -> str | None:
    line = order.lines.order_by("pk").first()
    event = event_of_product(line.product_id) if line is not None else None
    return event_path(event) if event is not None else None


# --- reminders ---------------------------------------------------------------------


def reminder_due_at(event: Event) -> datetime:
    return event.starts_at - timedelta(hours=event.reminder_hours)


def do_send_reminders(event_id: int, *, now: datetime | None = None) -> int:
    """Remind every confirmed attendee, exactly once per event, once the reminder is due.

    Returns how many were reminded (0 when not due, already sent, cancelled or started).
    """
    now = now or timezone.now()
    event = Event.objects.select_related("shop").filter(pk=event_id).first()
    if event is None or event.status != EventStatus.PUBLISHED or event.reminder_sent_at is not None:
        return 0
    if now < reminder_due_at(event) or now >= event.starts_at:
        return 0
    with transaction.atomic():
        claimed = Event.objects.filter(
            pk=event_id, status=EventStatus.PUBLISHED, reminder_sent_at__isnull=True, starts_at=event.starts_at
        ).update(reminder_sent_at=now)
        if not claimed:
            return 0
        attendees = list(
            Registration.objects.select_related("user").filter(event=event, status=RegistrationStatus.CONFIRMED)
        )
        for registration in attendees:
            with in_language_of(registration.user):
                notify(
                    registration.user,
                    shop=event.shop,
                    kind="events.reminder",
                    title=_("活动提醒：%(title)s") % {"title": event.title},
                    body=(
                        _("%(when)s 在 %(venue)s（%(address)s），到场时出示活动页的签到二维码。")
                        if event.address
                        else _("%(when)s 在 %(venue)s，到场时出示活动页的签到二维码。")
                    )
                    % {"when": _when(event), "venue": event.venue, "address": event.address},
                    link=event_path(event),
                )
    return len(attendees)


def send_due_reminders(*, now: datetime | None = None) -> int:
    """The sweeper: send every reminder whose time has come and that the ETA task missed."""
    now = now or timezone.now()
    candidates = Event.objects.filter(
        status=EventStatus.PUBLISHED,
        reminder_sent_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + timedelta(hours=REMINDER_HOURS_MAX),
    ).values_list("pk", flat=True)
    return sum(do_send_reminders(event_id, now=now) for event_id in list(candidates))


def _schedule_reminder(event: Event) -> None:
    on_commit(tasks.schedule_reminder, event.pk, reminder_due_at(event))


# --- console: events ---------------------------------------------------------------


@dataclass
class EventInput:
    title: str
    venue: str
    starts_at: datetime | None
    ends_at: datetime | None
    capacity: int | None
    price_fen: int = 0
    description: str = ""
    address: str = ""
    rsvp_deadline: datetime | None = None
    sub_group_id: int | None = None
    reminder_hours: int = 24


def check_event_input(
    shop: Shop, community: Community, data: EventInput, *, event: Event | None = None
) -> tuple[EventInput, SubGroup | None]:
    """Clean an event's fields; every problem at once in ``details["fields"]`` for the form."""
    fields: dict[str, str] = {}
    data.title = (data.title or "").strip()
    data.venue = (data.venue or "").strip()
    data.address = (data.address or "").strip()
    data.description = (data.description or "").strip()
    if not data.title:
        fields["title"] = _("请填写活动名称")
    elif len(data.title) > TITLE_MAX:
        fields["title"] = _("活动名称不能超过 %(max)s 个字") % {"max": TITLE_MAX}
    if not data.venue:
        fields["venue"] = _("请填写活动地点")
    elif len(data.venue) > VENUE_MAX:
        fields["venue"] = _("地点不能超过 %(max)s 个字") % {"max": VENUE_MAX}
    if len(data.address) > ADDRESS_MAX:
        fields["address"] = _("详细地址不能超过 %(max)s 个字") % {"max": ADDRESS_MAX}
    if len(data.description) > DESCRIPTION_MAX:
        fields["description"] = _("活动介绍不能超过 %(max)s 个字") % {"max": DESCRIPTION_MAX}
    now = timezone.now()
    if data.starts_at is None:
        fields["starts_at"] = _("请填写开始时间")
    elif (event is None or data.starts_at != event.starts_at) and data.starts_at <= now:
        fields["starts_at"] = _("开始时间需晚于现在")
    if data.ends_at is None:
        fields["ends_at"] = _("请填写结束时间")
    elif data.starts_at is not None and data.ends_at <= data.starts_at:
        fields["ends_at"] = _("结束时间需晚于开始时间")
    if data.rsvp_deadline is not None and data.starts_at is not None and data.rsvp_deadline > data.starts_at:
        fields["rsvp_deadline"] = _("报名截止时间不能晚于开始时间")
    if data.capacity is None or not 1 <= data.capacity <= CAPACITY_MAX:
        fields["capacity"] = _("名额需在 1 到 %(max)s 之间") % {"max": CAPACITY_MAX}
    elif event is not None and data.capacity < event.confirmed_count:
        fields["capacity"] = _("已有 %(confirmed_count)s 人确认参加，名额不能少于这个数") % {
            "confirmed_count": event.confirmed_count
        }
    if data.price_fen is None or not 0 <= data.price_fen <= PRICE_MAX_FEN:
        fields["price_fen"] = _("票价需在 ¥0 到 ¥100,000 之间（0 为免费）")
    elif event is not None and (data.price_fen > 0) != event.is_paid and event.status != EventStatus.DRAFT:
        fields["price_fen"] = _("活动发布后不能在免费和收费之间切换")
    if not 1 <= (data.reminder_hours or 0) <= REMINDER_HOURS_MAX:
        fields["reminder_hours"] = _("提前提醒时间需在 1 到 %(max)s 小时之间") % {"max": REMINDER_HOURS_MAX}
    sub_group = None
    if data.sub_group_id:
        sub_group = SubGroup.objects.filter(
            pk=data.sub_group_id, community=community, kind=SubGroupKind.CHAPTER, is_active=True
        ).first()
        if sub_group is None:
            fields["sub_group"] = _("请选择本社群的城市分会")
    if community.shop_id != shop.pk:
        fields["community"] = _("社群不存在")
    if fields:
        raise InvalidEvent(next(iter(fields.values())), details={"fields": fields})
    return data, sub_group


def _save_ticket(event: Event, *, capacity_change: int = 0) -> None:
    """Create or update the event's ticket product (paid events); its stock moves by the
    capacity change, read under the SKU's row lock so concurrent orders are not lost."""
    if not event.is_paid and event.ticket_product_id is None:
        return
    sku = (
        Sku.objects.select_for_update().filter(product_id=event.ticket_product_id, spec=TICKET_SPEC).first()
        if event.ticket_product_id
        else None
    )
    stock = (sku.stock if sku is not None else event.capacity - event.confirmed_count) + capacity_change
    if stock < 0:
        raise InvalidEvent(
            _("名额不能少于已售出和待支付的门票数"),
            details={"fields": {"capacity": _("名额不能少于已售出和待支付的门票数")}},
        )
    price = event.price_fen if event.is_paid else (sku.price_fen if sku is not None else 1)
    event.ticket_product = save_kind_product(
        event.shop,
        ProductKind.TICKET,
        event.title,
        [(TICKET_SPEC, price, stock)],
        product=event.ticket_product,
        on_shelf=event.is_paid and event.status == EventStatus.PUBLISHED,
    )


def _apply(event: Event, data: EventInput, sub_group: SubGroup | None) -> None:
    event.title, event.venue, event.address = data.title, data.venue, data.address
    event.description = data.description
    event.starts_at, event.ends_at = data.starts_at, data.ends_at  # type: ignore[assignment]
    event.capacity = data.capacity  # type: ignore[assignment]
    event.price_fen = data.price_fen
    event.rsvp_deadline = data.rsvp_deadline
    event.reminder_hours = data.reminder_hours
    event.sub_group = sub_group


def do_create_event(shop: Shop, community: Community, data: EventInput, *, actor: Any, ip: str | None = None) -> Event:
    """A draft event (members see it once published)."""
    data, sub_group = check_event_input(shop, community, data)
    with transaction.atomic():
        event = Event(shop=shop, community=community, created_by=actor if getattr(actor, "pk", None) else None)
        _apply(event, data, sub_group)
        event.save()
        _save_ticket(event)
        if event.ticket_product_id:
            event.save(update_fields=["ticket_product"])
        audit.record(actor=actor, shop=shop, action="events.event_created", obj=event, ip=ip, price_fen=event.price_fen)
    return event


def do_update_event(shop: Shop, event: Event, data: EventInput, *, actor: Any, ip: str | None = None) -> Event:
    if event.shop_id != shop.pk:
        raise EventNotFound(_("活动不存在"))
    if event.status == EventStatus.CANCELLED:
        raise InvalidEventTransition(_("活动已取消，不能再修改"))
    with transaction.atomic():
        locked = Event.objects.select_for_update(of=("self",)).select_related("shop", "community").get(pk=event.pk)
        data, sub_group = check_event_input(shop, locked.community, data, event=locked)
        old_capacity, old_starts_at, old_reminder_hours = locked.capacity, locked.starts_at, locked.reminder_hours
        _apply(locked, data, sub_group)
        if locked.starts_at != old_starts_at:
            locked.reminder_sent_at = None  # the new time deserves its own reminder
        # Keep the counters as the database has them (they move by F() updates only).
        locked.save(
            update_fields=[
                "title",
                "venue",
                "address",
                "description",
                "starts_at",
                "ends_at",
                "capacity",
                "price_fen",
                "rsvp_deadline",
                "reminder_hours",
                "sub_group",
                "reminder_sent_at",
            ]
        )
        _save_ticket(locked, capacity_change=locked.capacity - old_capacity)
        if locked.ticket_product_id != event.ticket_product_id:
            locked.save(update_fields=["ticket_product"])
        audit.record(actor=actor, shop=shop, action="events.event_updated", obj=locked, ip=ip, capacity=locked.capacity)
        if locked.status == EventStatus.PUBLISHED:
            if locked.starts_at != old_starts_at or locked.reminder_hours != old_reminder_hours:
                _schedule_reminder(locked)
            if locked.capacity > old_capacity:
                promote_waitlist(locked.pk)
    locked.refresh_from_db()
    return locked


def do_publish_event(shop: Shop, event: Event, *, actor: Any, ip: str | None = None) -> Event:
    if event.shop_id != shop.pk:
        raise EventNotFound(_("活动不存在"))
    with transaction.atomic():
        locked = Event.objects.select_for_update(of=("self",)).select_related("shop").get(pk=event.pk)
        if locked.status != EventStatus.DRAFT:
            raise InvalidEventTransition(_("只有草稿可以发布"))
        if locked.starts_at <= timezone.now():
            raise InvalidEventTransition(_("开始时间已过，请先修改时间再发布"))
        locked.status, locked.published_at = EventStatus.PUBLISHED, timezone.now()
        locked.save(update_fields=["status", "published_at"])
        _save_ticket(locked)
        audit.record(actor=actor, shop=shop, action="events.event_published", obj=locked, ip=ip)
        _schedule_reminder(locked)
    return locked


def do_cancel_event(shop: Shop, event: Event, *, actor: Any, reason: str = "", ip: str | None = None) -> Event:
    """Call the event off: every waitlist place, offer and free seat ends, and everyone who was
    signed up is told. Paid tickets are refunded in full at once: ``event_cancelled`` names
    their orders and the orders app refunds them in this transaction (the ticket rules' refunded
    hook then marks each registration refunded when the gateway confirms)."""
    if event.shop_id != shop.pk:
        raise EventNotFound(_("活动不存在"))
    reason = (reason or "").strip()[:200]
    now = timezone.now()
    with transaction.atomic():
        locked = Event.objects.select_for_update(of=("self",)).select_related("shop").get(pk=event.pk)
        if locked.status == EventStatus.CANCELLED:
            raise InvalidEventTransition(_("活动已取消"))
        was_published = locked.status == EventStatus.PUBLISHED
        locked.status, locked.cancelled_at = EventStatus.CANCELLED, now
        locked.save(update_fields=["status", "cancelled_at"])
        _save_ticket(locked)
        live = list(Registration.objects.select_related("user").filter(event=locked, status__in=LIVE_STATUSES))
        for registration in live:
            paid_ticket = registration.status == RegistrationStatus.CONFIRMED and registration.order_id is not None
            if not paid_ticket:
                Registration.objects.filter(pk=registration.pk).update(
                    status=RegistrationStatus.CANCELLED, cancelled_at=now
                )
            if was_published:
                with in_language_of(registration.user):
                    notify(
                        registration.user,
                        shop=locked.shop,
                        kind="events.cancelled",
                        title=_("活动取消：%(title)s") % {"title": locked.title},
                        body="".join(
                            part
                            for part in (
                                _("原定 %(when)s 的活动已取消。") % {"when": _when(locked)},
                                _("%(reason)s。") % {"reason": reason} if reason else "",
                                _("门票款将全额原路退回。") if paid_ticket else "",
                                _("给你带来不便，敬请谅解。"),
                            )
                            if part
                        ),
                        link=event_path(locked),
                    )
        paid_order_ids = [
            r.order_id for r in live if r.status == RegistrationStatus.CONFIRMED and r.order_id is not None
        ]
        signals.event_cancelled.send(sender=Event, event=locked, paid_order_ids=paid_order_ids)
        audit.record(
            actor=actor, shop=shop, action="events.event_cancelled", obj=locked, ip=ip, told=len(live), reason=reason
        )
    return locked


# --- console: check-in -------------------------------------------------------------


def do_check_in(
    shop: Shop, registration: Registration, *, event: Event | None = None, actor: Any, ip: str | None = None
) -> tuple[Registration, bool]:
    """Mark attendance at the door, once. Returns (registration, True when this call checked in).

    ``event`` (the console's check-in page of one event) refuses another event's ticket.
    """
    if registration.event.shop_id != shop.pk:
        raise TicketNotFound(_("票不存在或不属于本店"))
    if event is not None and registration.event_id != event.pk:
        raise CheckInRefused(
            _("这张票属于另一个活动「%(title)s」") % {"title": registration.event.title},
            details={"event_id": registration.event_id},
        )
    if registration.event.status == EventStatus.CANCELLED:
        raise CheckInRefused(_("活动已取消，不能签到"))
    if registration.status != RegistrationStatus.CONFIRMED:
        label = RegistrationStatus(registration.status).label
        raise CheckInRefused(_("该报名%(label)s，不能签到") % {"label": label}, details={"status": registration.status})
    with transaction.atomic():
        checked = Registration.objects.filter(
            pk=registration.pk, status=RegistrationStatus.CONFIRMED, checked_in_at__isnull=True
        ).update(checked_in_at=timezone.now(), checked_in_by=actor if getattr(actor, "pk", None) else None)
        registration.refresh_from_db()
        if checked:
            audit.record(
                actor=actor,
                shop=shop,
                action="events.check_in",
                obj=registration,
                ip=ip,
                event_id=registration.event_id,
                user_id=registration.user_id,
            )
    return registration, bool(checked)


def ticket_token(value: str) -> str:
    """Staff may paste the whole URL the QR code holds, or just its token."""
    value = (value or "").strip().rstrip("/")
    return value.rsplit("/", 1)[-1] if "/" in value else value


def check_in_message(registration: Registration, newly: bool) -> str:
    if newly:
        return _("签到成功：%(display_name)s") % {"display_name": registration.user.display_name}
    assert registration.checked_in_at is not None
    return _("已签到（%(value)s）") % {"value": _local(registration.checked_in_at).strftime("%H:%M")}
