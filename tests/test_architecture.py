"""The package's shape: data flows one way through its layers, only the engine layer
touches the compiled core, and no module grows past one sitting's read."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "markov"

#: Layers, earliest first; a module may import only from its own layer or earlier ones.
LAYERS = [
    ("foundation", ("_files", "_memory", "_reading", "_validate", "_version", "grid")),
    ("uncertainty", ("uncertainty",)),
    ("survival", ("survival",)),
    ("inputs", ("inputs",)),
    ("engine", ("engine", "_engine")),
    ("outcomes", ("outcomes",)),
    ("models", ("models",)),
    ("probabilistic", ("probabilistic",)),
    ("decision", ("decision",)),
    ("results", ("results",)),
    ("plots", ("plots",)),
    ("report", ("report",)),
    ("runs", ("runs",)),
    ("api", ("api",)),
    ("cli", ("console", "cli")),
]
#: Modules that only gather names from every layer for users (the package itself, and the
#: re-export kept for code written against earlier versions).
FACADES = {"__init__", "cea"}
MAX_LINES = 600


def _layer(module: str) -> int | None:
    """The layer of ``markov.<module>`` (``module`` dotted, without the package)."""
    top = module.split(".")[0]
    for index, (_, members) in enumerate(LAYERS):
        if top in members:
            return index
    return None


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        yield path, parts


def _imports(path: Path, parts: list[str]):
    """Every ``markov`` module that the file at ``path`` imports (dotted, without the package)."""
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = [*base, *(node.module.split(".") if node.module else [])]
                names = [[*target, alias.name] for alias in node.names] if not node.module else [target]
            elif node.module and node.module.split(".")[0] == "markov":
                names = [node.module.split(".")[1:]]
            else:
                continue
            for name in names:
                if name:
                    yield ".".join(name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "markov" and "." in alias.name:
                    yield alias.name.split(".", 1)[1]


def test_every_module_belongs_to_a_layer():
    unplaced = [".".join(parts) for _, parts in _modules()
                if parts[0] not in FACADES and _layer(".".join(parts)) is None]
    assert not unplaced, f"modules in no layer of LAYERS: {unplaced}"


@pytest.mark.parametrize("path, parts", list(_modules()), ids=lambda v: ".".join(v) if isinstance(v, list) else "")
def test_imports_flow_from_earlier_layers_only(path, parts):
    if parts[0] in FACADES:
        return
    own = _layer(".".join(parts))
    later = [(name, LAYERS[_layer(name)][0]) for name in _imports(path, parts)
             if _layer(name) is not None and _layer(name) > own]
    assert not later, f"markov.{'.'.join(parts)} ({LAYERS[own][0]}) imports from later layers: {later}"


def test_only_the_engine_layer_uses_the_compiled_core():
    users = {parts[0] for path, parts in _modules() if "_engine" in path.read_text()}
    assert users == {"engine"}


def test_no_module_is_longer_than_one_sitting():
    long = {str(path.relative_to(PACKAGE)): n for path, _ in _modules()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"
