from shequn.testing.accounts import sms_outbox

__all__ = ["sms_outbox"]
