"""通知投递: the notification outbox for the command centre and administrators (``notify.view``), and putting
dead deliveries back in the queue (``notify.retry``). The rules are in ``cases/outbox.py``."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from urbangrid.org.access import view_require

from .. import outbox
from ..notify import MAX_ATTEMPTS, recipient_label

PER_PAGE = 50


class OutboxFilter(forms.Form):
    channel = forms.ChoiceField(label=gettext_lazy("渠道"), required=False)
    state = forms.ChoiceField(label=gettext_lazy("状态"), required=False,
                              choices=[("", gettext_lazy("全部"))] + outbox.STATES)
    date_from = forms.DateField(label=gettext_lazy("生成日期自"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=gettext_lazy("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", _("全部"))] + [(c, c) for c in channels]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("结束日期不能早于开始日期"))
        return data


@login_required
def outbox_page(request):
    actor = view_require(request, outbox.VIEW_PERM)
    names = outbox.channel_names()
    form = OutboxFilter(request.GET or None, channels=names)
    status = 200
    if form.is_bound and not form.is_valid():
        qs, status = outbox.deliveries().none(), 400
    else:
        data = form.cleaned_data if form.is_bound else {}
        qs = outbox.deliveries(data.get("channel", ""), data.get("state", ""), data.get("date_from"), data.get("date_to"))
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"d": d, "state": outbox.state_of(d), "state_label": outbox.STATE_LABELS[outbox.state_of(d)],
             "recipient": recipient_label(d.notification)} for d in page]
    query = request.GET.copy()
    query.pop("page", None)
    counts = outbox.counts()
    count_rows = [{"name": name, "cells": [(s, cells[s]) for s, _label in outbox.STATES], "total": cells["total"],
                   "dead": cells["dead"]} for name, cells in counts.items()]
    return render(request, "cases/notifications.html", {
        "form": form, "page": page, "rows": rows, "query": query.urlencode(), "count_rows": count_rows,
        "states": outbox.STATES, "dead_total": sum(c["dead"] for c in counts.values()), "max_attempts": MAX_ATTEMPTS,
        "may_retry": actor.can(outbox.RETRY_PERM),
    }, status=status)


def _back(request):
    nxt = request.POST.get("next", "")
    return nxt if nxt.startswith(reverse("work:notifications")) else reverse("work:notifications") + "?state=dead"


@require_POST
@login_required
def retry(request, pk):
    view_require(request, outbox.RETRY_PERM)
    if outbox.requeue(pk, request.user):
        messages.success(request, _("已将该通知放回发送队列"))
    else:
        messages.warning(request, _("该投递不是死信（已发送、仍在重试或不存在），未作改动"))
    return redirect(_back(request))


@require_POST
@login_required
def retry_channel(request):
    view_require(request, outbox.RETRY_PERM)
    channel = request.POST.get("channel", "").strip()
    if not channel:
        return HttpResponseBadRequest(_("请指定渠道"))
    if channel not in outbox.channel_names():
        return HttpResponseBadRequest(_("没有此渠道：%(c)s") % {"c": channel[:40]})
    n = outbox.requeue_channel(channel, request.user)
    messages.success(request, _("已将渠道 %(c)s 的 %(n)s 条死信放回发送队列") % {"c": channel, "n": n})
    return redirect(_back(request))

