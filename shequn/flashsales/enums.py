from django.db import models


class SaleStatus(models.TextChoices):
    DRAFT = "draft", "草稿"  # being prepared; members do not see it, the gate knows nothing
    SCHEDULED = "scheduled", "已排期"  # published: reservations open, pools configured at the gate
    RUNNING = "running", "进行中"  # the first session has started (set by the first attempt or the reminder)
    PAUSED = "paused", "已暂停"  # the operator paused it: the gate admits nobody until resumed
    ENDED = "ended", "已结束"  # past its last session, or ended early: the gate admits nobody


class ClaimStatus(models.TextChoices):
    ADMITTED = "admitted", "排队中"  # the gate admitted it; the consumer has not written its order yet
    ORDERED = "ordered", "已下单"  # its order exists (unpaid or paid)
    RELEASED = "released", "已释放"  # no order could be made, or the unpaid order closed: units back at the gate


class SaleEventKind(models.TextChoices):
    SALE = "sale", "活动"  # a move of the sale's status
    CLAIM = "claim", "抢购"  # a move of a claim's status
