import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "urbangrid.settings")
application = get_wsgi_application()

from urbangrid.core.checks import refuse_builtin_key  # noqa: E402  (settings are loaded by now)

refuse_builtin_key()
