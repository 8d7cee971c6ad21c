"""``urbangrid components import FILE [--format] [--replace]`` and ``urbangrid components export FILE [--format]``:
the component inventory (部件库) as GeoJSON or Excel (``catalog/components_transfer.py``)."""
from django.utils.translation import gettext as _

from urbangrid.catalog import components_transfer
from urbangrid.core.transfer_command import TransferCommand


class Command(TransferCommand):
    help = _("导入、导出部件库（GeoJSON 或 Excel）")
    transfer = components_transfer
    app_label = "catalog"
    import_help = _("校验并导入部件库文件（有任何问题则不导入）")
    replace_help = _("以文件为全部部件库：删除文件中没有的部件")
    export_help = _("导出全部部件")

    def report_import(self, stats):
        self.stdout.write(_("部件：新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d，删除 %(deleted)d") % stats)
