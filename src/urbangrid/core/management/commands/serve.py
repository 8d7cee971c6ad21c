"""`urbangrid serve`: the production web server (gunicorn, sync workers, workers from the CPU count)."""
import os
import shutil
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from urbangrid.core.checks import refuse_builtin_key


class Command(BaseCommand):
    help = _("以 gunicorn 运行生产服务（同步 worker，数量按 CPU 计算）")

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("URBANGRID_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=None, help=_("默认 2 × CPU 核数 + 1"))
        parser.add_argument("--timeout", type=int, default=60)
        parser.add_argument("--dry-run", action="store_true", help=_("只打印将要执行的命令"))

    def handle(self, *args, bind, workers, timeout, dry_run, **options):
        try:
            refuse_builtin_key()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        workers = workers if workers is not None else 2 * (os.cpu_count() or 1) + 1
        if workers < 1 or workers > 256:
            raise CommandError(_("--workers 应在 1 到 256 之间"))
        if timeout < 5:
            raise CommandError(_("--timeout 至少 5 秒"))
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
        if gunicorn is None:
            raise CommandError(_("找不到 gunicorn，请先安装"))
        argv = [gunicorn, "urbangrid.wsgi:application", "--bind", bind, "--workers", str(workers), "--worker-class", "sync",
                "--timeout", str(timeout), "--access-logfile", "-", "--max-requests", "2000", "--max-requests-jitter", "200"]
        if dry_run:
            self.stdout.write(" ".join(argv))
            return
        os.execv(gunicorn, argv)
