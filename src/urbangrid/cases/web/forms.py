"""The workbenches' filter form (GET parameters)."""
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from urbangrid.core.bounds import EARLIEST, LATEST

from ..indicators import INDICATORS
from ..states import Source, State

DATE_BOUNDS = [MinValueValidator(EARLIEST), MaxValueValidator(LATEST)]
LIGHTS = [("", _("全部")), ("red", _("红灯")), ("yellow", _("黄灯")), ("green", _("绿灯"))]


class FilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("编号、描述或地址"), "type": "search"}))
    state = forms.ChoiceField(label=_("状态"), required=False)
    light = forms.ChoiceField(label=_("灯"), choices=LIGHTS, required=False)
    grid = forms.CharField(label=_("责任网格"), required=False, max_length=20)
    class_code = forms.CharField(label=_("小类代码"), required=False, max_length=5)
    source = forms.ChoiceField(label=_("来源"), choices=[("", _("全部"))] + list(Source.choices), required=False)
    date_from = forms.DateField(label=_("上报日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                validators=DATE_BOUNDS)
    date_to = forms.DateField(label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                              validators=DATE_BOUNDS)
    sort = forms.ChoiceField(choices=[("deadline", ""), ("-deadline", ""), ("reported", ""), ("-reported", "")],
                             required=False, widget=forms.HiddenInput)
    # Drill-down from the dashboard: which date the period applies to, and narrower sets of cases.
    date_field = forms.ChoiceField(choices=[("created_at", ""), ("filed_at", ""), ("dispatched_at", ""), ("closed_at", "")],
                                   required=False, widget=forms.HiddenInput)
    district = forms.CharField(required=False, max_length=12, widget=forms.HiddenInput)
    unit = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    catalog_version = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    archive_type = forms.ChoiceField(choices=[("normal", ""), ("overdue", "")], required=False, widget=forms.HiddenInput)
    rework = forms.BooleanField(required=False, widget=forms.HiddenInput)
    self_handled = forms.ChoiceField(choices=[("0", ""), ("1", "")], required=False, widget=forms.HiddenInput)
    # A figure's drill-down (``cases.indicators``): the cases it counts over date_from–date_to.
    kpi = forms.ChoiceField(choices=[(k, i.label) for k, i in INDICATORS.items()], required=False,
                            widget=forms.HiddenInput)

    def __init__(self, *args, states=(), full=False, **kwargs):
        super().__init__(*args, **kwargs)
        states = states or State.values
        self.fields["state"].choices = [("", _("全部"))] + [(s, State(s).label) for s in states]
        if not full:  # the workbenches filter by state, light and text; the case list by everything
            for name in ("grid", "class_code", "source", "date_from", "date_to", "date_field", "district", "unit",
                         "catalog_version", "archive_type", "rework", "self_handled", "kpi"):
                del self.fields[name]
