"""The benchmarks' baselines, mounted only when settings.URBANGRID_BENCH is on (the environment variable
URBANGRID_BENCH=1; off by default, never in production; see urbangrid.urls):

- /bench/ping: a minimal JSON view (the goal's baseline);
- /bench/write: a minimal JSON view that commits one row (a bound: the least any view that stores something
  costs), into the table ``bench_write`` that the benchmark creates before it starts the server;
- /bench/upload: the same, after what any report with a photo must do before its rows: parse the multipart body and
  check, re-encode and store its photo with the project's own ``clean_photo`` and file storage (a bound too);
- /bench/doc/<name> (bench/bench_open311.py): the document the benchmark saved as ``bench/<name>.json`` in the var
  directory, answered from this process's memory after its first read, to GET or POST, the body not read: what
  Django and gunicorn alone cost to answer an endpoint's own JSON.
"""
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from urbangrid.cases.photos import clean_photo


def ping(request):
    return JsonResponse({"ok": True})


@csrf_exempt
@require_POST
def write(request):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_write (note) VALUES (%s)", [request.body[:200].decode("utf-8", "replace")])
    return JsonResponse({"ok": True}, status=201)


@csrf_exempt
@require_POST
def upload(request):
    content, _w, _h, _hint = clean_photo(request.FILES["photos"])
    name = default_storage.save("bench/photo.jpg", content)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_write (note) VALUES (%s)", [name])
    return JsonResponse({"ok": True}, status=201)


_documents = {}


@csrf_exempt
def document(request, name):
    body = _documents.get(name)
    if body is None:
        try:
            body = _documents[name] = (settings.VAR_DIR / "bench" / f"{name}.json").read_bytes()
        except FileNotFoundError:
            raise Http404(name) from None
    return HttpResponse(body, content_type="application/json; charset=utf-8")
