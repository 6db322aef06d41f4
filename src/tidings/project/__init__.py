"""A Tidings project folder: ``tidings.toml``, ``templates/``, ``schemas/``.

In: a folder on disk. Out: a validated ``ProjectConfig`` and a list of
``Problem`` (file, line, message) for everything that is wrong with it.
Never touches the database or the network.
"""
