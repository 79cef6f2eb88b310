"""Content loader test helpers: a copy of the valid fixture set that a test can break."""
from pathlib import Path

import pytest

from tests.fixtures.content import valid_copy


@pytest.fixture
def content_dir(tmp_path) -> Path:
    """A writable copy of tests/fixtures/content/valid."""
    return valid_copy(tmp_path)


@pytest.fixture
def edit(content_dir):
    """edit({relative path: new text, or None to delete}) -> the content directory."""

    def apply(files: dict[str, str | None]) -> Path:
        for relative, text in files.items():
            path = content_dir / relative
            if text is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
        return content_dir

    return apply
