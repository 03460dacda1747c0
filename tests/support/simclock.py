"""Simulated time for unit tests: ``sleep`` advances the clock, so timings are exact and instant."""


class SimClock(object):
    def __init__(self, start=1000.0):
        self.now = start

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds > 0, "a wait loop slept %r seconds" % seconds
        self.now += seconds
