"""The landing page: each role's workbench, or a switcher for several roles."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from urbangrid.org.access import actor_of
from urbangrid.org.workbenches import workbenches_for
from urbangrid.province.pages import PERM as PROVINCE_PERM
from urbangrid.province.views import ADD_TASKS, VIEW_TASKS


@login_required
def home(request):
    """Land on the workbench of one's role; with several roles, a switcher (``?choose=1`` always shows it)."""
    actor = actor_of(request)
    benches = workbenches_for(actor)
    if not benches and request.user.has_perm(PROVINCE_PERM):  # the province's staff hold no city role
        return redirect("province:index")
    if not benches and (request.user.has_perm(VIEW_TASKS) or request.user.has_perm(ADD_TASKS)):
        return redirect("province:task-list")  # a province user given the tasks only
    if len(benches) == 1 and not request.GET.get("choose"):
        return redirect(benches[0].url)
    return render(request, "home/home.html", {"actor": actor, "roles": sorted(actor.roles, key=str), "benches": benches})
