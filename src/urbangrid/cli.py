"""The ``urbangrid`` console command: runs the project's Django management commands.

``urbangrid grids import city.geojson`` is ``django-admin grids import city.geojson`` with our settings.
"""
import os
import sys


def main(argv=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "urbangrid.settings")
    from django.core.management import execute_from_command_line  # after the settings module is named

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "urbangrid"
    # The documented spellings of commands whose module names need underscores.
    if len(argv) > 1 and argv[1] in ("export-all", "unlock-login"):
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":  # pragma: no cover
    main()
