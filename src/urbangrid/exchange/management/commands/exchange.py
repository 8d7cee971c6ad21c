"""``urbangrid exchange push [--now] [--max N]``, ``urbangrid exchange pull`` and ``urbangrid exchange status``: the
city's stream toward its province (联网上报; ``urbangrid.exchange.outbox``) and the tasks the province assigns it
(上级交办; ``urbangrid.exchange.inbox``): a push fetches the new tasks first."""
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from urbangrid.exchange import inbox, outbox


class Command(BaseCommand):
    help = _("联网上报：向省级平台发送案件、日统计和网格数据版本，获取省级交办任务，或查看发送进度")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{push,pull,status}")
        push = sub.add_parser("push", help=_("获取省级交办任务，再发送全部新数据（按批次顺序，失败则按退避时间重试）"))
        push.add_argument("--now", action="store_true", help=_("不等待退避时间，立即重试"))
        push.add_argument("--max", type=int, default=None, help=_("最多发送的批次数"))
        sub.add_parser("pull", help=_("获取省级交办任务（每个任务生成一件“上级交办”案件，只生成一次）"))
        status = sub.add_parser("status", help=_("查看发送进度（--remote：同时询问省级平台）"))
        status.add_argument("--remote", action="store_true", help=_("同时询问省级平台的接收进度"))

    def handle(self, *args, action, **options):
        try:
            cfg = outbox.config() if action in ("push", "pull") or options.get("remote") else None
        except outbox.NotConfigured as exc:
            raise CommandError(str(exc)) from None
        if action == "status":
            out = outbox.status()
            if options.get("remote"):
                try:
                    out["province"] = outbox.province_cursor(cfg)
                except (OSError, ValueError) as exc:
                    out["province"] = {"error": str(exc)}
            self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))
            return
        if action == "push" and options["max"] is not None and options["max"] < 1:
            raise CommandError(_("--max 必须是正整数"))
        pulled = inbox.pull(cfg)
        for task_id, number, created in pulled.cases:
            self.stdout.write((_("省级任务 %(task)s → 新案件 %(case)s") if created else _("省级任务 %(task)s → 已有案件 %(case)s"))
                              % {"task": task_id, "case": number})
        self.stdout.write(_("省级交办任务：获取 %(n)d 个，新建案件 %(created)d 件，已接收至任务 %(after)d") % {
            "n": pulled.fetched, "created": pulled.created, "after": pulled.after})
        if action == "pull":
            if pulled.error:
                raise CommandError(pulled.error)
            return
        outbox.prune()
        r = outbox.push(force=options["now"], max_batches=options["max"], cfg=cfg)
        for line in r.log:
            self.stdout.write(line)
        self.stdout.write(_("已发送 %(sent)d 批，重复 %(dup)d 批，已确认至第 %(acked)d 批，待发送 %(pending)d 批") % {
            "sent": r.sent, "dup": r.duplicates, "acked": r.acked_sequence, "pending": r.pending})
        if r.error or pulled.error:
            raise CommandError("；".join(e for e in (pulled.error, r.error and _("%(error)s；下次尝试：%(at)s") % {
                "error": r.error, "at": r.waiting_until}) if e))
        if r.waiting_until is not None:
            self.stdout.write(_("退避中，下次尝试：%(at)s（--now 立即重试）") % {"at": r.waiting_until})
