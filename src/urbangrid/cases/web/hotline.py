"""The centre's form for a 12345 / 12319 call: the operator types the call in, the loop takes it from there.

The same service path as the hotline work-order API (``services.report`` with the work order's number
as ``external_ref``), so a call that also arrives as a work order later is recognised, not duplicated."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _, gettext_lazy

from urbangrid.catalog.models import CatalogClass
from urbangrid.org.access import view_require

from .. import intake, services
from ..states import Source


class HotlineCallForm(forms.Form):
    hotline = forms.ChoiceField(label=gettext_lazy("热线"), choices=[("12345", "12345"), ("12319", "12319")])
    external_no = forms.CharField(label=gettext_lazy("工单号（可不填）"), max_length=60, required=False)
    catalog_class = forms.ModelChoiceField(label=gettext_lazy("问题类别"), queryset=CatalogClass.objects.none())
    address = forms.CharField(label=gettext_lazy("地址"), max_length=256, required=False, widget=forms.TextInput(attrs={
        "data-geocode-url": "/api/v1/geocode", "data-lon-field": "id_lon", "data-lat-field": "id_lat", "size": 50,
        "data-empty-text": gettext_lazy("地址库中没有找到，请填写经纬度"), "data-error-text": gettext_lazy("暂时无法查询地址"),
        "data-picked-text": gettext_lazy("已定位："), "placeholder": gettext_lazy("输入路名门牌、小区或单位名称，从候选中选择")}),
        help_text=gettext_lazy("没有经纬度时按地址定位；地址不能确定位置的，案件进入“待定位”，由监督中心定位"))
    lon = forms.FloatField(label=gettext_lazy("经度"), min_value=-180, max_value=180, required=False)
    lat = forms.FloatField(label=gettext_lazy("纬度"), min_value=-90, max_value=90, required=False)
    description = forms.CharField(label=gettext_lazy("来电内容"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    # Checked by the service like every door's (standard format, class, district, the inventory).
    component_identifier = forms.CharField(label=gettext_lazy("部件标识码（部件问题可填）"), max_length=40, required=False)
    caller_name = forms.CharField(label=gettext_lazy("来电人"), max_length=50, required=False)
    caller_phone = forms.CharField(label=gettext_lazy("来电号码"), max_length=50, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["catalog_class"].queryset = (CatalogClass.objects.current()
                                                 .select_related("version").order_by("kind", "code"))
        self.fields["catalog_class"].label_from_instance = lambda c: f"{c.code} {c.major_name} · {c.name}"

    def clean(self):
        d = super().clean()
        lon, lat = d.get("lon"), d.get("lat")
        if (lon is None) != (lat is None) and not self.has_error("lon") and not self.has_error("lat"):
            self.add_error("lat" if lat is None else "lon", _("经度和纬度须一起填写"))
        elif lon is None and lat is None and not (d.get("address") or "").strip() and not self.has_error("address"):
            self.add_error("address", _("请填写经纬度或地址"))
        return d


# What a link may fill in on an empty form (the component page's 登记此部件的问题: class, identifier, point).
PREFILL = ("catalog_class", "component_identifier", "lon", "lat")


@login_required
def hotline_call(request):
    actor = view_require(request, intake.DOORS[intake.HOTLINE].permission)
    initial = {k: request.GET[k] for k in PREFILL if request.GET.get(k)} if request.method != "POST" else None
    form = HotlineCallForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            ref = intake.hotline_ref(d["hotline"], d["external_no"])
            try:
                case, created = services.report(
                    actor, catalog_class=d["catalog_class"], lon=d["lon"], lat=d["lat"], description=d["description"],
                    source=Source.HOTLINE_12345 if d["hotline"] == "12345" else Source.HOTLINE_12319,
                    address=d["address"], reporter_name=d["caller_name"], reporter_contact=d["caller_phone"], external_ref=ref,
                    door=intake.HOTLINE, component_identifier=d["component_identifier"])
            except services.CaseError as exc:
                for field, message in exc.fields.items():
                    form.add_error(field if field in form.fields else None, message)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                text = _("已登记为案件 %(n)s") if created else _("该工单已登记过，为案件 %(n)s")
                if created and case.lon is None:
                    text = _("已登记为案件 %(n)s；地址未能确定位置，案件待定位")
                messages.success(request, text % {"n": case.number})
                return redirect("work:case", number=case.number)
    return render(request, "cases/hotline.html", {"form": form}, status=status)
