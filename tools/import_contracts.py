"""Import-linter contract types of our own, registered in pyproject.toml.

``lint-imports`` (``make lint``) checks the contracts of ``[tool.importlinter]``; most use
import-linter's own types (layers, forbidden). These say what those cannot:

``feature_boundaries`` -- a feature reaches another feature only through that feature's
public modules (by default ``service``, ``views``, ``errors`` and ``deps``). A module is
public when a part of its name below the feature package is one of those names, so a
sub-feature's (``ewallet.payments.payment_codes.service``) and a service that grew into a
package (``ewallet.bills.service.quotes``) are public too; the feature package itself
(``ewallet.payments``, whose ``__init__`` could re-export anything), its repositories,
endpoints, schemas and jobs are not -- with one exception: a feature's ``schemas`` may embed
another feature's ``schemas`` (the same JSON shape in two answers, e.g. the staff's customer
panel showing history's transaction objects), because an answer's shape is the HTTP
contract both features promise. Only direct imports are checked: a feature's service may
well reach another feature's repository through that feature's service.

``allowed_imports`` -- an allow-list: the ``source_modules`` (and everything below them)
import, among the modules of the analysed packages, only each other and the
``allowed_modules`` (each with everything below it). Third-party packages are not
concerned. Used for the sandbox, which may import kit, config and the integration ports.

``acyclic_packages`` -- no import cycle between the children of each ``ancestors`` package,
like import-linter's ``acyclic_siblings`` (whose report names at most five package pairs
and no import). It reports each group of packages that import one another in a cycle and
every import between two packages of the group, so the one that goes the wrong way is in
the list.

``module_names`` -- not about imports but about what they point at: no module below the
``containers`` has a name matching one of the ``forbidden_names`` (shell patterns). With the
fixed file set of a feature it keeps sub-features out of file-name prefixes
(``staff_endpoints.py``, ``payment_code_schemas.py``): such a module would also escape the
contracts written for ``endpoints`` modules.

A broken contract names every offending import with its line number(s) (or module).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, cast

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck
from importlinter.domain.helpers import module_expressions_to_modules
from importlinter.domain.imports import Module, ModuleExpression

DEFAULT_PUBLIC_MODULES: Final = ("service", "views", "errors", "deps", "permissions")


@dataclass(frozen=True, order=True, slots=True)
class Offence:
    """One direct import a contract does not allow."""

    importer: str
    imported: str
    line_numbers: tuple[int, ...]

    def describe(self) -> str:
        lines = ", ".join(f"l.{number}" for number in self.line_numbers) or "l.?"
        return f"{self.importer} -> {self.imported} ({lines})"


def owner_of(module: str, packages: Iterable[str]) -> str | None:
    """The package among ``packages`` that is ``module`` or contains it, if any."""
    for package in packages:
        if module == package or module.startswith(package + "."):
            return package
    return None


def is_public(module: str, feature: str, public_names: Iterable[str]) -> bool:
    """Whether ``module`` of ``feature`` is one another feature may import (see above)."""
    below = module.removeprefix(feature).lstrip(".")
    return bool(below) and any(part in set(public_names) for part in below.split("."))


def embeds_schema(importer: str, imported: str) -> bool:
    """A ``schemas`` module importing another feature's ``schemas`` module (see above)."""
    return importer.rsplit(".", 1)[-1] == "schemas" and imported.rsplit(".", 1)[-1] == "schemas"


def _offence(graph: ImportGraph, importer: str, imported: str) -> Offence:
    details = graph.get_import_details(importer=importer, imported=imported)
    numbers = sorted({int(detail["line_number"]) for detail in details})
    return Offence(importer, imported, tuple(numbers))


def _render(offences: Iterable[Offence], heading: str) -> None:
    output.print_error(heading)
    output.new_line()
    for offence in offences:
        output.print_error(f"-   {offence.describe()}", bold=False)
    output.new_line()


class FeatureBoundariesContract(Contract):
    """Features import one another only through their public modules.

    Options:
        - features:       the feature packages, full names (``ewallet.bills``).
        - public_modules: the module names another feature may import
                          (default: service, views, errors, deps).
    """

    type_name = "feature_boundaries"

    features = fields.ListField(subfield=fields.ModuleField())
    public_modules = fields.ListField(subfield=fields.StringField(), required=False)

    def _features(self) -> list[str]:
        return [module.name for module in cast(list[Module], self.features)]

    def _public_names(self) -> tuple[str, ...]:
        chosen = cast(list[str] | None, self.public_modules)
        return tuple(chosen) if chosen else DEFAULT_PUBLIC_MODULES

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        features = self._features()
        missing = [feature for feature in features if feature not in graph.modules]
        if missing:
            raise ValueError(f"feature packages not found: {', '.join(missing)}")
        public = self._public_names()
        offences: set[Offence] = set()
        for feature in features:
            for importer in {feature, *graph.find_descendants(feature)}:
                for imported in graph.find_modules_directly_imported_by(importer):
                    other = owner_of(imported, features)
                    if other in (None, feature) or is_public(imported, other, public):
                        continue
                    if embeds_schema(importer, imported):
                        continue
                    offences.add(_offence(graph, importer, imported))
        return ContractCheck(kept=not offences, metadata={"offences": sorted(offences)})

    def render_broken_contract(self, check: ContractCheck) -> None:
        public = ", ".join(self._public_names())
        offences = cast(list[Offence], check.metadata["offences"])
        _render(offences, f"A feature may import another feature's {public} modules only:")


class AllowedImportsContract(Contract):
    """The source modules import, inside the analysed packages, only allowed modules.

    Options:
        - source_modules:  module expressions; each module and everything below it is checked.
        - allowed_modules: module expressions; each module and everything below it may be
                           imported (besides the source modules themselves).
    """

    type_name = "allowed_imports"

    source_modules = fields.SetField(subfield=fields.ModuleExpressionField())
    allowed_modules = fields.SetField(subfield=fields.ModuleExpressionField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        sources = self._modules(graph, self.source_modules)
        if not sources:
            raise ValueError("source_modules match no module")
        allowed = sources | self._modules(graph, self.allowed_modules)
        roots = {name.split(".")[0] for name in sources}
        offences = {
            _offence(graph, importer, imported)
            for importer in sources
            for imported in graph.find_modules_directly_imported_by(importer)
            if imported.split(".")[0] in roots and imported not in allowed
        }
        return ContractCheck(kept=not offences, metadata={"offences": sorted(offences)})

    @staticmethod
    def _modules(graph: ImportGraph, expressions: object) -> set[str]:
        found = module_expressions_to_modules(
            graph, cast(set[ModuleExpression], expressions), as_packages=True
        )
        return {module.name for module in found}

    def render_broken_contract(self, check: ContractCheck) -> None:
        offences = cast(list[Offence], check.metadata["offences"])
        _render(offences, "Imports outside the allowed modules:")


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of two or more nodes that reach each other (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(groups)


class AcyclicPackagesContract(Contract):
    """No import cycle between the children of each ancestor package.

    Options:
        - ancestors: the packages whose children (sub-packages and modules, each with
                     everything below it) must not import one another in a cycle.
    """

    type_name = "acyclic_packages"

    ancestors = fields.ListField(subfield=fields.ModuleField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        cycles: list[dict[str, object]] = []
        for ancestor in (module.name for module in cast(list[Module], self.ancestors)):
            children = sorted(graph.find_children(ancestor))
            imports: dict[tuple[str, str], set[Offence]] = {}
            for importer in graph.find_descendants(ancestor):
                source = owner_of(importer, children)
                for imported in graph.find_modules_directly_imported_by(importer):
                    target = owner_of(imported, children)
                    if source is None or target is None or source == target:
                        continue
                    imports.setdefault((source, target), set()).add(
                        _offence(graph, importer, imported)
                    )
            edges: dict[str, set[str]] = {}
            for source, target in imports:
                edges.setdefault(source, set()).add(target)
            for group in strongly_connected(edges):
                inside = {
                    pair: sorted(found)
                    for pair, found in sorted(imports.items())
                    if pair[0] in group and pair[1] in group
                }
                cycles.append({"ancestor": ancestor, "packages": group, "imports": inside})
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in cast(list[dict[str, Any]], check.metadata["cycles"]):
            ancestor = cycle["ancestor"]
            names = ", ".join(name.removeprefix(ancestor + ".") for name in cycle["packages"])
            output.print_error(f"These children of {ancestor} import each other in a cycle:")
            output.print_error(names, bold=False)
            output.new_line()
            for (source, target), offences in cycle["imports"].items():
                _render(offences, f"{source} -> {target}:")


class ModuleNamesContract(Contract):
    """No module below the containers has a name matching a forbidden pattern.

    Options:
        - containers:      the packages whose modules (at any depth) are checked.
        - forbidden_names: shell patterns (``*_endpoints``) for the last part of a name.
    """

    type_name = "module_names"

    containers = fields.ListField(subfield=fields.ModuleField())
    forbidden_names = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        patterns = cast(list[str], self.forbidden_names)
        found = sorted(
            module
            for container in cast(list[Module], self.containers)
            for module in graph.find_descendants(container.name)
            if any(fnmatch.fnmatchcase(module.rpartition(".")[2], p) for p in patterns)
        )
        return ContractCheck(kept=not found, metadata={"modules": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        patterns = ", ".join(cast(list[str], self.forbidden_names))
        output.print_error(f"Module names may not match {patterns}; make a sub-package:")
        output.new_line()
        for module in cast(list[str], check.metadata["modules"]):
            output.print_error(f"-   {module}", bold=False)
        output.new_line()
