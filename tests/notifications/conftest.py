import pytest

from notifications.push import memory_gateway


@pytest.fixture
def push():
    """The process-wide memory push gateway (PUSH_BACKEND=memory in tests), emptied around a test."""
    memory_gateway.reset()
    yield memory_gateway
    memory_gateway.reset()
