"""Campaign posts published before the feed card carried the link end with a bare
"立即接龙：/groupbuy/campaigns/<id>/" line; the card under the post now shows it, so drop the line."""

from django.db import migrations

PREFIX = "立即接龙："


def drop_bare_links(apps, schema_editor):
    CampaignLeader = apps.get_model("groupbuy", "CampaignLeader")
    Post = apps.get_model("communities", "Post")
    post_ids = set(CampaignLeader.objects.filter(post__isnull=False).values_list("post_id", flat=True))
    for post in Post.objects.filter(pk__in=post_ids).only("pk", "body"):
        lines = post.body.split("\n")
        kept = [line for line in lines if not line.startswith(PREFIX)]
        if kept != lines:
            Post.objects.filter(pk=post.pk).update(body="\n".join(kept))


class Migration(migrations.Migration):
    dependencies = [
        ("groupbuy", "0003_campaignitem_paid_units_campaignitem_tier_price_fen_and_more"),
        ("communities", "0004_paid_membership"),
    ]

    operations = [migrations.RunPython(drop_bare_links, migrations.RunPython.noop)]
