"""app/scoring imports only the standard library and app.scoring.* (house rule)."""
import ast
import sys
from pathlib import Path

import pytest

SCORING = Path(__file__).resolve().parents[3] / "app" / "scoring"


def imported_modules(path: Path) -> list[str]:
    modules = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.append("." * node.level + (node.module or ""))
    return modules


def allowed(module: str) -> bool:
    if module == "app.scoring" or module.startswith("app.scoring."):
        return True
    if module.startswith("."):  # relative imports stay inside the package
        return True
    return module.split(".")[0] in sys.stdlib_module_names


@pytest.mark.parametrize("path", sorted(SCORING.rglob("*.py")), ids=lambda p: p.name)
def test_scoring_module_is_pure(path):
    forbidden = [module for module in imported_modules(path) if not allowed(module)]
    assert not forbidden, f"{path.name} imports {forbidden} (only stdlib and app.scoring.* allowed)"


def test_the_check_catches_the_usual_suspects(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import flask\nfrom sqlalchemy import select\nimport redis, rq, yaml\n"
        "from app.models import Action\nfrom app.extensions import db\nimport math\nfrom app.scoring import tree\n"
    )
    assert [m for m in imported_modules(sample) if not allowed(m)] == [
        "flask", "sqlalchemy", "redis", "rq", "yaml", "app.models", "app.extensions",
    ]
