"""Package discovery lives here because pyproject.toml cannot both find packages and rename a directory.

The Hydra config tree stays at the repository top level (`conf/`, where users edit it) and is shipped inside the
package as `rlvr.conf`, so a non-editable install (`pip install .`) finds it; rlvr/config.py resolves either place.
Everything else (metadata, dependencies, package data) is in pyproject.toml.
"""
from setuptools import find_namespace_packages, setup

CODE = find_namespace_packages(include=["rlvr", "rlvr.*", "rlvr_verify", "rlvr_verify.*", "data_gen", "data_gen.*",
                                        # Hydra finds launchers (hydra/launcher=ray_jobs) in this namespace package
                                        "hydra_plugins", "hydra_plugins.*"])
CONF = ["rlvr.conf"] + [f"rlvr.conf.{p}" for p in find_namespace_packages(where="conf")]

setup(packages=CODE + CONF, package_dir={"rlvr.conf": "conf"})
