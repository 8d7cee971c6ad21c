from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .login import ThrottledAdminAuthenticationForm, throttled_admin_login, unlock
from .models import ApiToken, SecurityEvent
from .tokens import revoke

admin.site.site_header = _("UrbanGrid 后台管理")
admin.site.site_title = _("UrbanGrid 后台管理")
admin.site.index_title = _("基础数据")
# The admin's login door under the same policy as the site's and the API's (core/login.py).
admin.site.login_form = ThrottledAdminAuthenticationForm
admin.site.login = throttled_admin_login(admin.site)  # a locked account: 429 and Retry-After, as at the other doors


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "prefix", "name", "created_at", "last_used_at", "expires_at", "revoked_at", "state")
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "prefix", "name")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    @admin.display(description=_("状态"))
    def state(self, token):
        reason = token.invalid_reason()
        return {"": _("有效"), "revoked": _("已吊销"), "expired": _("已过期"), "inactive": _("用户已停用"),
                "password_changed": _("密码已更改")}[reason]

    def has_add_permission(self, request):
        return False  # a token's secret is shown once, at issue: tokens come from the API or a command

    @admin.action(description=_("吊销所选令牌"))
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True).select_related("user"))
        for token in tokens:
            revoke(token, request, by=request.user)
        self.message_user(request, ngettext("已吊销 %(n)d 个令牌", "已吊销 %(n)d 个令牌", len(tokens)) % {"n": len(tokens)},
                          messages.SUCCESS)


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    list_display = ("at", "kind", "door", "username", "address", "detail")
    list_filter = ("kind", "door")
    search_fields = ("username", "address")
    date_hierarchy = "at"
    actions = ["lift_lock"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_unlock_permission(self, request):
        return request.user.is_superuser or request.user.has_perm("core.change_throttle")

    @admin.action(description=_("解除所选记录的账号和地址的登录锁定"), permissions=["unlock"])
    def lift_lock(self, request, queryset):
        pairs = set(queryset.values_list("username", "address"))
        for username, address in pairs:
            unlock(username=username, address=address, by=request.user)
        self.message_user(request, _("已解除 %(n)d 项锁定") % {"n": len(pairs)}, messages.SUCCESS)
