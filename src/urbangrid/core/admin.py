from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import ApiToken

admin.site.site_header = _("UrbanGrid 后台管理")
admin.site.site_title = _("UrbanGrid 后台管理")
admin.site.index_title = _("基础数据")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "prefix", "name", "created_at", "last_used_at", "expires_at")
    search_fields = ("user__username", "prefix", "name")
    readonly_fields = ("prefix", "created_at", "last_used_at")
