"""factory-boy factories shared by every app's tests."""

import itertools

import factory

from shequn.accounts.models import Address, User
from shequn.catalog.models import Category, Product, Sku
from shequn.communities.models import Community, CommunityMembership, Post
from shequn.shops.enums import StaffRole
from shequn.shops.models import PickupPoint, Shop, StaffMember

_phones = itertools.count(13800000000)


class ShopFactory(factory.django.DjangoModelFactory[Shop]):
    class Meta:
        model = Shop

    name = factory.Sequence(lambda n: f"鲜鱼农场{n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    nickname = factory.Sequence(lambda n: f"会员{n}")
    phone = factory.LazyFunction(lambda: str(next(_phones)))
    password = factory.django.Password("correct horse battery staple")


class StaffFactory(factory.django.DjangoModelFactory[StaffMember]):
    class Meta:
        model = StaffMember

    shop = factory.SubFactory(ShopFactory)
    user = factory.SubFactory(UserFactory, phone=None)
    role = StaffRole.OWNER


class PickupPointFactory(factory.django.DjangoModelFactory[PickupPoint]):
    class Meta:
        model = PickupPoint

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"自提点{n}")
    address = "上海市浦东新区张江路 1 号"
    opening_hours = "09:00-21:00"


class AddressFactory(factory.django.DjangoModelFactory[Address]):
    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    recipient = "王小明"
    phone = "13912345678"
    province_code = "310000"
    province = "上海市"
    city_code = "310100"
    city = "上海市"
    district_code = "310115"
    district = "浦东新区"
    detail = "张江路 100 弄 5 号 601"
    is_default = True


class CategoryFactory(factory.django.DjangoModelFactory[Category]):
    class Meta:
        model = Category

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"分类{n}")


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    shop = factory.SubFactory(ShopFactory)
    title = factory.Sequence(lambda n: f"三文鱼刺身{n}")
    on_shelf = True
    returnable = True


class SkuFactory(factory.django.DjangoModelFactory[Sku]):
    class Meta:
        model = Sku

    product = factory.SubFactory(ProductFactory)
    shop = factory.LazyAttribute(lambda sku: sku.product.shop)
    spec = factory.Sequence(lambda n: f"{500 + n}g")
    price_fen = 3500
    stock = 100


class CommunityFactory(factory.django.DjangoModelFactory[Community]):
    class Meta:
        model = Community

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"三文鱼爱好者{n}群")
    invite_code = factory.Sequence(lambda n: f"invite{n:06d}")


class MembershipFactory(factory.django.DjangoModelFactory[CommunityMembership]):
    class Meta:
        model = CommunityMembership

    community = factory.SubFactory(CommunityFactory)
    user = factory.SubFactory(UserFactory)


class PostFactory(factory.django.DjangoModelFactory[Post]):
    class Meta:
        model = Post

    community = factory.SubFactory(CommunityFactory)
    shop = factory.LazyAttribute(lambda post: post.community.shop)
    author = factory.SubFactory(UserFactory, phone=None)
    body = "今日现捕三文鱼，35 元一斤，明天送到！"
