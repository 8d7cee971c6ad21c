"""Organisation: units, party organisations, persons and the roles they hold."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from urbangrid.grids.models import Region, ResponsibilityGrid, RoadSegment

from .roles import CENTRE_POSTS, GRID_ROLES, UNIT_ROLES, Role


class Unit(models.Model):
    """单位 / 专业部门: a bureau unit or outside department, in a tree (city unit › district unit › team)."""

    class Kind(models.TextChoices):
        CENTRE = "centre", _("监督指挥中心")
        BUREAU_UNIT = "bureau_unit", _("局属单位")
        OFFICE = "office", _("局机关科室")
        DEPARTMENT = "department", _("职能部门")
        DISTRICT_UNIT = "district_unit", _("区级单位")
        STREET_OFFICE = "street_office", _("街道办事处")
        TEAM = "team", _("班组/中队")
        ENTERPRISE = "enterprise", _("企业")

    class CommandLevel(models.TextChoices):
        CITY = "city", _("市级")
        DISTRICT = "district", _("区级")

    code = models.CharField(_("单位编码"), max_length=32, unique=True)
    name = models.CharField(_("单位名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=30, blank=True)
    parent = models.ForeignKey("self", verbose_name=_("上级单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    kind = models.CharField(_("单位类型"), max_length=20, choices=Kind.choices, default=Kind.BUREAU_UNIT)
    command_level = models.CharField(_("指挥层级"), max_length=10, choices=CommandLevel.choices, default=CommandLevel.CITY)
    region = models.ForeignKey(Region, verbose_name=_("服务区域"), null=True, blank=True, on_delete=models.PROTECT, related_name="units")
    # 属地兜底: a territorial unit takes the problems no rule assigns, in its region.
    is_territorial = models.BooleanField(_("属地兜底单位"), default=False)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["region"], condition=Q(is_territorial=True), name="one_territorial_unit_per_region"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.is_territorial and not self.region_id:
            raise ValidationError({"region": _("属地兜底单位必须指定服务区域")})
        if self.command_level == self.CommandLevel.DISTRICT and self.region_id and self.region.level not in (
            Region.Level.DISTRICT, Region.Level.STREET, Region.Level.COMMUNITY
        ):
            raise ValidationError({"region": _("区级单位的服务区域应为区、街道或社区")})

    def descendants_ids(self):
        ids, frontier = {self.pk}, [self.pk]
        while frontier:
            frontier = list(Unit.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
            ids.update(frontier)
        return ids


class PartyOrganization(models.Model):
    """党组织: general branch (党总支) › branch (党支部) › party group (党小组), owning segments and grids."""

    class Level(models.TextChoices):
        GENERAL_BRANCH = "general_branch", _("党总支")
        BRANCH = "branch", _("党支部")
        GROUP = "group", _("党小组")

    PARENT_LEVEL = {Level.BRANCH: Level.GENERAL_BRANCH, Level.GROUP: Level.BRANCH}

    code = models.CharField(_("组织编码"), max_length=32, unique=True)
    name = models.CharField(_("组织名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=20, choices=Level.choices)
    parent = models.ForeignKey("self", verbose_name=_("上级组织"), null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    unit = models.ForeignKey(Unit, verbose_name=_("所在单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="party_organizations")
    road_segments = models.ManyToManyField(RoadSegment, verbose_name=_("包保路段"), blank=True, related_name="party_organizations")
    grids = models.ManyToManyField(ResponsibilityGrid, verbose_name=_("包保网格"), blank=True, related_name="party_organizations")

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        ordering = ["code"]

    def __str__(self):
        return self.name

    def clean(self):
        want = self.PARENT_LEVEL.get(self.level)
        if want:
            if not self.parent_id or self.parent.level != want:
                raise ValidationError({"parent": _("上级组织应为%(level)s") % {"level": self.Level(want).label}})
        elif self.parent_id:
            raise ValidationError({"parent": _("党总支不能有上级组织")})


phone_validator = RegexValidator(r"^[0-9+\-() ]{5,30}$", _("电话号码格式不正确"))


class Person(models.Model):
    """人员: bureau staff, centre staff, unit staff or residents' council representatives."""

    name = models.CharField(_("姓名"), max_length=50)
    employee_no = models.CharField(_("工号"), max_length=32, unique=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("登录账号"), null=True, blank=True, on_delete=models.SET_NULL, related_name="person")
    unit = models.ForeignKey(Unit, verbose_name=_("所在单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="people")
    title = models.CharField(_("职务"), max_length=50, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True, validators=[phone_validator])
    is_party_member = models.BooleanField(_("中共党员"), default=False)
    party_organization = models.ForeignKey(
        PartyOrganization, verbose_name=_("所在党组织"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    active = models.BooleanField(_("在岗"), default=True)

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["employee_no"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.party_organization_id and not self.is_party_member:
            raise ValidationError({"party_organization": _("非党员不能编入党组织")})


class RoleAssignment(models.Model):
    """角色: a person holding a grid role in a grid or segment, a centre post, or a unit role."""

    person = models.ForeignKey(Person, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices)
    grid = models.ForeignKey(ResponsibilityGrid, verbose_name=_("责任网格"), null=True, blank=True, on_delete=models.CASCADE, related_name="role_assignments")
    road_segment = models.ForeignKey(RoadSegment, verbose_name=_("路段"), null=True, blank=True, on_delete=models.CASCADE, related_name="role_assignments")
    region = models.ForeignKey(Region, verbose_name=_("岗位区域"), null=True, blank=True, on_delete=models.CASCADE, related_name="role_assignments")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), null=True, blank=True, on_delete=models.CASCADE, related_name="role_assignments")

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = _("角色分配")
        ordering = ["person_id", "role"]
        constraints = [
            # Coalesce so that "no grid" counts as a value: the same role cannot be held twice in one place.
            models.UniqueConstraint(
                "person", "role", Coalesce("grid", Value(0)), Coalesce("road_segment", Value(0)),
                Coalesce("region", Value(0)), Coalesce("unit", Value(0)), name="unique_role_assignment",
            ),
        ]
        indexes = [models.Index(fields=["role", "grid"], name="role_grid_idx")]

    def __str__(self):
        where = self.grid or self.road_segment or self.region or self.unit or _("全市")
        return f"{self.person} · {self.get_role_display()} · {where}"

    def clean(self):
        errors = {}
        if self.role in GRID_ROLES:
            if not (self.grid_id or self.road_segment_id):
                errors["grid"] = _("网格角色必须指定责任网格或路段")
            if self.region_id or self.unit_id:
                errors["region"] = _("网格角色不指定岗位区域或单位")
        elif self.role in CENTRE_POSTS:
            if self.grid_id or self.road_segment_id:
                errors["grid"] = _("中心岗位不指定网格或路段")
            if self.role == Role.DISTRICT_DISPATCHER and (not self.region_id or self.region.level != Region.Level.DISTRICT):
                errors["region"] = _("二级派遣员必须指定所在区")
        elif self.role in UNIT_ROLES:
            if not self.unit_id:
                errors["unit"] = _("处置人员必须指定单位")
        if errors:
            raise ValidationError(errors)
