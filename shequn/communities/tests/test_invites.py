"""Invites and attribution: channels, the invite tree, join counts per channel, posters."""

import io
from urllib.parse import parse_qs, urlsplit

import pytest
import segno
from django.conf import settings
from django.test import Client
from django.urls import reverse
from PIL import Image

from shequn.communities import actions, posters, selectors
from shequn.communities.links import invite_url
from shequn.communities.models import CommunityMembership
from shequn.core.errors import InvalidInput, PermissionDenied
from shequn.core.models import AuditLog
from shequn.testing.factories import MembershipFactory, UserFactory
from shequn.testing.two_shops import login

pytestmark = pytest.mark.django_db


def _join(community, inviter=None, channel=None):
    user = UserFactory.create()
    actions.do_join(
        community, user, inviter_id=inviter.pk if inviter else None, channel_code=channel.code if channel else None
    )
    return user


def test_invite_tree_and_channel_counts_match_the_joins(community, operator):
    poster = actions.do_create_channel(community, "地铁海报", "poster", "metro", actor=operator)
    fair = actions.do_create_channel(community, "周末市集", "event", actor=operator)
    root = _join(community)  # joined without an inviter or channel
    a = _join(community, root, poster)
    b = _join(community, root, fair)
    a1 = _join(community, a, poster)
    a2 = _join(community, a)
    a11 = _join(community, a1, fair)
    a111 = _join(community, a11, poster)
    _join(community, b, poster)

    tree = selectors.invite_subtree(community, root.pk)
    assert (tree.direct, tree.size, tree.depth, tree.levels) == (2, 7, 4, [2, 3, 1, 1])
    assert (selectors.invite_subtree(community, a.pk).size, selectors.invite_subtree(community, a.pk).depth) == (4, 3)
    leaf = selectors.invite_subtree(community, a2.pk)
    assert (leaf.direct, leaf.size, leaf.depth) == (0, 0, 0)
    assert selectors.invite_subtree(community, a111.pk).size == 0

    assert selectors.channel_join_counts(community) == {"metro": 4, fair.code: 2, None: 2}
    channels = selectors.community_channels(community)
    counts = {c.code: c.join_count for c in channels}  # type: ignore[attr-defined]
    assert counts == {"metro": 4, fair.code: 2}

    figures = selectors.invite_tree_figures(community)
    assert (figures.members, figures.invited, figures.max_depth) == (8, 7, 4)
    top_user, top_tree = figures.top_inviters[0]
    assert top_user == root
    assert (top_tree.size, top_tree.depth, top_tree.direct) == (7, 4, 2)
    assert [(user.pk, sub.size) for user, sub in figures.top_inviters[1:3]] == [(a.pk, 4), (a1.pk, 2)]


def test_invite_subtree_is_one_query_whatever_the_tree(community, django_assert_num_queries):
    root = _join(community)
    inviter = root
    for _ in range(3):  # a chain of three, then a wide level of five
        inviter = _join(community, inviter)
    for _ in range(5):
        _join(community, inviter)
    _join(community)  # not in the tree
    with django_assert_num_queries(1):
        tree = selectors.invite_subtree(community, root.pk)
    assert (tree.size, tree.depth, tree.levels) == (8, 4, [1, 1, 1, 5])


def test_join_link_records_channel_and_inviter_through_the_page(community, operator, member):
    channel = actions.do_create_channel(community, "合作伙伴：咖啡馆", "partner", "cafe-01", actor=operator)
    inviter = MembershipFactory.create(community=community).user
    url = invite_url(community, inviter=inviter, channel=channel)
    query = parse_qs(urlsplit(url).query)
    assert query == {"from": [str(inviter.pk)], "ch": ["cafe-01"]}
    path = urlsplit(url).path + "?" + urlsplit(url).query
    page = login(member).get(path).content.decode()
    assert 'name="ch" value="cafe-01"' in page
    response = login(member).post(path, {"from": str(inviter.pk), "ch": "cafe-01"})
    assert response.status_code == 302
    membership = CommunityMembership.objects.get(community=community, user=member)
    assert (membership.invited_by, membership.channel) == (inviter, channel)


def test_unknown_or_retired_channel_is_not_attributed(community, operator, other_shop):
    channel = actions.do_create_channel(community, "海报", actor=operator)
    actions.do_set_channel_active(community, channel, False, actor=operator)
    user = UserFactory.create()
    membership, _ = actions.do_join(community, user, channel_code=channel.code)
    assert membership.channel is None
    membership, _ = actions.do_join(community, UserFactory.create(), channel_code="nope")
    assert membership.channel is None


def test_channel_codes_are_validated_and_unique(community, operator):
    actions.do_create_channel(community, "海报", code="spring", actor=operator)
    with pytest.raises(InvalidInput) as taken:
        actions.do_create_channel(community, "海报2", code="spring", actor=operator)
    assert taken.value.code == "channel_code_taken"
    with pytest.raises(InvalidInput):
        actions.do_create_channel(community, "海报3", code="有中文", actor=operator)
    with pytest.raises(PermissionDenied):
        actions.do_create_channel(community, "会员自建", actor=UserFactory.create())
    assert AuditLog.objects.filter(action="channel.create").count() == 1


def test_poster_png_has_the_right_size_and_the_invite_qr(community, member):
    actions.do_join(community, member)
    response = login(member).get(reverse("communities:my_poster_png", args=[community.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.verify()
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size) == ("PNG", posters.POSTER_SIZE)
    # The QR drawn is segno's matrix for the member's invite link: compare module by module.
    url = invite_url(community, inviter=member)
    assert url == f"{settings.SITE_URL}/c/join/{community.invite_code}/?from={member.pk}"
    expected = [list(row) for row in segno.make(url, error="m").matrix]
    assert _qr_matrix_in(image, len(expected)) == expected


def _qr_matrix_in(image, modules):
    """Read the QR modules back from the poster (the QR is pasted at a known place and size)."""
    left = (posters.POSTER_SIZE[0] - posters.QR_SIZE) // 2
    box = image.convert("L").crop((left, posters.QR_TOP, left + posters.QR_SIZE, posters.QR_TOP + posters.QR_SIZE))
    step = posters.QR_SIZE / (modules + 4)  # segno draws a 2-module border on each side
    return [
        [1 if box.getpixel((int((col + 2.5) * step), int((row + 2.5) * step))) < 128 else 0 for col in range(modules)]
        for row in range(modules)
    ]


def test_poster_needs_membership_and_a_font(community, member, monkeypatch):
    url = reverse("communities:my_poster_png", args=[community.pk])
    assert login(member).get(url).status_code == 404
    assert Client().get(url).status_code == 302
    actions.do_join(community, member)
    monkeypatch.setattr(posters, "FONT_CANDIDATES", ())
    monkeypatch.setattr(posters, "FONT_SEARCH_ROOT", posters.Path("/nonexistent"))
    posters.cjk_font_path.cache_clear()
    try:
        with pytest.raises(posters.PosterFontMissing) as missing:
            posters.cjk_font_path()
        assert "fonts-noto-cjk" in missing.value.message
    finally:
        posters.cjk_font_path.cache_clear()
