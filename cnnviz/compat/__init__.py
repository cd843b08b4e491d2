"""Every reach into a library's internals, one module per library.

cnnviz patches or reads a few things that its libraries do not offer publicly (each module says
what, why and why no public API does it). Each module names the version it was written for
(WRITTEN_FOR) and checks, when it is first imported (at the server's start-up), that what it
relies on is still there: a missing piece raises InternalsChanged, one line naming the library,
its version and the module to update; another version whose pieces are all there only warns.

- streamlit_internals: the after-run Keras cleanup, the server's event loop, the static folder
  and the frontend's `window.__streamlit.BACKEND_BASE_URL`
- starlette_internals: wrapping `StaticFiles` methods for Streamlit's static folder
- keras_internals: the `keras.src` module names that .keras files carry
- multiprocessing_internals: spawning a process without re-running the parent's `__main__`
"""
from __future__ import annotations

import importlib.metadata
import warnings
from dataclasses import dataclass


class InternalsChanged(RuntimeError):
    """Something cnnviz relies on inside a library is missing: the library's version moved."""


@dataclass(frozen=True)
class Library:
    """A library as one compat module found it: its name, installed version and the version the
    module was written for (major.minor)."""
    distribution: str
    version: str
    written_for: str
    module: str          # the compat module's name, for the messages

    @classmethod
    def found(cls, distribution: str, written_for: str, module: str, version: str | None = None) -> Library:
        """The installed `distribution`; warns when its major.minor is not `written_for`'s."""
        library = cls(distribution, version or importlib.metadata.version(distribution), written_for, module)
        if library.version.split(".")[:2] != written_for.split(".")[:2]:
            warnings.warn(f"cnnviz/compat/{module}.py was written for {distribution} {written_for}, "
                          f"and {library.version} is installed: what it relies on is there, but "
                          "test the app.", RuntimeWarning, stacklevel=2)
        return library

    def require(self, present: bool, what: str) -> None:
        """Raise InternalsChanged unless `present`: `what` (a short phrase) is missing."""
        if not present:
            raise InternalsChanged(
                f"{self.distribution} {self.version} has no {what}, which cnnviz relies on "
                f"(cnnviz/compat/{self.module}.py, written for {self.distribution} "
                f"{self.written_for}): install the versions requirements.txt pins, or update that module.")
