"""``untrained serve``: a local web page to run the commands and watch them (issue #19).

Needs the optional ``[web]`` extra (Starlette and uvicorn); :func:`create_app` builds the app,
:func:`serve` runs it.
"""

from .app import check_port, create_app, serve

__all__ = ["check_port", "create_app", "serve"]
