"""Build the compiled core: ``ext/*.pyx`` become private modules of ``markov``.

``params/`` is installed as the package ``markov.data`` so that the shipped evidence
travels with every install (editable or not).
"""
import sys

import numpy
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

# no fused multiply-add: a kernel's a * b - c rounds twice, as numpy's ufuncs do, where
# its results are documented as numpy's bit for bit (targets with FMA in their base set
# would otherwise fuse them)
compile_args = [] if sys.platform == "win32" else ["-O3", "-ffp-contract=off"]

extensions = [
    Extension(
        "markov._engine",
        ["ext/_engine.pyx"],
        include_dirs=[numpy.get_include()],
        # memory handlers (PyDataMem_SetHandler) are numpy 1.22's
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"), ("NPY_TARGET_VERSION", "NPY_1_22_API_VERSION")],
        extra_compile_args=compile_args,
    )
]

setup(
    packages=[*find_packages(include=["markov", "markov.*"]), "markov.data"],
    package_dir={"markov": "markov", "markov.data": "params"},
    package_data={"markov.data": ["*.yaml", "*.csv", "*.md", "life_tables/*.csv", "life_tables/*.yaml",
                                 "evidence/*.yaml", "hcc/*.yaml", "chancellor/*.yaml",
                                 "ipd/*.csv", "ipd/*.yaml", "ipd/*.md", "networks/*.yaml"]},
    ext_modules=cythonize(extensions, compiler_directives={"language_level": "3"}),
)
