"""The import rules of ARCHITECTURE.md that keep the layers apart, checked on the source (AST).

- app/scoring imports only the standard library and app.scoring.*; app/dashboards the standard
  library and app.dashboards.*; app/charts.py the standard library and app.dashboards;
- services never import routes; models import no service, route or job; the queue imports no job;
- no module imports another module's private names (`from app.services.x import _helper`).
"""
import ast
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names imported from it) for every import statement of the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append(("." * node.level + (node.module or ""), [alias.name for alias in node.names]))
    return found


def modules_of(path: Path) -> list[str]:
    return [module for module, _names in imports_of(path)]


def sources(*parts: str) -> list[Path]:
    return sorted(APP.joinpath(*parts).rglob("*.py"))


def pure_allows(module: str, package: str = "app.scoring") -> bool:
    """Standard library, relative imports and `package` (a pure package) only."""
    if module.startswith(".") or is_under(module, package):
        return True
    return module.split(".")[0] in sys.stdlib_module_names


def is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("path", sources("scoring"), ids=lambda p: p.name)
def test_scoring_is_pure(path):
    forbidden = [module for module in modules_of(path) if not pure_allows(module)]
    assert not forbidden, f"{path.name} imports {forbidden} (only stdlib and app.scoring.* allowed)"


@pytest.mark.parametrize("path", [*sources("dashboards"), APP / "charts.py"], ids=lambda p: str(p.relative_to(APP)))
def test_dashboards_and_charts_are_pure(path):
    forbidden = [module for module in modules_of(path) if not pure_allows(module, "app.dashboards")]
    assert not forbidden, f"{path.name} imports {forbidden} (only stdlib and app.dashboards.* allowed)"


@pytest.mark.parametrize("path", sources("services"), ids=lambda p: p.name)
def test_services_never_import_routes(path):
    assert not [m for m in modules_of(path) if is_under(m, "app.routes")], path.name


@pytest.mark.parametrize("path", sources("models"), ids=lambda p: p.name)
def test_models_import_no_service_route_or_job(path):
    layers = ("app.services", "app.routes", "app.jobs", "app.queue", "app.fragments")
    assert not [m for m in modules_of(path) if any(is_under(m, layer) for layer in layers)], path.name


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(APP)))
def test_no_module_imports_private_names_of_another(path):
    private = [f"{module}.{name}" for module, names in imports_of(path) if module.startswith("app")
               for name in names if name.startswith("_") and not name.startswith("__")]
    assert not private, f"{path.relative_to(APP)} imports private names {private}"


def test_the_checks_catch_the_usual_suspects(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import flask\nfrom sqlalchemy import select\nimport redis, rq, yaml\n"
        "from app.models import Action\nfrom app.extensions import db\nimport math\nfrom app.scoring import tree\n"
        "from app.routes.suivi import bp\nfrom app.services.suivi import _commit\n"
    )
    assert [m for m in modules_of(sample) if not pure_allows(m)] == [
        "flask", "sqlalchemy", "redis", "rq", "yaml", "app.models", "app.extensions", "app.routes.suivi",
        "app.services.suivi",
    ]
    assert "app.scoring" in [m for m in modules_of(sample) if not pure_allows(m, "app.dashboards")]
    assert [m for m in modules_of(sample) if is_under(m, "app.routes")] == ["app.routes.suivi"]
    assert [n for _m, names in imports_of(sample) for n in names if n.startswith("_")] == ["_commit"]


def test_the_queue_knows_no_job():
    # Jobs are enqueued by their dotted path: the job modules import the services, which enqueue.
    layers = ("app.jobs", "app.services", "app.fragments")
    assert not [m for m in modules_of(APP / "queue.py") if any(is_under(m, layer) for layer in layers)]
