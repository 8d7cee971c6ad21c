import pytest


@pytest.fixture
def api_client(client):
    return client
