"""Maps the repository's top-level code folders onto the single `secondme` import namespace.

The layout keeps `daemon/`, `network/`, `pipeline/`, `permissions/`, `errors/` and `protos/` at the top of the
repository, but nothing may install as a generic top-level module: `daemon/` becomes
`secondme.daemon`, the generated API stubs become `secondme.v1`. Subpackages are discovered so a
new folder with an `__init__.py` needs no edit here.
"""

from pathlib import Path

from setuptools import setup

ROOTS = {
    "secondme.errors": "errors",
    "secondme.daemon": "daemon",
    "secondme.network": "network",
    "secondme.pipeline": "pipeline",
    "secondme.permissions": "permissions",
    "secondme.v1": "protos/secondme/v1",
}


def _packages() -> list[str]:
    found = []
    for name, folder in ROOTS.items():
        for init in sorted(Path(folder).rglob("__init__.py")):
            parts = init.parent.relative_to(folder).parts
            found.append(".".join([name, *parts]))
    return found


setup(
    packages=_packages(),
    package_dir=ROOTS,
    package_data={"": ["*.sql", "*.proto", "*.pyi", "py.typed", "*.service", "*.plist", "*.jinja"]},
    include_package_data=True,
)
