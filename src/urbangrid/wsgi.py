import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "urbangrid.settings")
application = get_wsgi_application()

from urbangrid.core.checks import refuse_builtin_key  # noqa: E402  (settings are loaded by now)

refuse_builtin_key()

# Import every view and API module now, at worker start, rather than in the first request a worker answers
# (the URLconf pulls in the whole project: seconds on a busy machine).
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018
