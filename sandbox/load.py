"""A bounded load generator through the router, recording which version answered each request.

It stops by itself after ``max_requests`` or ``max_seconds``, whichever comes first; traffic goes
only to the 127.0.0.1 address it is given."""

import http.client
import threading
import time


class Record(object):
    __slots__ = ("t", "version", "code", "cohort")

    def __init__(self, t, version, code, cohort):
        self.t, self.version, self.code, self.cohort = t, version, code, cohort


class LoadGenerator(object):
    def __init__(self, host, port, rps=80, max_seconds=600, max_requests=60000, cohorts=None, workers=4):
        self.host, self.port = host, port
        self.rps = rps
        self.max_seconds = max_seconds
        self.max_requests = max_requests
        self.cohorts = cohorts or {}  # cohort -> one request in N carries it
        self.workers = workers
        self.records = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.threads = []
        self.sent = 0

    def start(self):
        self.deadline = time.time() + self.max_seconds
        for i in range(self.workers):
            t = threading.Thread(target=self._run, args=(i,), daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def _next_cohort(self, n):
        for cohort, every in sorted(self.cohorts.items()):
            if n % every == 0:
                return cohort
        return None

    def _run(self, worker):
        interval = self.workers / float(self.rps)
        next_at = time.time()
        while not self.stop_event.is_set() and time.time() < self.deadline:
            with self.lock:
                if self.sent >= self.max_requests:
                    return
                self.sent += 1
                n = self.sent
            cohort = self._next_cohort(n)
            headers = {"X-Canary-Cohort": cohort} if cohort else {}
            version, code = None, 0
            conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
            try:
                conn.request("GET", "/", headers=headers)
                resp = conn.getresponse()
                resp.read()
                version, code = resp.getheader("X-App-Version"), resp.status
            except (OSError, http.client.HTTPException):
                code = 0  # no answer at all: the router's failure, not a version's
            finally:
                conn.close()
            with self.lock:
                self.records.append(Record(time.time(), version, code, cohort))
            next_at += interval
            self.stop_event.wait(max(0.0, next_at - time.time()))

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=10)

    def window(self, start, end, cohort=None):
        with self.lock:
            return [r for r in self.records if start <= r.t < end and r.cohort == cohort]


def share(records, version):
    """Fraction of the records answered by ``version`` (None without records)."""
    if not records:
        return None
    return sum(1 for r in records if r.version == version) / float(len(records))
