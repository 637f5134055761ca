"""Give freed memory back to the system, so a long-running server shrinks after use.

glibc keeps what Python and torch free in its heaps (one per thread that allocated, up to 8 per core) and
returns it only from the top of a heap; Arrow (pandas' strings, Streamlit's tables) keeps its own pool on top.
A server whose sessions and trainings each run in their own thread then grows with every visitor and never
shrinks (bench/memory.py: 297 MB at start, 620 MB after 20 sessions and 5 trainings, and still 620 MB with
nobody connected). Two calls fix most of it:

- settle(), once at start: blocks of 1 MB or more (tensors, weight arrays) get their own mapping, which goes
  back to the system the moment it is freed, instead of a heap slot that other sizes fragment; and Arrow
  allocates from the same malloc (its default pool kept 64 MB after the tweets were loaded once);
- trim(): hand the free pages inside every heap back (malloc_trim), after a training or a session ends.

The malloc calls do nothing on a C library without them (musl, macOS): the app works the same, only larger.
"""

import ctypes
import ctypes.util
import threading

M_MMAP_THRESHOLD = -3  # mallopt parameter numbers from glibc's malloc.h
MMAP_THRESHOLD = 1 << 20


def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


LIBC = _libc()


def settle() -> bool:
    """Large blocks get their own mappings, Arrow uses malloc; True if the C library took the setting."""
    import pyarrow

    pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    return bool(LIBC and LIBC.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def trim() -> bool:
    """Return free heap pages to the system; True if any were returned."""
    return bool(LIBC and LIBC.malloc_trim(0))


def trim_soon(seconds=2.0):
    """trim() once what is being let go now (a closing session's state) has been freed."""
    timer = threading.Timer(seconds, trim)
    timer.daemon = True
    timer.start()
