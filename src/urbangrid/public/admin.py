from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import Open311Key, Open311Request, Open311Update
from .open311 import keys


@admin.register(Open311Key)
class Open311KeyAdmin(admin.ModelAdmin):
    list_display = ["owner", "key_prefix", "contact", "unit", "can_post_updates", "active", "created_at", "last_used_at"]
    list_filter = ["active", "can_post_updates"]
    search_fields = ["owner", "contact", "key_prefix"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at"]
    autocomplete_fields = []
    fields = ["owner", "contact", "unit", "can_post_updates", "active", "posts_per_hour", "key_prefix", "created_at",
              "last_used_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            raw = keys.generate()
            obj.key_hash, obj.key_prefix = keys.digest(raw), raw[:12]
            super().save_model(request, obj, form, change)
            messages.warning(request, _("新的 API 密钥（只显示这一次，请立即复制交给使用方）：%(key)s") % {"key": raw})
            return
        super().save_model(request, obj, form, change)


@admin.register(Open311Request)
class Open311RequestAdmin(admin.ModelAdmin):
    list_display = ["case", "key", "service_code", "created_at"]
    list_select_related = ["case", "key"]
    readonly_fields = ["case", "key", "service_code", "media_url", "account_id", "device_id", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Open311Update)
class Open311UpdateAdmin(admin.ModelAdmin):
    list_display = ["update_id", "key", "case", "status", "received_at"]
    list_select_related = ["case", "key"]
    readonly_fields = ["key", "update_id", "case", "status", "description", "updated_datetime", "event", "received_at"]

    def has_add_permission(self, request):
        return False
