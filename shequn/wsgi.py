import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequn.settings")
application = get_wsgi_application()

if settings.SHEQUN_PRODUCTION:
    # A WSGI server runs no system checks; production must not come up with one failing
    # (the sandbox cashier enabled, an SMS backend that cannot be imported...).
    from shequn.core.checks import refuse_to_start_on_errors

    refuse_to_start_on_errors()
