import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "urbangrid.settings")
# A worker's start-up objects live as long as it does: no collecting while they are made, none of them later
# (the same as the command line's start, urbangrid/cli.py setup()).
gc.disable()
application = get_wsgi_application()

from urbangrid.core.checks import refuse_builtin_key  # noqa: E402  (settings are loaded by now)

refuse_builtin_key()

# Import every view and API module now, at worker start, rather than in the first request a worker answers
# (the URLconf pulls in the whole project: seconds on a busy machine).
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018
gc.freeze()
gc.enable()
