"""API schemas of the accounts app. Phones are full only in schemas the owner alone receives."""

from datetime import datetime

from ninja import Field, Schema

from shequn.core.schemas import Text


class OtpSendIn(Schema):
    phone: Text = Field(..., max_length=32, examples=["13812341234"])


class OtpSentOut(Schema):
    sent: bool = True
    expires_in: int  # seconds the code stays valid
    resend_after: int  # seconds before another code may be asked for


class OtpVerifyIn(Schema):
    phone: Text = Field(..., max_length=32)
    code: Text = Field(..., max_length=16)
    token_name: Text = Field("", max_length=64)


class MeOut(Schema):
    """The caller's own profile: the phone is shown in full to its owner."""

    id: int
    username: str
    nickname: str
    phone: str | None


class UserBriefOut(Schema):
    """Someone else, as another user sees them: the phone masked."""

    id: int
    nickname: str
    phone_masked: str


class ProfileIn(Schema):
    nickname: Text = Field(..., max_length=64)


class TokenOut(Schema):
    token: str  # shown once; store it, it cannot be read again
    token_id: int
    user: MeOut


class PasswordTokenIn(Schema):
    username: Text = Field(..., max_length=64)
    password: Text = Field(..., max_length=256)
    token_name: Text = Field("", max_length=64)


class TokenInfoOut(Schema):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class AddressIn(Schema):
    recipient: Text = Field(..., max_length=64)
    phone: Text = Field(..., max_length=32)
    province_code: Text = Field(..., max_length=6)
    city_code: Text = Field(..., max_length=6)
    district_code: Text = Field("", max_length=6)
    detail: Text = Field(..., max_length=400)
    is_default: bool = False


class AddressOut(Schema):
    """Only ever sent to the address's owner, so the recipient phone is in full."""

    id: int
    recipient: str
    phone: str
    province_code: str
    province: str
    city_code: str
    city: str
    district_code: str
    district: str
    detail: str
    is_default: bool
    created_at: datetime


class RegionOut(Schema):
    code: str
    name: str
    level: str  # province, city or district
    has_children: bool
