"""A province node in its own process and database, for the exchange tests: migrated, the test city registered
with its key, served by gunicorn on a free port (stopped, killed and restarted at will)."""
import signal

from fuzz.servers import BIN, free_port, start_gunicorn, stop, wait_up
from ug_testing import MIGRATED, new_site

from .dumps import shell_dump

CITY = "340100"
KEY = "exchange-test-key-0123456789abcdef0123456789abcdef"
PROVINCE = (*MIGRATED, ("province", "city", "add", CITY, "--name", "合肥市", "--key", KEY))


class ProvinceNode:
    def __init__(self, var_dir, name):
        self.env, self._drop = new_site(var_dir, name, PROVINCE,
                                        URBANGRID_SECRET_KEY="province-node-test-secret-" + "k" * 40)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.procs = []
        self.server = None

    def start(self, workers=2):
        self.server = start_gunicorn(self.env, self.port, workers=workers)
        self.procs.append(self.server)
        wait_up(self.base + "/healthz")

    def stop(self, sig=signal.SIGTERM):
        if self.server is not None:
            stop(self.server, sig)
            self.server = None

    def dump(self):
        return shell_dump(BIN, self.env, f"province_dump({CITY!r})")

    def close(self):
        for p in self.procs:
            stop(p, signal.SIGKILL)
        self._drop()
