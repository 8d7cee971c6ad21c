"""``urbangrid gazetteer import FILE [--replace]`` and ``urbangrid gazetteer export --format geojson|xlsx FILE``
(old cases' addresses: ``urbangrid cases backfill-addresses``)."""
from django.utils.translation import gettext as _

from urbangrid.core.transfer_command import TransferCommand
from urbangrid.gazetteer import transfer


class Command(TransferCommand):
    help = _("导入、导出地址库（道路、门牌、标志物、社区；GeoJSON 或 Excel）")
    transfer = transfer
    app_label = "gazetteer"
    import_help = _("校验并导入地址库文件（有任何问题则不导入）")
    replace_help = _("以文件为全部地址库：删除文件中没有的道路、门牌和标志物")
    export_help = _("导出全部地址库")

    def report_import(self, stats):
        names = {"road": _("道路"), "doorplate": _("门牌"), "landmark": _("标志物")}
        for layer, s in stats.items():
            self.stdout.write(_("%(layer)s：新增 %(created)d，更新 %(updated)d，删除 %(deleted)d") % {"layer": names[layer], **s})

    def exported_count(self, result):
        return sum(result.values())
