"""The engine tests' cluster: a scheduler and two workers as separate processes (tests/engine/cluster.py), and the
app's engine pointed at it, as ATTENTION_SCHEDULER would."""

import pytest
from cluster import Cluster


@pytest.fixture(scope="module")
def cluster():
    """Two workers, one training each; the app's engine connected to them for this module's tests."""
    from attention.app import engine

    c = Cluster()
    for _ in range(2):
        c.add_worker()
    engine.close()
    old, engine.SCHEDULER = engine.SCHEDULER, c.address
    c.wait_for_workers(2, engine.client())
    yield c
    engine.close()
    engine.SCHEDULER = old
    c.close()
