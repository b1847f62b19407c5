"""Our import-linter contract types (tools/import_contracts.py) on small made-up packages.

In memory on a hand-built import graph for each rule, and once end to end: ``lint-imports``
run on a package written to a temporary folder, whose report must name the import.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import grimp
import pytest
from importlinter.domain.contract import ContractCheck
from tools.import_contracts import (
    AcyclicPackagesContract,
    AllowedImportsContract,
    FeatureBoundariesContract,
    ModuleNamesContract,
    Offence,
    is_public,
    owner_of,
    strongly_connected,
)

REPO = Path(__file__).resolve().parents[2]
FEATURES = ["shop.bills", "shop.payments", "shop.transfers"]


def graph_of(*imports: str) -> grimp.ImportGraph:
    """A graph of ``"importer -> imported"`` lines (line numbers 1, 2, ... in order)."""
    graph = grimp.ImportGraph()
    for number, line in enumerate(imports, start=1):
        importer, imported = (name.strip() for name in line.split("->"))
        for module in (importer, imported):
            parts = module.split(".")
            for end in range(1, len(parts) + 1):
                graph.add_module(".".join(parts[:end]))
        graph.add_import(
            importer=importer,
            imported=imported,
            line_number=number,
            line_contents=f"import {imported}",
        )
    return graph


def offences(check: ContractCheck) -> list[str]:
    found: list[Offence] = check.metadata["offences"]
    return [offence.describe() for offence in found]


def features_contract(**options: object) -> FeatureBoundariesContract:
    return FeatureBoundariesContract(
        name="features", session_options={}, contract_options={"features": FEATURES, **options}
    )


def test_public_modules_are_named_below_the_feature() -> None:
    public = ("service", "views", "errors", "deps")
    assert is_public("shop.bills.service", "shop.bills", public)
    assert is_public("shop.payments.codes.service", "shop.payments", public)  # a sub-feature's
    assert is_public("shop.bills.service.quotes", "shop.bills", public)  # a service package
    assert not is_public("shop.bills", "shop.bills", public)  # the package's __init__
    assert not is_public("shop.bills.repository", "shop.bills", public)
    assert not is_public("shop.bills.servicing", "shop.bills", public)
    assert owner_of("shop.bills.x", FEATURES) == "shop.bills"
    assert owner_of("shop.billsx", FEATURES) is None


def test_features_meet_only_through_public_modules() -> None:
    graph = graph_of(
        "shop.transfers.service -> shop.bills.service",
        "shop.transfers.service -> shop.bills.repository",
        "shop.transfers.endpoints -> shop.payments.codes.service",
        "shop.transfers.endpoints -> shop.payments",
        "shop.bills.service -> shop.bills.repository",  # its own repository
        "shop.bills.service -> shop.kit.db",  # not a feature
        "shop.app -> shop.bills.endpoints",  # not a feature
    )
    check = features_contract().check(graph, verbose=False)
    assert not check.kept
    assert offences(check) == [
        "shop.transfers.endpoints -> shop.payments (l.4)",
        "shop.transfers.service -> shop.bills.repository (l.2)",
    ]


def test_public_modules_can_be_chosen() -> None:
    graph = graph_of(
        "shop.payments.service -> shop.bills.quotes", "shop.transfers.service -> shop.kit"
    )
    assert not features_contract().check(graph, verbose=False).kept
    chosen = features_contract(public_modules=["service", "quotes"])
    assert chosen.check(graph, verbose=False).kept


def test_a_schema_may_embed_another_features_schema_and_nothing_else_may() -> None:
    graph = graph_of(
        "shop.payments.schemas -> shop.bills.schemas",  # the same JSON shape in two answers
        "shop.payments.service -> shop.bills.schemas",
        "shop.payments.schemas -> shop.bills.repository",
        "shop.transfers.service -> shop.kit",
    )
    check = features_contract().check(graph, verbose=False)
    assert offences(check) == [
        "shop.payments.schemas -> shop.bills.repository (l.3)",
        "shop.payments.service -> shop.bills.schemas (l.2)",
    ]


def test_an_unknown_feature_is_an_error_not_a_pass() -> None:
    graph = graph_of("shop.bills.service -> shop.kit")
    with pytest.raises(ValueError, match=r"shop\.payments"):
        features_contract().check(graph, verbose=False)


def test_allowed_imports_is_an_allow_list_within_the_root_package() -> None:
    graph = graph_of(
        "shop.sandbox.bank -> shop.kit.money",
        "shop.sandbox.bank -> shop.integrations.bank.port",
        "shop.sandbox.bank -> shop.sandbox.storage",
        "shop.sandbox.storage -> shop.models.tables",
        "shop.sandbox.bank -> shop.integrations.bank.http_gateway",
    )
    contract = AllowedImportsContract(
        name="sandbox",
        session_options={},
        contract_options={
            "source_modules": ["shop.sandbox"],
            "allowed_modules": ["shop.kit", "shop.integrations.*.port"],
        },
    )
    check = contract.check(graph, verbose=False)
    assert offences(check) == [
        "shop.sandbox.bank -> shop.integrations.bank.http_gateway (l.5)",
        "shop.sandbox.storage -> shop.models.tables (l.4)",
    ]


def test_strongly_connected_groups() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"f"}, "f": {"e"}}
    assert strongly_connected(edges) == [["a", "b", "c"], ["e", "f"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_acyclic_packages_lists_every_import_inside_the_cycle() -> None:
    contract = AcyclicPackagesContract(
        name="acyclic", session_options={}, contract_options={"ancestors": ["shop"]}
    )
    downward = graph_of("shop.http.deps -> shop.kit.clock", "shop.bills.service -> shop.http")
    assert contract.check(downward, verbose=False).kept
    cyclic = graph_of(
        "shop.http.deps -> shop.kit.clock",
        "shop.kit.ratelimit -> shop.http.deps",
        "shop.bills.service -> shop.kit",
    )
    check = contract.check(cyclic, verbose=False)
    assert not check.kept
    (cycle,) = check.metadata["cycles"]
    assert cycle["packages"] == ["shop.http", "shop.kit"]
    listed = {pair: [o.describe() for o in found] for pair, found in cycle["imports"].items()}
    assert listed == {
        ("shop.http", "shop.kit"): ["shop.http.deps -> shop.kit.clock (l.1)"],
        ("shop.kit", "shop.http"): ["shop.kit.ratelimit -> shop.http.deps (l.2)"],
    }


def write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_lint_imports_names_the_offending_import(tmp_path: Path) -> None:
    """End to end: the contract types load from this repository and fail with the import."""
    write_package(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/bills/__init__.py": "",
            "shop/bills/repository.py": "",
            "shop/bills/service.py": "from shop.bills import repository\n",
            "shop/transfers/__init__.py": "",
            "shop/transfers/service.py": (
                "from shop.bills import service\nfrom shop.bills.repository import x\n"
            ),
            ".importlinter": """
                [importlinter]
                root_package = shop
                contract_types =
                    feature_boundaries: tools.import_contracts.FeatureBoundariesContract

                [importlinter:contract:features]
                name = Features meet through their services
                type = feature_boundaries
                features =
                    shop.bills
                    shop.transfers
            """,
        },
    )
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports is not None
    run = subprocess.run(
        [lint_imports, "--no-cache", "--config", ".importlinter"],
        cwd=tmp_path,
        env={"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Features meet through their services BROKEN" in run.stdout
    assert "shop.transfers.service -> shop.bills.repository (l.2)" in run.stdout
    assert "shop.bills.service" not in run.stdout.split("Broken contracts")[1]


def test_module_names_keep_sub_features_out_of_file_names() -> None:
    graph = graph_of(
        "shop.cards.binding_endpoints -> shop.cards.binding.service",
        "shop.cards.endpoints -> shop.cards.views",
        "shop.identity.endpoints_me -> shop.kit",
    )
    contract = ModuleNamesContract(
        name="file-set",
        session_options={},
        contract_options={
            "containers": ["shop"],
            "forbidden_names": ["*_endpoints", "endpoints_*"],
        },
    )
    check = contract.check(graph, verbose=False)
    found = check.metadata["modules"]
    assert found == ["shop.cards.binding_endpoints", "shop.identity.endpoints_me"]
