"""The ``urbangrid`` console command: runs the project's Django management commands.

``urbangrid grids import city.geojson`` is ``django-admin grids import city.geojson`` with our settings.
``urbangrid --city CODE COMMAND ...`` runs any command in one city of a multi-city deployment (core/tenancy.py).
"""
import gc
import os
import sys


def setup():
    """``django.setup()`` with the cycle collector paused, then the loaded objects frozen out of its sight.

    Start-up makes a few hundred thousand objects (modules, classes, models, URL patterns) that live as long as
    the process; collecting while they are being made finds nothing to free and cost ~0.2 s of CPU, a fifth of
    every command's, server worker's and task consumer's start. Collection resumes afterwards, for new objects.
    """
    import django  # local: the settings module is named by the caller first
    from django.core.exceptions import ImproperlyConfigured  # local: as above

    gc.disable()
    try:
        django.setup()
    except ImproperlyConfigured:
        pass  # Django's command line reports a broken setting in its own words (execute_from_command_line)
    finally:
        gc.freeze()
        gc.enable()


def main(argv=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "urbangrid.settings")
    from django.core.management import execute_from_command_line  # after the settings module is named

    setup()  # execute_from_command_line's own django.setup() then finds the apps loaded

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

    django.setup()  # loaded by setup() above; else this raises the broken setting's error before the look-up
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
