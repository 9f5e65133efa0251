"""An in-process stand-in for WeChat Pay's servers, speaking the v3 protocol.

``keys`` holds the key material of both sides, ``server`` answers signed API requests
and keeps the sandbox's own books, ``notify`` sends signed, encrypted notifications.
"""
