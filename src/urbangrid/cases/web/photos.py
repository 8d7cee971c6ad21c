from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404

from urbangrid.org.access import actor_of

from .. import services
from ..models import CasePhoto


@login_required
def photo(request, pk):
    """A case photo, only for people who may see the case (photos are not public files)."""
    photo = CasePhoto.objects.select_related("case").filter(pk=pk).first()
    if photo is None or not services.visible_cases(actor_of(request)).filter(pk=photo.case_id).exists():
        raise Http404
    response = FileResponse(photo.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response
