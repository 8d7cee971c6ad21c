"""The ``urbangrid`` console command: runs the project's Django management commands.

``urbangrid grids import city.geojson`` is ``django-admin grids import city.geojson`` with our settings.
``urbangrid --city CODE COMMAND ...`` runs any command in one city of a multi-city deployment (core/tenancy.py).
"""
import os
import sys


def main(argv=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "urbangrid.settings")
    from django.core.management import execute_from_command_line  # after the settings module is named

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "urbangrid"
    # The documented spellings of commands whose module names need underscores.
    city = None
    if len(argv) > 2 and argv[1] == "--city":
        city = argv[2]
        del argv[1:3]
    elif len(argv) > 1 and argv[1].startswith("--city="):
        city = argv[1].split("=", 1)[1]
        del argv[1]
    if len(argv) > 1 and argv[1] in ("export-all", "unlock-login"):
        argv[1] = argv[1].replace("-", "_")
    if city is None:
        execute_from_command_line(argv)
        return
    import django  # local: the city is looked up in the registry once the settings are loaded

    django.setup()
    from urbangrid.core import tenancy  # local: needs the apps loaded (django.setup above)

    try:
        context = tenancy.activate(tenancy.get(city))
    except tenancy.UnknownCity:
        sys.stderr.write(f"urbangrid: unknown city {city!r} (see `urbangrid city list`)\n")
        sys.exit(2)
    with context:
        execute_from_command_line(argv)


if __name__ == "__main__":  # pragma: no cover
    main()
