"""Fixtures shared by the whole test suite."""

import pytest
from postgres_server import MISSING, binaries, postgres_server


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the session (a postgres_server.Server), also listening
    under /run when it is writable (`run_socket_dir`); each test makes its own database with
    `postgres.new_database(name)`. Skipped, with the reason, where PostgreSQL is missing."""
    if binaries() is None:
        pytest.skip(MISSING)
    with postgres_server(run_socket=True) as server:
        yield server
