"""A small thread-safe LRU cache for verdicts, keyed by (normalized extracted answer, gold, options)."""
import threading
from collections import OrderedDict


class LRUCache:
    def __init__(self, capacity: int = 100_000):
        self.capacity, self._data, self._lock = capacity, OrderedDict(), threading.Lock()

    def get(self, key):
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key, value):
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.capacity:
                self._data.popitem(last=False)

    def __len__(self):
        return len(self._data)
